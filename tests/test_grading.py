"""nnkit.grading: the checks behind the exercises' test cells; the answer key in grader/."""

from __future__ import annotations

import linecache
import math
import os
import re
import subprocess
import sys

import nbformat
import numpy as np
import pytest

from nnkit import grading as g
from nnkit.autograde.judge import load_answer_key

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the answer key is not part of nnkit: only the judge (and these tests) load it, from grader/
reference = load_answer_key(os.path.join(ROOT, "grader")).reference


def student(source: str, name: str):
    """A function compiled from ``source`` as if typed into a notebook cell of its own.

    Like IPython, the cell's source goes into linecache so tracebacks can quote it.
    """
    filename = f"<answer cell {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"np": np}
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]


def failure(func, *args, **kwargs) -> g.GradingError:
    """The GradingError that g.check raises for ``func``."""
    with pytest.raises(g.GradingError) as info:
        g.check(func, *args, **kwargs)
    return info.value


RNG = np.random.default_rng(0)
Z = RNG.normal(size=(4, 3))


# --------------------------------------------------------------------------- passing


def test_a_right_answer_passes_within_tolerance():
    """Answers that differ from the reference by float64 rounding pass."""
    X, W, b = RNG.normal(size=(5, 3)), RNG.normal(size=(3, 2)), RNG.normal(size=2)
    g.check(lambda X, W, b: np.einsum("nd,dm->nm", X, W) + b, X, W, b, expected=X @ W + b)
    g.check(lambda Z: reference.softmax(Z) * (1 + 1e-9), Z, expected=reference.softmax(Z))


def test_ints_lists_scalars_tuples_and_dicts_compare_by_their_kind():
    g.check(lambda s: np.int64(13), [2, 3, 1], expected=13)
    g.check(lambda x: np.float64(0.5), 1.0, expected=0.5)
    g.check(lambda x: np.array(0.5), 1.0, expected=0.5)
    g.check(lambda: (1.0, {"w": [1.0, 2.0]}), expected=(1.0, {"w": np.array([1.0, 2.0])}))


def test_checks_return_none_so_no_cell_shows_a_partial_score():
    """nbgrader reads a numeric last value of a test cell as partial credit."""
    assert g.check(lambda z: z, Z, expected=Z) is None
    assert g.expect(True, len, "fine") is None


# --------------------------------------------------------------------------- messages


def test_a_wrong_value_names_function_input_expected_got_and_where():
    softmax = student(
        "def softmax(Z):\n    E = np.exp(Z)\n    return E / E.sum(axis=0, keepdims=True)\n",
        "softmax",
    )
    error = failure(
        softmax,
        Z,
        expected=reference.softmax(Z),
        mistakes={"normalise each row (axis=1)": reference.softmax(Z.T).T},
    )
    text = str(error)
    assert text.startswith("softmax(Z) returned a wrong result.")
    assert "input Z: float64 array of shape (4, 3)" in text
    assert "expected: float64 array of shape (4, 3)" in text and "got:" in text
    assert re.search(r"largest error at \[\d, \d\]: got .* relative error", text)
    assert "hint: normalise each row (axis=1)." in text
    assert error.ratio > 1e3


def test_a_transposed_result_gets_a_transpose_hint():
    X, dZ = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 2))
    text = str(failure(lambda dZ, X: dZ.T @ X, dZ, X, expected=X.T @ dZ))
    assert "expected shape (3, 2), got (2, 3)" in text and "transpose" in text
    square = RNG.normal(size=(3, 3))
    assert "transpose of the answer" in str(failure(lambda A: A.T, square, expected=square))


def test_sum_instead_of_mean_and_a_double_mean_are_named():
    X = RNG.normal(size=(6, 2))
    mean = X.mean(axis=0)
    assert "sum over the batch" in str(failure(lambda X: X.sum(axis=0), X, expected=mean))
    assert "divided by N twice" in str(failure(lambda X: X.mean(axis=0) / 6, X, expected=mean))


