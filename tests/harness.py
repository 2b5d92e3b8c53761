"""The op test harness: a case declares inputs and one function written once for both frameworks
(`fn(lib, *xs)` with lib = ember or torch, which share the API); the harness runs

- float64 finite-difference gradcheck (ember.autograd.gradcheck),
- PyTorch parity: values, shape, dtype and every input gradient, float32 and float64,
- second-derivative parity (create_graph=True) where the case asks for it, and the first
  derivatives that create_graph computes (ops with an `array_backward` compute them another way
  without it: parity covers that path, this one the differentiable one),
- extreme-value finiteness where the case asks for it.

Parity skips cleanly when torch is not installed.
"""
from dataclasses import dataclass, field

import numpy as np
import pytest

import ember

try:
    import torch
except ImportError:  # parity tests skip; CI installs torch
    torch = None

TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-10)}


@dataclass
class Case:
    """One op under test.

    fn: fn(lib, *inputs) -> output tensor, the same code for ember and torch.
    shapes: one tuple of input shapes per sub-case, e.g. [((3,), (2, 3)), ((),)].
    domain: (low, high) for random inputs; grad: which inputs are differentiated (default all
    float inputs); ints: {input index: (low, high)} for integer inputs (indices).
    double: also check second derivatives against torch.
    """
    name: str
    fn: callable
    shapes: list
    domain: tuple = (-2.0, 2.0)
    ints: dict = field(default_factory=dict)
    bools: tuple = ()
    constant: tuple = ()  # float inputs that are not differentiated (weights of a loss, ...)
    double: bool = True
    gradcheck: bool = True
    tol: dict = None
    make: callable = None  # make(rng, shapes, dtype) -> list of arrays, overriding the default

    def __str__(self):
        return self.name


