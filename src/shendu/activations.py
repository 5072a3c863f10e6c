"""Activation functions by name ('relu', 'softmax', ...), as in ``keras.activations``."""

from __future__ import annotations

from . import ops
from .naming import resolve, unknown_name_error


def linear(x):
    """Identity: f(x) = x."""
    return x


def softmax(x, axis=-1):
    return ops.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    return ops.log_softmax(x, axis=axis)


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras's parametrised ReLU: x where x > threshold, else negative_slope * (x -
    threshold) (0 for the default slope), then clipped to [.., max_value]; the defaults are
    max(x, 0). The gradient is 1 above the threshold and negative_slope below it (0 where
    max_value clips)."""
    if negative_slope == 0 and max_value is None and threshold == 0:
        return ops.relu(x)
    x = ops.convert_to_tensor(x)
    if negative_slope != 0 and max_value is None and threshold == 0:
        return ops.leaky_relu(x, negative_slope)
    zero = ops.zeros_like(x)
    y = ops.where(ops.greater(x, threshold), x, zero) if threshold != 0 else ops.relu(x)
    if max_value is not None:
        y = ops.minimum(y, ops.cast(max_value, y.dtype))
    if negative_slope != 0:
        y = y - negative_slope * ops.relu(threshold - x)
    return y


def leaky_relu(x, negative_slope=0.2):
    return ops.leaky_relu(x, negative_slope)


def elu(x, alpha=1.0):
    return ops.elu(x, alpha)


def gelu(x, approximate=False):
    """GELU; ``keras.activations.gelu`` defaults to the exact (erf) form."""
    return ops.gelu(x, approximate)


def exponential(x):
    return ops.exp(x)


_FUNCS = [
    ops.celu,
    ops.glu,
    ops.hard_shrink,
    ops.hard_silu,
    ops.hard_tanh,
    ops.log_sigmoid,
    ops.soft_shrink,
    ops.sparse_plus,
    ops.sparse_sigmoid,
    ops.sparsemax,
    ops.squareplus,
    ops.tanh_shrink,
    ops.threshold,
    ops.relu6,
    ops.sigmoid,
    ops.tanh,
    ops.softplus,
    ops.softsign,
    ops.selu,
    ops.silu,
    ops.hard_sigmoid,
    ops.mish,
]
_TABLE = {f.__name__: f for f in _FUNCS}
_TABLE.update(
    {
        "linear": linear,
        "relu": relu,
        "softmax": softmax,
        "log_softmax": log_softmax,
        "leaky_relu": leaky_relu,
        "elu": elu,
        "gelu": gelu,
        "swish": ops.silu,
        "hard_swish": ops.hard_silu,
        "exponential": exponential,
    }
)


def get(identifier):
    """The activation function for a name, None (linear) or a callable."""
    if identifier is None:
        return linear
    if isinstance(identifier, dict) and identifier.get("class_name") == "function":
        identifier = identifier.get("config")  # Keras's form of a registered function
    if isinstance(identifier, str) and identifier not in _TABLE:
        from .naming import registered_objects, scoped_objects

        custom = scoped_objects().get(identifier) or registered_objects().get(identifier)
        if custom is None:
            raise unknown_name_error("activation", identifier, _TABLE)
        identifier = custom
    fn = resolve(identifier, _TABLE, "activation", instantiate=False)
    if not callable(fn):
        raise TypeError(f"Expected an activation name or a callable. Received: {identifier!r}")
    return fn


def serialize(activation) -> str:
    for name, f in _TABLE.items():
        if f is activation:
            return name
    return getattr(activation, "__name__", repr(activation))


sigmoid = ops.sigmoid
tanh = ops.tanh
softplus = ops.softplus
softsign = ops.softsign
selu = ops.selu
silu = ops.silu
swish = ops.silu
relu6 = ops.relu6
hard_sigmoid = ops.hard_sigmoid
mish = ops.mish


celu = ops.celu
glu = ops.glu
hard_shrink = ops.hard_shrink
hard_silu = hard_swish = ops.hard_silu
hard_tanh = ops.hard_tanh
log_sigmoid = ops.log_sigmoid
soft_shrink = ops.soft_shrink
sparse_plus = ops.sparse_plus
sparse_sigmoid = ops.sparse_sigmoid
sparsemax = ops.sparsemax
squareplus = ops.squareplus
tanh_shrink = ops.tanh_shrink
threshold = ops.threshold


def deserialize(config, custom_objects=None):
    """The activation function a config names (a name, or {'class_name': name})."""
    if isinstance(config, dict):
        config = config.get("class_name", config.get("config", {}).get("name"))
    if custom_objects and config in custom_objects:
        return custom_objects[config]
    return get(config)
