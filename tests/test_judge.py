"""The judge and its channel: values on the wire, hostile replies, calls over real pipes.

The kernel's side of the channel (``agent.Agent``) runs in a thread of this process
here, serving functions defined in the tests; the sandboxed end-to-end path is in
tests/test_autograde_corpus.py. A kernel is hostile by assumption, so much of this
file feeds the judge garbage and checks that it answers with a reason, never a crash.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import os
import struct
import threading
import time
import types
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit import grading
from nnkit.autograde import agent, channel, judge
from nnkit.autograde.execute import strip_hidden_tests

# ----------------------------------------------------------------------------- values


def roundtrip(value):
    encoder = channel.Encoder()
    encoded = encoder.encode(value)
    frame = channel.pack({"op": "x", "value": encoded}, encoder.blobs)
    total, head = struct.unpack(">QI", frame[:12])
    message = channel.unpack(frame[12:], head)
    assert total == len(frame) - 8
    return channel.decode(message.header["value"], message.blobs)


def test_values_cross_the_wire_as_they_were():
    rng = np.random.default_rng(3)
    rng.normal(size=5)
    value = {
        "W": np.arange(6.0).reshape(2, 3),
        "mask": np.array([True, False]),
        "ints": np.array([1, 2], dtype=np.int32),
        "pair": (1, 2.5, None, "text"),
        "list": [np.float64(0.5), np.nan, np.inf, -np.inf],
        7: {"nested": np.zeros((0, 3))},
        "rng": rng,
    }
    back = roundtrip(value)
    np.testing.assert_array_equal(back["W"], value["W"])
    assert back["mask"].dtype == bool and back["ints"].dtype == np.int32
    assert back["pair"] == (1, 2.5, None, "text")
    assert (
        back["list"][0] == 0.5
        and np.isnan(back["list"][1])
        and back["list"][2:]
        == [
            np.inf,
            -np.inf,
        ]
    )
    assert back[7]["nested"].shape == (0, 3)
    assert back["rng"].normal() == rng.normal()  # the same state, so the same next draw
    scalar, zero_d = roundtrip([np.int64(3), np.array(2.5)])
    assert type(scalar) is np.int64 and scalar == 3  # numpy scalars stay scalars
    assert isinstance(zero_d, np.ndarray) and zero_d.shape == ()


def test_what_is_not_data_travels_as_its_type_name_only():
    class Secret:
        pass

    back = roundtrip([Secret(), np.array(["a"], dtype=object), lambda x: x, {(1, 2): 3}])
    assert [type(v).__name__ for v in back] == ["Opaque"] * 4
    assert back[0].kind == "Secret"


def _frame(header: bytes, blobs: bytes = b"") -> bytes:
    return struct.pack(">QI", 4 + len(header) + len(blobs), len(header)) + header + blobs


def _object_npy() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("header", "blobs", "words"),
    [
        (b"not json", b"", "not JSON"),
        (b"[1, 2]", b"", "not a JSON object"),
        (b'{"blobs": [5]}', b"", "do not add up"),
        (b'{"blobs": [-1]}', b"", "non-negative"),
        (b'{"value": {"$nd": 3}, "blobs": []}', b"", "does not exist"),
        (b'{"value": {"$pickle": "x"}, "blobs": []}', b"", "unknown tag"),
        (b'{"value": {"$nd": 0, "x": 1}, "blobs": []}', b"", "not one tagged value"),
        (b'{"value": {"$float": "1e999999"}, "blobs": []}', b"", "nan, inf"),
        (b'{"value": {"$rng": {"state": 1}}, "blobs": []}', b"", "PCG64"),
        (b'{"value": {"$fn": 1}, "blobs": []}', b"", "only data"),
        (b'{"value": {"$nd": 0}, "blobs": [4]}', b"junk", "not a valid .npy"),
    ],
)
def test_malformed_replies_are_refused_with_a_reason(header, blobs, words):
    with pytest.raises(channel.ChannelError, match=words):
        message = channel.unpack(header + blobs, len(header))
        channel.decode(message.header.get("value"), message.blobs)


def test_object_arrays_are_never_unpickled():
    blob = _object_npy()
    with pytest.raises(channel.ChannelError, match=r"not a valid \.npy|not a number"):
        channel.npy_to_array(blob)


def test_nesting_past_the_limit_is_refused():
    value = 0
    for _ in range(channel.MAX_DEPTH + 2):
        value = [value]
    with pytest.raises(channel.ChannelError, match="deeper"):
        channel.decode(value, [])


def test_a_frame_over_the_limit_is_refused_before_it_is_read():
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, struct.pack(">QI", 10**12, 2) + b"{}")
        with pytest.raises(channel.ChannelError, match="over the limit"):
            channel.read_frame(read_fd, time.monotonic() + 5)
    finally:
        os.close(read_fd)
        os.close(write_fd)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.integers(min_value=0, max_value=300))
def test_random_bytes_never_crash_the_decoder(body, header_length):
    with contextlib.suppress(channel.ChannelError):
        message = channel.unpack(body, header_length)
        channel.decode(message.header.get("value"), message.blobs)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.text(max_size=5), inner, max_size=4)
            | st.builds(tuple, st.lists(inner, max_size=3))
        ),
        max_leaves=20,
    )
)
def test_random_json_values_decode_or_are_refused(value):
    with contextlib.suppress(channel.ChannelError):
        channel.decode(json.loads(json.dumps(value, allow_nan=True)), [])


# ----------------------------------------------------------------------------- over pipes


class Kernel:
    """An agent serving ``namespace`` in a thread, and the judge's Connection to it."""

    def __init__(self, namespace: dict, timeout: float = 5.0, grace: float = 1.0):
        requests_r, requests_w = os.pipe()
        replies_r, replies_w = os.pipe()
        self.fds = [requests_r, requests_w, replies_r, replies_w]
        self.agent = agent.Agent((requests_r, replies_w), namespace)
        self.stalls = 0
        for fd in (requests_w, replies_r):
            os.set_blocking(fd, False)
        self.connection = judge.Connection(
            requests_w, replies_r, self._stalled, timeout=timeout, grace=grace
        )
        self.functions = judge.RemoteNamespace(self.connection, judge.signatures(SIGNATURES))
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _stalled(self):
        self.stalls += 1

    def _serve(self):
        try:
            while True:
                self.agent.serve()
        except (channel.ChannelError, OSError):
            pass

    def close(self):
        # end of file on its request pipe stops the agent's thread before any descriptor is
        # freed: a reused number must never reach a thread of an earlier test
        os.close(self.fds[1])
        self.thread.join(timeout=10)
        for fd in (self.fds[0], *self.fds[2:]):
            os.close(fd)