def test_sign_zeros_and_constant_factors_are_named():
    x = np.array([1.0, -2.0, 3.0])
    assert "sign is flipped" in str(failure(lambda x: -x, x, expected=x))
    assert "every entry is zero" in str(failure(lambda x: np.zeros(3), x, expected=x))
    assert "2 times the answer" in str(failure(lambda x: 2 * x, x, expected=x))


def test_a_missing_bias_gradient_is_reported_on_its_part():
    dZ, X, W = RNG.normal(size=(4, 2)), RNG.normal(size=(4, 3)), RNG.normal(size=(3, 2))
    text = str(
        failure(
            lambda dZ, X, W: (dZ @ W.T, X.T @ dZ, np.zeros(2)),
            dZ,
            X,
            W,
            expected=reference.linear_backward(dZ, X, W),
            parts=("dX", "dW", "db"),
            mistakes={"db": {"the bias gradient is missing": np.zeros(2)}},
        )
    )
    assert "db is wrong" in text and "hint: the bias gradient is missing." in text


def test_wrong_kinds_of_result_are_explained():
    assert "expected the int 13, got the float 13.0" in str(
        failure(lambda s: 13.0, [2, 3, 1], expected=13)
    )
    assert "expected a single number" in str(failure(lambda x: np.array([0.5]), 1.0, expected=0.5))
    assert "expected a float array, got dtype int64" in str(
        failure(
            lambda y: np.eye(2, dtype=np.int64)[y],
            np.array([0, 1]),
            expected=np.eye(2),
            float_only=True,
        )
    )
    assert "missing ['b']" in str(failure(lambda: {"w": 1.0}, expected={"w": 1.0, "b": 2.0}))
    assert "expected a tuple of 2 values (loss, grads)" in str(
        failure(lambda: 1.0, expected=(1.0, {}), parts=("loss", "grads"))
    )
    assert "single number where an array is expected" in str(
        failure(lambda z: np.max(z), Z, expected=Z)
    )


def test_an_extra_axis_of_length_one_is_named_not_taken_for_a_reshape():
    """db of shape (1, M) (a sum with keepdims=True, or the column convention) or (M, 1)."""
    dZ = RNG.normal(size=(4, 3))
    for wrong in (lambda dZ: dZ.sum(axis=0, keepdims=True), lambda dZ: dZ.sum(axis=0)[:, None]):
        text = str(failure(wrong, dZ, expected=dZ.sum(axis=0)))
        assert "hint: an extra axis of length 1" in text and "keepdims=True" in text
        assert "stray reshape" not in text


def test_nan_never_passes():
    error = failure(lambda x: x * np.nan, np.ones(2), expected=np.ones(2))
    assert math.isinf(error.ratio) and "nan or inf" in str(error)


# --------------------------------------------------------------------------- calling


def test_a_stub_says_it_is_not_implemented_and_names_the_function():
    stub = student(
        'def relu(z):\n    raise NotImplementedError("relu: replace this line")\n', "relu"
    )
    text = str(failure(stub, Z, expected=Z))
    assert text.startswith("relu is not implemented yet")


def test_an_exception_shows_the_students_lines_and_not_the_tests():
    numerical_gradient = student(
        "def numerical_gradient(f, x, h=1e-5):\n"
        "    grad = np.zeros_like(x)\n"
        "    grad[0] = f(x.ravel())  # the student's line\n"
        "    return grad\n",
        "numerical_gradient",
    )

    def needs_2d(v):
        return v[0, 0]  # HIDDEN-TEST-LINE

    text = str(failure(numerical_gradient, needs_2d, Z, expected=Z))
    assert "raised IndexError" in text
    assert "in numerical_gradient, line 3: grad[0] = f(x.ravel())  # the student's line" in text
    assert "HIDDEN-TEST-LINE" not in text


def test_shape_errors_in_matrix_products_and_broadcasting_get_hints():
    X, W = RNG.normal(size=(3, 2)), RNG.normal(size=(2, 4))
    assert "is a .T missing or extra?" in str(failure(lambda X, W: X @ W.T, X, W, expected=X @ W))
    E = np.exp(Z)
    text = str(
        failure(
            lambda Z: np.exp(Z) / np.exp(Z).sum(axis=1), Z, expected=E / E.sum(1, keepdims=True)
        )
    )
    assert "without keepdims=True" in text


