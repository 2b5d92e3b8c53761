"""Schedulers follow PyTorch's lr (and momentum) at every step, and resume from a state_dict."""
import math
import warnings

import numpy as np
import pytest

import ember
import ember.optim as optim
from ember.optim import lr_scheduler as elr

torch = pytest.importorskip("torch")
tlr = torch.optim.lr_scheduler


class Warmup:
    """A callable object: LambdaLR saves its attributes in the state_dict."""

    def __init__(self, n):
        self.n = n

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.n)


# name -> (make(lr_scheduler module, optimizer), steps, optimizer kind, number of groups)
SCHEDULERS = {
    "StepLR": (lambda L, o: L.StepLR(o, step_size=3, gamma=0.5), 20, "sgd", 1),
    "MultiStepLR": (lambda L, o: L.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3), 15,
                    "sgd", 2),
    "ExponentialLR": (lambda L, o: L.ExponentialLR(o, gamma=0.9), 30, "sgd", 1),
    "CosineAnnealingLR": (lambda L, o: L.CosineAnnealingLR(o, T_max=10, eta_min=1e-3), 45,
                          "sgd", 2),
    "LambdaLR": (lambda L, o: L.LambdaLR(o, lambda e: 0.95 ** e), 20, "sgd", 1),
    "LambdaLR-list": (lambda L, o: L.LambdaLR(o, [lambda e: 1 / (e + 1), Warmup(5)]), 12,
                      "sgd", 2),
    "LinearLR": (lambda L, o: L.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=6),
                 12, "sgd", 2),
    "OneCycleLR-cos": (lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=40), 40, "sgd", 1),
    "OneCycleLR-linear-3phase": (lambda L, o: L.OneCycleLR(
        o, max_lr=[0.5, 2.0], epochs=5, steps_per_epoch=7, pct_start=0.25,
        anneal_strategy="linear", three_phase=True, base_momentum=[0.8, 0.7],
        max_momentum=0.9, div_factor=10.0, final_div_factor=100.0), 35, "sgd", 2),
    "OneCycleLR-adam": (lambda L, o: L.OneCycleLR(o, max_lr=0.01, total_steps=30,
                                                  three_phase=True), 30, "adam", 1),
    "OneCycleLR-no-momentum": (lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=20,
                                                         cycle_momentum=False), 20, "sgd", 1),
    "ConstantLR": (lambda L, o: L.ConstantLR(o, factor=0.4, total_iters=4), 10, "sgd", 2),
    "PolynomialLR": (lambda L, o: L.PolynomialLR(o, total_iters=8, power=2.0), 12, "sgd", 2),
    "MultiplicativeLR": (lambda L, o: L.MultiplicativeLR(o, lambda e: 0.9), 10, "sgd", 1),
    "MultiplicativeLR-list": (lambda L, o: L.MultiplicativeLR(o, [lambda e: 0.95, Warmup(5)]), 10,
                              "sgd", 2),
    "CosineAnnealingWarmRestarts": (lambda L, o: L.CosineAnnealingWarmRestarts(
        o, T_0=4, T_mult=2, eta_min=0.01), 30, "sgd", 2),
    "CosineAnnealingWarmRestarts-1": (lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5), 17,
                                      "sgd", 1),
    "CyclicLR": (lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4), 20,
                 "sgd", 1),
    "CyclicLR-triangular2-adam": (lambda L, o: L.CyclicLR(
        o, base_lr=[0.001, 0.002], max_lr=0.01, step_size_up=3, step_size_down=5,
        mode="triangular2"), 30, "adam", 2),
    "CyclicLR-exp_range": (lambda L, o: L.CyclicLR(
        o, base_lr=0.01, max_lr=0.2, step_size_up=5, mode="exp_range", gamma=0.97,
        cycle_momentum=False), 25, "sgd", 1),
    "CyclicLR-scale_fn": (lambda L, o: L.CyclicLR(
        o, base_lr=0.01, max_lr=0.2, step_size_up=2, scale_fn=lambda x: 1 / (x + 1),
        scale_mode="iterations", base_momentum=0.7, max_momentum=0.95), 15, "sgd", 2),
    "SequentialLR": (lambda L, o: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.1, total_iters=5), L.CosineAnnealingLR(o, T_max=12)],
        milestones=[5]), 25, "sgd", 2),
    "ChainedScheduler": (lambda L, o: L.ChainedScheduler(
        [L.ExponentialLR(o, gamma=0.9), L.StepLR(o, step_size=3, gamma=0.5),
         L.CosineAnnealingLR(o, T_max=7)]), 20, "sgd", 2),
    "SequentialLR-3": (lambda L, o: L.SequentialLR(
        o, [L.ExponentialLR(o, gamma=0.8), L.StepLR(o, step_size=2, gamma=0.5),
            L.MultiStepLR(o, milestones=[3, 4], gamma=0.1)], milestones=[4, 10]), 20, "sgd", 1),
}