SIGNATURES = [
    "def scale(x, factor=2.0): pass",
    "def numerical_gradient(f, x, h=1e-5): pass",
    "def step(params, lr): pass",
]


@pytest.fixture
def kernel():
    made = []

    def start(namespace, **kwargs):
        made.append(Kernel(namespace, **kwargs))
        return made[-1]

    yield start
    for k in made:
        k.close()


def test_a_remote_call_returns_the_students_value_and_signature(kernel):
    k = kernel({"scale": lambda x, factor=2.0: x * factor})
    remote = k.functions["scale"]
    assert str(inspect.signature(remote)) == "(x, factor=2.0)"
    np.testing.assert_array_equal(remote(np.arange(3.0), factor=3.0), [0.0, 3.0, 6.0])
    grading.check(remote, np.ones(2), expected=[2.0, 2.0])


def test_exceptions_come_back_with_the_students_lines(kernel):
    def scale(x, factor=2.0):
        return x @ np.ones((5, 5))

    k = kernel({"scale": scale})
    with pytest.raises(grading.GradingError) as info:
        grading.check(k.functions["scale"], np.ones((2, 3)), expected=np.ones((2, 3)))
    text = str(info.value)
    assert "scale(x) raised ValueError" in text and "matmul" in text
    assert "in scale, line" in text and "hint:" in text


def test_not_implemented_and_missing_functions_say_so(kernel):
    def scale(x, factor=2.0):
        raise NotImplementedError("scale: replace this line with your code")

    k = kernel({"scale": scale})
    with pytest.raises(grading.GradingError, match="scale is not implemented yet"):
        grading.check(k.functions["scale"], 1.0, expected=2.0)
    with pytest.raises(grading.GradingError, match="name 'step' is not defined"):
        grading.check(k.functions["step"], {}, 0.1, expected={})


def test_warnings_in_the_kernel_fail_the_check_here(kernel):
    k = kernel({"scale": lambda x, factor=2.0: np.exp(x) * factor})
    with pytest.raises(grading.GradingError, match=r"emitted a warning.*overflow"):
        grading.check(k.functions["scale"], np.array([1000.0]), expected=[np.inf])


