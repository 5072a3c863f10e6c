"""The differentiable functions, under ``keras.ops`` names and signatures.

Every function accepts Tensors, NumPy arrays and Python scalars and returns Tensors.
"""

import sys as _sys

from .activation import (
    elu,
    gelu,
    hard_sigmoid,
    leaky_relu,
    mish,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softplus,
    softsign,
    swish,
)
from .attention import dot_product_attention
from .conv import average_pool, conv, conv_transpose, depthwise_conv, max_pool
from .creation import arange, convert_to_tensor, full, ones, ones_like, zeros, zeros_like
from .device import to_device
from .linalg import dot, einsum, linear, matmul, tensordot
from .math import (
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
from .nn import (
    batch_norm_train,
    batch_normalization,
    binary_crossentropy,
    categorical_crossentropy,
    dropout,
    layer_normalization,
    log_softmax,
    moments,
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

_sys.modules["shendu.autograd.tensor"]._ops = _sys.modules[__name__]
