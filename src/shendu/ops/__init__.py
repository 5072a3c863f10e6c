"""The differentiable functions, under ``keras.ops`` names and signatures.

Every function accepts Tensors, NumPy arrays and Python scalars and returns Tensors. The
names are also grouped as Keras groups them: ``ops.numpy``, ``ops.nn``, ``ops.linalg``,
``ops.image``, and ``ops.math`` / ``ops.core`` (``keras.src.ops.math`` and ``.core``).

The ops a model's layers use are imported with shendu; the rest of the catalogue (sorting,
statistics, decompositions, Fourier transforms, images, control flow...) is imported on first
use (``__getattr__``), so that ``import shendu`` stays fast.
"""

import importlib as _importlib

from ..keras_tensor import symbolic_aware as _symbolic_aware
from .activation import (
    celu,
    elu,
    gelu,
    glu,
    hard_shrink,
    hard_sigmoid,
    hard_silu,
    hard_swish,
    hard_tanh,
    leaky_relu,
    log_sigmoid,
    mish,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    soft_shrink,
    softplus,
    softsign,
    sparse_plus,
    sparse_sigmoid,
    sparsemax,
    squareplus,
    swish,
    tanh_shrink,
    threshold,
)
from .arithmetic import (
    abs,
    absolute,
    add,
    arctan,
    cast,
    clip,
    cos,
    cosh,
    divide,
    equal,
    erf,
    exp,
    expm1,
    greater,
    greater_equal,
    isfinite,
    isnan,
    less,
    less_equal,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    power,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    stop_gradient,
    subtract,
    sum_to,
    tanh,
    true_divide,
    where,
)
from .attention import dot_product_attention
from .conv import average_pool, conv, conv_transpose, depthwise_conv, max_pool
from .creation import (
    arange,
    array,
    bartlett,
    blackman,
    convert_to_tensor,
    copy,
    empty,
    empty_like,
    eye,
    full,
    full_like,
    geomspace,
    hamming,
    hanning,
    identity,
    kaiser,
    linspace,
    logspace,
    meshgrid,
    ones,
    ones_like,
    tri,
    vander,
    zeros,
    zeros_like,
)
from .device import to_device
from .linalg import dot, einsum, linear, matmul, tensordot
from .nn import (
    batch_norm_train,
    batch_normalization,
    binary_crossentropy,
    categorical_crossentropy,
    dropout,
    layer_normalization,
    log_softmax,
    moments,
    multi_hot,
    normalize,
    psnr,
    rms_normalization,
    softmax,
    sparse_categorical_crossentropy,
    standardize,
)
from .reduction import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    std,
    sum,
    var,
)
from .rnn import gru, lstm, simple_rnn
from .shape import (
    broadcast_to,
    concatenate,
    cumsum,
    embedding,
    expand_dims,
    flip,
    getitem,
    moveaxis,
    one_hot,
    pad,
    repeat,
    reshape,
    roll,
    scatter_add,
    split,
    squeeze,
    stack,
    swapaxes,
    take,
    take_along_axis,
    tile,
    transpose,
)