def make_optimizer(lib, kind, groups):
    p = [lib.tensor([1.0, 2.0], requires_grad=True) for _ in range(groups)]
    mod = optim if lib is ember else torch.optim
    param_groups = [{"params": [p[0]]}] + [{"params": [q], "lr": 0.05} for q in p[1:]]
    if kind == "adam":
        return mod.Adam(param_groups, lr=0.1, betas=(0.9, 0.99))
    return mod.SGD(param_groups, lr=0.1, momentum=0.9)


def snapshot(opt):
    """lr and momentum (SGD's momentum or Adam's beta1) of every group."""
    return [(g["lr"], g["betas"][0] if "betas" in g else g["momentum"]) for g in opt.param_groups]


def assert_same(e_opt, t_opt, e_sched, t_sched, where):
    np.testing.assert_allclose(snapshot(e_opt), snapshot(t_opt), rtol=1e-12, atol=1e-15,
                               err_msg=where)
    np.testing.assert_allclose(e_sched.get_last_lr(), t_sched.get_last_lr(), rtol=1e-12,
                               atol=1e-15, err_msg=where)


def step_both(e_opt, t_opt, e_sched, t_sched, steps, first=0):
    for i in range(first, first + steps):
        e_opt.step()
        t_opt.step()
        e_sched.step()
        t_sched.step()
        assert_same(e_opt, t_opt, e_sched, t_sched, f"after step {i + 1}")
        assert getattr(e_sched, "last_epoch", None) == getattr(t_sched, "last_epoch", None)


@pytest.mark.parametrize("name", SCHEDULERS)
def test_schedule_matches_torch(name):
    make, steps, kind, groups = SCHEDULERS[name]
    e_opt, t_opt = make_optimizer(ember, kind, groups), make_optimizer(torch, kind, groups)
    e_sched, t_sched = make(elr, e_opt), make(tlr, t_opt)
    assert_same(e_opt, t_opt, e_sched, t_sched, "after construction")
    assert [g["initial_lr"] for g in e_opt.param_groups] == \
        [g["initial_lr"] for g in t_opt.param_groups]
    step_both(e_opt, t_opt, e_sched, t_sched, steps)


@pytest.mark.parametrize("name", SCHEDULERS)
def test_state_dict_round_trip_mid_run(name):
    make, steps, kind, groups = SCHEDULERS[name]
    opt = make_optimizer(ember, kind, groups)
    sched = make(elr, opt)
    half = steps // 2
    for _ in range(half):
        opt.step()
        sched.step()
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    # resume as PyTorch advises: fresh optimizer and scheduler, then load both states
    opt2 = make_optimizer(ember, kind, groups)
    sched2 = make(elr, opt2)
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(sched_state)
    assert sched2.get_last_lr() == sched.get_last_lr()
    for _ in range(steps - half):
        opt.step()
        sched.step()
        opt2.step()
        sched2.step()
        assert snapshot(opt2) == snapshot(opt)
        assert sched2.get_last_lr() == sched.get_last_lr()


