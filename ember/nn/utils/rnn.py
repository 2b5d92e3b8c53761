"""Variable-length sequences for the recurrent layers, as torch.nn.utils.rnn: pad_sequence,
pack_padded_sequence, pad_packed_sequence, pack_sequence, unpad_sequence, unpack_sequence and
PackedSequence.

A packed batch holds only the real steps of each sequence, time-major: with the sequences sorted
by decreasing length, `data` has the first step of every sequence, then the second step of every
sequence that has one, and so on; batch_sizes[t] is how many sequences have a step t. Sorting is
recorded in sorted_indices (the batch entry at each sorted position) and unsorted_indices (its
inverse), both None when the batch came sorted. Every conversion is an indexing op: gradients
flow back to the padded or listed inputs.
"""
from typing import NamedTuple

import numpy as np

from ...ops import cat
from ...ops.index import AdvancedIndex
from ...tensor import Tensor


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequence_):
    """data (N, *) the steps of all sequences, batch_sizes (T,) int64, sorted_indices and
    unsorted_indices (B,) int64 or None. Made by pack_padded_sequence or pack_sequence; the
    recurrent layers take and return it."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:
            raise TypeError("PackedSequence: batch_sizes is required (build one with "
                            "pack_padded_sequence or pack_sequence)")
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, _int64(batch_sizes), _optional_int64(sorted_indices),
                               _optional_int64(unsorted_indices))

    def to(self, *args, **kwargs):
        """The same sequences with data converted by Tensor.to (the indices stay int64)."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, self.batch_sizes,
                                                         self.sorted_indices,
                                                         self.unsorted_indices)

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def cpu(self):
        return self

    @property
    def is_cuda(self):
        return False


def _int64(x):
    return x if isinstance(x, Tensor) and x.dtype == np.int64 else Tensor(
        np.asarray(x._data if isinstance(x, Tensor) else x, dtype=np.int64))


def _optional_int64(x):
    return None if x is None else _int64(x)


def invert_permutation(permutation):
    """The inverse permutation: out[permutation[i]] = i (None stays None)."""
    if permutation is None:
        return None
    p = _int64(permutation)._data
    out = np.empty_like(p)
    out[p] = np.arange(p.size, dtype=np.int64)
    return Tensor(out)


def _lengths(name, lengths, batch, steps):
    """lengths as a 1-D int64 array, checked against the batch and the time dimension."""
    if isinstance(lengths, Tensor):
        lengths = lengths._data
    arr = np.asarray(lengths)
    if arr.ndim != 1 or arr.size != batch or (arr.size and arr.dtype.kind not in "iu"):
        raise ValueError(f"{name}: lengths must be a 1-D list or tensor of {batch} integers "
                         f"(one per sequence), got {arr.tolist()!r}")
    arr = arr.astype(np.int64)
    if arr.size and arr.min() <= 0:
        raise RuntimeError(f"{name}: Length of all samples has to be greater than 0, but found "
                           f"an element in 'lengths' that is <= 0: {arr.tolist()}")
    if arr.size and arr.max() > steps:
        raise ValueError(f"{name}: a length of {int(arr.max())} is longer than the input's "
                         f"{steps} time steps")
    return arr


def _batch_sizes(sorted_lengths):
    """batch_sizes[t] = how many of the (decreasing) lengths exceed t."""
    steps = np.arange(sorted_lengths[0])
    return (sorted_lengths[None, :] > steps[:, None]).sum(1).astype(np.int64)