def test_mutated_inputs_are_seen_and_allowed_ones_are_not_blamed(kernel):
    def step(params, lr):
        params["w"] -= lr
        return params

    k = kernel({"step": step})
    params = {"w": np.array([1.0])}
    grading.check(k.functions["step"], params, 0.5, expected={"w": [0.5]}, modifies=("params",))
    assert params["w"][0] == 0.5  # the judge's copy followed the student's change
    with pytest.raises(grading.GradingError, match="changed its input params"):
        grading.check(k.functions["step"], {"w": np.array([1.0])}, 0.5, expected={"w": [0.5]})


def test_the_students_code_can_call_the_tests_functions_back(kernel):
    def numerical_gradient(f, x, h=1e-5):
        g = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + h
            up = f(x)
            x[i] = old - h
            down = f(x)
            x[i] = old
            g[i] = (up - down) / (2 * h)
        return g

    k = kernel({"numerical_gradient": numerical_gradient})
    x = np.array([1.0, -2.0])
    grading.check(k.functions["numerical_gradient"], lambda v: float(np.sum(v**3)), x,
                  expected=3 * x**2, rtol=1e-8)  # fmt: skip


def test_generators_are_consumed_in_the_kernel_and_rng_state_comes_back(kernel):
    def batches(n, rng):
        order = rng.permutation(n)
        yield from order[:2]
        yield from order[2:]

    k = kernel({"batches": batches})
    rng = np.random.default_rng(0)
    got = k.functions["batches"](4, rng)
    assert sorted(int(v) for v in got) == [0, 1, 2, 3]
    mirror = np.random.default_rng(0)
    mirror.permutation(4)
    assert rng.normal() == mirror.normal()  # the judge's rng advanced as the kernel's did


def test_library_implementations_are_seen_when_the_check_runs(kernel):
    import nnkit as nk

    def sigmoid(z):
        return nk.sigmoid(z)

    k = kernel({"sigmoid": sigmoid})
    source = "grading.check(sigmoid, np.zeros(2), expected=[0.5, 0.5])"
    verdict = judge.run_test("test_sigmoid", source, k.functions, grading)
    assert verdict.passed
    assert any(call.startswith("nnkit.activations") for call in verdict.library), verdict


def test_lying_objects_reach_the_judge_as_plain_numbers(kernel):
    class Liar(float):
        def __eq__(self, other):
            return True

        __hash__ = float.__hash__

        def __sub__(self, other):
            return 0.0

    class LyingArray(np.ndarray):
        def __eq__(self, other):
            return np.ones(np.shape(other), dtype=bool)

    k = kernel({
        "scale": lambda x, factor=2.0: Liar(-1.0),
        "step": lambda params, lr: np.zeros(2).view(LyingArray),
    })  # fmt: skip
    with pytest.raises(grading.GradingError, match="returned a wrong result"):
        grading.check(k.functions["scale"], 1.0, expected=2.0)
    with pytest.raises(grading.GradingError, match="returned a wrong result"):
        grading.check(k.functions["step"], {}, 0.1, expected=[1.0, 1.0])


def test_a_call_that_never_returns_is_interrupted_then_given_up(kernel):
    k = kernel({"scale": lambda x, factor=2.0: time.sleep(30)}, timeout=0.3, grace=0.3)
    with pytest.raises(judge.KernelLostError, match="did not answer"):
        k.functions["scale"](1.0)
    assert k.stalls == 1
    with pytest.raises(judge.KernelLostError):  # every later call fails at once
        k.functions["scale"](1.0)


def test_forged_replies_fail_the_check_and_never_crash_the_judge():
    requests_r, requests_w = os.pipe()
    replies_r, replies_w = os.pipe()
    os.set_blocking(replies_r, False)
    os.set_blocking(requests_w, False)
    try:
        connection = judge.Connection(requests_w, replies_r, timeout=1.0, grace=0.2)
        remote = judge.RemoteFunction("scale", connection)
        forged = channel.pack({"op": "result", "id": 1, "value": {"$nd": 0}}, [b"\x93NUMPY junk"])
        os.write(replies_w, forged)
        with pytest.raises(grading.GradingError, match="could not read"):
            grading.check(remote, 1.0, expected=2.0)
        os.write(replies_w, b"\x00" * 12 + b"garbage that is not a frame")
        verdict = judge.run_test("t", "grading.check(scale, 1.0, expected=2.0)",
                                 {"scale": remote}, grading)  # fmt: skip
        assert not verdict.passed and "broke the judge's protocol" in verdict.message
    finally:
        for fd in (requests_r, requests_w, replies_r, replies_w):
            os.close(fd)


# ----------------------------------------------------------------------------- test cells