def test_lambda_lr_state_dict_keeps_callable_objects_attributes():
    opt = make_optimizer(ember, "sgd", 2)
    warm = Warmup(5)
    sched = elr.LambdaLR(opt, [lambda e: 1.0, warm])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None, {"n": 5}]
    warm.n = 50
    sched.load_state_dict(state)
    assert warm.n == 5


def test_resume_with_last_epoch_matches_torch():
    e_opt, t_opt = make_optimizer(ember, "sgd", 1), make_optimizer(torch, "sgd", 1)
    for opt in (e_opt, t_opt):
        opt.param_groups[0]["initial_lr"] = 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e_sched = elr.CosineAnnealingLR(e_opt, T_max=10, last_epoch=4)
        t_sched = tlr.CosineAnnealingLR(t_opt, T_max=10, last_epoch=4)
    assert_same(e_opt, t_opt, e_sched, t_sched, "after construction")
    step_both(e_opt, t_opt, e_sched, t_sched, 10)


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
                                  "LinearLR", "ConstantLR", "PolynomialLR"])
def test_step_with_epoch_uses_the_closed_form(name):
    make, steps, kind, groups = SCHEDULERS[name]
    e_opt, t_opt = make_optimizer(ember, kind, groups), make_optimizer(torch, kind, groups)
    e_sched, t_sched = make(elr, e_opt), make(tlr, t_opt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")        # torch deprecates step(epoch)
        for epoch in (3, 7, 2, 11):
            e_opt.step()
            t_opt.step()
            e_sched.step(epoch)
            t_sched.step(epoch)
            assert_same(e_opt, t_opt, e_sched, t_sched, f"epoch {epoch}")


@pytest.mark.parametrize("t_mult", [1, 2])
def test_warm_restarts_take_fractional_epochs_as_torch(t_mult):
    e_opt, t_opt = make_optimizer(ember, "sgd", 1), make_optimizer(torch, "sgd", 1)
    e_sched = elr.CosineAnnealingWarmRestarts(e_opt, T_0=3, T_mult=t_mult, eta_min=1e-3)
    t_sched = tlr.CosineAnnealingWarmRestarts(t_opt, T_0=3, T_mult=t_mult, eta_min=1e-3)
    for epoch in range(12):
        for batch in range(4):
            e_opt.step()
            t_opt.step()
            e_sched.step(epoch + batch / 4)
            t_sched.step(epoch + batch / 4)
            assert_same(e_opt, t_opt, e_sched, t_sched, f"epoch {epoch} batch {batch}")


def test_new_schedulers_reject_bad_arguments():
    opt = make_optimizer(ember, "sgd", 1)
    with pytest.raises(ValueError, match="ConstantLR: factor must be in"):
        elr.ConstantLR(opt, factor=1.5)
    with pytest.raises(ValueError, match="CosineAnnealingWarmRestarts: T_mult must be"):
        elr.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)
    with pytest.raises(ValueError, match="CyclicLR: mode must be"):
        elr.CyclicLR(opt, 0.01, 0.1, mode="zigzag")
    adagrad = optim.Adagrad([ember.tensor([1.0], requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="CyclicLR: cycle_momentum needs an optimizer"):
        elr.CyclicLR(adagrad, 0.01, 0.1)


PLATEAU = [
    dict(),
    dict(mode="max", factor=0.5, patience=2, threshold=0.05, threshold_mode="abs"),
    dict(factor=0.5, patience=1, cooldown=3, min_lr=0.02),
    dict(factor=0.3, patience=0, threshold=0.0, min_lr=[1e-3, 5e-3], eps=1e-4),
    dict(mode="max", patience=3, cooldown=1, threshold_mode="rel", threshold=0.01),
]


def metric_sequence():
    """Falls, plateaus, falls again, and ends noisy: every branch of ReduceLROnPlateau."""
    rng = np.random.default_rng(3)
    base = np.concatenate([np.linspace(1.0, 0.5, 10), np.full(15, 0.5),
                           np.linspace(0.5, 0.3, 5), 0.3 + 0.05 * rng.standard_normal(30)])
    return [float(x) for x in base]


@pytest.mark.parametrize("kw", PLATEAU, ids=[str(i) for i in range(len(PLATEAU))])
def test_reduce_lr_on_plateau_matches_torch(kw):
    e_opt, t_opt = make_optimizer(ember, "sgd", 2), make_optimizer(torch, "sgd", 2)
    e_sched = elr.ReduceLROnPlateau(e_opt, **kw)
    t_sched = tlr.ReduceLROnPlateau(t_opt, **kw)
    metrics = metric_sequence()
    for i, m in enumerate(metrics):
        e_sched.step(m if i % 2 else ember.tensor(m, dtype=ember.float64))  # number or tensor
        t_sched.step(m)
        assert_same(e_opt, t_opt, e_sched, t_sched, f"after metric {i}")
        assert (e_sched.num_bad_epochs, e_sched.cooldown_counter, e_sched.best) == \
            (t_sched.num_bad_epochs, t_sched.cooldown_counter, t_sched.best)
    assert e_opt.param_groups[0]["lr"] < 0.1               # the sequence did reduce the lr


def test_reduce_lr_on_plateau_state_dict_round_trip():
    metrics = metric_sequence()
    opt = make_optimizer(ember, "sgd", 1)
    sched = elr.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=2)
    for m in metrics[:20]:
        sched.step(m)
    opt2 = make_optimizer(ember, "sgd", 1)
    sched2 = elr.ReduceLROnPlateau(opt2)
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(sched.state_dict())
    for m in metrics[20:]:
        sched.step(m)
        sched2.step(m)
        assert sched2.get_last_lr() == sched.get_last_lr()
        assert (sched2.num_bad_epochs, sched2.cooldown_counter) == \
            (sched.num_bad_epochs, sched.cooldown_counter)


def test_get_last_lr_is_a_copy():
    opt = make_optimizer(ember, "sgd", 1)
    sched = elr.StepLR(opt, step_size=1)
    sched.get_last_lr()[0] = 123.0
    assert sched.get_last_lr() == [0.1]


def sgd():
    return make_optimizer(ember, "sgd", 1)


@pytest.mark.parametrize("build,error,match", [
    (lambda: elr.StepLR("not an optimizer", step_size=1), TypeError, "StepLR: expected"),
    (lambda: elr.StepLR(sgd(), step_size=0), ValueError, "StepLR: step_size"),
    (lambda: elr.StepLR(sgd(), step_size=2, last_epoch=3), KeyError, "StepLR.*initial_lr"),
    (lambda: elr.CosineAnnealingLR(sgd(), T_max=0), ValueError, "CosineAnnealingLR: T_max"),
    (lambda: elr.LinearLR(sgd(), start_factor=0), ValueError, "LinearLR: start_factor"),
    (lambda: elr.LinearLR(sgd(), end_factor=1.5), ValueError, "LinearLR: end_factor"),
    (lambda: elr.MultiStepLR(sgd(), milestones=[2.5]), ValueError, "MultiStepLR: milestones"),
    (lambda: elr.LambdaLR(sgd(), [lambda e: 1, lambda e: 2]), ValueError, "LambdaLR: lr_lambda"),
    (lambda: elr.LambdaLR(sgd(), 0.5), TypeError, "LambdaLR"),
    (lambda: elr.OneCycleLR(sgd(), max_lr=0.1), ValueError, "OneCycleLR: give total_steps"),
    (lambda: elr.OneCycleLR(sgd(), max_lr=0.1, epochs=3), ValueError, "OneCycleLR"),
    (lambda: elr.OneCycleLR(sgd(), max_lr=0.1, total_steps=0), ValueError,
     "OneCycleLR: total_steps"),
    (lambda: elr.OneCycleLR(sgd(), max_lr=0.1, total_steps=10, pct_start=1.5), ValueError,
     "OneCycleLR: pct_start"),
    (lambda: elr.OneCycleLR(sgd(), max_lr=0.1, total_steps=10, anneal_strategy="exp"),
     ValueError, "OneCycleLR: anneal_strategy"),
    (lambda: elr.OneCycleLR(sgd(), max_lr=[0.1, 0.2], total_steps=10), ValueError,
     "OneCycleLR: max_lr has 2 values"),
    (lambda: elr.OneCycleLR(optim.Adagrad([ember.tensor([1.0], requires_grad=True)]),
                            max_lr=0.1, total_steps=10), ValueError,
     "OneCycleLR: cycle_momentum needs"),
    (lambda: elr.ReduceLROnPlateau(sgd(), factor=1.0), ValueError, "ReduceLROnPlateau: factor"),
    (lambda: elr.ReduceLROnPlateau(sgd(), mode="avg"), ValueError, "ReduceLROnPlateau: mode"),
    (lambda: elr.ReduceLROnPlateau(sgd(), threshold_mode="x"), ValueError,
     "ReduceLROnPlateau: threshold_mode"),
    (lambda: elr.ReduceLROnPlateau(sgd(), min_lr=[0.1, 0.2]), ValueError,
     "ReduceLROnPlateau: min_lr"),
])
def test_bad_arguments_name_the_scheduler(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_bad_chained_scheduler():
    opt, other = make_optimizer(ember, "sgd", 1), make_optimizer(ember, "sgd", 1)
    with pytest.raises(ValueError, match="at least one scheduler"):
        elr.ChainedScheduler([])
    with pytest.raises(ValueError, match=r"schedulers\[1\] \(StepLR\) drives a different"):
        elr.ChainedScheduler([elr.ExponentialLR(opt, 0.9), elr.StepLR(other, 2)])
    with pytest.raises(TypeError, match="without a metric"):
        elr.ChainedScheduler([elr.ReduceLROnPlateau(opt)])
    assert repr(elr.ChainedScheduler([elr.ExponentialLR(opt, 0.9)])).startswith(
        "ChainedScheduler([ExponentialLR], last_lr=")


def test_bad_sequential_lr():
    opt, other = sgd(), sgd()
    a, b = elr.StepLR(opt, step_size=2), elr.ExponentialLR(opt, gamma=0.9)
    with pytest.raises(ValueError, match="SequentialLR: expected 1 milestones"):
        elr.SequentialLR(opt, [a, b], milestones=[2, 4])
    with pytest.raises(ValueError, match="SequentialLR: schedulers\\[1\\].*different optimizer"):
        elr.SequentialLR(opt, [a, elr.StepLR(other, step_size=2)], milestones=[2])
    with pytest.raises(ValueError, match="SequentialLR: ReduceLROnPlateau"):
        elr.SequentialLR(opt, [a, elr.ReduceLROnPlateau(opt)], milestones=[2])
    with pytest.raises(ValueError, match="SequentialLR: expected at least one"):
        elr.SequentialLR(opt, [], milestones=[])


def test_one_cycle_lr_refuses_to_step_past_total_steps():
    opt = sgd()
    sched = elr.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="OneCycleLR: stepped 4 times, but total_steps is 3"):
        sched.step()


def test_schedulers_drive_training():
    """The scheduled lr is the one the optimizer uses: SGD + OneCycleLR against torch."""
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(3)
    ew, tw = ember.tensor(w0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    eo, to = optim.SGD([ew], lr=0.1, momentum=0.9), torch.optim.SGD([tw], lr=0.1, momentum=0.9)
    es, ts = elr.OneCycleLR(eo, max_lr=0.2, total_steps=25), tlr.OneCycleLR(to, 0.2, 25)
    for _ in range(25):
        eo.zero_grad()
        to.zero_grad()
        ((ew * ew).sum() + ew.sin().sum()).backward()
        ((tw * tw).sum() + tw.sin().sum()).backward()
        eo.step()
        to.step()
        es.step()
        ts.step()
    np.testing.assert_allclose(ew.data, tw.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert math.isclose(eo.param_groups[0]["momentum"], to.param_groups[0]["momentum"])


def test_module_docstring_example_runs():
    lines = elr.__doc__.split("\n\n")[1]
    exec(compile("\n".join(line[4:] for line in lines.splitlines()), "lr_scheduler doc", "exec"),
         {})