def packed_positions(batch_sizes):
    """(time, sorted batch position) of each row of a packed batch's data, in data's order."""
    sizes = np.asarray(batch_sizes, dtype=np.int64)
    times = np.repeat(np.arange(sizes.size), sizes)
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    return times, np.arange(times.size) - starts


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes (L_i, *) into (T, B, *) ((B, T, *) with batch_first), T the
    longest L_i, filling the rest with padding_value (after each sequence, or before it with
    padding_side='left')."""
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got "
                         f"{padding_side!r}")
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    for s in sequences:
        if not isinstance(s, Tensor):
            raise TypeError(f"pad_sequence: expected a list of Tensors, got "
                            f"{type(s).__name__}")
        if s.ndim == 0 or s.shape[1:] != sequences[0].shape[1:] or s.dtype != sequences[0].dtype:
            raise RuntimeError(
                f"pad_sequence: every sequence needs a time dimension and the same trailing "
                f"shape and dtype; got {[(tuple(t.shape), str(t.dtype)) for t in sequences]}")
    lengths = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    steps = int(lengths.max())
    first = sequences[0]
    pad = Tensor(np.full((1,) + first.shape[1:], padding_value, dtype=first.dtype))
    rows = cat(sequences + [pad], 0)  # the steps of every sequence in turn, then the pad row
    # source row of each (t, b) of the output: the pad row (the last) where b has no step t
    t = np.arange(steps)[:, None]
    offset = (steps - lengths)[None, :] if padding_side == "left" else 0
    step = t - offset
    starts = np.cumsum(lengths) - lengths
    index = np.where((step >= 0) & (step < lengths[None, :]), starts[None, :] + step,
                     rows.shape[0] - 1)
    if batch_first:
        index = index.T
    return AdvancedIndex.apply(rows, (index,))


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) ((B, T, *) with batch_first) whose sequence b has lengths[b]
    real steps. enforce_sorted=True needs lengths in decreasing order; with False the batch is
    sorted here and the order kept in sorted_indices."""
    name = "pack_padded_sequence"
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"{name}: input must have a time and a batch dimension, got shape "
                         f"{tuple(input.shape)}")
    steps, batch = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    lengths = _lengths(name, lengths, batch, steps)
    if batch == 0:
        raise ValueError(f"{name}: the batch is empty")
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError(
                f"{name}: `lengths` array must be sorted in decreasing order when "
                f"`enforce_sorted` is True (got {lengths.tolist()}). You can pass "
                f"`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                f"sidestep this requirement.")
        order = None
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
    batch_sizes = _batch_sizes(lengths)
    times, positions = packed_positions(batch_sizes)
    entries = positions if order is None else order[positions]
    key = (entries, times) if batch_first else (times, entries)
    data = AdvancedIndex.apply(input, key)
    return PackedSequence(data, batch_sizes, None if order is None else order)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of pack_padded_sequence: (padded (T, B, *) or (B, T, *), lengths int64 (B,)),
    the batch in its original order; total_length pads the time dimension further."""
    name = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{name}: expected a PackedSequence, got {type(sequence).__name__}")
    data, sizes = sequence.data, sequence.batch_sizes._data
    steps, batch = sizes.size, int(sizes[0])
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"{name}: Expected total_length to be at least the length of the "
                             f"longest sequence in input, but got total_length={total_length} "
                             f"and max sequence length being {steps}")
        steps = int(total_length)
    times, positions = packed_positions(sizes)
    index = np.full((steps, batch), data.shape[0], dtype=np.int64)  # the pad row by default
    index[times, positions] = np.arange(times.size)
    lengths = (sizes[None, :] > np.arange(batch)[:, None]).sum(1).astype(np.int64)
    if sequence.unsorted_indices is not None:
        back = sequence.unsorted_indices._data
        index, lengths = index[:, back], lengths[back]
    if batch_first:
        index = index.T
    pad = Tensor(np.full((1,) + data.shape[1:], padding_value, dtype=data.dtype))
    return AdvancedIndex.apply(cat([data, pad], 0), (index,)), Tensor(lengths)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors (L_i, *): pad_sequence, then pack_padded_sequence."""
    sequences = list(sequences)
    lengths = [s.shape[0] if isinstance(s, Tensor) and s.ndim else 0 for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences of a padded batch: padded[:lengths[b], b] for each b."""
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    lengths = _lengths("unpad_sequence", lengths, x.shape[0], x.shape[1])
    return [x[b, :int(n)] for b, n in enumerate(lengths)]


def unpack_sequence(packed_sequences):
    """The list of sequences of a packed batch, in the batch's original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
