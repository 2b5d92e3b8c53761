"""plot_history: loss and metrics per epoch, training and validation, in one PNG."""


def plot_history(history, path, title=None):
    """Write a PNG with one panel per quantity (loss, accuracy, ...), train and val curves."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plot_history needs matplotlib: pip install 'ember[plot]' "
                          "(or pip install matplotlib)") from None
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
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
