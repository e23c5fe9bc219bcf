"""Answers to problem set 4 (automatic differentiation): mistakes students make, and alternatives.

Answer cells hold several functions of the ``Value`` class, and one mistake often shows in
another skill's test cell, so a header may name the test cell that must lose points after
``->`` (``# %% wrong add_mul -> backward: ...``); a ``# hint:`` line right after a header
gives text the failure message must contain.
"""
# Student code on purpose (redefinitions, non-idiomatic code): the linter is off for this file.
# ruff: noqa

import math

Value = topological_order = None  # the notebook defines these


def add_to_class(cls):  # the notebook's decorator; a no-op here, where answers are only read
    return lambda method: method


# --------------------------------------------------------------------------- + and *


# %% wrong add_mul: __add__ returns the number, not a Value
# hint: where a Value belongs
@add_to_class(Value)
def __add__(self, other):
    other = Value.wrap(other)
    return self.data + other.data


@add_to_class(Value)
def __mul__(self, other):
    other = Value.wrap(other)
    out = Value(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad

    out._backward = _backward
    return out


# %% wrong add_mul: __add__ adds into self and returns it
# hint: returns a new Value
@add_to_class(Value)
def __add__(self, other):
    other = Value.wrap(other)
    self.data += other.data
    self.parents = (Value(self.data - other.data), other)

    def _backward():
        other.grad += self.grad

    self._backward = _backward
    return self


@add_to_class(Value)
def __mul__(self, other):
    other = Value.wrap(other)
    out = Value(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad

    out._backward = _backward
    return out


# %% wrong add_mul: numbers are not wrapped, so a * 4 reads 4.data
# hint: wrap it into a Value first
@add_to_class(Value)
def __add__(self, other):
    out = Value(self.data + other.data, (self, other), "+")

    def _backward():
        self.grad += out.grad
        other.grad += out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def __mul__(self, other):
    out = Value(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad

    out._backward = _backward
    return out


# %% wrong add_mul: __mul__ copied from __add__ and left adding
# hint: a * b multiplies the numbers
@add_to_class(Value)
def __add__(self, other):
    other = Value.wrap(other)
    out = Value(self.data + other.data, (self, other), "+")

    def _backward():
        self.grad += out.grad
        other.grad += out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def __mul__(self, other):
    other = Value.wrap(other)
    out = Value(self.data + other.data, (self, other), "*")

    def _backward():
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad

    out._backward = _backward
    return out


# %% wrong add_mul -> backward: the closures assign (=) instead of accumulating (+=)
# hint: accumulate (+=)
@add_to_class(Value)
def __add__(self, other):
    other = Value.wrap(other)
    out = Value(self.data + other.data, (self, other), "+")

    def _backward():
        self.grad = out.grad
        other.grad = out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def __mul__(self, other):
    other = Value.wrap(other)
    out = Value(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad = other.data * out.grad
        other.grad = self.data * out.grad

    out._backward = _backward
    return out


# %% wrong add_mul -> backward: the local derivatives of * are swapped
# hint: d(a * b)/da is b
@add_to_class(Value)
def __add__(self, other):
    other = Value.wrap(other)
    out = Value(self.data + other.data, (self, other), "+")

    def _backward():
        self.grad += out.grad
        other.grad += out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def __mul__(self, other):
    other = Value.wrap(other)
    out = Value(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad += self.data * out.grad
        other.grad += other.data * out.grad

    out._backward = _backward
    return out


# %% wrong add_mul -> backward: the closures forget the upstream out.grad
# hint: multiply each local derivative by out.grad
@add_to_class(Value)
def __add__(self, other):
    other = Value.wrap(other)
    out = Value(self.data + other.data, (self, other), "+")

    def _backward():
        self.grad += 1.0
        other.grad += 1.0

    out._backward = _backward
    return out


@add_to_class(Value)
def __mul__(self, other):
    other = Value.wrap(other)
    out = Value(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad += other.data
        other.grad += self.data

    out._backward = _backward
    return out


# %% right add_mul: one helper makes every node from its local derivatives
@add_to_class(Value)
def __add__(self, other):
    other = Value.wrap(other)
    return _node(self.data + other.data, (self, other), (1.0, 1.0), "+")


@add_to_class(Value)
def __mul__(self, other):
    other = Value.wrap(other)
    return _node(self.data * other.data, (self, other), (other.data, self.data), "*")


def _node(data, parents, local_derivatives, op):
    out = Value(data, parents, op)

    def _backward():
        for parent, local in zip(parents, local_derivatives):
            parent.grad += local * out.grad

    out._backward = _backward
    return out


# %% right add_mul: numbers wrapped by isinstance, closures with default arguments
@add_to_class(Value)
def __add__(self, other):
    if not isinstance(other, Value):
        other = Value(other)
    result = Value(self.data + other.data, parents=(self, other), op="+")

    def _backward(a=self, b=other, out=result):
        a.grad = a.grad + out.grad
        b.grad = b.grad + out.grad

    result._backward = _backward
    return result


@add_to_class(Value)
def __mul__(self, other):
    if not isinstance(other, Value):
        other = Value(other)
    result = Value(self.data * other.data, parents=(self, other), op="*")

    def _backward(a=self, b=other, out=result):
        a.grad = a.grad + b.data * out.grad
        b.grad = b.grad + a.data * out.grad

    result._backward = _backward
    return result


# --------------------------------------------------------------------------- topological order


# %% wrong topological_order: no set of visited values, so a shared value is listed twice
# hint: remember the values already visited
def topological_order(root):
    order = []

    def visit(v):
        for parent in v.parents:
            visit(parent)
        order.append(v)

    visit(root)
    return order


# %% wrong topological_order: appends a value before its parents (pre-order)
# hint: out came first
def topological_order(root):
    order, visited = [], set()

    def visit(v):
        if v not in visited:
            visited.add(v)
            order.append(v)
            for parent in v.parents:
                visit(parent)

    visit(root)
    return order


# %% wrong topological_order: returns the order backward() walks, root first
# hint: out came first
def topological_order(root):
    order, visited = [], set()

    def visit(v):
        if v not in visited:
            visited.add(v)
            for parent in v.parents:
                visit(parent)
            order.append(v)

    visit(root)
    return order[::-1]


# %% wrong topological_order: leaves the leaves out
# hint: are leaves, the values made by no operation, listed?
def topological_order(root):
    order, visited = [], set()

    def visit(v):
        if v not in visited and v.parents:
            visited.add(v)
            for parent in v.parents:
                visit(parent)
            order.append(v)

    visit(root)
    return order


# %% wrong topological_order: breadth-first from the root, then reversed
def topological_order(root):
    order, visited, queue = [], {root}, [root]
    while queue:
        v = queue.pop(0)
        order.append(v)
        for parent in v.parents:
            if parent not in visited:
                visited.add(parent)
                queue.append(parent)
    return order[::-1]


# %% wrong topological_order -> backward: no set of visited values (backward runs a closure twice)
# hint: topological_order must list each value once
def topological_order(root):
    order = []

    def visit(v):
        for parent in v.parents:
            visit(parent)
        order.append(v)

    visit(root)
    return order


# %% right topological_order: an explicit stack instead of recursion
def topological_order(root):
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        v, parents_done = stack.pop()
        if parents_done:
            order.append(v)
        elif v not in visited:
            visited.add(v)
            stack.append((v, True))
            for parent in reversed(v.parents):
                if parent not in visited:
                    stack.append((parent, False))
    return order


# %% right topological_order: Kahn's algorithm, peeling values off from the root
def topological_order(root):
    uses, seen, stack = {}, {root}, [root]  # uses: how many operations take each value
    while stack:
        v = stack.pop()
        for parent in v.parents:
            uses[parent] = uses.get(parent, 0) + 1
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    order, ready = [], [root]  # a value is ready once every value using it is placed
    while ready:
        v = ready.pop()
        order.append(v)
        for parent in v.parents:
            uses[parent] -= 1
            if uses[parent] == 0:
                ready.append(parent)
    return order[::-1]


# --------------------------------------------------------------------------- backward


# %% wrong backward: runs the closures in topological order, leaves first
# hint: no gradient arrived here
@add_to_class(Value)
def backward(self):
    self.grad = 1.0
    for v in topological_order(self):
        v._backward()


# %% wrong backward: never sets self.grad = 1.0
# hint: out.grad = 1.0
@add_to_class(Value)
def backward(self):
    for v in reversed(topological_order(self)):
        v._backward()


# %% wrong backward: only the root's own closure runs
# hint: no gradient arrived here
@add_to_class(Value)
def backward(self):
    self.grad = 1.0
    self._backward()


# %% wrong backward: sets every grad to 1.0 on the way down
@add_to_class(Value)
def backward(self):
    for v in reversed(topological_order(self)):
        v.grad = 1.0
        v._backward()


# %% right backward: zeroes the graph's grads first, then walks it from the root
@add_to_class(Value)
def backward(self):
    order = topological_order(self)
    for v in order:
        v.grad = 0.0
    self.grad = 1.0
    for k in range(len(order) - 1, -1, -1):
        order[k]._backward()


# --------------------------------------------------------------------------- -, /, **


# %% wrong arithmetic -> arithmetic_values: __sub__ computes other - self
# hint: a - b is self.data - other.data
@add_to_class(Value)
def __neg__(self):
    return self * -1


@add_to_class(Value)
def __sub__(self, other):
    other = Value.wrap(other)
    out = Value(other.data - self.data, (self, other), "-")

    def _backward():
        self.grad -= out.grad
        other.grad += out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def __truediv__(self, other):
    return self * Value.wrap(other) ** -1


@add_to_class(Value)
def __pow__(self, k):
    out = Value(self.data**k, (self,), f"**{k}")

    def _backward():
        self.grad += k * self.data ** (k - 1) * out.grad

    out._backward = _backward
    return out


# %% wrong arithmetic -> arithmetic_values: floor division (//) in __truediv__
@add_to_class(Value)
def __neg__(self):
    return self * -1


@add_to_class(Value)
def __sub__(self, other):
    return self + (-Value.wrap(other))


@add_to_class(Value)
def __truediv__(self, other):
    other = Value.wrap(other)
    out = Value(self.data // other.data, (self, other), "/")

    def _backward():
        self.grad += out.grad / other.data
        other.grad -= out.grad * self.data / other.data**2

    out._backward = _backward
    return out


@add_to_class(Value)
def __pow__(self, k):
    out = Value(self.data**k, (self,), f"**{k}")

    def _backward():
        self.grad += k * self.data ** (k - 1) * out.grad

    out._backward = _backward
    return out


# %% wrong arithmetic -> arithmetic_values: __pow__ computes k ** a
@add_to_class(Value)
def __neg__(self):
    return self * -1


@add_to_class(Value)
def __sub__(self, other):
    return self + (-Value.wrap(other))


@add_to_class(Value)
def __truediv__(self, other):
    return self * Value.wrap(other) ** -1


@add_to_class(Value)
def __pow__(self, k):
    out = Value(k**self.data, (self,), f"**{k}")

    def _backward():
        self.grad += k * self.data ** (k - 1) * out.grad

    out._backward = _backward
    return out


# %% wrong reflected -> arithmetic_values: __rsub__ is __sub__ (self - other)
# hint: 2 - a calls a.__rsub__(2)
@add_to_class(Value)
def __radd__(self, other):
    return self + other


@add_to_class(Value)
def __rsub__(self, other):
    return self - other


@add_to_class(Value)
def __rmul__(self, other):
    return self * other


@add_to_class(Value)
def __rtruediv__(self, other):
    return Value.wrap(other) / self


# %% wrong reflected -> arithmetic_values: __rtruediv__ divides self by other
# hint: 2 / a calls a.__rtruediv__(2)
@add_to_class(Value)
def __radd__(self, other):
    return self + other


@add_to_class(Value)
def __rsub__(self, other):
    return Value.wrap(other) - self


@add_to_class(Value)
def __rmul__(self, other):
    return self * other


@add_to_class(Value)
def __rtruediv__(self, other):
    return self / other


# %% wrong reflected -> arithmetic_values: no __radd__, so 2 + a has no method
# hint: reflected method
@add_to_class(Value)
def __rsub__(self, other):
    return Value.wrap(other) - self


@add_to_class(Value)
def __rmul__(self, other):
    return self * other


@add_to_class(Value)
def __rtruediv__(self, other):
    return Value.wrap(other) / self


# %% wrong arithmetic -> arithmetic_derivatives: d(a ** k)/da written k * a ** k
# hint: not k * a ** k
@add_to_class(Value)
def __neg__(self):
    return self * -1


@add_to_class(Value)
def __sub__(self, other):
    return self + (-Value.wrap(other))


@add_to_class(Value)
def __truediv__(self, other):
    other = Value.wrap(other)
    out = Value(self.data / other.data, (self, other), "/")

    def _backward():
        self.grad += out.grad / other.data
        other.grad -= out.grad * self.data / other.data**2

    out._backward = _backward
    return out


@add_to_class(Value)
def __pow__(self, k):
    out = Value(self.data**k, (self,), f"**{k}")

    def _backward():
        self.grad += k * self.data**k * out.grad

    out._backward = _backward
    return out


# %% wrong arithmetic -> arithmetic_derivatives: d(a ** k)/da without the factor k
# hint: the factor k is missing
@add_to_class(Value)
def __neg__(self):
    return self * -1


@add_to_class(Value)
def __sub__(self, other):
    return self + (-Value.wrap(other))


@add_to_class(Value)
def __truediv__(self, other):
    other = Value.wrap(other)
    out = Value(self.data / other.data, (self, other), "/")

    def _backward():
        self.grad += out.grad / other.data
        other.grad -= out.grad * self.data / other.data**2

    out._backward = _backward
    return out


@add_to_class(Value)
def __pow__(self, k):
    out = Value(self.data**k, (self,), f"**{k}")

    def _backward():
        self.grad += self.data ** (k - 1) * out.grad

    out._backward = _backward
    return out


# %% wrong arithmetic -> arithmetic_derivatives: d(a - b)/db taken as +1
# hint: d(a - b)/db = -1
@add_to_class(Value)
def __neg__(self):
    return self * -1


@add_to_class(Value)
def __sub__(self, other):
    other = Value.wrap(other)
    out = Value(self.data - other.data, (self, other), "-")

    def _backward():
        self.grad += out.grad
        other.grad += out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def __truediv__(self, other):
    return self * Value.wrap(other) ** -1


@add_to_class(Value)
def __pow__(self, k):
    out = Value(self.data**k, (self,), f"**{k}")

    def _backward():
        self.grad += k * self.data ** (k - 1) * out.grad

    out._backward = _backward
    return out


# %% wrong arithmetic -> arithmetic_derivatives: d(a / b)/db with the sign flipped
# hint: d(a / b)/db = -a / b**2
@add_to_class(Value)
def __neg__(self):
    return self * -1


@add_to_class(Value)
def __sub__(self, other):
    return self + (-Value.wrap(other))


@add_to_class(Value)
def __truediv__(self, other):
    other = Value.wrap(other)
    out = Value(self.data / other.data, (self, other), "/")

    def _backward():
        self.grad += out.grad / other.data
        other.grad += out.grad * self.data / other.data**2

    out._backward = _backward
    return out


@add_to_class(Value)
def __pow__(self, k):
    out = Value(self.data**k, (self,), f"**{k}")

    def _backward():
        self.grad += k * self.data ** (k - 1) * out.grad

    out._backward = _backward
    return out


# %% wrong arithmetic -> arithmetic_derivatives: __neg__ forgets out.grad
# hint: multiply each local derivative by out.grad
@add_to_class(Value)
def __neg__(self):
    out = Value(-self.data, (self,), "neg")

    def _backward():
        self.grad -= 1.0

    out._backward = _backward
    return out


@add_to_class(Value)
def __sub__(self, other):
    return self + (-Value.wrap(other))


@add_to_class(Value)
def __truediv__(self, other):
    return self * Value.wrap(other) ** -1


@add_to_class(Value)
def __pow__(self, k):
    out = Value(self.data**k, (self,), f"**{k}")

    def _backward():
        self.grad += k * self.data ** (k - 1) * out.grad

    out._backward = _backward
    return out


# %% wrong reflected -> arithmetic_derivatives: __rsub__ is __sub__ (self - other)
# hint: 2 - a calls a.__rsub__(2)
@add_to_class(Value)
def __radd__(self, other):
    return self + other


@add_to_class(Value)
def __rsub__(self, other):
    return self - other


@add_to_class(Value)
def __rmul__(self, other):
    return self * other


@add_to_class(Value)
def __rtruediv__(self, other):
    return Value.wrap(other) / self


# %% right arithmetic: each operation built from + and * (a - b = a + (-1) * b, a / b = a * b ** -1)
@add_to_class(Value)
def __neg__(self):
    return self * -1


@add_to_class(Value)
def __sub__(self, other):
    return self + (-Value.wrap(other))


@add_to_class(Value)
def __truediv__(self, other):
    return self * Value.wrap(other) ** -1


@add_to_class(Value)
def __pow__(self, k):
    out = Value(self.data**k, (self,), f"**{k}")

    def _backward():
        self.grad += k * self.data ** (k - 1) * out.grad

    out._backward = _backward
    return out


# %% right arithmetic: __pow__ derives from out.data (k * out / a) where a is not 0
@add_to_class(Value)
def __neg__(self):
    out = Value(-self.data, (self,), "neg")
    out._backward = lambda: setattr(self, "grad", self.grad - out.grad)
    return out


@add_to_class(Value)
def __sub__(self, other):
    other = Value.wrap(other)
    out = Value(self.data - other.data, (self, other), "-")

    def _backward():
        self.grad += out.grad
        other.grad += -out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def __truediv__(self, other):
    other = Value.wrap(other)
    out = Value(self.data / other.data, (self, other), "/")

    def _backward():
        self.grad += out.grad / other.data
        other.grad += -out.grad * out.data / other.data

    out._backward = _backward
    return out


@add_to_class(Value)
def __pow__(self, k):
    out = Value(self.data**k, (self,), f"**{k}")

    def _backward():
        if self.data != 0:
            self.grad += k * out.data / self.data * out.grad
        else:
            self.grad += k * self.data ** (k - 1) * out.grad

    out._backward = _backward
    return out


# %% right reflected: every reflected operation makes its own node
@add_to_class(Value)
def __radd__(self, other):
    out = Value(other + self.data, (self,), "+")

    def _backward():
        self.grad += out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def __rsub__(self, other):
    out = Value(other - self.data, (Value(other), self), "-")

    def _backward():
        self.grad -= out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def __rmul__(self, other):
    return self * other


@add_to_class(Value)
def __rtruediv__(self, other):
    out = Value(other / self.data, (Value(other), self), "/")

    def _backward():
        self.grad -= other / self.data**2 * out.grad

    out._backward = _backward
    return out


# --------------------------------------------------------------------------- exp, tanh, sigmoid, relu


# %% wrong exp_tanh_sigmoid_relu: relu'(0) taken as 1 (a >= 0)
# hint: at exactly a = 0 the derivative of relu is taken as 0
@add_to_class(Value)
def exp(self):
    out = Value(math.exp(self.data), (self,), "exp")

    def _backward():
        self.grad += out.data * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def tanh(self):
    out = Value(math.tanh(self.data), (self,), "tanh")

    def _backward():
        self.grad += (1 - out.data**2) * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def sigmoid(self):
    e = math.exp(-abs(self.data))
    s = 1 / (1 + e) if self.data >= 0 else e / (1 + e)
    out = Value(s, (self,), "sigmoid")

    def _backward():
        self.grad += s * (1 - s) * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def relu(self):
    out = Value(max(self.data, 0.0), (self,), "relu")

    def _backward():
        self.grad += (1.0 if self.data >= 0 else 0.0) * out.grad

    out._backward = _backward
    return out


# %% wrong exp_tanh_sigmoid_relu: sigmoid as 1 / (1 + exp(-a)), which overflows at a = -1000
# hint: compute sigmoid with exp of -|z| only
@add_to_class(Value)
def exp(self):
    out = Value(math.exp(self.data), (self,), "exp")

    def _backward():
        self.grad += out.data * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def tanh(self):
    out = Value(math.tanh(self.data), (self,), "tanh")

    def _backward():
        self.grad += (1 - out.data**2) * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def sigmoid(self):
    s = 1 / (1 + math.exp(-self.data))
    out = Value(s, (self,), "sigmoid")

    def _backward():
        self.grad += s * (1 - s) * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def relu(self):
    out = Value(max(self.data, 0.0), (self,), "relu")

    def _backward():
        self.grad += (self.data > 0) * out.grad

    out._backward = _backward
    return out


# %% wrong exp_tanh_sigmoid_relu: tanh'(a) written 1 - a**2
# hint: not 1 - a**2
@add_to_class(Value)
def exp(self):
    out = Value(math.exp(self.data), (self,), "exp")

    def _backward():
        self.grad += out.data * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def tanh(self):
    out = Value(math.tanh(self.data), (self,), "tanh")

    def _backward():
        self.grad += (1 - self.data**2) * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def sigmoid(self):
    e = math.exp(-abs(self.data))
    s = 1 / (1 + e) if self.data >= 0 else e / (1 + e)
    out = Value(s, (self,), "sigmoid")

    def _backward():
        self.grad += s * (1 - s) * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def relu(self):
    out = Value(max(self.data, 0.0), (self,), "relu")

    def _backward():
        self.grad += (self.data > 0) * out.grad

    out._backward = _backward
    return out


# %% wrong exp_tanh_sigmoid_relu: d(e**a)/da written a
# hint: d(e**a)/da = e**a
@add_to_class(Value)
def exp(self):
    out = Value(math.exp(self.data), (self,), "exp")

    def _backward():
        self.grad += self.data * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def tanh(self):
    out = Value(math.tanh(self.data), (self,), "tanh")

    def _backward():
        self.grad += (1 - out.data**2) * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def sigmoid(self):
    e = math.exp(-abs(self.data))
    s = 1 / (1 + e) if self.data >= 0 else e / (1 + e)
    out = Value(s, (self,), "sigmoid")

    def _backward():
        self.grad += s * (1 - s) * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def relu(self):
    out = Value(max(self.data, 0.0), (self,), "relu")

    def _backward():
        self.grad += (self.data > 0) * out.grad

    out._backward = _backward
    return out


# %% wrong exp_tanh_sigmoid_relu: sigmoid'(a) written a * (1 - a)
# hint: not a * (1 - a)
@add_to_class(Value)
def exp(self):
    out = Value(math.exp(self.data), (self,), "exp")

    def _backward():
        self.grad += out.data * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def tanh(self):
    out = Value(math.tanh(self.data), (self,), "tanh")

    def _backward():
        self.grad += (1 - out.data**2) * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def sigmoid(self):
    e = math.exp(-abs(self.data))
    s = 1 / (1 + e) if self.data >= 0 else e / (1 + e)
    out = Value(s, (self,), "sigmoid")

    def _backward():
        self.grad += self.data * (1 - self.data) * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def relu(self):
    out = Value(max(self.data, 0.0), (self,), "relu")

    def _backward():
        self.grad += (self.data > 0) * out.grad

    out._backward = _backward
    return out


# %% wrong exp_tanh_sigmoid_relu: relu's closure forgets out.grad
# hint: multiply the local derivative by out.grad
@add_to_class(Value)
def exp(self):
    out = Value(math.exp(self.data), (self,), "exp")

    def _backward():
        self.grad += out.data * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def tanh(self):
    out = Value(math.tanh(self.data), (self,), "tanh")

    def _backward():
        self.grad += (1 - out.data**2) * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def sigmoid(self):
    e = math.exp(-abs(self.data))
    s = 1 / (1 + e) if self.data >= 0 else e / (1 + e)
    out = Value(s, (self,), "sigmoid")

    def _backward():
        self.grad += s * (1 - s) * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def relu(self):
    out = Value(max(self.data, 0.0), (self,), "relu")

    def _backward():
        self.grad += float(self.data > 0)

    out._backward = _backward
    return out


# %% right exp_tanh_sigmoid_relu: tanh and sigmoid composed from exp, + and / (sign-split)
@add_to_class(Value)
def exp(self):
    out = Value(math.exp(self.data), (self,), "exp")

    def _backward():
        self.grad += out.data * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def tanh(self):
    # tanh(a) = (1 - e^{-2a}) / (1 + e^{-2a}) for a >= 0, and minus that of -a otherwise
    if self.data >= 0:
        e = (self * -2).exp()
        return (1 - e) / (1 + e)
    e = (self * 2).exp()
    return (e - 1) / (e + 1)


@add_to_class(Value)
def sigmoid(self):
    if self.data >= 0:
        return 1 / (1 + (-self).exp())
    e = self.exp()
    return e / (1 + e)


@add_to_class(Value)
def relu(self):
    out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

    def _backward():
        if self.data > 0:
            self.grad += out.grad

    out._backward = _backward
    return out


# %% right exp_tanh_sigmoid_relu: sigmoid from tanh, sigmoid(a) = (1 + tanh(a / 2)) / 2
@add_to_class(Value)
def exp(self):
    e = math.exp(self.data)
    out = Value(e, (self,), "exp")

    def _backward():
        self.grad += e * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def tanh(self):
    t = math.tanh(self.data)
    out = Value(t, (self,), "tanh")

    def _backward():
        self.grad += (1 - t) * (1 + t) * out.grad

    out._backward = _backward
    return out


@add_to_class(Value)
def sigmoid(self):
    return 0.5 * ((self * 0.5).tanh() + 1)


@add_to_class(Value)
def relu(self):
    out = Value(max(self.data, 0.0), (self,), "relu")

    def _backward():
        self.grad += out.grad if self.data > 0 else 0.0

    out._backward = _backward
    return out


# --------------------------------------------------------------------------- the neuron


# %% wrong ridge_grads_autograd: a second Value for w in the penalty
# hint: w must be one Value, used in both terms
def ridge_grads_autograd(w, b, x, y, lam):
    wv, bv = Value(w), Value(b)
    data_term = 0.5 * (y - (wv * x + bv).sigmoid()) ** 2
    L = data_term + lam * Value(w) ** 2
    L.backward()
    return wv.grad, bv.grad


# %% wrong ridge_grads_autograd: the penalty written lam * w
# hint: lam * w has the derivative lam
def ridge_grads_autograd(w, b, x, y, lam):
    w, b = Value(w), Value(b)
    L = 0.5 * (y - (w * x + b).sigmoid()) ** 2 + lam * w
    L.backward()
    return w.grad, b.grad


# %% wrong ridge_grads_autograd: returns the Values, not their gradients
def ridge_grads_autograd(w, b, x, y, lam):
    w, b = Value(w), Value(b)
    L = 0.5 * (y - (w * x + b).sigmoid()) ** 2 + lam * w**2
    L.backward()
    return w, b


# %% wrong ridge_grads_autograd: sigmoid computed on floats, so no gradient flows through it
# hint: only the penalty reached w
def ridge_grads_autograd(w, b, x, y, lam):
    w, b = Value(w), Value(b)
    z = w.data * x + b.data
    s = Value(1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z)))
    L = 0.5 * (y - s) ** 2 + lam * w**2
    L.backward()
    return w.grad, b.grad


# %% wrong ridge_grads_autograd: forgets the 1/2 of the squared error
# hint: the squared error has a factor 1/2
def ridge_grads_autograd(w, b, x, y, lam):
    w, b = Value(w), Value(b)
    L = (y - (w * x + b).sigmoid()) ** 2 + lam * w**2
    L.backward()
    return w.grad, b.grad


# %% right ridge_grads_autograd: squares as products, the error as prediction minus target
def ridge_grads_autograd(w, b, x, y, lam):
    w, b = Value(w), Value(b)
    error = (w * x + b).sigmoid() - y
    L = error * error * 0.5 + w * w * lam
    L.backward()
    return float(w.grad), float(b.grad)


# %% right ridge_grads_autograd: x, y and lam as Values too
def ridge_grads_autograd(w, b, x, y, lam):
    w, b, x, y, lam = (Value(v) for v in (w, b, x, y, lam))
    u = (w * x + b).sigmoid()
    L = Value(0.5) * (y - u) ** 2 + lam * w**2
    L.backward()
    return w.grad, b.grad
