"""Optimisers and schedules: hand-computed steps, recurrences, convergence, torch parity."""

from functools import partial

import numpy as np
import pytest

import nnkit as nk
from nnkit import optim

# ---------------------------------------------------------------- schedules


def test_schedules_known_values():
    """Each schedule gives the hand-computed rate at a few steps."""
    t = np.array([0, 1, 4, 9])
    np.testing.assert_allclose(optim.constant(t, lr0=0.3), [0.3, 0.3, 0.3, 0.3])
    np.testing.assert_allclose(
        optim.inverse_time_decay(t, lr0=1.0, decay=0.5), [1, 1 / 1.5, 1 / 3, 1 / 5.5]
    )
    np.testing.assert_allclose(optim.c_over_k(t, C=2.0), [2.0, 1.0, 0.4, 0.2])
    np.testing.assert_allclose(optim.step_decay(t, lr0=1.0, drop=0.1, every=4), [1, 1, 0.1, 0.01])
    np.testing.assert_allclose(
        optim.exponential_decay(t, lr0=2.0, rate=0.5, decay_steps=2),
        [2, 2 * 0.5**0.5, 0.5, 2 * 0.5**4.5],
    )


def test_schedules_take_scalars_and_return_floats():
    """A scalar step gives a Python float, so it can be printed or used as lr directly."""
    assert optim.inverse_time_decay(3, lr0=1.0, decay=1.0) == pytest.approx(0.25)
    assert isinstance(optim.constant(5, lr0=0.1), float)


def test_schedules_refuse_negative_steps():
    """Steps count from 0; a negative step is a caller bug."""
    with pytest.raises(ValueError, match=r"c_over_k.*'t' must be >= 0"):
        optim.c_over_k(-1, C=1.0)


def test_optimizer_follows_its_schedule():
    """SGD with schedule C/k on a constant gradient 1 moves by -(C/1 + C/2 + C/3) in three steps."""
    w = np.zeros(1)
    opt = nk.SGD(schedule=partial(optim.c_over_k, C=1.0))
    for _ in range(3):
        assert opt.lr == pytest.approx(1.0 / (opt.t + 1))
        opt.step({"w": w}, {"w": np.ones(1)})
    np.testing.assert_allclose(w, [-(1 + 1 / 2 + 1 / 3)])


# --------------------------------------------------------- hand-computed steps


def test_sgd_one_step():
    """Plain SGD: w <- w - lr g, in place (the very array passed in changes)."""
    w = np.array([1.0, 2.0])
    params = {"w": w}
    nk.SGD(lr=0.1).step(params, {"w": np.array([0.5, -1.0])})
    assert params["w"] is w
    np.testing.assert_allclose(w, [0.95, 2.1])


def test_momentum_three_steps_by_hand():
    """beta = 0.9, lr = 0.1, g = 1: v = -0.1, -0.19, -0.271 and w = -0.1, -0.29, -0.561."""
    w = np.zeros(1)
    opt = nk.SGD(lr=0.1, momentum=0.9)
    expected_w = [-0.1, -0.29, -0.561]
    expected_v = [-0.1, -0.19, -0.271]
    for ew, ev in zip(expected_w, expected_v, strict=True):
        opt.step({"w": w}, {"w": np.ones(1)})
        np.testing.assert_allclose(w, [ew])
        np.testing.assert_allclose(opt.state["w"]["velocity"], [ev])


def test_nesterov_two_steps_by_hand():
    """beta = 0.9, lr = 0.1, g = 1: w1 = 0.9 (-0.1) - 0.1 = -0.19, w2 = w1 + 0.9 w1 - 0.1."""
    w = np.zeros(1)
    opt = nk.SGD(lr=0.1, momentum=0.9, nesterov=True)
    opt.step({"w": w}, {"w": np.ones(1)})
    np.testing.assert_allclose(w, [-0.19])
    opt.step({"w": w}, {"w": np.ones(1)})
    np.testing.assert_allclose(w, [-0.461])