def test_any_warning_fails_with_a_hint_because_nbgrader_fails_stderr():
    naive = student("def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n", "sigmoid")
    z = np.array([-1000.0, 0.0, 1000.0])
    text = str(failure(naive, z, expected=reference.sigmoid(z)))
    assert "emitted a warning (RuntimeWarning: overflow encountered in exp" in text
    assert "hint: np.exp of a large number overflows" in text
    assert "A stable sigmoid uses exp(-|z|)" in text


def test_generators_are_consumed_inside_the_guard():
    def batches(n):
        yield from range(n)
        raise RuntimeError("late failure")

    with pytest.raises(g.GradingError, match="raised RuntimeError: late failure"):
        g.call(batches, 3)
    assert g.call(lambda n: iter(range(n)), 3) == [0, 1, 2]


def test_a_non_function_is_reported():
    with pytest.raises(g.GradingError, match="is not a function"):
        g.call(3.0, Z)


# --------------------------------------------------------------------------- inputs


def test_a_modified_input_fails_unless_allowed():
    def in_place(z):
        z[z < 0] = 0
        return z

    z = np.array([-1.0, 2.0])
    text = str(failure(in_place, z.copy(), expected=[0.0, 2.0]))
    assert "changed its input z: z[0] was -1 and is now 0" in text

    def count_parameters(layer_sizes):
        layer_sizes[0] += 1
        return 13

    text = str(failure(count_parameters, [2, 3, 1], expected=13))
    assert "changed its input layer_sizes: layer_sizes[0] was 2 and is now 3" in text
    params = {"w": np.array([1.0])}

    def step(params, grads, lr):
        params["w"] -= lr * grads["w"]
        return params

    g.check(step, params, {"w": np.array([1.0])}, 0.5, expected={"w": [0.5]}, modifies=("params",))

    def scaling_step(params, grads, lr):
        for key in grads:
            grads[key] *= lr
        return {key: params[key] - grads[key] for key in params}

    with pytest.raises(g.GradingError, match="changed its input grads"):
        g.check(
            scaling_step,
            {"w": np.array([1.0])},
            {"w": np.array([1.0])},
            0.5,
            expected={"w": [0.5]},
            modifies=("params",),
        )


def test_restoring_an_entry_by_arithmetic_counts_as_unchanged():
    """x[i] += h; x[i] -= 2 * h; x[i] += h may leave an ulp behind: that is fine."""

    def numerical_gradient(f, x, h=1e-5):
        grad = np.zeros_like(x)
        for i in range(x.size):
            x[i] += h
            up = f(x)
            x[i] -= 2 * h
            down = f(x)
            x[i] += h
            grad[i] = (up - down) / (2 * h)
        return grad

    x = np.array([0.1, 0.7, -0.3])
    g.check(numerical_gradient, np.sum, x, expected=np.ones(3))


# --------------------------------------------------------------------------- display


def test_in_jupyter_a_failure_shows_its_message_and_no_code():
    error = g.GradingError("softmax(Z) returned a wrong result.\n  hint: axis=1")
    lines = error._render_traceback_()
    assert lines == [
        "\x1b[31mGradingError\x1b[0m: softmax(Z) returned a wrong result.\n  hint: axis=1"
    ]


def test_describe_is_short_and_readable():
    assert (
        g.describe(np.zeros((2, 3)))
        == "float64 array of shape (2, 3): [[0., 0., 0.], [0., 0., 0.]]"
    )
    assert len(g.describe(np.zeros((100, 100)))) < 150
    assert (
        g.describe({"W1": np.zeros((3, 4)), "b1": np.zeros(4)}) == "dict {'W1': (3, 4), 'b1': (4,)}"
    )
    assert g.describe([2, 3, 1]) == "list [2, 3, 1]"
    assert g.describe(0.5) == "float 0.5"


