"""Metrics on model outputs: accuracy and the confusion matrix.

Outputs of shape (N, C) with C > 1 are class scores (the prediction is the argmax); outputs of
shape (N,) or (N, 1) are binary logits (the prediction is logit > 0)."""
import numpy as np


def predicted_classes(output):
    out = output.data if hasattr(output, "data") else np.asarray(output)
    if out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1):
        return (out.reshape(-1) > 0).astype(np.int64)
    return out.argmax(axis=1)


def _targets(target):
    t = target.data if hasattr(target, "data") else np.asarray(target)
    return t.reshape(-1).astype(np.int64) if t.ndim <= 1 or t.shape[-1] == 1 else t.argmax(-1)


def correct_count(output, target):
    """How many predictions equal the targets (class indices, or one-hot/probabilities)."""
    return int((predicted_classes(output) == _targets(target)).sum())


def accuracy(output, target):
    """Fraction of correct predictions."""
    n = len(_targets(target))
    return correct_count(output, target) / n if n else float("nan")


def confusion_matrix(predictions, targets, num_classes):
    """counts[i, j] = how many examples of true class i were predicted as class j."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(targets, np.int64), np.asarray(predictions, np.int64)), 1)
    return counts


def format_confusion_matrix(counts, names=None):
    """The matrix as text: one row per true class, one column per predicted class."""
    n = len(counts)
    names = [str(i) for i in range(n)] if names is None else [str(s)[:11] for s in names]
    width = max(max(len(s) for s in names), len(str(counts.max()))) + 2
    rows = [" " * (width + 1) + "".join(s.rjust(width) for s in names)]
    for name, row in zip(names, counts):
        rows.append(name.rjust(width) + " " + "".join(str(v).rjust(width) for v in row))
    return "\n".join(rows)


METRICS = {"accuracy": correct_count}
