"""``Layer`` and ``Variable``: the stateful objects of the Keras API.

A layer creates its variables in ``build(input_shape)`` (called on first use with
the shape of the input), computes in ``call(inputs, training=None)`` with shendu
ops, and describes itself with ``get_config()``. ``__call__`` converts inputs,
builds, checks the input against the built shape, propagates the ``training``
flag and masks to nested layers, and adds activity-regularisation losses.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
from typing import Any

import numpy as np

from .. import backend, initializers, scopes
from .. import constraints as constraints_mod
from .. import regularizers as regularizers_mod
from ..autograd.mode import GRAD_ENABLED
from ..autograd.tensor import Tensor
from ..config import DTypePolicy
from ..naming import snake_case, unique_name
from . import allocation, tracking
from .input_spec import assert_input_compatibility
from .symbolic import KerasTensor, infer_output_shape, symbolic_call
from .symbolic import flatten as _flatten
from .tracking import TrackedLayer, TrackedVariable, structure_changed, structure_version

_CONTEXT = threading.local()


#: a layer's bookkeeping attributes: never searched for layers to track
_UNTRACKED = frozenset(
    {"_outbound", "_flat_cache", "_tracked_layers", "_variables", "_inbound_nodes", "_losses"}
)


def _initial_value(initializer, shape, dtype):
    """The starting array of a Variable: an initializer drawn at ``shape`` or a value
    (checked against ``shape`` when one is given), cast to ``dtype`` when given."""
    if isinstance(initializer, str) or (
        callable(initializer) and not isinstance(initializer, (Tensor, np.ndarray))
    ):
        if shape is None:
            raise ValueError(
                "Variable: an initializer needs a `shape`. Received: "
                f"initializer={initializer!r}, shape=None"
            )
        value = initializers.get(initializer)(tuple(shape), dtype or backend.floatx())
        value = value.data if isinstance(value, Tensor) else np.asarray(value)
    else:
        value = initializer.data if isinstance(initializer, Tensor) else initializer
        if isinstance(value, (bool, int, float, list, tuple)) and dtype is None:
            value = np.asarray(value)  # Python numbers as Keras takes them: int32, floatx
            kind = value.dtype.kind
            value = value.astype({"i": "int32", "f": backend.floatx()}.get(kind, value.dtype))
        if shape is not None and tuple(np.shape(value)) != tuple(shape):
            raise ValueError(
                f"Variable: the value has shape {tuple(np.shape(value))}, but `shape` is "
                f"{tuple(shape)}"
            )
    if dtype is not None:
        value = np.asarray(value).astype(backend.standardize_dtype(dtype))
    return value


#: dtype policy names that are not NumPy dtypes (a layer given one keeps the policy)
_POLICY_NAMES = ("mixed_float16", "mixed_bfloat16", "bfloat16")


class Variable(Tensor, TrackedVariable):
    """A Tensor that holds a layer's state: trainable weights or non-trainable statistics."""

    __slots__ = (
        "_trainable",
        "path",
        "regularizer",
        "constraint",
        "_grad_buffer",
        "autocast",
        "aggregation",
        "synchronization",
    )

    def __init__(
        self,
        initializer,
        shape=None,
        dtype=None,
        trainable=True,
        autocast=True,
        aggregation="none",
        synchronization="auto",
        name=None,
        layout=None,
        regularizer=None,
        constraint=None,
    ):
        """Keras's signature: ``initializer`` is a value (array, tensor, number) or an
        initializer (a name, an Initializer, a callable of ``(shape, dtype)``) drawn at
        ``shape``; ``dtype`` casts the value (floatx for an initializer when not given).
        ``autocast``, ``aggregation``, ``synchronization`` and ``layout`` (a device mesh's
        sharding) are taken for Keras's API; one process holds one copy, so they change
        nothing here."""
        value = _initial_value(initializer, shape, dtype)
        kind = value.dtype.kind if hasattr(value, "dtype") else np.asarray(value).dtype.kind
        differentiable = bool(trainable) and kind in "fc"
        super().__init__(value, requires_grad=differentiable, name=name)
        self.autocast, self.aggregation = autocast, aggregation
        self.synchronization = synchronization
        self.trainable = bool(trainable)
        self.path = name
        self.regularizer = regularizer
        self.constraint = constraint
        self._grad_buffer = None

    @property
    def grad_buffer(self):
        """The array backward writes this variable's gradient into, or None (see
        ``bind_storage``)."""
        return self._grad_buffer

    def bind_storage(self, value_view, grad_view) -> None:
        """Keep the value in ``value_view`` and let backward write the gradient into
        ``grad_view`` (two arrays of the variable's shape and dtype, e.g. views of an
        optimizer's fused buffers). The current value is copied in first."""
        for what, view in (("value", value_view), ("gradient", grad_view)):
            if view.shape != self.data.shape or view.dtype != self.data.dtype:
                raise ValueError(
                    f"Variable {self.path!r}: the {what} storage must have shape "
                    f"{self.data.shape} and dtype {self.data.dtype}. Received: shape "
                    f"{view.shape}, dtype {view.dtype}"
                )
        value_view[...] = self.data
        self.data = value_view
        self._grad_buffer = grad_view

    def unbind_storage(self) -> None:
        """Give the variable an array of its own again (a copy of the value), and let
        backward make new gradient arrays."""
        if self._grad_buffer is not None:
            self.data = self.data.copy()
            self._grad_buffer = None

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        structure_changed()  # cached weight lists depend on it

    def assign(self, value) -> Variable:
        """Copy ``value`` into the variable in place (shape and dtype must match)."""
        v = value.data if isinstance(value, Tensor) else value
        scope = scopes.active_stateless_scope()
        if scope is not None:  # the assignment lands on a copy that the scope discards
            scope.protect(self)
        xp = backend.array_module(self.data)
        v = xp.asarray(v)
        if v.shape != self.data.shape:
            raise ValueError(
                f"Cannot assign a value of shape {v.shape} to variable {self.path!r} of shape "
                f"{self.data.shape}"
            )
        self.data[...] = v
        return self

    def assign_add(self, value):
        return self.assign(self.data + (value.data if isinstance(value, Tensor) else value))

    def assign_sub(self, value):
        return self.assign(self.data - (value.data if isinstance(value, Tensor) else value))

    @property
    def value(self):
        return self

    def __repr__(self):
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"


