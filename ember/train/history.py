"""`History`: what fit() measured, epoch by epoch (Keras's shape: history.history['loss'])."""


class History:
    def __init__(self):
        self.epochs = []  # one dict per epoch: {'epoch': 1, 'loss': ..., 'val_loss': ..., ...}

    def append(self, record):
        self.epochs.append(dict(record))

    @property
    def history(self):
        """{name: [value per epoch]} for every measured quantity."""
        keys = []
        for r in self.epochs:
            keys += [k for k in r if k not in keys and k != "epoch"]
        return {k: [r.get(k) for r in self.epochs] for k in keys}

    def __getitem__(self, key):
        return self.history[key]

    def __len__(self):
        return len(self.epochs)

    def last(self):
        return self.epochs[-1] if self.epochs else {}

    def state_dict(self):
        return {"epochs": [dict(r) for r in self.epochs]}

    def load_state_dict(self, state):
        self.epochs = [dict(r) for r in state["epochs"]]

    def __repr__(self):
        return f"History({len(self.epochs)} epochs, keys={list(self.history)})"