# --------------------------------------------------------------------------- gradients


def test_check_gradient_accepts_a_right_gradient_and_rejects_a_wrong_one():
    W = RNG.normal(size=(3, 2))
    X = RNG.normal(size=(4, 3))
    g.check_gradient(len, X.T @ np.ones((4, 2)), lambda V: np.sum(X @ V), W, label="dW")
    with pytest.raises(g.GradingError, match="dW disagrees with a numerical gradient") as info:
        g.check_gradient(len, np.ones((3, 2)), lambda V: np.sum(X @ V), W, label="dW")
    assert info.value.ratio > 1
    g.check_gradient(len, 2 * 0.3, lambda w: w**2, 0.3)  # a scalar parameter


def test_numerical_gradient_matches_calculus_and_leaves_x_alone():
    x = RNG.normal(size=(3, 2))
    before = x.copy()
    grad = g.numerical_gradient(lambda v: np.sum(np.sin(v) * v), x)
    np.testing.assert_allclose(grad, np.cos(x) * x + np.sin(x), rtol=1e-8)
    np.testing.assert_array_equal(x, before)


# --------------------------------------------------------------------------- minibatches


def _minibatches(order_of, pairs=True, sizes=None, in_place=False):
    """A family of mini-batch iterators, right or wrong in one respect each."""

    def minibatches(X, y, batch_size, rng):
        order = order_of(len(X), rng)
        if in_place:
            X[:] = X[order]
            y[:] = y[order]
            order = np.arange(len(X))
        y_order = order if pairs else rng.permutation(len(X))
        starts = sizes(len(X), batch_size) if sizes else range(0, len(X), batch_size)
        for start in starts:
            yield X[order[start : start + batch_size]], y[y_order[start : start + batch_size]]

    return minibatches


@pytest.mark.parametrize(
    ("minibatches", "complaint"),
    [
        (_minibatches(lambda n, rng: np.arange(n)), "original order"),
        (_minibatches(lambda n, rng: rng.permutation(n), pairs=False), "stay with its own label"),
        (
            _minibatches(
                lambda n, rng: rng.permutation(n), sizes=lambda n, b: range(0, n - n % b, b)
            ),
            "batch sizes should be",
        ),
        (_minibatches(lambda n, rng: np.random.default_rng().permutation(n)), "seeded alike"),
        (
            _minibatches(lambda n, rng: np.random.default_rng(0).permutation(n)),
            "repeated the first",
        ),
        (_minibatches(lambda n, rng: rng.permutation(n), in_place=True), "left unchanged"),
        (_minibatches(lambda n, rng: rng.integers(0, n, size=n)), "exactly once"),
    ],
)
def test_check_minibatches_names_each_broken_promise(minibatches, complaint):
    with pytest.raises(g.GradingError, match=complaint):
        g.check_minibatches(minibatches, N=10, batch_size=4)


def test_check_minibatches_accepts_valid_iterators():
    g.check_minibatches(reference.minibatches, N=10, batch_size=4)
    g.check_minibatches(_minibatches(lambda n, rng: rng.choice(n, n, replace=False)), 13, 4)
    g.check_minibatches(reference.minibatches, N=1, batch_size=1)
    g.check_minibatches(reference.minibatches, N=7, batch_size=10)


# --------------------------------------------------------------------------- alternatives


def test_an_accepted_alternative_passes_and_none_is_skipped():
    """accept= offers other right answers, e.g. the composition of the student's own pieces."""
    own = 2 * Z
    g.check(lambda z: 2 * z, Z, expected=Z, accept={"your own composition": own})
    g.check(lambda z: z, Z, expected=Z, accept={"your own composition": None})
    with g.record() as records:
        g.check(lambda z: own * (1 + 1e-8), Z, expected=Z, accept={"a": None, "b": own})
    assert len(records) == 1 and 0 < records[0]["ratio"] < 1  # measured against "b"


