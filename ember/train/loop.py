"""The training loop: fit (forward, loss, backward, step, per batch; metrics, validation,
scheduler and callbacks per epoch), evaluate and predict."""
import math
import sys
import time

import numpy as np

from ..autograd import no_grad
from ..ops.shape import cat
from .history import History
from .metrics import METRICS


class NonFiniteError(FloatingPointError):
    """Training produced a NaN or an infinity (the message says where)."""


class TrainState:
    """What callbacks see: the model, optimizer, scheduler, history, epoch and global step."""

    def __init__(self, model, optimizer, scheduler, history, epoch=0, step=0):
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.history, self.epoch, self.step = history, epoch, step
        self.stop = False
        self.batch_loss = None


def _steps_per_batch(scheduler):
    return type(scheduler).__name__ in ("OneCycleLR", "CyclicLR")


def _check_finite(model, loss_value, state):
    """The NaN guard: stop with the step, the loss and the first parameter whose gradient went
    non-finite."""
    bad_param = None
    for name, p in model.named_parameters():
        g = p.grad
        if g is not None and not np.isfinite(np.add.reduce(g._data, axis=None)):
            if not np.all(np.isfinite(g._data)):
                bad_param = name
                break
    if math.isfinite(loss_value) and bad_param is None:
        return
    where = (f"the first parameter with a non-finite gradient is '{bad_param}'" if bad_param
             else "every gradient is finite")
    raise NonFiniteError(f"training stopped at epoch {state.epoch}, step {state.step}: the loss "
                         f"is {loss_value}; {where}. The last checkpoint written is the last "
                         "good one.")


def _progress(loader, epoch, epochs, verbose):
    enabled = verbose and sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm import tqdm
    return tqdm(total=len(loader), desc=f"epoch {epoch}/{epochs}", leave=False, unit="batch",
                dynamic_ncols=True)


def fit(model, loss_fn, optimizer, train_loader, val_loader=None, epochs=1, scheduler=None,
        metrics=("accuracy",), callbacks=(), verbose=True, history=None, start_epoch=0,
        start_step=0, print_fn=print):
    """Train for `epochs` epochs (counting from start_epoch, for resumed runs) and return the
    History: per epoch the mean training loss and metrics, the validation loss and metrics, the
    learning rate and the time taken."""
    for m in metrics:
        if m not in METRICS:
            raise ValueError(f"fit: unknown metric {m!r}; available: {sorted(METRICS)}")
    history = history if history is not None else History()
    state = TrainState(model, optimizer, scheduler, history, start_epoch, start_step)
    for cb in callbacks:
        cb.on_train_begin(state)
    try:
        for epoch in range(start_epoch + 1, epochs + 1):
            state.epoch = epoch
            for cb in callbacks:
                cb.on_epoch_begin(state)
            record = {"epoch": epoch}
            t0 = time.perf_counter()
            record.update(_train_epoch(state, loss_fn, train_loader, metrics, epochs, verbose,
                                       callbacks))
            if val_loader is not None:
                val = evaluate(model, loss_fn, val_loader, metrics)
                record.update({f"val_{k}": v for k, v in val.items()})
            record["lr"] = optimizer.param_groups[0]["lr"]
            record["time"] = time.perf_counter() - t0
            if scheduler is not None and not _steps_per_batch(scheduler):
                if type(scheduler).__name__ == "ReduceLROnPlateau":
                    scheduler.step(record.get("val_loss", record["loss"]))
                else:
                    scheduler.step()
            history.append(record)
            if verbose:
                print_fn(format_record(record, epochs))
            for cb in callbacks:
                cb.on_epoch_end(state)
            if state.stop:
                break
    except KeyboardInterrupt:
        for cb in callbacks:
            cb.on_interrupt(state)
        raise
    for cb in callbacks:
        cb.on_train_end(state)
    return history


def _train_epoch(state, loss_fn, loader, metrics, epochs, verbose, callbacks):
    model, optimizer, scheduler = state.model, state.optimizer, state.scheduler
    model.train()
    total_loss, n_seen = 0.0, 0
    counts = {m: 0 for m in metrics}
    bar = _progress(loader, state.epoch, epochs, verbose)
    per_batch = scheduler is not None and _steps_per_batch(scheduler)
    for x, y in loader:
        optimizer.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        value = loss.item()
        state.step += 1
        _check_finite(model, value, state)
        optimizer.step()
        if per_batch:
            scheduler.step()
        n = len(x)
        total_loss += value * n
        n_seen += n
        for m in metrics:
            counts[m] += METRICS[m](out, y)
        state.batch_loss = value
        for cb in callbacks:
            cb.on_batch_end(state)
        if bar is not None:
            bar.update(1)
            if state.step % 10 == 0:
                bar.set_postfix(loss=f"{total_loss / n_seen:.4f}",
                                **{m: f"{counts[m] / n_seen:.4f}" for m in metrics})
    if bar is not None:
        bar.close()
    result = {"loss": total_loss / max(n_seen, 1)}
    result.update({m: counts[m] / max(n_seen, 1) for m in metrics})
    return result


def evaluate(model, loss_fn, loader, metrics=("accuracy",)):
    """Mean loss and metrics over a loader, in eval mode and without a graph."""
    was_training = model.training
    model.eval()
    total, n_seen = 0.0, 0
    counts = {m: 0 for m in metrics}
    try:
        with no_grad():
            for x, y in loader:
                out = model(x)
                n = len(x)
                if loss_fn is not None:
                    total += loss_fn(out, y).item() * n
                n_seen += n
                for m in metrics:
                    counts[m] += METRICS[m](out, y)
    finally:
        model.train(was_training)
    result = {"loss": total / max(n_seen, 1)} if loss_fn is not None else {}
    result.update({m: counts[m] / max(n_seen, 1) for m in metrics})
    return result


def predict(model, loader):
    """The model's outputs for every batch of a loader (inputs first in each batch), joined."""
    was_training = model.training
    model.eval()
    outs = []
    try:
        with no_grad():
            for batch in loader:
                x = batch[0] if isinstance(batch, (tuple, list)) else batch
                outs.append(model(x))
    finally:
        model.train(was_training)
    return cat(outs, 0)


def format_record(record, epochs):
    parts = [f"epoch {record['epoch']}/{epochs}"]
    for k, v in record.items():
        if k in ("epoch", "time", "lr"):
            continue
        parts.append(f"{k} {v:.4f}")
    parts.append(f"lr {record['lr']:.3g}")
    parts.append(f"{record['time']:.1f}s")
    return "  ".join(parts)
