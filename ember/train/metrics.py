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


# ---- scores for binary detection (anomaly = positive) -------------------------------------------
def _binary_inputs(who, y_true, scores):
    y = np.asarray(y_true.data if hasattr(y_true, "data") else y_true).reshape(-1)
    s = np.asarray(scores.data if hasattr(scores, "data") else scores, np.float64).reshape(-1)
    if y.shape != s.shape:
        raise ValueError(f"{who}: y_true has {y.size} entries but the scores {s.size}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"{who}: y_true must hold only 0 and 1 (or False and True)")
    if np.isnan(s).any():
        raise ValueError(f"{who}: the scores contain NaN")
    return y.astype(bool), s


def roc_auc_score(y_true, scores):
    """Area under the ROC curve = P(score of a random positive > score of a random negative),
    ties counting 1/2 (sklearn's roc_auc_score). From ranks (Mann-Whitney U), O(n log n):
    AUC = (sum of the positives' average ranks - P (P + 1) / 2) / (P N)."""
    y, s = _binary_inputs("roc_auc_score", y_true, scores)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("roc_auc_score: needs both classes in y_true; got "
                         f"{n_pos} positives and {n_neg} negatives")
    order = np.argsort(s, kind="mergesort")
    sorted_s = s[order]
    # tied scores share the average of the ranks they span (1-based)
    starts = np.r_[True, sorted_s[1:] != sorted_s[:-1]]
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    last = np.r_[first[1:], s.size] - 1
    avg_rank = (first + last) / 2 + 1
    ranks = np.empty(s.size)
    ranks[order] = avg_rank[group]
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def precision_recall_f1(y_true, y_pred):
    """precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = their harmonic mean, for 0/1
    labels and predictions (1 = positive); a ratio with a zero denominator is 0 (as sklearn's
    zero_division=0)."""
    y, p = _binary_inputs("precision_recall_f1", y_true, y_pred)
    p = p.astype(bool)
    tp = int((y & p).sum())
    fp = int((~y & p).sum())
    fn = int((y & ~p).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
