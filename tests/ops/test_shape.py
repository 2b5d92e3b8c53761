"""Shape ops: gradcheck, PyTorch parity (values, dtypes, gradients), second derivatives; clear
errors; views sharing their base's memory and version counter."""
import numpy as np
import pytest

import ember
from harness import Case, op_tests, torch


def pad(m, x, widths, mode="constant", value=0.0):
    """torch.nn.functional.pad or ember's, with one call for both."""
    fn = torch.nn.functional.pad if m is torch else ember.ops.pad
    return fn(x, widths, mode=mode, value=value) if mode == "constant" else fn(x, widths, mode=mode)


def mixed_float(rng, shapes, dtype):
    return [rng.uniform(-2, 2, s).astype(t) for s, t in zip(shapes, (np.float32, np.float64))]


ANY = [((),), ((5,),), ((2, 3),), ((1, 4, 1),), ((0, 2),)]
MATS = [((2, 3),), ((1, 4),), ((3, 1),), ((0, 2),)]
CUBES = [((2, 3, 4),), ((1, 3, 1),), ((2, 0, 3),)]
SQUEEZABLE = [((),), ((1, 3, 1),), ((2, 1, 1),), ((1, 1, 1),), ((1, 0, 1),)]

CASES = [
    # reshape / view / flatten / unflatten
    Case("reshape_flat", lambda m, x: x.reshape(-1), ANY),
    Case("reshape_reversed", lambda m, x: x.reshape(*reversed(x.shape)), ANY[1:]),
    Case("reshape_rows", lambda m, x: x.reshape(x.shape[0], -1), MATS[:-1] + CUBES),
    Case("reshape_tuple_3d", lambda m, x: x.reshape((1, -1, 2)), [((6,),), ((2, 2),), ((0, 4),)]),
    Case("reshape_scalar", lambda m, x: x.reshape(()), [((1,),), ((1, 1, 1),)]),
    Case("reshape_of_transpose", lambda m, x: x.t().reshape(-1) * 2, MATS),  # a copy, not a view
    Case("view", lambda m, x: x.view(-1, 1), ANY),
    Case("view_as", lambda m, x, y: x.view_as(y) * y, [((2, 3), (3, 2)), ((4,), (2, 2))]),
    Case("flatten", lambda m, x: x.flatten(), ANY),
    Case("flatten_from1", lambda m, x: x.flatten(1), MATS + CUBES),
    Case("flatten_0_1", lambda m, x: x.flatten(0, 1), CUBES),
    Case("flatten_neg", lambda m, x: x.flatten(-2, -1), CUBES),
    Case("unflatten", lambda m, x: x.unflatten(1, (2, -1)), [((3, 4),), ((2, 6, 1),), ((0, 4),)]),
    Case("unflatten_neg_dim", lambda m, x: x.unflatten(-1, (1, 3, 1)), [((3,),), ((2, 3),)]),
    # transposes
    Case("transpose", lambda m, x: x.transpose(0, -1), ANY),
    Case("transpose_12", lambda m, x: x.transpose(1, 2), CUBES),
    Case("permute", lambda m, x: x.permute(2, 0, 1), CUBES),
    Case("permute_neg_tuple", lambda m, x: x.permute((-1, 0)), MATS),
    Case("T", lambda m, x: x.T, MATS),
    Case("mT", lambda m, x: x.mT, MATS + CUBES),
    Case("t", lambda m, x: x.t(), [((),), ((4,),)] + MATS),
    # squeeze / unsqueeze
    Case("squeeze_all", lambda m, x: x.squeeze(), SQUEEZABLE + [((2, 3),)]),
    Case("squeeze_dim", lambda m, x: x.squeeze(-1), SQUEEZABLE + [((2, 3),)]),
    Case("squeeze_tuple", lambda m, x: x.squeeze((0, 2)), SQUEEZABLE[1:] + [((2, 3, 4),)]),
    Case("unsqueeze_0", lambda m, x: x.unsqueeze(0), ANY),
    Case("unsqueeze_neg1", lambda m, x: x.unsqueeze(-1), ANY),
    Case("unsqueeze_neg2", lambda m, x: m.unsqueeze(x, -2), ANY[1:]),
    # expand / broadcast_to / repeat
    Case("expand", lambda m, x: x.expand(2, *[3 if n == 1 else -1 for n in x.shape]),
         [((),), ((1,),), ((4, 1),), ((1, 3),), ((0, 1),), ((2, 3),)]),
    Case("expand_zero", lambda m, x: x.expand(0, 3), [((1, 3),), ((1, 1),)]),
    Case("expand_as", lambda m, x, y: x.expand_as(y) * y, [((3, 1), (2, 3, 4)), ((), (2,))]),
    Case("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 3, 4)),
         [((),), ((4,),), ((3, 1),), ((1, 1, 4),), ((2, 3, 4),)]),
    Case("repeat", lambda m, x: x.repeat(2, 1, 3), [((),), ((3,),), ((2, 4),), ((0, 2),),
                                                    ((1, 2, 1),)]),
    Case("repeat_2d", lambda m, x: x.repeat(2, 2), [((3,),), ((2, 3),), ((1, 1),)]),
    Case("repeat_zero", lambda m, x: x.repeat(0, 2), [((3,),), ((2, 3),)]),
    # flip / roll
    Case("flip_0", lambda m, x: x.flip(0), ANY[1:]),
    Case("flip_both", lambda m, x: x.flip((0, -1)), MATS + CUBES),
    Case("flip_none", lambda m, x: m.flip(x, ()), ANY),
    Case("roll_flat", lambda m, x: x.roll(2), ANY),
    Case("roll_dim", lambda m, x: x.roll(-1, 1), MATS + CUBES),
    Case("roll_dims", lambda m, x: x.roll((1, -2), (0, 1)), MATS + CUBES),
    Case("roll_big_shift", lambda m, x: m.roll(x, 7, dims=-1), MATS),
    # triangles
    Case("tril", lambda m, x: x.tril(), MATS + CUBES + [((3, 3),)]),
    Case("tril_minus1", lambda m, x: x.tril(-1), [((3, 3),), ((2, 4),), ((2, 3, 4),)]),
    Case("tril_plus2", lambda m, x: m.tril(x, diagonal=2), [((3, 3),), ((4, 2),)]),
    Case("triu", lambda m, x: x.triu(), MATS + CUBES + [((3, 3),)]),
    Case("triu_plus1", lambda m, x: x.triu(1), [((3, 3),), ((2, 4),), ((2, 3, 4),)]),
    Case("triu_minus2", lambda m, x: m.triu(x, -2), [((3, 3),), ((4, 2),)]),
    # cat / stack / split / chunk
    Case("cat_0", lambda m, a, b: m.cat([a, b]), [((2, 3), (1, 3)), ((3,), (2,)), ((0, 3), (2, 3)),
                                                  ((0,), (0,))]),
    Case("cat_last", lambda m, a, b, c: m.cat((a, b, c), dim=-1),
         [((2, 1), (2, 3), (2, 0)), ((1, 2, 2), (1, 2, 1), (1, 2, 3))]),
    Case("cat_one", lambda m, a: m.cat([a], 1), MATS),
    Case("cat_int_float", lambda m, a, b: m.cat([a, b]), [((2,), (3,)), ((1, 3), (2, 3))],
         ints={0: (-5, 5)}),
    Case("cat_f32_f64", lambda m, a, b: m.cat([a, b]), [((2,), (3,)), ((1, 3), (2, 3))],
         make=mixed_float, gradcheck=False),
    Case("cat_legacy_empty", lambda m, a, b: m.cat([a, b]) * 1.0, [((0,), (2, 3))],
         ints={0: (0, 1)}),
    Case("stack_0", lambda m, a, b: m.stack([a, b]), [((), ()), ((3,), (3,)), ((2, 3), (2, 3)),
                                                      ((0, 2), (0, 2))]),
    Case("stack_last", lambda m, a, b, c: m.stack([a, b, c], dim=-1), [((2,), (2,), (2,)),
                                                                      ((2, 1), (2, 1), (2, 1))]),
    Case("stack_int_float", lambda m, a, b: m.stack([a, b], 1), [((3,), (3,)), ((2, 2), (2, 2))],
         ints={1: (-3, 3)}),
    Case("split_int", lambda m, x: x.split(2), [((5, 3),), ((4, 3),), ((1, 2),), ((0, 3),)]),
    Case("split_sections", lambda m, x: m.split(x, [1, 2], dim=1), [((2, 3),), ((0, 3),),
                                                                    ((1, 3, 2),)]),
    Case("split_empty_section", lambda m, x: x.split([0, 3, 0]), [((3,),), ((3, 2),)]),
    Case("chunk", lambda m, x: x.chunk(3), [((5, 2),), ((6, 2),), ((2, 2),), ((0, 2),)]),
    Case("chunk_last", lambda m, x: m.chunk(x, 4, dim=-1), [((2, 6),), ((1, 3),), ((2, 4),)]),
    # pad
    Case("pad_constant", lambda m, x: pad(m, x, (1, 2)), [((3,),), ((2, 3),), ((0, 2),),
                                                          ((2, 0),)]),
    Case("pad_constant_2d", lambda m, x: pad(m, x, (1, 0, 2, 1), value=-1.5),
         [((2, 3),), ((1, 2, 3),)]),
    Case("pad_constant_crop", lambda m, x: pad(m, x, (-1, 2, 1, -2)), [((3, 4),), ((2, 3, 4),),
                                                                      ((2, 1),)]),
    Case("pad_constant_none", lambda m, x: pad(m, x, ()), [((),), ((2,),)]),
    Case("pad_reflect_1d", lambda m, x: pad(m, x, (2, 1), "reflect"), [((2, 4),), ((1, 2, 3),)]),
    Case("pad_reflect_2d", lambda m, x: pad(m, x, (1, 2, 2, 1), "reflect"),
         [((1, 3, 4),), ((1, 1, 3, 3),)]),
    Case("pad_replicate_1d", lambda m, x: pad(m, x, (3, 1), "replicate"),
         [((2, 4),), ((1, 2, 1),)]),
    Case("pad_replicate_2d", lambda m, x: pad(m, x, (1, 2, 0, 3), "replicate"),
         [((1, 2, 3),), ((1, 1, 2, 2),)]),
    Case("pad_circular_1d", lambda m, x: pad(m, x, (2, 3), "circular"), [((1, 2, 3),),
                                                                        ((2, 1, 4),)]),
    Case("pad_circular_2d", lambda m, x: pad(m, x, (1, 1, 2, 0), "circular"),
         [((1, 1, 2, 3),), ((1, 2, 3, 2),)]),
    Case("pad_circular_negative", lambda m, x: pad(m, x, (-1, 2), "circular"), [((1, 2, 4),)]),
]

