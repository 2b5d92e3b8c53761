"""Elementwise ops: gradcheck, PyTorch parity (values, dtypes, gradients), second derivatives."""
from harness import Case, op_tests

BROADCAST = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((4, 1, 3), (2, 1)),
             ((1,), ()), ((0, 3), (3,))]
UNARY = [((),), ((5,),), ((2, 3),), ((1, 4, 1),), ((0, 2),)]

CASES = [
    Case("add", lambda m, a, b: a + b, BROADCAST),
    Case("sub", lambda m, a, b: a - b, BROADCAST),
    Case("mul", lambda m, a, b: a * b, BROADCAST),
    Case("div", lambda m, a, b: a / b, BROADCAST, domain=(0.5, 2.0)),
    Case("pow_tensor", lambda m, a, b: a ** b, BROADCAST, domain=(0.5, 2.0)),
    Case("pow_scalar", lambda m, a: a ** 3, UNARY),
    Case("pow_half", lambda m, a: a ** 0.5, UNARY, domain=(0.5, 2.0)),
    Case("square", lambda m, a: a ** 2, UNARY),
    Case("rpow", lambda m, a: 2.0 ** a, UNARY),
    Case("radd_rsub_rmul_rdiv", lambda m, a: (1.5 - a) * 2.0 + 3.0 / (a + 3.0), UNARY),
    Case("neg", lambda m, a: -a, UNARY),
    Case("abs", lambda m, a: a.abs(), UNARY),
    Case("exp", lambda m, a: a.exp(), UNARY),
    Case("log", lambda m, a: a.log(), UNARY, domain=(0.1, 3.0)),
    Case("log1p", lambda m, a: a.log1p(), UNARY, domain=(-0.5, 3.0)),
    Case("sqrt", lambda m, a: a.sqrt(), UNARY, domain=(0.1, 3.0)),
    Case("rsqrt", lambda m, a: a.rsqrt(), UNARY, domain=(0.1, 3.0)),
    Case("sin", lambda m, a: a.sin(), UNARY),
    Case("cos", lambda m, a: a.cos(), UNARY),
    Case("maximum", lambda m, a, b: m.maximum(a, b), BROADCAST),
    Case("minimum", lambda m, a, b: m.minimum(a, b), BROADCAST),
    Case("clamp", lambda m, a: a.clamp(-0.5, 0.7), UNARY),
    Case("clamp_min", lambda m, a: a.clamp(min=0.1), UNARY),
    Case("where", lambda m, c, a, b: m.where(c, a, b),
         [((3,), (3,), (3,)), ((2, 3), (3,), (2, 1)), ((2, 3), (), (2, 3))], bools=(0,)),
]

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)