def test_adam_first_two_steps_by_hand():
    """Adam's bias-corrected first step is lr g / (|g| + eps); the second follows the formulas."""
    w = np.array([1.0, -1.0])
    opt = nk.Adam(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8)
    g1, g2 = np.array([2.0, -0.5]), np.array([-1.0, -0.5])
    opt.step({"w": w}, {"w": g1})
    np.testing.assert_allclose(w, [1.0 - 0.1 * 2 / (2 + 1e-8), -1.0 + 0.1 * 0.5 / (0.5 + 1e-8)])
    before = w.copy()
    opt.step({"w": w}, {"w": g2})
    m = 0.9 * 0.1 * g1 + 0.1 * g2  # m1 = 0.1 g1, then m2 = 0.9 m1 + 0.1 g2
    s = 0.999 * 0.001 * g1**2 + 0.001 * g2**2
    step = 0.1 * (m / (1 - 0.9**2)) / (np.sqrt(s / (1 - 0.999**2)) + 1e-8)
    np.testing.assert_allclose(w, before - step)
    # weight 0: m_hat = (0.18 - 0.1) / 0.19, sqrt(s_hat) = sqrt((0.003996 + 0.001) / 0.001999)
    np.testing.assert_allclose(
        w[0] - before[0], -0.1 * (0.08 / 0.19) / np.sqrt(0.004996 / 0.001999)
    )


# ---------------------------------------------------------------- recurrences


def _quadratic(dim=5, seed=0):
    """f(w) = 0.5 w^T A w - b^T w with condition number 10; the gradient is A w - b."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    A = Q @ np.diag(np.linspace(1.0, 10.0, dim)) @ Q.T
    b = rng.standard_normal(dim)
    return A, b, np.linalg.solve(A, b)


def test_momentum_equals_heavy_ball_recurrence():
    """Velocity form == Polyak's heavy ball w_{t+1} = w_t - lr g_t + beta (w_t - w_{t-1})."""
    rng = np.random.default_rng(1)
    lr, beta = 0.05, 0.8
    grads = rng.standard_normal((20, 3))
    w = np.zeros(3)
    opt = nk.SGD(lr=lr, momentum=beta)
    prev, cur = np.zeros(3), np.zeros(3)
    for g in grads:
        opt.step({"w": w}, {"w": g})
        prev, cur = cur, cur - lr * g + beta * (cur - prev)
        np.testing.assert_allclose(w, cur, rtol=1e-12, atol=1e-12)


def test_nesterov_equals_lookahead_gradient():
    """Our iterate is Sutskever's look-ahead point w + beta v of the original NAG, step for step."""
    A, b, _ = _quadratic()
    lr, beta = 0.05, 0.9
    w_nag, v_nag = np.zeros(5), np.zeros(5)
    p = np.zeros(5)
    opt = nk.SGD(lr=lr, momentum=beta, nesterov=True)
    for _ in range(30):
        # original NAG: the gradient is taken at the look-ahead point
        v_nag = beta * v_nag - lr * (A @ (w_nag + beta * v_nag) - b)
        w_nag = w_nag + v_nag
        opt.step({"w": p}, {"w": A @ p - b})
        np.testing.assert_allclose(p, w_nag + beta * v_nag, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    ("make", "steps"),
    [
        (lambda: nk.SGD(lr=0.15), 300),
        (lambda: nk.SGD(lr=0.05, momentum=0.9), 300),
        (lambda: nk.SGD(lr=0.05, momentum=0.9, nesterov=True), 300),
        (lambda: nk.Adam(lr=0.05), 2000),
        (lambda: nk.SGD(schedule=partial(optim.inverse_time_decay, lr0=0.15, decay=1e-3)), 400),
    ],
    ids=["sgd", "momentum", "nesterov", "adam", "sgd-schedule"],
)
def test_converges_on_quadratic(make, steps):
    """Every optimiser reaches the minimiser A^-1 b of an ill-conditioned quadratic."""
    A, b, w_star = _quadratic()
    w = np.zeros(5)
    opt = make()
    for _ in range(steps):
        opt.step({"w": w}, {"w": A @ w - b})
    np.testing.assert_allclose(w, w_star, atol=1e-6)


def test_state_is_per_parameter_name():
    """Two parameters keep separate velocities; the dicts' keys name the state."""
    a, b = np.zeros(2), np.zeros(3)
    opt = nk.SGD(lr=1.0, momentum=0.5)
    opt.step({"a": a, "b": b}, {"a": np.ones(2), "b": -np.ones(3)})
    assert set(opt.state) == {"a", "b"}
    np.testing.assert_allclose(opt.state["a"]["velocity"], [-1.0, -1.0])
    np.testing.assert_allclose(opt.state["b"]["velocity"], [1.0, 1.0, 1.0])
    opt.reset()
    assert opt.state == {} and opt.t == 0