# Squared outputs: the first derivative then depends on x, so the second derivative runs each
# op's backward through its own backward (a linear op's gradient alone is constant).
SQUARED = [
    Case(f"{name}_squared", (lambda f: lambda m, x: f(m, x) ** 2)(f), [shapes])
    for name, f, shapes in [
        ("reshape", lambda m, x: x.reshape(-1), ((2, 3),)),
        ("reshape_copy", lambda m, x: x.mT.reshape(-1), ((2, 3),)),
        ("permute", lambda m, x: x.permute(1, 2, 0), ((2, 3, 2),)),
        ("expand", lambda m, x: x.expand(2, 3, 4), ((3, 1),)),
        ("repeat", lambda m, x: x.repeat(2, 3), ((2, 2),)),
        ("flip", lambda m, x: x.flip(1), ((2, 3),)),
        ("roll", lambda m, x: x.roll(1, 0), ((3, 2),)),
        ("roll_flat", lambda m, x: x.roll(-4), ((3, 2),)),
        ("tril", lambda m, x: x.tril(), ((3, 3),)),
        ("triu", lambda m, x: x.triu(1), ((3, 3),)),
        ("cat", lambda m, x: m.cat([x, x[:1] * 2], 0), ((2, 3),)),
        ("split", lambda m, x: x.split(2)[1], ((5, 2),)),
        ("pad_constant", lambda m, x: pad(m, x, (1, -1)), ((2, 3),)),
        ("pad_reflect", lambda m, x: pad(m, x, (2, 1), "reflect"), ((2, 4),)),
    ]
]
CASES += SQUARED

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)