def test_an_alternative_not_shaped_like_the_answer_is_ignored():
    """The student's composition is theirs to forge: a number where an array is expected, a
    dict, a tuple of another length or text never let a result pass; a faithful composition of
    a wrongly shaped piece does."""
    for forged in (1.0, {"w": Z}, np.array([["a"] * 3] * 4)):
        failure(lambda z, forged=forged: forged, Z, expected=Z, accept={"forged": forged})
    failure(
        lambda: (1.0, {"w": 1.0}),
        expected=(g.UNCHECKED, {"w": Z}),
        accept={"forged": (1.0, {"w": 1.0})},
        parts=("loss", "grads"),
    )
    db = Z.sum(axis=0)
    for composed in (db[None, :], Z.sum(axis=1)):  # keepdims=True; the wrong axis
        g.check(lambda composed=composed: composed, expected=db, accept={"own pieces": composed})


def test_a_result_matching_no_alternative_fails_against_expected_and_names_them():
    with g.record() as records:
        error = failure(
            lambda z: 3 * z,
            Z,
            expected=Z,
            accept={"the composition of your own functions": 2 * Z, "skipped": None},
            mistakes={"you tripled it": 3 * Z},
        )
    text = str(error)
    assert "hint: you tripled it." in text  # the hints of the comparison with expected
    assert "it is not the composition of your own functions either." in text
    assert "skipped" not in text
    # the closest call decides the margin: 3z is nearer to 2z than to z
    ratio_to_own = np.max(np.abs(Z) / (g.ATOL + g.RTOL * 2 * np.abs(Z)))
    assert error.ratio == pytest.approx(ratio_to_own) and records[-1]["ratio"] == error.ratio


def test_attempt_gives_none_when_the_students_code_raises_or_warns():
    stub = student("def softmax(Z):\n    raise NotImplementedError('softmax')\n", "softmax")
    naive = student("def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n", "sigmoid")
    assert g.attempt(lambda: stub(Z)) is None
    assert g.attempt(lambda: naive(np.array([-1000.0]))) is None
    np.testing.assert_array_equal(g.attempt(lambda: naive(Z)), 1 / (1 + np.exp(-Z)))


def test_unchecked_parts_are_not_compared():
    loss_and_grads = lambda x: (float(np.sum(x**2)), {"x": 2 * x})  # noqa: E731
    x = np.array([1.0, -2.0])
    g.check(loss_and_grads, x, expected=(5.0, g.UNCHECKED), parts=("loss", "grads"))
    g.check(loss_and_grads, x, expected=(g.UNCHECKED, {"x": 2 * x}), parts=("loss", "grads"))
    text = str(
        failure(loss_and_grads, x, expected=(g.UNCHECKED, {"x": x}), parts=("loss", "grads"))
    )
    assert "grads['x'] is wrong" in text and "loss" not in text.split("returned")[1]


# --------------------------------------------------------------------------- recording


def test_record_collects_every_comparison_and_nests():
    with g.record() as outer:
        g.check(lambda z: z, Z, expected=Z)
        with g.record() as inner:
            g.check(lambda z: z * (1 + 1e-7), Z, expected=Z)
        with pytest.raises(g.GradingError):
            g.check(lambda z: 2 * z, Z, expected=Z)
    assert [r["function"] for r in inner] == ["<lambda>"]
    assert 0 < inner[0]["ratio"] < 1
    assert len(outer) == 3 and outer[0]["ratio"] == 0  # the inner one included
    assert outer[1] == inner[0] and outer[2]["ratio"] > 1


# --------------------------------------------------------------------------- references


def test_reference_activations_are_finite_and_silent_at_the_extremes():
    z = np.array([-1000.0, -745.0, -30.0, 0.0, 30.0, 745.0, 1000.0])
    s = reference.sigmoid(z)
    assert np.all(np.isfinite(s)) and s[0] == 0 and s[-1] == 1 and s[3] == 0.5
    np.testing.assert_allclose(s + reference.sigmoid(-z), 1.0)
    np.testing.assert_allclose(reference.gelu(z) - reference.gelu(-z), z)
    P = reference.softmax(np.array([[1000.0, 1000.0], [-1000.0, 0.0], [0.0, np.log(3.0)]]))
    np.testing.assert_allclose(P, [[0.5, 0.5], [0.0, 1.0], [0.25, 0.75]])


