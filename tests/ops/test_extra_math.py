"""The extra elementwise math (trig and hyperbolic, exp/log variants, reciprocal, square,
rounding, atan2, logaddexp, lerp): gradcheck, PyTorch parity, second derivatives."""
from harness import Case, op_tests

BROADCAST = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3))]
UNARY = [((),), ((5,),), ((2, 3),), ((0, 2),)]

CASES = [
    Case("tan", lambda m, a: a.tan(), UNARY, domain=(-1.2, 1.2)),
    Case("sinh", lambda m, a: a.sinh(), UNARY),
    Case("cosh", lambda m, a: m.cosh(a), UNARY),
    Case("asin", lambda m, a: a.asin(), UNARY, domain=(-0.9, 0.9)),
    Case("acos", lambda m, a: m.acos(a), UNARY, domain=(-0.9, 0.9)),
    Case("atan", lambda m, a: a.arctan(), UNARY),
    Case("expm1", lambda m, a: a.expm1(), UNARY),
    Case("exp2", lambda m, a: m.exp2(a), UNARY),
    Case("log2", lambda m, a: a.log2(), UNARY, domain=(0.1, 3.0)),
    Case("log10", lambda m, a: m.log10(a), UNARY, domain=(0.1, 3.0)),
    Case("reciprocal", lambda m, a: a.reciprocal(), UNARY, domain=(0.5, 2.0)),
    Case("square", lambda m, a: m.square(a) * a.square(), UNARY),
    Case("erf", lambda m, a: a.erf(), UNARY, domain=(-3.0, 3.0)),
    Case("erfc", lambda m, a: m.erfc(a), UNARY, domain=(-3.0, 3.0)),
    # piecewise constant: the gradient is 0 (random inputs lie far from the jumps)
    Case("floor_ceil_trunc", lambda m, a: a.floor() + m.ceil(a) * 2 + a.trunc() * 3 + a, UNARY),
    Case("round", lambda m, a: a.round() + m.round(a, decimals=1) * a, UNARY),
    Case("frac", lambda m, a: a.frac() * a, UNARY),
    Case("atan2", lambda m, a, b: m.atan2(a, b), BROADCAST),
    Case("logaddexp", lambda m, a, b: m.logaddexp(a, b), BROADCAST),
    Case("lerp_scalar", lambda m, a, b: m.lerp(a, b, 0.3), BROADCAST),
    Case("lerp_tensor", lambda m, a, b, w: a.lerp(b, w),
         [((3,), (3,), (3,)), ((2, 3), (3,), (2, 1))]),
]

test_gradcheck, test_parity, test_double_backward = op_tests(CASES)
