"""EfficientNetB0-B7 (Tan and Le 2019): MBConv blocks with squeeze-and-excitation, scaled
in width, depth and resolution together; the input rescaling and normalisation are layers
of the model (``preprocess_input`` is the identity)."""

from __future__ import annotations

import copy
import math

from .. import layers
from . import base, imagenet_utils

_HASHES = {
    "b0": ("902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"),
    "b1": ("1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"),
    "b2": ("b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"),
    "b3": ("ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"),
    "b4": ("18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    "b5": ("ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"),
    "b6": ("165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"),
    "b7": ("8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}
_BLOCK = ("kernel_size", "repeats", "filters_in", "filters_out", "expand_ratio", "strides")
DEFAULT_BLOCKS_ARGS = [
    {**dict(zip(_BLOCK, values)), "id_skip": True, "se_ratio": 0.25}
    for values in [
        (3, 1, 32, 16, 1, 1),
        (3, 2, 16, 24, 6, 2),
        (5, 2, 24, 40, 6, 2),
        (3, 3, 40, 80, 6, 2),
        (5, 3, 80, 112, 6, 1),
        (5, 4, 112, 192, 6, 2),
        (3, 1, 192, 320, 6, 1),
    ]
]
CONV_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"},
}
DENSE_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"},
}
IMAGENET_STDDEV_RGB = [0.229, 0.224, 0.225]


def round_filters(filters, width_coefficient, divisor=8):
    """``filters * width_coefficient`` rounded to a multiple of ``divisor``."""
    return base.make_divisible(filters * width_coefficient, divisor)


def squeeze_excite(x, input_filters, filters, se_ratio, activation, name):
    """Squeeze-and-excitation: global average, a 1x1 reduction to ``se_ratio`` of the
    block's input filters, a sigmoid 1x1 expansion, the product with ``x``."""
    filters_se = max(1, int(input_filters * se_ratio))
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se_shape = (filters, 1, 1) if base.channel_axis() == 1 else (1, 1, filters)
    se = layers.Reshape(se_shape, name=f"{name}se_reshape")(se)
    se = layers.Conv2D(
        filters_se,
        1,
        padding="same",
        activation=activation,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name=f"{name}se_reduce",
    )(se)
    se = layers.Conv2D(
        filters,
        1,
        padding="same",
        activation="sigmoid",
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name=f"{name}se_expand",
    )(se)
    return layers.multiply([x, se], name=f"{name}se_excite")


def block(
    inputs,
    activation="swish",
    drop_rate=0.0,
    name="",
    filters_in=32,
    filters_out=16,
    kernel_size=3,
    strides=1,
    expand_ratio=1,
    se_ratio=0.0,
    id_skip=True,
):
    """MBConv: 1x1 expansion, depthwise convolution, squeeze-and-excitation, linear 1x1
    projection; with a residual (and stochastic-depth dropout) when the shape is kept."""
    axis = base.channel_axis()
    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = layers.Conv2D(
            filters,
            1,
            padding="same",
            use_bias=False,
            kernel_initializer=CONV_KERNEL_INITIALIZER,
            name=f"{name}expand_conv",
        )(x)
        x = layers.BatchNormalization(axis=axis, name=f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    if strides == 2:
        x = layers.ZeroPadding2D(
            padding=imagenet_utils.correct_pad(x, kernel_size), name=f"{name}dwconv_pad"
        )(x)
    x = layers.DepthwiseConv2D(
        kernel_size,
        strides=strides,
        padding="valid" if strides == 2 else "same",
        use_bias=False,
        depthwise_initializer=CONV_KERNEL_INITIALIZER,
        name=f"{name}dwconv",
    )(x)
    x = layers.BatchNormalization(axis=axis, name=f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)
    if 0 < se_ratio <= 1:
        x = squeeze_excite(x, filters_in, filters, se_ratio, activation, name)
    x = layers.Conv2D(
        filters_out,
        1,
        padding="same",
        use_bias=False,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name=f"{name}project_conv",
    )(x)
    x = layers.BatchNormalization(axis=axis, name=f"{name}project_bn")(x)
    if id_skip and strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def EfficientNet(  # noqa: N802
    width_coefficient,
    depth_coefficient,
    default_size,
    dropout_rate=0.2,
    drop_connect_rate=0.2,
    depth_divisor=8,
    activation="swish",
    blocks_args="default",
    name="efficientnet",
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    weights_name=None,
):
    """An EfficientNet of the given width and depth coefficients."""
    blocks_args = copy.deepcopy(DEFAULT_BLOCKS_ARGS if blocks_args == "default" else blocks_args)
    base.check_weights(weights, include_top, classes)
    x, inputs = base.image_input(input_tensor, input_shape, default_size, 32, include_top, weights)
    axis = base.channel_axis()

    def filters(n):
        return round_filters(n, width_coefficient, depth_divisor)

    def repeats(n):
        return int(math.ceil(depth_coefficient * n))

    x = layers.Rescaling(1.0 / 255.0)(x)
    x = layers.Normalization(axis=axis)(x)
    if weights == "imagenet":
        x = layers.Rescaling([1.0 / math.sqrt(s) for s in IMAGENET_STDDEV_RGB])(x)
    x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name="stem_conv_pad")(x)
    x = layers.Conv2D(
        filters(32),
        3,
        strides=2,
        padding="valid",
        use_bias=False,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name="stem_conv",
    )(x)
    x = layers.BatchNormalization(axis=axis, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)
    total = float(sum(repeats(args["repeats"]) for args in blocks_args))
    b = 0
    for i, args in enumerate(blocks_args):
        if args["repeats"] <= 0:
            raise ValueError(f"Every block must repeat at least once. Received: {args}")
        args["filters_in"] = filters(args["filters_in"])
        args["filters_out"] = filters(args["filters_out"])
        for j in range(repeats(args.pop("repeats"))):
            if j > 0:
                args["strides"], args["filters_in"] = 1, args["filters_out"]
            x = block(
                x,
                activation,
                drop_connect_rate * b / total,
                name=f"block{i + 1}{chr(j + 97)}_",
                **args,
            )
            b += 1
    x = layers.Conv2D(
        filters(1280),
        1,
        padding="same",
        use_bias=False,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name="top_conv",
    )(x)
    x = layers.BatchNormalization(axis=axis, name="top_bn")(x)
    x = layers.Activation(activation, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(
            classes,
            activation=classifier_activation,
            kernel_initializer=DENSE_KERNEL_INITIALIZER,
            name="predictions",
        )(x)
    else:
        x = base.classifier(x, False, pooling, classes, None, weights)
    files = (name + ".h5", name + "_notop.h5")
    return base.finish_known(
        inputs,
        x,
        name,
        weights,
        include_top,
        files,
        _HASHES.get(weights_name),
        "https://storage.googleapis.com/keras-applications/",
    )


def _make(width, depth, size, dropout, variant):
    def build(**arguments):
        return EfficientNet(width, depth, size, dropout, weights_name=variant, **arguments)

    doc = f"EfficientNet{variant.upper()}: width x{width}, depth x{depth}, {size}x{size} inputs."
    return base.standard_application(build, f"efficientnet{variant}", doc)


EfficientNetB0 = _make(1.0, 1.0, 224, 0.2, "b0")
EfficientNetB1 = _make(1.0, 1.1, 240, 0.2, "b1")
EfficientNetB2 = _make(1.1, 1.2, 260, 0.3, "b2")
EfficientNetB3 = _make(1.2, 1.4, 300, 0.3, "b3")
EfficientNetB4 = _make(1.4, 1.8, 380, 0.4, "b4")
EfficientNetB5 = _make(1.6, 2.2, 456, 0.4, "b5")
EfficientNetB6 = _make(1.8, 2.6, 528, 0.5, "b6")
EfficientNetB7 = _make(2.0, 3.1, 600, 0.5, "b7")


def preprocess_input(x, data_format=None):
    """The identity: EfficientNet rescales and normalises inside the model."""
    return x


decode_predictions = imagenet_utils.decode_predictions
