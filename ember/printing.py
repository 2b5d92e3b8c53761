"""PyTorch-like printing of tensors: tensor([[0.1000, 2.0000]], requires_grad=True)."""
import numpy as np

_DEFAULT_DTYPES = ("float32", "int64", "bool")


def _format_float_array(a):
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return lambda v: _special(v) or f"{v:.4f}"
    amax, amin = np.abs(finite).max(), np.abs(finite[finite != 0]).min() if np.any(finite) else 0
    if np.all(finite == np.round(finite)) and amax < 1e8:
        width = max(len(f"{v:.0f}.") for v in finite)
        return lambda v: (_special(v) or f"{v:.0f}.").rjust(width)
    if amax >= 1e8 or (amin and amax / amin > 1e3) or (amin and amin < 1e-4):
        return lambda v: _special(v) or f"{v:.4e}"
    width = max(len(f"{v:.4f}") for v in finite)
    return lambda v: (_special(v) or f"{v:.4f}").rjust(width)


def _special(v):
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def tensor_repr(t):
    a = t._data
    if a.dtype.kind == "f":
        fmt = _format_float_array(a)
        formatter = {"float_kind": fmt}
    elif a.dtype.kind == "b":
        formatter = {"bool": lambda v: " True" if v else "False"}
    else:
        formatter = None
    if a.size == 0:
        body = "[]"
    else:
        body = np.array2string(a, separator=", ", formatter=formatter, prefix="tensor(",
                               threshold=1000, edgeitems=3, max_line_width=80)
    extras = []
    if a.size == 0 and a.shape != (0,):
        extras.append(f"size={a.shape}")
    if a.dtype.name not in _DEFAULT_DTYPES:
        extras.append(f"dtype=ember.{a.dtype.name}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.fn.__name__}Backward>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"