def make_inputs(case, shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if case.make is not None:
        return case.make(rng, shapes, dtype)
    arrays = []
    for i, shape in enumerate(shapes):
        if i in case.ints:
            lo, hi = case.ints[i]
            arrays.append(rng.integers(lo, hi, size=shape).astype(np.int64))
        elif i in case.bools:
            arrays.append(rng.random(shape) > 0.5)
        else:
            lo, hi = case.domain
            arrays.append(rng.uniform(lo, hi, size=shape).astype(dtype))
    return arrays


def _is_float(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def ember_inputs(arrays, constant=()):
    return [ember.tensor(a.copy(), requires_grad=_is_float(a) and i not in constant)
            for i, a in enumerate(arrays)]


def torch_inputs(arrays, constant=()):
    return [torch.tensor(a.copy(), requires_grad=_is_float(a) and i not in constant)
            for i, a in enumerate(arrays)]


def run_gradcheck(case, shapes):
    arrays = make_inputs(case, shapes, np.float64, seed=1)
    xs = ember_inputs(arrays, case.constant)
    ember.autograd.gradcheck(lambda *t: case.fn(ember, *t), xs)


def _compare(got, want, what, tol):
    want = want.detach().numpy(force=True) if hasattr(want, "detach") else np.asarray(want)
    got = got.detach().numpy() if hasattr(got, "detach") else np.asarray(got)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, torch {want.shape}"
    assert str(got.dtype) == str(want.dtype), f"{what}: dtype {got.dtype}, torch {want.dtype}"
    if got.dtype.kind in "biu":
        np.testing.assert_array_equal(got, want, err_msg=what)
    else:
        np.testing.assert_allclose(got, want, err_msg=what, equal_nan=True, **tol)


def run_parity(case, shapes, dtype):
    if torch is None:
        pytest.skip("torch is not installed")
    tol = (case.tol or TOL)[dtype]
    arrays = make_inputs(case, shapes, dtype, seed=2)
    ex, tx = ember_inputs(arrays, case.constant), torch_inputs(arrays, case.constant)
    e_out, t_out = _as_tuple(case.fn(ember, *ex)), _as_tuple(case.fn(torch, *tx))
    assert len(e_out) == len(t_out)
    for k, (e, t) in enumerate(zip(e_out, t_out)):
        _compare(e, t, f"{case.name} output {k}", tol)
    differentiable = [(e, t) for e, t in zip(e_out, t_out) if t.requires_grad]
    if not differentiable:
        return
    rng = np.random.default_rng(3)
    seeds = [rng.standard_normal(t.shape).astype(t.detach().numpy().dtype) for _, t in differentiable]
    e_loss = sum(((e * ember.tensor(s)).sum() for (e, _), s in zip(differentiable, seeds)))
    t_loss = sum(((t * torch.tensor(s)).sum() for (_, t), s in zip(differentiable, seeds)))
    e_loss.backward()
    t_loss.backward()
    for i, (e, t) in enumerate(zip(ex, tx)):
        if t.requires_grad:
            if t.grad is None:
                assert e.grad is None or not np.any(e.grad.numpy()), f"{case.name}: grad {i}"
                continue
            assert e.grad is not None, f"{case.name}: input {i} got no gradient"
            _compare(e.grad, t.grad, f"{case.name} grad of input {i}", tol)


def run_double_backward(case, shapes):
    """d/dx of sum(v * dL/dx) for random v, against torch (float64)."""
    if torch is None:
        pytest.skip("torch is not installed")
    arrays = make_inputs(case, shapes, np.float64, seed=4)
    ex, tx = ember_inputs(arrays, case.constant), torch_inputs(arrays, case.constant)
    e_out, t_out = _as_tuple(case.fn(ember, *ex))[0], _as_tuple(case.fn(torch, *tx))[0]
    if not t_out.requires_grad:
        return
    rng = np.random.default_rng(5)
    w = rng.standard_normal(t_out.shape)
    e_in = [e for e in ex if e.requires_grad]
    t_in = [t for t in tx if t.requires_grad]
    e_g = ember.autograd.grad((e_out * ember.tensor(w)).sum(), e_in, create_graph=True,
                              allow_unused=True)
    t_g = torch.autograd.grad((t_out * torch.tensor(w)).sum(), t_in, create_graph=True,
                              allow_unused=True)
    for i, (e, t) in enumerate(zip(e_g, t_g)):
        if t is not None:
            _compare(np.zeros(t.shape) if e is None else e, t,
                     f"{case.name} first derivative (create_graph) of input {i}", TOL[np.float64])
    vs = [rng.standard_normal(t.shape) for t in t_in]
    e_terms = [(g * ember.tensor(v)).sum() for g, v in zip(e_g, vs) if g is not None and g.requires_grad]
    t_terms = [(g * torch.tensor(v)).sum() for g, v in zip(t_g, vs) if g is not None and g.requires_grad]
    if not t_terms:
        return
    # where ember's gradient has no graph, its second derivative is zero; torch's must be too
    e_gg = (ember.autograd.grad(sum(e_terms), e_in, allow_unused=True) if e_terms
            else [None] * len(e_in))
    t_gg = torch.autograd.grad(sum(t_terms), t_in, allow_unused=True)
    for i, (e, t) in enumerate(zip(e_gg, t_gg)):
        if t is None:
            assert e is None or not np.any(e.numpy()), f"{case.name}: second grad {i}"
            continue
        e = np.zeros(t.shape) if e is None else e
        _compare(e, t, f"{case.name} second derivative of input {i}", TOL[np.float64])


def case_params(cases):
    """pytest params: one per (case, shapes) pair, with readable ids."""
    params = []
    for c in cases:
        for shapes in c.shapes:
            params.append(pytest.param(c, shapes, id=f"{c.name}-{'x'.join(map(str, shapes))}"))
    return params


def op_tests(cases):
    """The four standard tests for a list of cases, to be bound in a test module:

        test_gradcheck, test_parity, test_double_backward = op_tests(CASES)
    """
    params = case_params(cases)

    @pytest.mark.parametrize("case,shapes", params)
    def test_gradcheck(case, shapes):
        if case.gradcheck:
            run_gradcheck(case, shapes)

    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    @pytest.mark.parametrize("case,shapes", params)
    def test_parity(case, shapes, dtype):
        run_parity(case, shapes, dtype)

    @pytest.mark.parametrize("case,shapes", params)
    def test_double_backward(case, shapes):
        if case.double:
            run_double_backward(case, shapes)

    return test_gradcheck, test_parity, test_double_backward