@contextlib.contextmanager
def nested_call():
    """Within the block, layer calls count as nested in another call: a model called at the
    top level under no_grad is not handed to its compiled step's inference replay."""
    stack = _call_context()
    stack.append(False)
    try:
        yield
    finally:
        stack.pop()


def _call_context():
    try:
        return _CONTEXT.stack
    except AttributeError:
        _CONTEXT.stack = []
        return _CONTEXT.stack


_FIRST_ARGUMENT: dict = {}


def _build_takes_shape(cls) -> bool:
    """Whether ``cls.build`` takes the input shape (Keras allows ``build(self)``)."""
    try:
        params = list(inspect.signature(cls.build).parameters.values())[1:]
    except (TypeError, ValueError):
        return True
    return bool(params)


def _first_call_argument(cls) -> str | None:
    """The name of the first argument of ``cls.call`` (after self), or None when it takes
    a variable number (``*args``)."""
    if cls not in _FIRST_ARGUMENT:
        name = None
        try:
            params = list(inspect.signature(cls.call).parameters.values())[1:]
        except (TypeError, ValueError):
            params = []
        if params and params[0].kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            name = params[0].name
        _FIRST_ARGUMENT[cls] = name
    return _FIRST_ARGUMENT[cls]


def _accepts(fn, name):
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


def _to_tensor(x, dtype):
    """A layer's input as Tensors: float arrays and float Tensors in the layer's float
    ``dtype`` (Keras's autocast: float64 data into a float32 layer computes in float32);
    integer and bool inputs keep their dtype (the layer's ops promote them, as Keras's).
    ``dtype`` None (a layer made with ``autocast=False``): no cast."""
    if isinstance(x, Tensor):
        if dtype is None:
            return x
        if x.data.dtype.kind == "f" and x.data.dtype != dtype and np.dtype(dtype).kind == "f":
            from ..ops.arithmetic import cast

            return cast(x, dtype)
        return x
    if x is None:
        return x
    if isinstance(x, (list, tuple)) and not _plain_values(x):
        return type(x)(_to_tensor(v, dtype) for v in x)
    if isinstance(x, dict):
        return {k: _to_tensor(v, dtype) for k, v in x.items()}
    a = np.asarray(x) if not hasattr(x, "dtype") else x
    if dtype is not None and a.dtype.kind == "f" and a.dtype != np.dtype(dtype):
        a = a.astype(dtype)
    return Tensor.wrap(a)


def _plain_values(x) -> bool:
    """Whether ``x`` (a list or tuple) holds only Python numbers and strings, nested: one
    array (``StringLookup()(["a", "b"])``), not a list of inputs (``Add()([a, b])``)."""
    return bool(x) and all(
        _plain_values(v) if isinstance(v, (list, tuple)) else isinstance(v, (int, float, str))
        for v in x
    )