# ---- clear errors --------------------------------------------------------------------------

def test_reshape_incompatible():
    x = ember.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"reshape: shape \(4, 2\) is invalid .*\(2, 3\)"):
        x.reshape(4, 2)
    with pytest.raises(RuntimeError, match="reshape"):
        x.reshape(-1, -1)
    with pytest.raises(RuntimeError, match="reshape"):
        x.view(4, -1)
    with pytest.raises(RuntimeError, match="reshape"):
        ember.zeros(0, 3).reshape(0, -1)  # -1 could be anything
    with pytest.raises(RuntimeError, match="unflatten"):
        x.unflatten(1, (2, 2))


def test_permute_wrong_dims():
    x = ember.zeros(2, 3, 4)
    with pytest.raises(RuntimeError, match="permute: 2 dims given"):
        x.permute(1, 0)
    with pytest.raises(RuntimeError, match=r"permute: \(0, 0, 1\) is not a permutation"):
        x.permute(0, 0, 1)
    with pytest.raises(IndexError, match="permute: dim 3 is out of range"):
        x.permute(0, 1, 3)


def test_cat_stack_mismatched_shapes():
    with pytest.raises(RuntimeError, match=r"cat: tensor 1 has shape \(2, 4\).*\(2, 3\)"):
        ember.cat([ember.zeros(2, 3), ember.zeros(2, 4)])
    with pytest.raises(RuntimeError, match="cat: tensor 1"):
        ember.cat([ember.zeros(2, 3), ember.zeros(3)])
    with pytest.raises(RuntimeError, match="cat: zero-dim"):
        ember.cat([ember.zeros(()), ember.zeros(())])
    with pytest.raises(ValueError, match="cat: expected a non-empty"):
        ember.cat([])
    with pytest.raises(TypeError, match="cat: expected a sequence of Tensors"):
        ember.cat([ember.zeros(2), [1.0]])
    with pytest.raises(RuntimeError, match="stack: tensor 1 has shape"):
        ember.stack([ember.zeros(2), ember.zeros(3)])


