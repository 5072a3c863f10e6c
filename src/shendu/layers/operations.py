"""Operations on symbolic tensors in a functional model (``x + inputs``, ``x[:, 0]``,
``keras.ops.expand_dims(x, 1)``, ``keras.ops.concatenate([a, b])``), recorded as Keras 3
records them: one node per operation, its constants among the node's arguments.

``KerasTensor``'s operators and every function of ``shendu.ops`` given a KerasTensor call
``record`` (registered with ``keras_tensor`` when this module is imported), which calls a
``TensorOperation`` layer on the arguments (tensors and constants alike); the layer
computes the operation with ``shendu.ops``. The operation is named by Keras's class for it
(``Add``, ``GetItem``, ``ExpandDims``, ...): the operators' table below, and for the other
functions their name in CamelCase. A model file can name nothing else: a name that is not
one of ``shendu.ops``'s tensor functions is refused.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

from ..keras_tensor import KerasTensor, register_operation_recorder
from ..naming import snake_case, unique_name
from .base import Layer


def _get_item(x, key):
    # a key read back from a config is a list (JSON has no tuples): Keras reads it as one
    return x[tuple(key) if isinstance(key, list) else key]


#: Keras's class names for the operators of KerasTensor, and the function of each
_OPERATORS = {
    "Add": "add",
    "Subtract": "subtract",
    "Multiply": "multiply",
    "TrueDivide": "true_divide",
    "Divide": "divide",
    "FloorDivide": "floor_divide",
    "Mod": "mod",
    "Power": "power",
    "Matmul": "matmul",
    "Negative": "negative",
    "Absolute": "absolute",
    "Less": "less",
    "LessEqual": "less_equal",
    "Greater": "greater",
    "GreaterEqual": "greater_equal",
    "NotEqual": "not_equal",
    "LogicalAnd": "logical_and",
    "LogicalOr": "logical_or",
    "LogicalNot": "logical_not",
}

#: ops that take functions, or give facts rather than tensors: never a node of a graph
NOT_RECORDED = frozenset(
    {
        "associative_scan",
        "cond",
        "custom_gradient",
        "fori_loop",
        "map",
        "scan",
        "switch",
        "vectorized_map",
        "vectorize",
        "while_loop",
        "jvp",
        "convert_to_numpy",
        "is_tensor",
        "dtype",
        "result_type",
    }
)


def class_name(function: str) -> str:
    """Keras's operation class name for op ``function``: ``expand_dims`` -> ``ExpandDims``."""
    return "".join(part[:1].upper() + part[1:] for part in function.split("_"))


def _function_names() -> dict:
    """{Keras class name: (namespace, function name)} for every op a graph may hold: the
    functions of ``shendu.ops`` and of its groupings (``ops.image.resize``...)."""
    from .. import ops

    table = {}
    for namespace in ("image", "nn", "linalg", "math", "core", "numpy", ""):
        module = getattr(ops, namespace) if namespace else ops
        for n in dir(module):
            value = getattr(module, n, None)
            if (
                not n.startswith("_")
                and n not in NOT_RECORDED
                and hasattr(value, "__wrapped_op__")
            ):
                table[class_name(n)] = value
    table.update({k: getattr(ops, v) for k, v in _OPERATORS.items()})
    return table


_FUNCTIONS: dict = {}


def operation_function(op: str):
    """The function of ``shendu.ops`` that operation ``op`` (a class name) computes."""
    if op == "GetItem":
        return _get_item
    if not _FUNCTIONS:
        _FUNCTIONS.update(_function_names())
    fn = _FUNCTIONS.get(op)
    if fn is None:
        raise ValueError(
            f"TensorOperation: unknown operation {op!r}. Expected the Keras class name of "
            "an operator or of a keras.ops function (Add, GetItem, ExpandDims, ...)"
        )
    return fn.__wrapped_op__


def keras_operations() -> dict:
    """Keras 3's operation classes, recorded by ``tools/record_keras_operations.py``:
    ``{class name: {"module", "init": [argument names kept in the operation's config],
    "call": [argument names passed to its call; "*name" for a variable number]}}``."""
    if not _KERAS_OPERATIONS:
        path = Path(__file__).with_name("keras_operations.json")
        _KERAS_OPERATIONS.update(json.loads(path.read_text())["operations"])
    return _KERAS_OPERATIONS


_KERAS_OPERATIONS: dict = {}


