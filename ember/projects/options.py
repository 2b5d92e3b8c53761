"""Checks the project commands share on their options."""


def require_at_least_one(cfg, *names):
    """Raise ValueError naming the command-line option (--batch-size for batch_size) of the
    first of cfg's attributes `names` that is below 1."""
    for k in names:
        if getattr(cfg, k) < 1:
            raise ValueError(f"--{k.replace('_', '-')} must be >= 1, got {getattr(cfg, k)}")