def test_expand_incompatible():
    x = ember.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"expand: the size of dim 1 is 3 and cannot be "
                                           r"expanded to 4"):
        x.expand(2, 4)
    with pytest.raises(RuntimeError, match="expand: 1 sizes given"):
        x.expand(3)
    with pytest.raises(RuntimeError, match="expand: -1 is not allowed"):
        x.expand(-1, 2, 3)
    with pytest.raises(RuntimeError, match="expand: invalid size -2"):
        x.expand(-2, 3)
    with pytest.raises(RuntimeError, match="repeat: 1 repeats"):
        x.repeat(2)


def test_dim_out_of_range():
    x = ember.zeros(2, 3)
    for call in (lambda: x.transpose(0, 2), lambda: x.flatten(2), lambda: x.squeeze(2),
                 lambda: x.unsqueeze(3), lambda: x.flip(-3), lambda: x.roll(1, 5),
                 lambda: ember.cat([x, x], 2), lambda: ember.stack([x, x], 3),
                 lambda: x.split(1, 2), lambda: x.chunk(2, -3), lambda: x.unflatten(2, (1,))):
        with pytest.raises(IndexError, match=r"\w+: dim -?\d is out of range for a tensor with"):
            call()


def test_other_bad_arguments():
    x = ember.zeros(2, 3)
    with pytest.raises(RuntimeError, match="flatten: start_dim 1 comes after end_dim 0"):
        x.flatten(1, 0)
    with pytest.raises(RuntimeError, match="tril: expects a tensor with >= 2 dims"):
        ember.zeros(3).tril()
    with pytest.raises(RuntimeError, match="triu: expects a tensor with >= 2 dims"):
        ember.zeros(3).triu()
    with pytest.raises(RuntimeError, match="t: expects a tensor with <= 2 dims"):
        ember.zeros(1, 2, 3).t()
    with pytest.raises(RuntimeError, match="mT: expects a tensor with >= 2 dims"):
        ember.zeros(3).mT
    with pytest.raises(RuntimeError, match="roll: shifts .* and dims .* same length"):
        x.roll(1, (0, 1))
    with pytest.raises(RuntimeError, match="split: sections"):
        x.split([1, 2])
    with pytest.raises(ValueError, match="split: split_size must be positive"):
        x.split(0)
    with pytest.raises(RuntimeError, match="split: expects a tensor with at least 1 dim"):
        ember.zeros(()).split(1)
    with pytest.raises(ValueError, match="chunk: chunks must be positive"):
        x.chunk(0)
    with pytest.raises(ValueError, match="pad: reflect padding"):
        ember.ops.pad(x, (3, 0), mode="reflect")
    with pytest.raises(ValueError, match="pad: circular padding"):
        ember.ops.pad(x, (4, 0), mode="circular")
    with pytest.raises(ValueError, match="pad: negative padding .* crops more"):
        ember.ops.pad(x, (-2, -2))
    with pytest.raises(ValueError, match="pad: negative padding is only supported"):
        ember.ops.pad(x, (-1, 1), mode="reflect")
    with pytest.raises(ValueError, match="pad: mode must be"):
        ember.ops.pad(x, (1, 1), mode="mirror")
    with pytest.raises(ValueError, match="pad: padding"):
        ember.ops.pad(x, (1, 1, 1))