def test_hidden_tests_are_cut_from_what_the_kernel_runs():
    source = (
        '"""f (1 point)."""\ngrading.check(f, 1, expected=2)\n'
        "### BEGIN HIDDEN TESTS\nrng = grading.hidden_rng(7)\ngrading.check(f, 2, expected=4)\n"
        "### END HIDDEN TESTS\n"
    )
    assert strip_hidden_tests(source) == '"""f (1 point)."""\ngrading.check(f, 1, expected=2)\n'


def test_free_names_are_the_students_functions():
    source = (
        "def _loss(p):\n    return softmax(p).sum()\n"
        "X = np.ones(2)\nfor k in range(2):\n    grading.check(mlp_forward, X, expected=_loss(X))\n"
    )
    assert sorted(judge.free_names(source)) == ["mlp_forward", "softmax"]


def test_hidden_inputs_follow_the_course_seed():
    key = judge.load_answer_key(os.path.join(os.path.dirname(__file__), "..", "grader"))
    a, b = judge.judge_grading(key, 2025), judge.judge_grading(key, 2026)
    assert a.hidden_rng(1001).normal() != b.hidden_rng(1001).normal()
    assert a.hidden_rng(1001).normal() == judge.judge_grading(key, 2025).hidden_rng(1001).normal()
    assert a.reference.softmax(np.zeros((1, 2))).tolist() == [[0.5, 0.5]]


def test_a_missing_answer_key_stops_grading_with_its_path(tmp_path):
    with pytest.raises(judge.JudgeUnavailableError, match=str(tmp_path)):
        judge.load_answer_key(tmp_path)


def test_the_judge_ignores_its_own_warnings_but_not_the_students():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        verdict = judge.run_test(
            "t", "x = np.log(np.zeros(1))\ngrading.check(f, 1.0, expected=1.0)",
            {"f": lambda v: v}, grading,
        )  # fmt: skip
    assert verdict.passed


# ----------------------------------------------------------------------------- every check runs


def answer_key(**answers):
    """A judge's ``grading`` whose answer key holds ``answers``."""
    module = types.ModuleType("key")
    module.reference = types.SimpleNamespace(**answers)
    return judge.judge_grading(module, seed=0)


def double(x):
    return 2 * x


def test_every_check_of_a_cell_runs_and_the_failures_are_listed():
    source = (
        "grading.check(f, 1, expected=2)\n"
        "grading.check(f, 2, expected=5)\n"  # fails
        "for x in (3, 4, 5):\n"
        "    grading.check(f, x, expected=2 * x if x != 4 else 0)\n"  # fails once
    )
    verdict = judge.run_test("t", source, {"f": double}, grading)
    assert not verdict.passed
    assert (verdict.passed_checks, verdict.total_checks) == (3, 5)
    assert [f.splitlines()[0] for f in verdict.failures] == [
        "double(x=2) returned a wrong result.",
        "double(x=4) returned a wrong result.",
    ]
    lines = verdict.message.splitlines()
    assert lines[0] == "3 of 5 checks passed."
    assert lines[1] == "[1] double(x=2) returned a wrong result."
    assert sum(line.startswith("[2] double(x=4)") for line in lines) == 1
    assert verdict.first_line() == "3 of 5 checks passed; [1] double(x=2) returned a wrong result."


def test_a_cell_passes_only_when_every_check_passes():
    source = "grading.check(f, 1, expected=2)\ngrading.expect(f(3) == 6, f, 'doubles 3')\n"
    verdict = judge.run_test("t", source, {"f": double}, grading)
    assert verdict.passed and verdict.message == ""
    assert (verdict.passed_checks, verdict.total_checks) == (2, 2)


def test_a_check_inside_another_check_counts_once():
    source = "grading.check(lambda x: grading.expect(True, f, 'inner') or f(x), 1, expected=2)\n"
    verdict = judge.run_test("t", source, {"f": double}, grading)
    assert (verdict.passed_checks, verdict.total_checks) == (1, 1)


def test_a_failure_outside_a_check_ends_the_cell_and_counts_the_checks_it_skipped():
    source = (
        "grading.check(f, 1, expected=2)\n"
        "y = grading.call(f, 'a') * 2\n"  # the student's f raises here: y is missing below
        "grading.check(f, y, expected=4 * y)\n"
        "grading.check(f, 3, expected=6)\n"
    )

    def strict_double(x):
        if not isinstance(x, int):
            raise TypeError("an int, please")
        return 2 * x

    key = answer_key(f=lambda x: 2 * x)
    verdict = judge.run_test("t", source, {"f": strict_double}, key)
    assert not verdict.passed
    # the key's f answers every statement (a string doubled is fine): 3 checks in all; the
    # student's run made 1 and stopped at the assignment, whose failure is listed
    assert (verdict.passed_checks, verdict.total_checks) == (1, 3)
    assert "TypeError: an int, please" in verdict.message
    assert verdict.message.splitlines()[-1] == (
        "1 later check did not run: the cell stopped at the last failure."
    )