def convert_to_dtype(x, dtype):
    """A model input ``x`` (array, Tensor, or a number) as a Tensor of its Input's
    ``dtype``, as Keras's functional models convert theirs (uint8 images into a float32
    Input become float32 before any layer sees them)."""
    if x is None or isinstance(x, KerasTensor):
        return x
    if isinstance(x, Tensor):
        if x.data.dtype == dtype or dtype == np.dtype(object):
            return x
        from ..ops.arithmetic import cast

        return cast(x, dtype)
    a = np.asarray(x) if not hasattr(x, "dtype") else x
    if a.dtype != dtype and dtype != np.dtype(object):
        a = a.astype(dtype)
    return Tensor.wrap(a)


def shape_of(x):
    """The shapes of ``x`` (a tensor, or lists, tuples and dicts of them), same structure."""
    if isinstance(x, (list, tuple)):
        return [shape_of(v) for v in x]
    if isinstance(x, dict):
        return {k: shape_of(v) for k, v in x.items()}
    return tuple(x.shape)


class Layer(TrackedLayer):
    """Base class of all layers.

    Args:
        activity_regularizer: a penalty on the layer's output, added to the loss.
        trainable: whether the layer's weights are updated by training.
        dtype: the variables' dtype, or a dtype policy (the default float dtype when
            omitted).
        autocast: cast floating inputs to the compute dtype (False: keep them).
        name: unique name (derived from the class name when omitted).

    Keyword arguments ``input_shape``, ``input_dim`` and ``batch_input_shape`` give the
    input shape (without the batch axis) so that a Sequential model can build before it
    sees data.
    """

    #: whether the class's ``call`` takes ``training`` / ``mask`` (found at the first
    #: construction of each class)
    call_has_training = None
    call_has_mask = None
    #: an InputSpec (or a list of them) that every call's inputs must satisfy
    input_spec: Any = None
    #: True on built-in layers whose ``call`` only applies ops to its inputs and weights
    #: (no random numbers drawn in Python, no state updated, no branch on input values):
    #: their training steps may be recorded and replayed (``shendu.models.step_replay``)
    replay_safe = False
    #: whether a call's first argument becomes a Tensor in the layer's dtype (Keras's
    #: autocast); an operation node passes its arguments to its function as they are
    converts_inputs = True
    #: models (shendu.models.trainer): a top-level inference call under no_grad may be
    #: replayed (shendu.models.step_replay)
    _replays_inference = False

    def _inference_call(self, x):
        """The replayed inference call of a layer whose ``_replays_inference`` is True
        (models define it)."""
        raise NotImplementedError(f"{type(self).__name__} does not replay inference calls")

    #: the layers set as attributes (or in lists), in order: what flatten_layers walks
    _tracked_layers: list

    def __init__(
        self,
        *,
        activity_regularizer=None,
        trainable=True,
        dtype=None,
        autocast=True,
        name=None,
        **kwargs,
    ):
        input_shape = kwargs.pop("input_shape", None)
        input_dim = kwargs.pop("input_dim", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        batch_size = kwargs.pop("batch_size", None)
        self.autocast = bool(autocast)
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}: unrecognized keyword arguments: {sorted(kwargs)}"
            )
        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError(f"Expected a layer name without '/'. Received: name={name!r}")
        self.__dict__.setdefault("_tracked_layers", [])  # layers set before this call stay
        self.name = name or unique_name(snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        if dtype in ("string", "str"):  # Keras's name for text inputs
            dtype = object
        self._dtype_policy = None
        if isinstance(dtype, (DTypePolicy, dict)) or dtype in _POLICY_NAMES:
            from .. import dtype_policies

            self._dtype_policy = dtype_policies.get(dtype)  # its variables' dtype is kept
            dtype = self._dtype_policy.variable_dtype
        self.dtype = np.dtype(dtype).name if dtype is not None else backend.floatx()
        self.built = False
        self._variables: list[Variable] = self.__dict__.get("_variables", [])
        self._losses: list = []
        self._inbound_nodes: list = []  # its calls on KerasTensors (layers.symbolic.Node)
        self.activity_regularizer = regularizers_mod.get(activity_regularizer)
        self.supports_masking = getattr(self, "supports_masking", False)
        self._build_shapes = None
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
            batch_size = tuple(batch_input_shape)[0]
        self._input_shape_arg = None if input_shape is None else tuple(input_shape)
        self._batch_size_arg = batch_size
        cls = type(self)
        if cls.call_has_training is None or cls.__dict__.get("call_has_training") is None:
            cls.call_has_training = _accepts(cls.call, "training")
            cls.call_has_mask = _accepts(cls.call, "mask")

    # --- tracking ---
    def __setattr__(self, key, value):
        if key != "_outbound" and "_tracked_layers" not in self.__dict__:
            object.__setattr__(self, "_tracked_layers", [])  # set before Layer.__init__
        if key not in _UNTRACKED:
            value = tracking.track(self, key, value)
        if (
            self.replay_safe
            and not self._replays_inference
            and key[:1] != "_"
            and self.__dict__.get("built")
            and key in self.__dict__
            and not _call_context()
        ):
            # a setting of a built layer that replays may hold changed from outside its
            # calls (``act.activation = relu``, ``norm.epsilon = 1.0``): the recorded steps
            # and inference replays are stale (a model's own settings, stop_training or its
            # history, change no computation)
            structure_changed()
        object.__setattr__(self, key, value)

    def declared_input_shape(self) -> tuple | None:
        """The batch input shape given to the constructor (``input_shape``, ``input_dim`` or
        ``batch_input_shape``, with ``batch_size``), or None: where a Sequential model
        learns its input."""
        if self._input_shape_arg is None:
            return None
        return (self._batch_size_arg,) + self._input_shape_arg

    def flatten_layers(self, include_self: bool = True) -> list[Layer]:
        """This layer (unless ``include_self`` is False) and every layer nested in it, each
        once, depth first in the order they were set."""
        cache = self.__dict__.get("_flat_cache")
        if include_self and cache is not None and cache[0] == structure_version():
            return cache[1]
        out = self._walk_layers(include_self)
        if include_self:
            self.__dict__["_flat_cache"] = (structure_version(), out)
        return out

    def _walk_layers(self, include_self):
        seen, out, stack = set(), [], [self] if include_self else list(self._tracked_layers)[::-1]
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.append(layer)
            stack.extend(reversed(layer._tracked_layers))
        return out

    # --- weights ---
    def add_weight(
        self,
        shape=None,
        initializer=None,
        dtype=None,
        trainable=True,
        regularizer=None,
        constraint=None,
        name=None,
        autocast=True,
        aggregation="none",
        overwrite_with_gradient=False,
    ) -> Variable:
        """Create a variable of ``shape`` (None: a scalar) from ``initializer`` and track
        it. As Keras, no initializer means glorot_uniform for a float variable and zeros
        for another; ``autocast``, ``aggregation`` and ``overwrite_with_gradient`` are
        taken for Keras's API and change nothing here (one process, one copy)."""
        shape = () if shape is None else tuple(int(s) for s in shape)
        if initializer is None:
            kind = np.dtype(dtype or self.dtype).kind if dtype != "string" else "O"
            initializer = "glorot_uniform" if kind == "f" else "zeros"
        init = initializers.get(initializer)
        limits = allocation.active()
        if limits is not None:  # rebuilding a model from a file: its weights overwrite these
            limits.charge_weight(f"Layer {self.name!r}", shape, dtype or self.dtype)
            value = np.zeros(shape, dtype=dtype or self.dtype)
        else:
            value = init(shape, dtype=dtype or self.dtype)
        value = np.asarray(value, dtype=dtype or self.dtype)
        if backend.device() != "cpu":  # shendu.backend.set_device("gpu")
            value = backend.to_device_array(value, backend.device())
        var = Variable(
            value,
            trainable=trainable,
            name=f"{self.name}/{name or 'variable'}",
            regularizer=regularizers_mod.get(regularizer),
            constraint=constraints_mod.get(constraint),
        )
        if not (trainable and self._trainable):
            var.requires_grad = False
        self._variables.append(var)
        structure_changed()
        return var

    def add_metric(self, *args, **kwargs):
        """Removed in Keras 3, refused with Keras's message (a tracker metric held as an
        attribute and updated in ``call`` or ``compute_loss`` does the same)."""
        raise NotImplementedError(
            "Layer `add_metric()` method is deprecated. Add your metric in "
            "`Model.compile(metrics=[...])`, or create metric trackers in init() or build() "
            "when subclassing the layer or model, then call `metric.update_state()` whenever "
            "necessary."
        )

    def add_variable(
        self,
        shape,
        initializer,
        dtype=None,
        trainable=True,
        autocast=True,
        regularizer=None,
        constraint=None,
        name=None,
    ) -> Variable:
        """Keras's other name for ``add_weight`` (shape and initializer required)."""
        return self.add_weight(
            shape,
            initializer,
            dtype=dtype,
            trainable=trainable,
            regularizer=regularizer,
            constraint=constraint,
            name=name,
            autocast=autocast,
        )

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        structure_changed()
        self._trainable = bool(value)
        for layer in self.flatten_layers():
            if layer is not self:
                layer._trainable = bool(value)
            for v in layer._variables:
                v.requires_grad = v.trainable and layer._trainable and self._trainable

    @property
    def variables(self) -> list:
        out, seen = [], set()
        for layer in self.flatten_layers():
            for v in layer._variables:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    @property
    def weights(self) -> list:
        """Every variable in Keras's order: the layer's own (as created), then each nested
        layer's the same way, depth first (so a model with BatchNormalization lists each
        layer's moving statistics beside its other weights, as Keras's ``get_weights``)."""
        out: list = []
        for layer in self.flatten_layers():
            out.extend(layer._variables)
        return _dedupe(out)

    @property
    def trainable_weights(self) -> list:
        cache = self.__dict__.get("_tw_cache")
        if cache is not None and cache[0] == structure_version():
            return list(cache[1])
        if not self._trainable:
            return []
        out: list = []
        for layer in self.flatten_layers():
            if layer._trainable:
                out.extend(v for v in layer._variables if v.trainable)
        out = _dedupe(out)
        self.__dict__["_tw_cache"] = (structure_version(), out)
        return list(out)

    @property
    def non_trainable_weights(self) -> list:
        out = []
        for layer in self.flatten_layers():
            for v in layer._variables:
                if not (v.trainable and layer._trainable and self._trainable):
                    out.append(v)
        return _dedupe(out)

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    def variable_paths(self) -> dict:
        """Each variable's path as Keras writes it, by id: the names of the layers it is
        nested in, from this one down, then its own ("sequential/dense/kernel")."""
        paths: dict = {}
        stack = [(self, self.name)]
        while stack:
            layer, prefix = stack.pop()
            for v in layer._variables:
                own = (v.path or "variable").rsplit("/", 1)[-1]
                paths.setdefault(id(v), f"{prefix}/{own}")
            stack.extend((sub, f"{prefix}/{sub.name}") for sub in reversed(layer._tracked_layers))
        return paths

    def stateless_call(
        self, trainable_variables, non_trainable_variables, *args, return_losses=False, **kwargs
    ):
        """Call the layer with its variables set to the given values (Keras's functional
        form), leaving the layer as it was: returns ``(outputs, non_trainable_variables)``
        (the statistics after the call, e.g. BatchNormalization's in training), and the
        losses the call added too with ``return_losses=True``.

        The values are lists in the order of ``trainable_variables`` and
        ``non_trainable_variables``. The call computes values: it records no graph (the
        variables hold the given values only during it); differentiate ``layer(x)`` for
        gradients.
        """
        trainable, non_trainable = self.trainable_variables, self.non_trainable_variables
        for kind, given, expected in (
            ("trainable_variables", trainable_variables, trainable),
            ("non_trainable_variables", non_trainable_variables, non_trainable),
        ):
            if len(given) != len(expected):
                raise ValueError(
                    f"Layer {self.name!r}.stateless_call: expected {len(expected)} "
                    f"{kind}. Received: {len(given)}"
                )
        targets = list(trainable) + list(non_trainable)
        values = [getattr(v, "data", v) for v in list(trainable_variables)]
        values += [getattr(v, "data", v) for v in list(non_trainable_variables)]
        saved = [v.data.copy() for v in targets]
        try:
            for variable, value in zip(targets, values):
                variable.assign(value)
            token = GRAD_ENABLED.set(False)
            try:
                outputs = self(*args, **kwargs)
            finally:
                GRAD_ENABLED.reset(token)
            after = [v.data.copy() for v in non_trainable]
            losses = [loss for loss in self.losses] if return_losses else None
        finally:
            for variable, value in zip(targets, saved):
                variable.data[...] = value
        if return_losses:
            return outputs, after, losses
        return outputs, after

    def get_weights(self) -> list:
        return [backend.to_numpy(v.data).copy() for v in self.weights]

    def set_weights(self, weights) -> None:
        """Set the weights from a list of arrays, in the order of ``weights`` (checked first)."""
        params = self.weights
        if len(weights) != len(params):
            raise ValueError(
                f"Layer {self.name!r}: set_weights expected a list of {len(params)} arrays. "
                f"Received: {len(weights)} arrays"
            )
        for v, w in zip(params, weights):
            w = np.asarray(w)
            if w.shape != v.shape:
                raise ValueError(
                    f"Layer {self.name!r} weight {v.path!r}: expected shape {v.shape}. "
                    f"Received: shape {w.shape}"
                )
        for v, w in zip(params, weights):
            v.assign(np.asarray(w, dtype=v.dtype))

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                f"Layer {self.name!r} is not built yet: call it on data (or build it) first"
            )
        return int(sum(v.size for v in self.weights))

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every weight (``v.value.grad``), as ``torch.nn.Module``'s
        ``zero_grad`` in keras.io's PyTorch-backend training loops: None by default, zeros
        with ``set_to_none=False``."""
        for v in self.weights:
            if set_to_none:
                v.grad = None
            elif v.grad is not None:
                v.grad.data[...] = 0

    # --- losses ---
    def add_loss(self, loss) -> None:
        """Add a loss Tensor (e.g. a penalty computed in ``call``) to ``losses``; a
        non-scalar one counts as the sum of its entries, as in Keras (a list: each)."""
        if isinstance(loss, (list, tuple)):
            for item in loss:
                self.add_loss(item)
            return
        if isinstance(loss, Tensor) and loss.data.size != 1:
            from .. import ops

            loss = ops.sum(loss)
        self._losses.append(loss)

    @property
    def losses(self) -> list:
        out = []
        for layer in self.flatten_layers():
            out.extend(layer._losses)
            for v in layer._variables:
                if v.regularizer is not None and v.requires_grad:
                    out.append(v.regularizer(v))
        return out

    def clear_losses(self) -> None:
        """Forget the losses added during the last call (``add_loss``, activity
        regularisers), in this layer and the layers nested in it."""
        for layer in self.flatten_layers():
            if layer._losses:  # a new list (not clear()): a caller may hold the old one
                layer.__dict__["_losses"] = []

    # --- symbolic calls (the functional API) ---
    @property
    def output(self):
        """The output KerasTensor(s) of the layer's one call on symbolic inputs (for
        feature extraction: ``Model(model.inputs, [l.output for l in model.layers])``)."""
        return self._only_node("output").output_structure

    @property
    def input(self):
        """The input KerasTensor(s) of the layer's one call on symbolic inputs."""
        node = self._only_node("input")
        return node.input_structure

    def _only_node(self, what):
        nodes = self._inbound_nodes
        if not nodes:
            raise AttributeError(
                f"Layer {self.name!r} has never been called on symbolic inputs (an Input or "
                f"a layer's output) and thus has no defined {what}."
            )
        if len(nodes) > 1:
            raise AttributeError(
                f"Layer {self.name!r} has been called {len(nodes)} times on symbolic inputs, "
                f"so its {what} is ambiguous: use the KerasTensors each call returned."
            )
        return nodes[0]

    # --- building and calling ---
    def build(self, input_shape) -> None:
        self.built = True

    def _maybe_build(self, inputs):
        if self.built:
            return
        self._build_from_shapes(shape_of(inputs))

    def _build_from_shapes(self, shapes):
        """``build`` from the shapes of the first call's inputs (batch axis included)."""
        if self.built:
            return
        self._build_shapes = shapes
        build_arg = shapes
        if isinstance(shapes, list) and len(shapes) == 1 and not self._expects_list():
            build_arg = shapes[0]
        if _build_takes_shape(type(self)):
            self.build(_with_none_batch(build_arg))
        else:  # Keras allows ``def build(self)``: weights that need no input shape
            self.build()  # type: ignore[call-arg]  # a user's build without the shape
        self.built = True

    def _expects_list(self):
        return False

    def call(self, inputs, *args, **kwargs):
        return inputs

    def compute_mask(self, inputs, mask=None):
        return mask if self.supports_masking else None

    def expected_ndim(self):
        """The input rank(s) the layer accepts (None: any); checked before building."""
        return None

    def _check_input(self, x):
        """Hook for layers that check the input against their built shape."""

    def __call__(self, *args, **kwargs):
        if not args and kwargs:  # Keras binds call's first argument, whatever its name
            name = _first_call_argument(type(self))
            if name is not None and name in kwargs:
                args = (kwargs.pop(name),)
        first = args[0] if args else kwargs.get("inputs")
        if (
            self._replays_inference
            and len(args) == 1
            and (type(first) is np.ndarray or type(first) is Tensor)
            and not GRAD_ENABLED.get()
            and not kwargs.get("training")
            and kwargs.keys() <= {"training"}
            and not _call_context()  # a model called by another model's layers runs them
        ):
            return self._inference_call(first)
        # fast paths: one plain Tensor, or one NumPy array (neither can hold a KerasTensor)
        if (type(first) is not Tensor and type(first) is not np.ndarray) or len(args) > 1:
            if _contains(first, KerasTensor) or any(_contains(a, KerasTensor) for a in args[1:]):
                return symbolic_call(self, args, kwargs)
        stack = _call_context()
        training = kwargs.get("training")
        if training is None and stack:
            training = stack[-1]
        if self.call_has_training and training is not None:
            kwargs["training"] = training
        else:  # unset: the call's own default applies (True for augmentations, as Keras)
            kwargs.pop("training", None)
        cast_to = self.dtype if self.__dict__.get("autocast", True) else None
        if args:
            inputs = (
                first
                if (type(first) is Tensor and first.data.dtype == self.dtype)
                or not self.converts_inputs
                else _to_tensor(first, cast_to)
            )
            if inputs is not first:
                args = (inputs,) + args[1:]
        else:
            inputs = kwargs["inputs"] = _to_tensor(kwargs["inputs"], cast_to)
        mask = kwargs.get("mask") if self.call_has_mask else kwargs.pop("mask", None)
        if mask is None and (
            self.call_has_mask
            or self.supports_masking  # a mask passes through (compute_mask), as in Keras
            or type(self).compute_mask is not Layer.compute_mask
        ):
            mask = _collect_mask(inputs)
            if mask is not None and self.call_has_mask:
                kwargs["mask"] = mask
        ndim = self.expected_ndim()
        if ndim is not None and isinstance(inputs, Tensor):
            check_rank(self, inputs, ndim)
        if self.input_spec is not None:
            assert_input_compatibility(self.input_spec, inputs, self.name)
        if not self.built:
            self._maybe_build(inputs)
        self._check_input(inputs)
        if not stack:  # a top-level call: ``losses`` will hold this call's only (as Keras)
            self.clear_losses()
        stack.append(training)
        try:
            outputs = self.call(*args, **kwargs)
        finally:
            stack.pop()
        if self.activity_regularizer is not None:
            for o in _flatten(outputs):
                self.add_loss(self.activity_regularizer(o) / max(o.shape[0], 1))
        if mask is not None or type(self).compute_mask is not Layer.compute_mask:
            out_mask = self.compute_mask(inputs, mask)
            if out_mask is not None:
                flat = _flatten(outputs)
                # one mask per output when compute_mask returns as many (a split)
                per_output = (
                    list(out_mask)
                    if isinstance(out_mask, (list, tuple)) and len(out_mask) == len(flat) > 1
                    else [out_mask] * len(flat)
                )
                for o, m in zip(flat, per_output):
                    if isinstance(o, Tensor) and o._keras_mask is None:
                        o._keras_mask = m.data if isinstance(m, Tensor) else m
        return outputs

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape`` (None for unknown sizes).

        Built-in layers state the rule; this default, for user layers, runs the layer on
        zeros twice (every unknown size 1, then 2) and compares the results."""
        return infer_output_shape(self, input_shape)

    @property
    def dtype_policy(self):
        """The layer's DTypePolicy (Keras): the one it was given, else its dtype's."""
        policy = self.__dict__.get("_dtype_policy")
        return policy if policy is not None else DTypePolicy.of_dtype(self.dtype)

    @dtype_policy.setter
    def dtype_policy(self, policy):
        from .. import dtype_policies

        policy = dtype_policies.get(policy)
        self._dtype_policy, self.dtype = policy, policy.variable_dtype

    @property
    def compute_dtype(self):
        """The dtype the layer computes in (float32 for the mixed policies: see
        ``config.DTypePolicy``)."""
        return self.dtype_policy.compute_dtype if self._float_policy() else self.dtype

    @property
    def variable_dtype(self):
        """The dtype of the layer's variables."""
        return self.dtype_policy.variable_dtype if self._float_policy() else self.dtype

    def _float_policy(self):
        return self.dtype_policy.name in ("float16", "float32", "float64") + _POLICY_NAMES

    def compute_output_dtype(self, input_dtype):
        """The dtype of the output for an input of ``input_dtype``: a layer with weights, or
        given floats, computes in its dtype; integers pass through others (Flatten).
        Layers that make integers (lookups) override it."""
        if self._variables or np.dtype(input_dtype).kind == "f":
            return self.dtype
        return np.dtype(input_dtype).name

    def compute_output_spec(self, *args, **kwargs):
        """Symbolic outputs (KerasTensors without a node) of a call on KerasTensors, from
        ``compute_output_shape`` and ``compute_output_dtype``, without running the layer.
        Builds the layer from the input shapes first."""
        inputs = args[0] if args else kwargs.get("inputs")
        shapes = shape_of(inputs)
        self._build_from_shapes(shapes)
        first = _flatten(inputs)[0]
        dtype = self.compute_output_dtype(first.dtype)
        out = self.compute_output_shape(_first_if_single(shapes, self))
        if _is_shape(out):
            return KerasTensor(out, dtype)
        return [KerasTensor(s, dtype) for s in out]

    def has_shape_rule(self) -> bool:
        """True when the layer states its output shape (no dry run needed to know it)."""
        cls = type(self)
        return (
            cls.compute_output_shape is not Layer.compute_output_shape
            or cls.compute_output_spec is not Layer.compute_output_spec
        )

    # --- config ---
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._input_shape_arg is not None:
            config["input_shape"] = list(self._input_shape_arg)
        if self.activity_regularizer is not None:
            from ..naming import serialize

            config["activity_regularizer"] = serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_build_config(self):
        if self._build_shapes is None:
            return None
        return {"input_shape": _jsonable_shape(self._build_shapes)}

    def build_from_config(self, config):
        if config and not self.built:
            shape = config["input_shape"]
            limits = allocation.active()
            if limits is not None:  # a file's shapes: checked, and built by rule if possible
                shapes = shape if _is_shape_list(shape) else [shape]
                for s in shapes:
                    limits.check_tensor(f"Layer {self.name!r} build input", s, self.dtype)
                if self.has_shape_rule():
                    self._build_from_shapes(_tuples(shape))
                    return
            zeros = zeros_for(shape)
            with ops_no_grad():
                self(zeros)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def same_shape(self, input_shape):
    """The ``compute_output_shape`` rule of layers whose output has their input's shape."""
    return input_shape