# ---- views: shared memory and version counter -----------------------------------------------

def test_version_counter_shared_by_views():
    """A view saved for backward goes stale when its base changes in place: an error, never a
    wrong gradient."""
    views = [lambda x: x.reshape(3, 2), lambda x: x.view(-1), lambda x: x.t(),
             lambda x: x.permute(1, 0), lambda x: x.unsqueeze(0), lambda x: x[None].squeeze(0),
             lambda x: x.expand(4, 2, 3), lambda x: x.flatten(), lambda x: x.split(1)[1],
             lambda x: x.chunk(2, 1)[0], lambda x: x.transpose(0, 1).mT]
    for view in views:
        x = ember.ones(2, 3)  # does not require grad
        v = view(x)
        w = ember.ones(v.shape, requires_grad=True)
        y = w * v  # saves v
        x.add_(1)
        with pytest.raises(RuntimeError, match="modified by an in-place operation"):
            y.sum().backward()


def test_version_counter_modify_base_under_no_grad():
    w = ember.ones(2, 3, requires_grad=True)
    x = ember.randn(6)
    y = w * x.reshape(2, 3)
    with ember.no_grad():
        x.mul_(2)
    with pytest.raises(RuntimeError, match="mul: .* modified by an in-place operation"):
        y.sum().backward()
    # a leaf that requires grad, updated in place (an optimizer step) after a view was saved
    p = ember.randn(2, 3, requires_grad=True)
    loss = (p.t() * p.t()).sum()
    with ember.no_grad():
        p.sub_(0.1)
    with pytest.raises(RuntimeError, match="mul: .* modified by an in-place operation"):
        loss.backward()


def test_modifying_a_view_bumps_the_base():
    w = ember.ones(3, requires_grad=True)
    x = ember.ones(2, 3)
    y = w * x[0]  # saves the view x[0]
    x[1].add_(1)  # a different view of the same base: PyTorch's counter is per base, too
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_copies_do_not_share_the_version_counter():
    """flip, roll, repeat, cat, tril and a reshape that cannot be a view copy; changing the
    base afterwards leaves their saved values (and gradients) valid."""
    copies = [lambda x: x.flip(0), lambda x: x.roll(1, 0), lambda x: x.repeat(1, 1),
              lambda x: ember.cat([x, x]), lambda x: x.tril(), lambda x: x.t().reshape(-1),
              lambda x: ember.ops.pad(x, (1, 1))]
    for copy in copies:
        x = ember.arange(6.0).reshape(2, 3)
        c = copy(x)
        before = c.numpy().copy()
        w = ember.ones(c.shape, requires_grad=True)
        y = w * c
        x.add_(1)
        y.sum().backward()
        np.testing.assert_array_equal(w.grad.numpy(), before)


def test_views_share_memory_and_copies_do_not():
    x = ember.zeros(2, 3)
    x.reshape(-1)[1].add_(1)
    x.t()[2, 1].fill_(2)
    x[0, ::2].add_(5)
    x[1][0].add_(7)  # int index of a 1-D view: still a view (NumPy alone returns a scalar copy)
    np.testing.assert_array_equal(x.numpy(), [[5, 1, 5], [7, 0, 2]])
    x.flip(0).fill_(-1)  # flip copies, as in PyTorch
    x.t().reshape(-1).fill_(-1)  # a non-contiguous reshape copies
    np.testing.assert_array_equal(x.numpy(), [[5, 1, 5], [7, 0, 2]])


def test_identity_shape_ops_keep_values():
    x = ember.randn(2, 3, requires_grad=True)
    for y in (x.reshape(2, 3), x.permute(0, 1), x.expand(2, 3), x.squeeze(), x.flatten(0, 0),
              x.transpose(1, 1)):
        assert y.shape == (2, 3)
        np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy())


def test_tril_and_triu_name_their_nodes():
    x = ember.randn(3, 3, requires_grad=True)
    assert x.tril().grad_fn.name == "tril"
    assert x.triu().grad_fn.name == "triu"


def test_cat_promotes_like_torch():
    i, f = ember.zeros(2, dtype=ember.int64), ember.zeros(2)
    d = ember.zeros(2, dtype=ember.float64)
    b = ember.zeros(2, dtype=ember.bool)
    assert ember.cat([i, f]).dtype == np.float32
    assert ember.cat([f, d]).dtype == np.float64
    assert ember.cat([b, i]).dtype == np.int64
    assert ember.stack([i, f]).dtype == np.float32
