"""PNG plots: the loss and metrics per epoch, and a grid of misclassified images."""
import numpy as np


def require_pyplot(who):
    """matplotlib.pyplot on the Agg backend, or an ImportError saying how to install it."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(f"{who} needs matplotlib: pip install 'ember[plot]' "
                          "(or pip install matplotlib)") from None
    return plt


def save_figure(fig, path, title=None, **title_options):
    """The figure's title (if any), a tight layout, a 100-dpi PNG at path; the figure is closed."""
    import matplotlib.pyplot as plt  # loaded by require_pyplot already
    if title:
        fig.suptitle(title, **title_options)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_history(history, path, title=None):
    """Write a PNG with one panel per quantity (loss, accuracy, ...), train and val curves."""
    plt = require_pyplot("plot_history")
    h = history.history
    epochs = list(range(1, len(history) + 1))
    names = [k for k in h if not k.startswith("val_") and k not in ("lr", "time")]
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        ax.plot(epochs, h[name], marker="o", label=f"train {name}")
        if f"val_{name}" in h:
            ax.plot(epochs, h[f"val_{name}"], marker="o", label=f"val {name}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    save_figure(fig, path, title)
    return path


def plot_misclassified(images, targets, predictions, path, classes=None, confidences=None,
                       limit=40, columns=8):
    """Write a PNG grid of the first `limit` images whose prediction differs from the target,
    each titled "true -> predicted (confidence)". images: (N, H, W) or (N, 1, H, W) arrays.
    Returns how many were misclassified in all."""
    plt = require_pyplot("plot_misclassified")
    images = np.asarray(images).reshape(len(images), *np.shape(images)[-2:])
    wrong = np.flatnonzero(np.asarray(predictions) != np.asarray(targets))
    shown = wrong[:limit]
    rows = max(1, -(-len(shown) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.6 * columns, 1.9 * rows), squeeze=False)
    name = (lambda c: classes[c]) if classes is not None else str
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, shown):
        ax.imshow(images[i], cmap="gray")
        title = f"{name(int(targets[i]))}\n-> {name(int(predictions[i]))}"
        if confidences is not None:
            title += f" ({confidences[i]:.0%})"
        ax.set_title(title, fontsize=7)
    save_figure(fig, path, f"{len(wrong)} of {len(images)} misclassified (first {len(shown)} "
                "shown: true -> predicted)", fontsize=9)
    return len(wrong)