def test_reference_forward_answers_on_known_values():
    assert reference.count_parameters([784, 100, 10]) == 785 * 100 + 101 * 10
    np.testing.assert_array_equal(
        reference.one_hot(np.array([2, 0]), 4), [[0, 0, 1, 0], [1, 0, 0, 0]]
    )
    P = np.array([[0.0, 1.0], [0.5, 0.5]])
    assert reference.cross_entropy(P, np.eye(2)[[1, 0]]) == pytest.approx(np.log(2) / 2)
    params = {
        "W1": RNG.normal(size=(3, 4)),
        "b1": np.zeros(4),
        "W2": RNG.normal(size=(4, 2)),
        "b2": np.zeros(2),
    }
    for activation in ("relu", "sigmoid", "tanh", "gelu"):
        P = reference.mlp_forward(RNG.normal(size=(5, 3)), params, activation)
        np.testing.assert_allclose(P.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    ("backward", "forward"),
    [
        (reference.sigmoid_backward, reference.sigmoid),
        (reference.tanh_backward, reference.tanh),
        (reference.relu_backward, reference.relu),
    ],
)
def test_reference_activation_gradients_match_finite_differences(backward, forward):
    Z = RNG.normal(size=(4, 3)) + 0.01  # away from ReLU's kink at 0
    dA = RNG.normal(size=(4, 3))
    numeric = g.numerical_gradient(lambda V: np.sum(dA * forward(V)), Z)
    np.testing.assert_allclose(backward(dA, Z), numeric, rtol=1e-6, atol=1e-9)


def test_reference_layer_and_loss_gradients_match_finite_differences():
    X, W, b, dZ = (
        RNG.normal(size=(5, 3)),
        RNG.normal(size=(3, 2)),
        RNG.normal(size=2),
        RNG.normal(size=(5, 2)),
    )
    dX, dW, db = reference.linear_backward(dZ, X, W)
    np.testing.assert_allclose(
        dW, g.numerical_gradient(lambda V: np.sum(dZ * (X @ V + b)), W), rtol=1e-6
    )
    np.testing.assert_allclose(
        dX, g.numerical_gradient(lambda V: np.sum(dZ * (V @ W + b)), X), rtol=1e-6
    )
    np.testing.assert_allclose(
        db, g.numerical_gradient(lambda V: np.sum(dZ * (X @ W + V)), b), rtol=1e-6
    )
    Z, y = RNG.normal(size=(6, 4)), np.array([0, 3, 1, 1, 2, 0])

    def loss(V):
        return reference.cross_entropy(reference.softmax(V), reference.one_hot(y, 4))

    np.testing.assert_allclose(
        reference.softmax_cross_entropy_backward(Z, y),
        g.numerical_gradient(loss, Z),
        rtol=1e-6,
        atol=1e-10,
    )


def test_reference_mlp_backward_matches_finite_differences():
    X, y = RNG.normal(size=(7, 3)), np.array([0, 1, 2, 2, 1, 0, 1])
    params = {
        "W1": RNG.normal(size=(3, 5)),
        "b1": RNG.normal(size=5),
        "W2": RNG.normal(size=(5, 3)),
        "b2": RNG.normal(size=3),
    }
    loss, grads = reference.mlp_backward(X, y, params)
    assert loss == pytest.approx(
        reference.cross_entropy(reference.mlp_forward(X, params), np.eye(3)[y])
    )
    for key, value in params.items():
        numeric = g.numerical_gradient(
            lambda V, key=key: reference.mlp_backward(X, y, {**params, key: V})[0], value
        )
        np.testing.assert_allclose(grads[key], numeric, rtol=1e-5, atol=1e-8)