def _is_shape(s):
    return isinstance(s, tuple) and all(d is None or isinstance(d, (int, np.integer)) for d in s)


def _first_if_single(shapes, layer):
    if isinstance(shapes, list) and len(shapes) == 1 and not layer._expects_list():
        return shapes[0]
    return shapes


def ops_no_grad():
    from ..autograd.mode import no_grad

    return no_grad()


def _is_shape_list(shape):
    return isinstance(shape, list) and bool(shape) and isinstance(shape[0], (list, tuple))


def _tuples(shape):
    return [tuple(s) for s in shape] if _is_shape_list(shape) else tuple(shape)


def zeros_for(shape):
    """Zeros of ``shape`` (or of each shape in a list or dict), unknown sizes as 1."""
    if isinstance(shape, dict):
        return {k: zeros_for(s) for k, s in shape.items()}
    if isinstance(shape, list) and shape and isinstance(shape[0], (list, tuple, dict)):
        return [zeros_for(s) for s in shape]
    return np.zeros(tuple(1 if s is None else s for s in shape), dtype=backend.floatx())


def _jsonable_shape(s):
    if isinstance(s, dict):
        return {k: _jsonable_shape(v) for k, v in s.items()}
    if isinstance(s, list):
        return [_jsonable_shape(v) for v in s]
    return [None if i == 0 else d for i, d in enumerate(s)]