def test_a_check_the_judge_cannot_evaluate_fails_alone():
    source = (
        "grading.expect(f(1)['key'] == 2, f, 'a dict')\n"  # the judge's own code raises
        "grading.check(f, 2, expected=4)\n"
    )
    verdict = judge.run_test("t", source, {"f": double}, grading)
    assert (verdict.passed_checks, verdict.total_checks) == (1, 2)
    assert "could not be checked" in verdict.message


# ----------------------------------------------------------------------------- kernel objects


class Value:
    """A tiny scalar autodiff node, the kind ps4 asks for."""

    def __init__(self, data, children=()):
        self.data, self.grad, self.children = float(data), 0.0, children

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other))

    __radd__ = __add__

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other))

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __eq__(self, other):  # a liar: equal to everything
        return True

    __hash__ = object.__hash__

    def __float__(self):
        return 42.0

    def parents(self):
        return list(self.children)


def test_kernel_objects_are_proxies_the_judge_can_read_call_and_combine(kernel):
    k = kernel({"Value": Value})
    v = k.functions["Value"](3.0)
    assert isinstance(v, judge.RemoteObject) and repr(v) == "<student's Value>"
    assert v.data == 3.0 and v.grad == 0.0  # attributes come back as data
    w = 2 - v * 4 + 1  # operators in both orders, carried out in the kernel
    assert isinstance(w, judge.RemoteObject) and w.data == -9.0
    assert (-v).data == -3.0 and (v - 1).data == 2.0
    parents = w.parents()  # a method is a proxy too; a returned list holds proxies
    assert len(parents) == 2 and parents[1].data == 1.0
    assert v.parents() == [] and v.parents is not v.parents  # each read is a new bound method
    assert w.parents()[0] is parents[0]  # the same kernel object is the same proxy


def test_a_proxy_never_claims_to_equal_anything(kernel):
    k = kernel({"Value": Value})
    v = k.functions["Value"](1.0)
    assert (v == 1.0) is False and (v == k.functions["Value"](1.0)) is False  # no kernel __eq__
    with pytest.raises(TypeError):
        float(v)
    with pytest.raises(grading.GradingError, match="expected"):
        grading.check(lambda: v, expected=42.0)
    with pytest.raises(AttributeError, match="public"):
        v._secret  # noqa: B018
    with pytest.raises(AttributeError):
        v.data = 5.0


def test_errors_of_the_students_objects_come_back_as_student_errors(kernel):
    k = kernel({"Value": Value})
    v = k.functions["Value"](1.0)
    with pytest.raises(grading.StudentError, match="no attribute 'missing'"):
        v.missing  # noqa: B018
    with pytest.raises(grading.StudentError, match="unsupported operand"):
        v / 2  # Value has no division


def test_stale_and_forged_handles_are_refused(kernel):
    k = kernel({"Value": Value})
    v = k.functions["Value"](1.0)
    k.connection.end()  # the test cell is over: its proxies are dropped
    fresh = k.functions["Value"](2.0)
    assert fresh is not v
    forged = judge.RemoteObject(k.connection, 10**6, "Value", None)
    with pytest.raises(grading.StudentError, match="no object with handle"):
        forged.data  # noqa: B018
    with pytest.raises(channel.ChannelError, match="only data"):
        channel.decode({"$obj": [0, "Value"]}, [])
    with pytest.raises(channel.ChannelError, match="handle"):
        channel.decode({"$obj": [-1, "Value"]}, [], obj=lambda h, n: None)


def test_once_a_cell_has_used_its_time_its_later_checks_fail_without_calling(kernel):
    calls = []

    def slow(x):
        calls.append(x)
        time.sleep(0.4)
        return 2 * x

    k = kernel({"slow": slow}, timeout=5.0)
    k.connection.budget_end = time.monotonic() + 0.2  # the cell's time runs out in the first call
    source = "for x in range(5):\n    grading.check(slow, x, expected=2 * x)\n"
    verdict = judge.run_test("t", source, k.functions, grading)
    # the first call outlived the cell's time but answered within the grace after the stall
    assert not verdict.passed and (verdict.passed_checks, verdict.total_checks) == (1, 5)
    assert k.stalls == 1 and calls == [0]  # the four checks after it never reached the kernel
    assert "used up this test cell's time" in verdict.failures[-1]