#: name -> the module that defines it, imported when the name is first used
_LAZY = {
    "adaptive_average_pool": "spatial",
    "adaptive_max_pool": "spatial",
    "allclose": "elementwise",
    "angle": "elementwise",
    "append": "selection",
    "arccos": "elementwise",
    "arccosh": "elementwise",
    "arcsin": "elementwise",
    "arcsinh": "elementwise",
    "arctan2": "elementwise",
    "arctanh": "elementwise",
    "argpartition": "sorting",
    "argsort": "sorting",
    "array_split": "selection",
    "associative_scan": "core",
    "average": "statistics",
    "bincount": "sorting",
    "bitwise_and": "elementwise",
    "bitwise_invert": "elementwise",
    "bitwise_left_shift": "elementwise",
    "bitwise_not": "elementwise",
    "bitwise_or": "elementwise",
    "bitwise_right_shift": "elementwise",
    "bitwise_xor": "elementwise",
    "cbrt": "elementwise",
    "cdist": "statistics",
    "ceil": "elementwise",
    "cholesky": "decompositions",
    "cholesky_inverse": "decompositions",
    "cond": "core",
    "conj": "elementwise",
    "conjugate": "elementwise",
    "convert_to_numpy": "core",
    "corrcoef": "statistics",
    "correlate": "statistics",
    "count_nonzero": "sorting",
    "cross": "selection",
    "ctc_decode": "ctc",
    "ctc_loss": "ctc",
    "cumprod": "statistics",
    "custom_gradient": "core",
    "deg2rad": "elementwise",
    "depth_to_space": "spatial",
    "det": "decompositions",
    "diag": "selection",
    "diagflat": "selection",
    "diagonal": "selection",
    "diff": "statistics",
    "digitize": "sorting",
    "divide_no_nan": "elementwise",
    "dsplit": "selection",
    "dstack": "selection",
    "dtype": "core",
    "eig": "decompositions",
    "eigh": "decompositions",
    "erfc": "elementwise",
    "erfinv": "elementwise",
    "exp2": "elementwise",
    "extract_sequences": "signal",
    "fabs": "elementwise",
    "fft": "signal",
    "fft2": "signal",
    "fliplr": "selection",
    "flipud": "selection",
    "floor": "elementwise",
    "floor_divide": "elementwise",
    "fmax": "elementwise",
    "fmin": "elementwise",
    "fmod": "elementwise",
    "fold": "spatial",
    "fori_loop": "core",
    "gcd": "elementwise",
    "get_item": "core",
    "heaviside": "elementwise",
    "histogram": "sorting",
    "hsplit": "selection",
    "hstack": "selection",
    "hypot": "elementwise",
    "i0": "elementwise",
    "ifft2": "signal",
    "imag": "elementwise",
    "in_top_k": "sorting",
    "inner": "selection",
    "inv": "decompositions",
    "irfft": "signal",
    "is_tensor": "core",
    "isclose": "elementwise",
    "isin": "elementwise",
    "isinf": "elementwise",
    "isneginf": "elementwise",
    "isposinf": "elementwise",
    "isreal": "elementwise",
    "istft": "signal",
    "jvp": "core",
    "kron": "selection",
    "lcm": "elementwise",
    "ldexp": "elementwise",
    "left_shift": "elementwise",
    "log10": "elementwise",
    "log2": "elementwise",
    "logaddexp": "elementwise",
    "logaddexp2": "elementwise",
    "logdet": "decompositions",
    "logical_xor": "elementwise",
    "lstsq": "decompositions",
    "lu_factor": "decompositions",
    "map": "core",
    "matrix_rank": "decompositions",
    "median": "statistics",
    "mod": "elementwise",
    "nan_to_num": "elementwise",
    "nanargmax": "statistics",
    "nanargmin": "statistics",
    "nancumprod": "statistics",
    "nancumsum": "statistics",
    "nanmax": "statistics",
    "nanmean": "statistics",
    "nanmedian": "statistics",
    "nanmin": "statistics",
    "nanpercentile": "statistics",
    "nanprod": "statistics",
    "nanquantile": "statistics",
    "nanstd": "statistics",
    "nansum": "statistics",
    "nanvar": "statistics",
    "ndim": "core",
    "nextafter": "elementwise",
    "nonzero": "sorting",
    "outer": "selection",
    "percentile": "statistics",
    "pinv": "decompositions",
    "polar": "core",
    "ptp": "statistics",
    "qr": "decompositions",
    "quantile": "statistics",
    "rad2deg": "elementwise",
    "ravel": "selection",
    "real": "elementwise",
    "rearrange": "core",
    "reciprocal": "elementwise",
    "rfft": "signal",
    "right_shift": "elementwise",
    "rot90": "selection",
    "round": "elementwise",
    "rsqrt": "elementwise",
    "saturate_cast": "core",
    "scan": "core",
    "scatter": "core",
    "scatter_update": "core",
    "searchsorted": "sorting",
    "segment_max": "segments",
    "segment_min": "segments",
    "segment_prod": "segments",
    "segment_sum": "segments",
    "select": "core",
    "separable_conv": "spatial",
    "shape": "core",
    "signbit": "elementwise",
    "sinc": "elementwise",
    "size": "core",
    "slice": "core",
    "slice_update": "core",
    "slogdet": "decompositions",
    "solve": "decompositions",
    "solve_triangular": "decompositions",
    "sort": "sorting",
    "space_to_depth": "spatial",
    "stft": "signal",
    "svd": "decompositions",
    "switch": "core",
    "tan": "elementwise",
    "top_k": "sorting",
    "trace": "selection",
    "trapezoid": "statistics",
    "tril": "selection",
    "triu": "selection",
    "trunc": "elementwise",
    "unfold": "spatial",
    "unique": "sorting",
    "unravel_index": "sorting",
    "unstack": "selection",
    "vdot": "selection",
    "vectorize": "core",
    "vectorized_map": "core",
    "view": "selection",
    "view_as_complex": "core",
    "view_as_real": "core",
    "vsplit": "selection",
    "vstack": "selection",
    "while_loop": "core",
}
_SUBMODULES = (
    "core",
    "image",
    "math",
    "numpy",
    "elementwise",
    "selection",
    "sorting",
    "statistics",
    "decompositions",
    "signal",
    "segments",
    "spatial",
    "ctc",
    "operation",
)


def __getattr__(name):
    module = _LAZY.get(name)
    if module is not None:
        value = _public(name, getattr(_importlib.import_module(f".{module}", __name__), name))
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return _grouping(_importlib.import_module(f".{name}", __name__))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))


# last, so that no later import of the module ops/shape.py rebinds the name to it
from .core import shape  # noqa: E402  (keras.ops.shape, the function)


def _public(name, value):
    """A public function as users call it: given KerasTensors it records a node of the
    functional graph (``keras_tensor.symbolic_aware``), as Keras's ops do."""
    if callable(value) and not isinstance(value, type) and not name.startswith("_"):
        return _symbolic_aware(name, value)
    return value


def _is_op(name, value) -> bool:
    return (
        not name.startswith("_")
        and callable(value)
        and not isinstance(value, type)
        and getattr(value, "__module__", "").startswith(__name__)
        and not hasattr(value, "__wrapped_op__")
    )


def _grouping(module):
    """A module of Keras's grouping (``ops.nn``, ``ops.numpy``, ``ops.linalg``...) with its
    Keras functions recording nodes on KerasTensors like the top-level ones."""
    if not getattr(module, "_symbolic_aware", False):
        for name, value in list(vars(module).items()):
            if _is_op(name, value) and (name in globals() or name in _LAZY):
                setattr(module, name, _public(name, value))
        module._symbolic_aware = True
    return module


for _name, _value in list(globals().items()):
    if _is_op(_name, _value):
        globals()[_name] = _public(_name, _value)
for _module in (globals()["nn"], globals()["linalg"]):  # imported with shendu; others later
    _grouping(_module)
