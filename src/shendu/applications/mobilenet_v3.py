"""MobileNetV3 Small and Large (Howard et al. 2019): inverted residual blocks with
squeeze-and-excitation and hard-swish, found by architecture search; the input rescaling
is a layer of the model (``include_preprocessing``)."""

from __future__ import annotations

from .. import backend, layers
from . import base, imagenet_utils

_HASHES = {
    "large_224_0.75_float": (
        "765b44a33ad4005b3ac83185abf1d0eb",
        "40af19a13ebea4e2ee0c676887f69a2e",
    ),
    "large_224_1.0_float": (
        "59e551e166be033d707958cf9e29a6a7",
        "07fb09a5933dd0c8eaafa16978110389",
    ),
    "large_minimalistic_224_1.0_float": (
        "675e7b876c45c57e9e63e6d90a36599c",
        "ec5221f64a2f6d1ef965a614bdae7973",
    ),
    "small_224_0.75_float": (
        "cb65d4e5be93758266aa0a7f2c6708b7",
        "ebdb5cc8e0b497cd13a7c275d475c819",
    ),
    "small_224_1.0_float": (
        "8768d4c2e7dee89b9d02b2d03d65d862",
        "d3e8ec802a04aa4fc771ee12a9a9b836",
    ),
    "small_minimalistic_224_1.0_float": (
        "99cd97fb2fcdad2bf028eb838de69e37",
        "cde8136e733e811080d9fcd8a252f7e4",
    ),
}


def relu(x):
    return layers.ReLU()(x)


def hard_sigmoid(x):
    """relu6(x + 3) / 6."""
    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def hard_swish(x):
    return layers.Activation("hard_swish")(x)


def _bn(name):
    return layers.BatchNormalization(
        axis=base.channel_axis(), epsilon=1e-3, momentum=0.999, name=name
    )


def _se_block(inputs, filters, se_ratio, prefix):
    """Squeeze-and-excitation with a hard-sigmoid gate."""
    x = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}squeeze_excite_avg_pool")(
        inputs
    )
    x = layers.Conv2D(
        base.make_divisible(filters * se_ratio),
        kernel_size=1,
        padding="same",
        name=f"{prefix}squeeze_excite_conv",
    )(x)
    x = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = layers.Conv2D(
        filters, kernel_size=1, padding="same", name=f"{prefix}squeeze_excite_conv_1"
    )(x)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, hard_sigmoid(x)])


def _inverted_res_block(
    x, expansion, filters, kernel_size, stride, se_ratio, activation, block_id
):
    axis = base.channel_axis()
    shortcut = x
    prefix = "expanded_conv_"
    infilters = x.shape[axis]
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = layers.Conv2D(
            base.make_divisible(infilters * expansion),
            kernel_size=1,
            padding="same",
            use_bias=False,
            name=f"{prefix}expand",
        )(x)
        x = activation(_bn(f"{prefix}expand_bn")(x))
    if stride == 2:
        x = layers.ZeroPadding2D(
            padding=imagenet_utils.correct_pad(x, kernel_size), name=f"{prefix}depthwise_pad"
        )(x)
    x = layers.DepthwiseConv2D(
        kernel_size,
        strides=stride,
        padding="same" if stride == 1 else "valid",
        use_bias=False,
        name=f"{prefix}depthwise",
    )(x)
    x = activation(_bn(f"{prefix}depthwise_bn")(x))
    if se_ratio:
        x = _se_block(x, base.make_divisible(infilters * expansion), se_ratio, prefix)
    x = layers.Conv2D(
        filters, kernel_size=1, padding="same", use_bias=False, name=f"{prefix}project"
    )(x)
    x = _bn(f"{prefix}project_bn")(x)
    if stride == 1 and infilters == filters:
        x = layers.Add(name=f"{prefix}add")([shortcut, x])
    return x


def _input_shape(input_shape, input_tensor):
    channels_first = backend.image_data_format() == "channels_first"
    if input_shape is None and input_tensor is not None:
        rows, cols = input_tensor.shape[2:4] if channels_first else input_tensor.shape[1:3]
        return (3, cols, rows) if channels_first else (cols, rows, 3)
    if input_shape is None:
        return (3, None, None) if channels_first else (None, None, 3)
    return tuple(input_shape)