def _with_none_batch(shape):
    if isinstance(shape, dict):
        return {k: _with_none_batch(v) for k, v in shape.items()}
    if isinstance(shape, list):
        return [_with_none_batch(v) for v in shape]
    return (None,) + tuple(shape[1:]) if len(shape) else shape


def _dedupe(items):
    seen, out = set(), []
    for v in items:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


def _contains(x, cls):
    return any(isinstance(v, cls) for v in _flatten(x))


def _collect_mask(inputs):
    if isinstance(inputs, Tensor):
        return inputs._keras_mask
    if isinstance(inputs, (list, tuple)):
        masks = [getattr(v, "_keras_mask", None) for v in inputs]
        return None if all(m is None for m in masks) else masks
    return None


def check_rank(layer, x, ranks, what="input"):
    """Raise a ValueError naming the layer when ``x`` has the wrong rank."""
    ranks = (ranks,) if isinstance(ranks, int) else tuple(ranks)
    if x.ndim not in ranks:
        expected = " or ".join(str(r) for r in ranks)
        raise ValueError(
            f"Input 0 of layer {layer.name!r} ({type(layer).__name__}) is incompatible with the "
            f"layer: expected ndim={expected}, found ndim={x.ndim}. Full shape received: "
            f"{(None,) + tuple(x.shape[1:])}"
        )


def check_last_axis(layer, x, expected):
    """Keras's message when the feature axis does not match the built layer."""
    if x.ndim == 0 or x.shape[-1] != expected:
        shape = (None,) + tuple(x.shape[1:])
        raise ValueError(
            f"Input 0 of layer {layer.name!r} is incompatible with the layer: expected axis -1 "
            f"of input shape to have value {expected}, but received input with shape {shape}"
        )


__all__ = ["Layer", "Variable", "check_last_axis", "check_rank"]