@pytest.mark.parametrize("make", [lambda: nk.SGD(0.1, momentum=0.9), lambda: nk.Adam(0.1)])
def test_float32_stays_float32(make):
    """Updates keep float32 parameters float32 (no silent upcast; arrays updated in place)."""
    w = np.ones(4, dtype=np.float32)
    opt = make()
    opt.step({"w": w}, {"w": np.full(4, 0.5, dtype=np.float32)})
    assert w.dtype == np.float32
    assert opt.state["w"][next(iter(opt.state["w"]))].dtype == np.float32
    assert np.all(w < 1)


def _nesterov_two_steps(w, g, lr=0.1, beta=0.9):
    v = np.zeros_like(w)
    for _ in range(2):
        v = beta * v - lr * g
        w = w + beta * v - lr * g
    return w


# two steps on a constant gradient g, from the formulas in float64; for Adam
# m_hat = g and s_hat = g**2 at every step, so each step is lr g / (|g| + eps)
TWO_STEPS = {
    "sgd": (lambda: nk.SGD(0.1), lambda w, g: w - 2 * 0.1 * g),
    "nesterov": (lambda: nk.SGD(0.1, momentum=0.9, nesterov=True), _nesterov_two_steps),
    "adam": (lambda: nk.Adam(0.1), lambda w, g: w - 2 * 0.1 * g / (np.abs(g) + 1e-8)),
}
LAYOUTS = {
    "float64": lambda: (np.arange(12.0).reshape(3, 4), np.full((3, 4), 0.5)),
    "float32": lambda: (
        np.arange(12.0, dtype=np.float32).reshape(3, 4),
        np.full((3, 4), 0.5, dtype=np.float32),
    ),
    "strided view": lambda: (np.arange(24.0).reshape(3, 8)[:, ::2], np.full((3, 4), 0.5)),
    "float32, float64 gradient": lambda: (
        np.arange(12.0, dtype=np.float32).reshape(3, 4),
        np.full((3, 4), 0.5),
    ),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("rule", list(TWO_STEPS))
def test_updates_write_into_the_parameter_whatever_its_layout(rule, layout):
    """Updates land in the array passed in, whatever its layout and dtype, as the formulas say."""
    make_optimizer, formula = TWO_STEPS[rule]
    w, g = LAYOUTS[layout]()
    expected = formula(w.astype(np.float64), g.astype(np.float64))
    dtype, opt = w.dtype, make_optimizer()
    for _ in range(2):
        opt.step({"w": w}, {"w": g})
    assert w.dtype == dtype
    np.testing.assert_allclose(w, expected, rtol=1e-6 if dtype == np.float32 else 1e-14)


# --------------------------------------------------------------------- errors


def test_step_errors_name_the_problem():
    """Mismatched keys, a wrong gradient shape and bad hyperparameters raise clear errors."""
    opt = nk.SGD(lr=0.1)
    with pytest.raises(KeyError, match="same keys"):
        opt.step({"w": np.zeros(2)}, {"v": np.zeros(2)})
    with pytest.raises(
        nk.ShapeError, match=r"SGD.step: gradient 'w' must have .* \(2,\), got \(3,\)"
    ):
        opt.step({"w": np.zeros(2)}, {"w": np.zeros(3)})
    with pytest.raises(ValueError, match="momentum"):
        nk.SGD(lr=0.1, momentum=1.0)
    with pytest.raises(ValueError, match="nesterov"):
        nk.SGD(lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="'lr' must be > 0"):
        nk.Adam(lr=0.0)


# ---------------------------------------------------------------- torch parity


@pytest.mark.torch
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda: nk.SGD(0.1), lambda p, torch: torch.optim.SGD(p, lr=0.1)),
        (lambda: nk.SGD(0.1, 0.9), lambda p, torch: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
        (
            lambda: nk.SGD(0.1, 0.9, nesterov=True),
            lambda p, torch: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
        ),
        (lambda: nk.Adam(0.01), lambda p, torch: torch.optim.Adam(p, lr=0.01)),
    ],
    ids=["sgd", "momentum", "nesterov", "adam"],
)
def test_matches_torch_optimizers(ours, theirs):
    """Ten steps on random gradients give torch.optim's parameters to float64 round-off."""
    import torch

    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((4, 3))
    grads = rng.standard_normal((10, 4, 3))
    w = w0.copy()
    opt = ours()
    tw = torch.tensor(w0, requires_grad=True)
    topt = theirs([tw], torch)
    for g in grads:
        opt.step({"w": w}, {"w": g})
        tw.grad = torch.tensor(g)
        topt.step()
    np.testing.assert_allclose(w, tw.detach().numpy(), rtol=1e-12, atol=1e-13)
