"""Callbacks for fit(): early stopping, checkpoints, a CSV log. Each hook gets the trainer
state; a callback stops training by setting `state.stop = True`."""
import csv
import math
import os


class Callback:
    def on_train_begin(self, state):
        pass

    def on_epoch_begin(self, state):
        pass

    def on_batch_end(self, state):
        pass

    def on_epoch_end(self, state):
        pass

    def on_train_end(self, state):
        pass

    def on_interrupt(self, state):
        pass


def _improved(value, best, mode, min_delta):
    if best is None:
        return True
    return value < best - min_delta if mode == "min" else value > best + min_delta


def _mode_for(monitor, mode):
    if mode in ("min", "max"):
        return mode
    if mode != "auto":
        raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
    return "max" if "acc" in monitor else "min"


def _monitored(state, monitor, who):
    record = state.history.last()
    if monitor not in record:
        raise KeyError(f"{who}: '{monitor}' was not measured; available: {sorted(record)}")
    return record[monitor]


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by min_delta for `patience` epochs; optionally put
    the best weights back."""

    def __init__(self, monitor="val_loss", patience=3, min_delta=0.0, mode="auto",
                 restore_best_weights=False):
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.mode = _mode_for(monitor, mode)
        self.restore_best_weights = restore_best_weights
        self.best, self.wait, self.best_state, self.stopped_epoch = None, 0, None, None

    def on_epoch_end(self, state):
        value = _monitored(state, self.monitor, "EarlyStopping")
        if _improved(value, self.best, self.mode, self.min_delta):
            self.best, self.wait = value, 0
            if self.restore_best_weights:
                self.best_state = {k: v.data.copy() for k, v in state.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            state.stop = True
            self.stopped_epoch = state.epoch

    def on_train_end(self, state):
        if self.restore_best_weights and self.best_state is not None:
            state.model.load_state_dict(self.best_state)


class ModelCheckpoint(Callback):
    """Write `last.safetensors` at the start and after every epoch, and `best.safetensors` when
    `monitor` improves, in `directory`. After an interrupt (Ctrl-C) `last` is the state at the
    end of the last whole epoch, so a resumed run continues exactly as an uninterrupted one.
    `checkpoint_fn(state)` builds what is saved (default: the model's state)."""

    def __init__(self, directory, monitor="val_loss", mode="auto", checkpoint_fn=None):
        self.directory, self.monitor = directory, monitor
        self.mode = _mode_for(monitor, mode)
        self.checkpoint_fn = checkpoint_fn or (lambda s: {"model": s.model.state_dict()})
        self.best = None
        os.makedirs(directory, exist_ok=True)

    @property
    def last_path(self):
        return os.path.join(self.directory, "last.safetensors")

    @property
    def best_path(self):
        return os.path.join(self.directory, "best.safetensors")

    def on_train_begin(self, state):
        if state.epoch == 0:  # a fresh run: an interrupt in epoch 1 still finds a checkpoint
            from ..io import save
            save(self.checkpoint_fn(state), self.last_path)

    def on_epoch_end(self, state):
        from ..io import save
        checkpoint = self.checkpoint_fn(state)
        save(checkpoint, self.last_path)
        record = state.history.last()
        value = record.get(self.monitor)
        if value is not None and not (isinstance(value, float) and math.isnan(value)) and \
                _improved(value, self.best, self.mode, 0.0):
            self.best = value
            save(checkpoint, self.best_path)



class CSVLogger(Callback):
    """One row per epoch with every measured quantity (history.csv; rewritten whole each
    epoch, so a resumed run's file holds the earlier epochs too)."""

    def __init__(self, path):
        self.path = path

    def on_epoch_end(self, state):
        records = state.history.epochs
        keys = []
        for r in records:
            keys += [k for k in r if k not in keys]
        with open(self.path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=keys)
            writer.writeheader()
            for r in records:
                writer.writerow(r)