def MobileNetV3(  # noqa: N802
    stack_fn,
    last_point_ch,
    input_shape=None,
    alpha=1.0,
    model_type="large",
    minimalistic=False,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    classes=1000,
    pooling=None,
    dropout_rate=0.2,
    classifier_activation="softmax",
    include_preprocessing=True,
    name=None,
):
    """A MobileNetV3 whose blocks ``stack_fn(x, kernel, activation, se_ratio)`` makes."""
    base.check_weights(weights, include_top, classes)
    shape = _input_shape(input_shape, input_tensor)
    rows, cols = shape[1:3] if backend.image_data_format() == "channels_first" else shape[:2]
    if rows and cols and (rows < 32 or cols < 32):
        raise ValueError(
            f"Input size must be at least 32x32; Received `input_shape={input_shape}`"
        )
    if weights == "imagenet":
        if (not minimalistic and alpha not in (0.75, 1.0)) or (minimalistic and alpha != 1.0):
            raise ValueError(
                "If imagenet weights are being loaded, alpha can be one of `0.75`, `1.0` for "
                f"non minimalistic or `1.0` for minimalistic only. Received: alpha={alpha}"
            )
    if input_tensor is None:
        x = inputs = layers.Input(shape=shape)
    else:
        x, inputs = base.image_input(input_tensor, shape, 224, 32, False, None)
    if minimalistic:
        kernel, activation, se_ratio = 3, relu, None
    else:
        kernel, activation, se_ratio = 5, hard_swish, 0.25
    if include_preprocessing:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = layers.Conv2D(
        16, kernel_size=3, strides=(2, 2), padding="same", use_bias=False, name="conv"
    )(x)
    x = activation(_bn("conv_bn")(x))
    x = stack_fn(x, kernel, activation, se_ratio)
    last_conv_ch = base.make_divisible(x.shape[base.channel_axis()] * 6)
    if alpha > 1.0:
        last_point_ch = base.make_divisible(last_point_ch * alpha)
    x = layers.Conv2D(last_conv_ch, kernel_size=1, padding="same", use_bias=False, name="conv_1")(
        x
    )
    x = activation(_bn("conv_1_bn")(x))
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Conv2D(
            last_point_ch, kernel_size=1, padding="same", use_bias=True, name="conv_2"
        )(x)
        x = activation(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate)(x)
        x = layers.Conv2D(classes, kernel_size=1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = base.classifier(x, False, pooling, classes, None, weights)
    model_name = f"{model_type}{'_minimalistic' if minimalistic else ''}_224_{alpha}_float"
    stem = f"weights_mobilenet_v3_{model_name}"
    files = (f"{stem}.h5", f"{stem}_no_top_v2.h5")
    return base.finish_known(
        inputs, x, name, weights, include_top, files, _HASHES.get(model_name), "mobilenet_v3/"
    )


_SMALL = [  # (expansion, filters, kernel or None for the model's, stride, se, activation)
    (1, 16, 3, 2, True, "relu"), (72 / 16, 24, 3, 2, False, "relu"),
    (88 / 24, 24, 3, 1, False, "relu"), (4, 40, None, 2, True, "act"),
    (6, 40, None, 1, True, "act"), (6, 40, None, 1, True, "act"), (3, 48, None, 1, True, "act"),
    (3, 48, None, 1, True, "act"), (6, 96, None, 2, True, "act"), (6, 96, None, 1, True, "act"),
    (6, 96, None, 1, True, "act"),
]  # fmt: skip
_LARGE = [
    (1, 16, 3, 1, False, "relu"), (4, 24, 3, 2, False, "relu"), (3, 24, 3, 1, False, "relu"),
    (3, 40, None, 2, True, "relu"), (3, 40, None, 1, True, "relu"),
    (3, 40, None, 1, True, "relu"), (6, 80, 3, 2, False, "act"), (2.5, 80, 3, 1, False, "act"),
    (2.3, 80, 3, 1, False, "act"), (2.3, 80, 3, 1, False, "act"), (6, 112, 3, 1, True, "act"),
    (6, 112, 3, 1, True, "act"), (6, 160, None, 2, True, "act"),
    (6, 160, None, 1, True, "act"), (6, 160, None, 1, True, "act"),
]  # fmt: skip


def _stack(table, alpha):
    def stack_fn(x, kernel, activation, se_ratio):
        for block_id, (expansion, filters, size, stride, se, act) in enumerate(table):
            x = _inverted_res_block(
                x,
                expansion,
                base.make_divisible(filters * alpha),
                size or kernel,
                stride,
                se_ratio if se else None,
                relu if act == "relu" else activation,
                block_id,
            )
        return x

    return stack_fn


def MobileNetV3Small(  # noqa: N802
    input_shape=None,
    alpha=1.0,
    minimalistic=False,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    classes=1000,
    pooling=None,
    dropout_rate=0.2,
    classifier_activation="softmax",
    include_preprocessing=True,
    name="MobileNetV3Small",
):
    """MobileNetV3Small: 11 blocks, 1024-wide head (2,554,968 parameters with the top)."""
    return MobileNetV3(
        _stack(_SMALL, alpha),
        1024,
        input_shape,
        alpha,
        "small",
        minimalistic,
        include_top,
        weights,
        input_tensor,
        classes,
        pooling,
        dropout_rate,
        classifier_activation,
        include_preprocessing,
        name=name,
    )


def MobileNetV3Large(  # noqa: N802
    input_shape=None,
    alpha=1.0,
    minimalistic=False,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    classes=1000,
    pooling=None,
    dropout_rate=0.2,
    classifier_activation="softmax",
    include_preprocessing=True,
    name="MobileNetV3Large",
):
    """MobileNetV3Large: 15 blocks, 1280-wide head (5,507,432 parameters with the top)."""
    return MobileNetV3(
        _stack(_LARGE, alpha),
        1280,
        input_shape,
        alpha,
        "large",
        minimalistic,
        include_top,
        weights,
        input_tensor,
        classes,
        pooling,
        dropout_rate,
        classifier_activation,
        include_preprocessing,
        name=name,
    )


def preprocess_input(x, data_format=None):
    """The identity: MobileNetV3 rescales inside the model."""
    return x


decode_predictions = imagenet_utils.decode_predictions