def _jsonable(value):
    """``value`` as JSON holds it (tuples as lists), or raise TypeError."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _jsonable(v) for k, v in value.items()}
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def to_keras_call(op: str, args: tuple, kwargs: dict):
    """A call of operation ``op`` as Keras records it: (module, the arguments its config
    keeps, the arguments its call takes), or None when Keras has no place for one of them
    (or the operation is not in Keras's table)."""
    spec = keras_operations().get(op)
    if spec is None:
        return None
    fn = operation_function(op)
    try:
        values = dict(inspect.signature(fn).bind(*args, **kwargs).arguments)
    except TypeError:
        return None
    call = []
    for name in spec["call"]:
        if name.startswith("*"):
            call.extend(values.pop(name[1:], ()))
        elif name in values:
            call.append(values.pop(name))
        else:
            break
    try:
        init = {k: _jsonable(values.pop(k)) for k in spec["init"] if k in values}
    except TypeError:
        return None
    return None if values else (spec["module"], init, call)


def _call_by_names(fn, values: dict):
    """Call ``fn`` with its arguments given by name (``"*name"`` for the variable ones), in
    the order of its signature."""
    args, kwargs, positional = [], {}, True
    for p in inspect.signature(fn).parameters.values():
        if p.kind == p.VAR_POSITIONAL:
            args.extend(values.pop("*" + p.name, ()))
        elif p.name in values:
            if positional and p.kind == p.POSITIONAL_OR_KEYWORD:
                args.append(values.pop(p.name))
            else:
                kwargs[p.name] = values.pop(p.name)
        else:
            positional = False
    if values:
        raise TypeError(f"{fn.__name__}: no argument named {sorted(values)}")
    return fn(*args, **kwargs)


class TensorOperation(Layer):
    """One operation (an operator, or a ``keras.ops`` function) as a node of a functional
    graph; ``call`` takes the arguments as the function does (tensors and constants).

    ``arguments``: an operation read from a Keras file keeps its non-tensor arguments (its
    config's) here, and its call takes the tensors as Keras's operation class takes them.
    """

    replay_safe = True
    call_has_training = False  # ``call``'s **kwargs are the function's, not Keras's flags
    call_has_mask = False
    converts_inputs = False  # ``ops.einsum("ij,jk->ik", a, b)``: a string comes first

    def __init__(self, op: str, name: str | None = None, arguments: dict | None = None, **kwargs):
        self._function = operation_function(op)  # refuses unknown names first
        if arguments is not None and op not in keras_operations():
            raise ValueError(f"TensorOperation: {op!r} takes no arguments of its own")
        super().__init__(name=name or unique_name(snake_case(op)), **kwargs)
        self.op = op
        self.arguments = None if arguments is None else dict(arguments)
        self.built = True

    def call(self, *args, **kwargs):
        if self.arguments is None:
            return self._function(*args, **kwargs)
        values = dict(self.arguments, **kwargs)
        rest = list(args)
        for name in keras_operations()[self.op]["call"]:
            if not rest:
                break
            if name.startswith("*"):
                values["*" + name[1:]], rest = tuple(rest), []
            else:
                values[name] = rest.pop(0)
        return _call_by_names(self._function, values)

    def keras_call(self):
        """This node as Keras records it: (module, the arguments its operation's config
        keeps, the arguments of its call), or None when Keras has no place for them."""
        if not self._inbound_nodes:
            return None
        node = self._inbound_nodes[-1]
        if self.arguments is not None:  # read from a Keras file: kept as Keras had it
            module = keras_operations()[self.op]["module"]
            return module, dict(self.arguments), list(node.args)
        return to_keras_call(self.op, node.args, node.kwargs)

    def get_config(self):
        config: dict[str, Any] = {"name": self.name, "op": self.op}
        if self.arguments is not None:
            config["arguments"] = self.arguments
        return config


def apply(op: str, *operands):
    """``op`` (a class name) on ``operands`` of which at least one is a KerasTensor."""
    return TensorOperation(op)(*operands)


def record(op: str, args: tuple, kwargs: dict):
    """An operation on KerasTensors (an operator's class name, or the name of a
    ``shendu.ops`` function): its output KerasTensors, with a node recorded. ``shape``,
    ``ndim`` and ``convert_to_tensor`` answer from the KerasTensor itself, as in Keras."""
    first = args[0] if args else next(iter(kwargs.values()), None)
    if op == "shape" and isinstance(first, KerasTensor):
        return first.shape
    if op == "ndim" and isinstance(first, KerasTensor):
        return first.ndim
    if op == "convert_to_tensor" and isinstance(first, KerasTensor) and len(args) < 2:
        return first
    name = op if op[:1].isupper() else class_name(op)
    if not args:  # the layer call needs its tensors first
        raise TypeError(f"keras.ops.{op}: pass the tensors positionally on symbolic inputs")
    return TensorOperation(name)(*args, **kwargs)


register_operation_recorder(record)
