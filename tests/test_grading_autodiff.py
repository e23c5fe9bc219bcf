"""nnkit.grading's checks of a scalar autodiff engine (problem set 4), on engines with planted bugs.

``Value`` below is a correct engine in the style of lecture 05 (each operation owns its
backward closure); each bug is a subclass that overrides one method, so every test reads
as "this mistake gets that message". The answer key's independent engine checks the
helpers that hidden tests use.
"""

from __future__ import annotations

import ast
import math
import os

import numpy as np
import pytest

from nnkit import grading as g
from nnkit.autograde.judge import load_answer_key

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
reference = load_answer_key(os.path.join(ROOT, "grader")).reference


class Value:
    """A correct engine; operations make values of the class of their left operand."""

    def __init__(self, data, parents=()):
        self.data, self.grad, self.parents = float(data), 0.0, parents
        self._backward = lambda: None

    def _node(self, data, parents, locals_):
        out = type(self)(data, parents)

        def _backward():
            for parent, local in zip(parents, locals_, strict=True):
                parent.grad += local * out.grad

        out._backward = _backward
        return out

    def _wrap(self, other):
        return other if isinstance(other, Value) else type(self)(other)

    def __add__(self, other):
        other = self._wrap(other)
        return self._node(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = self._wrap(other)
        return self._node(self.data * other.data, (self, other), (other.data, self.data))

    def __truediv__(self, other):
        other = self._wrap(other)
        b = other.data
        return self._node(self.data / b, (self, other), (1 / b, -self.data / b**2))

    def __sub__(self, other):
        return self + self._wrap(other) * -1

    def __rsub__(self, other):
        return self._wrap(other) - self

    def __pow__(self, k):
        return self._node(self.data**k, (self,), (k * self.data ** (k - 1),))

    def exp(self):
        e = math.exp(self.data)
        return self._node(e, (self,), (e,))

    def backward(self):
        self.grad = 1.0
        for v in reversed(topological_order(self)):
            v._backward()


def topological_order(root):
    order, seen = [], set()

    def visit(v):
        if v not in seen:
            seen.add(v)
            for parent in v.parents:
                visit(parent)
            order.append(v)

    visit(root)
    return order


def failure(check, *args, **kwargs) -> str:
    """The message of the GradingError that ``check(*args, **kwargs)`` raises."""
    with pytest.raises(g.GradingError) as info:
        check(*args, **kwargs)
    return str(info.value)


def bug(name, **methods):
    """A subclass of Value, named ``name``, with ``methods`` replaced."""
    return type(name, (Value,), methods)


ReturnsNumber = bug("ReturnsNumber", __add__=lambda self, other: self.data + other.data)


def _add_in_place(self, other):
    self.data += other.data
    return self


def _assigning_mul(self, other):
    out = type(self)(self.data * other.data, (self, other))

    def _backward():
        self.grad = other.data * out.grad
        other.grad = self.data * out.grad

    out._backward = _backward
    return out


def _leaves_first(self):
    self.grad = 1.0
    for v in topological_order(self):
        v._backward()


def _unseeded(self):
    for v in reversed(topological_order(self)):
        v._backward()


def _stub(self):
    raise NotImplementedError("exp: replace this line with your code")


AddsInPlace = bug("AddsInPlace", __add__=_add_in_place)
AssigningMul = bug("AssigningMul", __mul__=_assigning_mul)
LeavesFirst = bug("LeavesFirst", backward=_leaves_first)
Unseeded = bug("Unseeded", backward=_unseeded)
NoRightSub = bug("NoRightSub", __rsub__=lambda self, other: NotImplemented)
Stub = bug("Stub", exp=_stub)
WarningExp = bug("WarningExp", exp=lambda self: type(self)(np.exp(np.float64(self.data))))


# --------------------------------------------------------------------------- check_expression


def test_a_correct_engine_passes_every_check_and_records_them():
    with g.record() as records:
        g.check_expression(Value, "2 - a", expected=-1.0, grads={"a": -1.0}, a=3.0)
        g.check_expression(Value, "c = a * b; d = c + a; d * c", expected=48.0, a=2.0, b=3.0,
                           grads={"d": 6.0, "c": 14.0, "a": 48.0, "b": 28.0})  # fmt: skip
    labels = [r["label"] for r in records]
    assert "out.data" in labels and "a.grad" in labels and "out.grad" in labels
    assert all(r["function"] == "Value" and r["ratio"] <= 1 for r in records)


def test_expected_none_leaves_the_data_to_another_cell():
    g.check_expression(Value, "a ** 3", expected=None, grads={"a": 12.0}, a=2.0)
    message = failure(g.check_expression, Value, "a ** 3", expected=None, grads={"a": 3.0}, a=2.0)
    assert "a.grad is wrong" in message and "out.data" not in message


def test_a_number_returned_instead_of_a_value():
    message = failure(g.check_expression, ReturnsNumber, "a + b", expected=-1.0, a=2.0, b=-3.0)
    assert message.startswith("ReturnsNumber: out = a + b, with a = 2.0, b = -3.0")
    assert "plain number -1.0 where a Value belongs" in message


def test_an_operation_that_changes_its_operand():
    message = failure(g.check_expression, AddsInPlace, "a + b", expected=-1.0, a=2.0, b=-3.0)
    assert "out is one of the values it was computed from" in message


def test_a_wrong_value_shows_the_mistake_it_matches_given_as_a_formula():
    message = failure(
        g.check_expression, Value, "a - b", expected=5.0, a=3.0, b=-4.0,
        mistakes={"data": {"a - b is self.data - other.data": "a - b"}},
    )  # fmt: skip
    assert "out.data is wrong" in message and "expected 5.0, got 7.0" in message
    assert "hint: a - b is self.data - other.data" in message


def test_assigning_instead_of_adding_is_told_by_its_half_gradient():
    message = failure(g.check_expression, AssigningMul, "a * a", expected=9.0, grads={"a": 6.0},
                      a=3.0)  # fmt: skip
    assert "a.grad is wrong" in message and "got 3.0" in message
    assert "1/2 of the answer" in message and "+=, never =" in message


def test_a_backward_in_the_wrong_order_leaves_zero_gradients_and_says_why():
    message = failure(g.check_expression, LeavesFirst, "(a * b) * c", expected=-3.0,
                      grads={"a": -1.5}, a=2.0, b=-3.0, c=0.5)  # fmt: skip
    assert "got 0.0" in message and "reversed topological order" in message


def test_a_gradient_counted_twice_points_at_the_topological_order():
    def twice(self):  # a shared value is listed, and its closure run, twice
        self.grad = 1.0
        for v in reversed(without_visited_set(self)):
            v._backward()

    message = failure(g.check_expression, bug("Twice", backward=twice), "c = a + b; c * c",
                      expected=25.0, grads={"a": 10.0}, a=2.0, b=3.0)  # fmt: skip
    assert "got 20.0" in message and "2 times the answer" in message
    assert "does topological_order list each value once" in message


def test_a_missing_reflected_method_gets_the_reflected_methods_hint():
    message = failure(g.check_expression, NoRightSub, "2 - a", expected=-1.0, a=3.0)
    assert "raised TypeError" in message and "__rsub__" in message


def test_a_stub_says_which_method_is_missing():
    message = failure(g.check_expression, Stub, "a.exp()", expected=math.e, a=1.0)
    assert "raised NotImplementedError: exp: replace this line" in message
    assert "write it in its answer cell" in message


def test_a_warning_of_the_engine_fails_the_check():
    message = failure(g.check_expression, WarningExp, "a.exp()", expected=math.inf, a=1000.0)
    assert "emitted a warning (RuntimeWarning: overflow" in message and "stderr" in message


def test_a_root_grad_left_at_zero_is_reported_before_the_leaves():
    message = failure(g.check_expression, Unseeded, "a + b", expected=-1.0, grads={"a": 1.0},
                      a=2.0, b=-3.0)  # fmt: skip
    assert "out.grad is wrong" in message and "out.grad = 1.0" in message


def test_programs_are_statements_ending_with_the_root():
    with pytest.raises(ValueError, match="a program is"):
        g.check_expression(Value, "c = a * 2", expected=4.0, a=2.0)


# --------------------------------------------------------------------------- numerical gradients


def test_check_graph_gradient_compares_with_central_differences():
    g.check_graph_gradient(Value, "c = a * b + a; c * c / b", a=1.5, b=-0.5)
    message = failure(g.check_graph_gradient, LeavesFirst, "(a * b) * c", a=2.0, b=-3.0,
                      c=0.5)  # fmt: skip
    assert (
        "disagrees with a numerical gradient" in message and "(a.grad, b.grad, c.grad)" in message
    )


# --------------------------------------------------------------------------- topological order


def preorder(root):
    order, seen = [], set()

    def visit(v):
        if v not in seen:
            seen.add(v)
            order.append(v)
            for parent in v.parents:
                visit(parent)

    visit(root)
    return order


def without_visited_set(root):
    order = []

    def visit(v):
        for parent in v.parents:
            visit(parent)
        order.append(v)

    visit(root)
    return order


@pytest.mark.parametrize(
    ("func", "program", "inputs", "says"),
    [
        (without_visited_set, "a * a", {"a": 3.0}, "a appears 2 times"),
        (preorder, "a * b", {"a": 2.0, "b": 3.0}, "out came first"),
        (lambda root: topological_order(root)[1:], "a * b", {"a": 2.0, "b": 3.0}, "a appears 0"),
        (lambda root: [v for v in topological_order(root) if v.parents], "a", {"a": 1.0},
         "are leaves"),
        (lambda root: [*topological_order(root)[:-1], Value(0.0), root], "a * 2",
         {"a": 1.0}, "the graph has 3 values"),
        (lambda root: {root}, "a", {"a": 1.0}, "expected a list of Values"),
    ],
)  # fmt: skip
def test_check_topological_order_names_each_kind_of_wrong_order(func, program, inputs, says):
    func.__name__ = "topological_order"
    message = failure(g.check_topological_order, func, Value, program, **inputs)
    assert message.startswith("topological_order(out) for ")
    assert says in message


def test_check_topological_order_passes_correct_orders_on_random_graphs():
    rng = np.random.default_rng(3)
    for steps in (1, 5, 30):
        program, inputs = g.random_program(rng, steps=steps)
        g.check_topological_order(topological_order, Value, program, **inputs)
        g.check_topological_order(reference.topological_order, reference.Value, program, **inputs)


def test_check_topological_order_only_takes_programs_of_plus_and_times():
    with pytest.raises(ValueError, match="only \\+ and \\*"):
        g.check_topological_order(topological_order, Value, "a - b", a=1.0, b=2.0)


# --------------------------------------------------------------------------- helpers


def test_evaluate_returns_the_root_and_every_named_gradient():
    for engine in (Value, reference.Value):
        value, grads = g.evaluate(engine, "c = a * b; c + a", a=2.0, b=3.0)
        assert value == 8.0 and grads == {"a": 4.0, "b": 2.0, "c": 1.0}


def test_random_programs_reuse_values_use_every_value_and_stay_finite():
    rng = np.random.default_rng(0)
    for steps in (2, 8, 40):
        program, inputs = g.random_program(rng, steps=steps)
        body = ast.parse(program).body
        used = [n.id for statement in body for n in ast.walk(statement) if isinstance(n, ast.Name)
                and isinstance(n.ctx, ast.Load)]  # fmt: skip
        assigned = [statement.targets[0].id for statement in body[:-1]]
        assert set(inputs) | set(assigned) <= set(used), "a value nothing uses"
        assert len(used) > len(set(used)), "no value is used twice"
        assert {type(n.op) for n in ast.walk(ast.parse(program)) if isinstance(n, ast.BinOp)} <= {
            ast.Add,
            ast.Mult,
        }
        value, _ = g.evaluate(reference.Value, program, **inputs)
        assert math.isfinite(value)
    again = g.random_program(np.random.default_rng(0), steps=2)
    assert again == g.random_program(np.random.default_rng(0), steps=2)


def test_numpy_scalars_in_data_and_grad_are_numbers_too():
    """A grad that became a numpy float (or, through the judge's channel, a 0-d array) is read
    as a number; an array of several numbers is not."""

    def numpy_exp(self):
        out = type(self)(self.data, (self,))
        out.data = np.array(math.exp(self.data))  # a 0-d array, as the channel delivers np.float64

        def _backward():
            self.grad += np.float64(math.exp(self.data)) * out.grad

        out._backward = _backward
        return out

    g.check_expression(bug("NumpyExp", exp=numpy_exp), "a.exp()", expected=math.e,
                       grads={"a": math.e}, a=1.0)  # fmt: skip

    class Vector(Value):
        def __init__(self, data, parents=()):
            super().__init__(0.0, parents)
            self.data = np.ones(2)

    message = failure(g.check_expression, Vector, "a + 1", expected=2.0, a=1.0)
    assert ".data should be a float, got float64 array of shape (2,)" in message