def test_reference_neuron_ridge_grads_match_finite_differences():
    w, b, x, y, lam = 0.7, -0.2, 1.5, 1.0, 0.3

    def loss(v):
        return 0.5 * (y - reference.sigmoid(v[0] * x + v[1])) ** 2 + lam * v[0] ** 2

    np.testing.assert_allclose(
        reference.neuron_ridge_grads(w, b, x, y, lam),
        g.numerical_gradient(loss, np.array([w, b])),
        rtol=1e-7,
    )


def test_reference_optimisers_and_training_loop_agree_with_each_other():
    params = {
        "W1": RNG.normal(size=(3, 4)),
        "b1": np.zeros(4),
        "W2": RNG.normal(size=(4, 2)),
        "b2": np.zeros(2),
    }
    grads = {k: RNG.normal(size=v.shape) for k, v in params.items()}
    zeros = {k: np.zeros_like(v) for k, v in params.items()}
    stepped, velocity = reference.momentum_step(params, grads, zeros, 0.1, 0.0)
    for key in params:  # with beta = 0, momentum is plain gradient descent
        np.testing.assert_allclose(stepped[key], reference.sgd_step(params, grads, 0.1)[key])
        np.testing.assert_allclose(velocity[key], -0.1 * grads[key])
    assert reference.inverse_time_decay(0.1, 0.5, 2) == pytest.approx(0.05)
    X, y = RNG.normal(size=(6, 3)), np.array([0, 1, 0, 1, 1, 0])
    loss, grads = reference.mlp_backward(X, y, params)
    trained, losses = reference.train_mlp(X, y, params, 0.5, 1, 6, np.random.default_rng(0))
    assert losses == [pytest.approx(loss)]
    for key in params:  # one full-batch epoch is one step
        np.testing.assert_allclose(trained[key], params[key] - 0.5 * grads[key], rtol=1e-12)
    # the student's own pieces replace the reference's: a schedule stuck at 0 trains nothing
    frozen, _ = reference.train_mlp(
        X, y, params, 0.5, 2, 3, np.random.default_rng(0), rate=lambda lr, decay, t: 0.0
    )
    for key in params:
        np.testing.assert_array_equal(frozen[key], params[key])


# --------------------------------------------------------------------------- command line


def _nbgrader_notebook(test_source: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    answer = nbformat.v4.new_code_cell(
        "import numpy as np\nfrom nnkit import grading\n\ndef double(x):\n    return 2 * x"
    )
    answer.metadata["nbgrader"] = {
        "grade": False,
        "grade_id": "double",
        "locked": False,
        "schema_version": 3,
        "solution": True,
        "task": False,
    }
    test = nbformat.v4.new_code_cell(test_source)
    test.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": "test_double",
        "locked": True,
        "points": 1,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    nb.cells = [answer, test]
    return nb


@pytest.mark.grading
def test_validate_command_fails_when_nbgrader_validate_would_exit_0(tmp_path):
    """`python -m nnkit.grading validate` (make validate) exits 1 when a test cell fails."""
    good, bad = tmp_path / "good.ipynb", tmp_path / "bad.ipynb"
    nbformat.write(_nbgrader_notebook("grading.check(double, 2.0, expected=4.0)"), good)
    nbformat.write(_nbgrader_notebook("grading.check(double, 2.0, expected=5.0)"), bad)
    run = subprocess.run(
        [sys.executable, "-m", "nnkit.grading", "validate", str(good), str(bad)],
        capture_output=True,
        text=True,
        env={**os.environ, "JUPYTER_PLATFORM_DIRS": "1"},
        timeout=600,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"ok     {good}" in run.stdout
    assert f"FAILED {bad}" in run.stdout and "double(x=2.0) returned a wrong result" in run.stdout


def test_the_answer_key_is_not_in_the_students_package():
    """nnkit.grading has no reference answers; asking for them says where they are."""
    for name in ("reference", "hidden_rng"):
        with pytest.raises(AttributeError, match="only inside the course's judge"):
            getattr(g, name)
    assert "reference" not in dir(g)


def test_validate_command_explains_its_usage():
    assert g._main([]) == 2
