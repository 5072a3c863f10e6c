"""EfficientNetV2 B0-B3, S, M, L (Tan and Le 2021): fused MBConv blocks (one full
convolution instead of expansion plus depthwise) in the early stages, MBConv with
squeeze-and-excitation later; preprocessing inside the model."""

from __future__ import annotations

import copy
import math

from .. import initializers, layers
from . import base, imagenet_utils
from .efficientnet import CONV_KERNEL_INITIALIZER, DENSE_KERNEL_INITIALIZER, squeeze_excite

_HASHES = {
    "b0": ("21ecbf6da12460d5c40bb2f29ceb2188", "893217f2bb855e2983157299931e43ff"),
    "b1": ("069f0534ff22adf035c89e2d9547a9dc", "0e80663031ca32d657f9caa404b6ec37"),
    "b2": ("424e49f28180edbde1e94797771950a7", "1dfe2e7a5d45b6632553a8961ea609eb"),
    "b3": ("1f1fc43bd98a6e4fd8fdfd551e02c7a0", "f6abf7b5849ac99a89b50dd3fd532856"),
    "-s": ("e1d88a8495beba45748fedd0cecbe016", "af0682fb74e8c54910f2d4393339c070"),
    "-m": ("a3bf6aa3276309f4fc6a34aa114c95cd", "1b8dc055df72dde80d614482840fe342"),
    "-l": ("27e6d408b53c7ebc868fefa357689935", "b0b66b5c863aef5b46e8608fe1711615"),
}
_KEYS = (
    "kernel_size", "num_repeat", "input_filters", "output_filters", "expand_ratio",
    "se_ratio", "strides", "conv_type",
)  # fmt: skip
_B = [
    (3, 1, 32, 16, 1, 0, 1, 1), (3, 2, 16, 32, 4, 0, 2, 1), (3, 2, 32, 48, 4, 0, 2, 1),
    (3, 3, 48, 96, 4, 0.25, 2, 0), (3, 5, 96, 112, 6, 0.25, 1, 0),
    (3, 8, 112, 192, 6, 0.25, 2, 0),
]  # fmt: skip
_TABLE = {
    "efficientnetv2-s": [
        (3, 2, 24, 24, 1, 0.0, 1, 1), (3, 4, 24, 48, 4, 0.0, 2, 1), (3, 4, 48, 64, 4, 0, 2, 1),
        (3, 6, 64, 128, 4, 0.25, 2, 0), (3, 9, 128, 160, 6, 0.25, 1, 0),
        (3, 15, 160, 256, 6, 0.25, 2, 0),
    ],
    "efficientnetv2-m": [
        (3, 3, 24, 24, 1, 0, 1, 1), (3, 5, 24, 48, 4, 0, 2, 1), (3, 5, 48, 80, 4, 0, 2, 1),
        (3, 7, 80, 160, 4, 0.25, 2, 0), (3, 14, 160, 176, 6, 0.25, 1, 0),
        (3, 18, 176, 304, 6, 0.25, 2, 0), (3, 5, 304, 512, 6, 0.25, 1, 0),
    ],
    "efficientnetv2-l": [
        (3, 4, 32, 32, 1, 0, 1, 1), (3, 7, 32, 64, 4, 0, 2, 1), (3, 7, 64, 96, 4, 0, 2, 1),
        (3, 10, 96, 192, 4, 0.25, 2, 0), (3, 19, 192, 224, 6, 0.25, 1, 0),
        (3, 25, 224, 384, 6, 0.25, 2, 0), (3, 7, 384, 640, 6, 0.25, 1, 0),
    ],
    **{f"efficientnetv2-b{i}": _B for i in range(4)},
}  # fmt: skip
DEFAULT_BLOCKS_ARGS = {k: [dict(zip(_KEYS, row)) for row in rows] for k, rows in _TABLE.items()}


def round_filters(filters, width_coefficient, min_depth, depth_divisor):
    """``filters * width_coefficient`` rounded to a multiple of ``depth_divisor``."""
    filters *= width_coefficient
    minimum = min_depth or depth_divisor
    return int(max(minimum, int(filters + depth_divisor / 2) // depth_divisor * depth_divisor))


def round_repeats(repeats, depth_coefficient):
    return int(math.ceil(depth_coefficient * repeats))


def _conv(filters, kernel_size, name, strides=1, activation=None):
    return layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        use_bias=False,
        activation=activation,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name=name,
    )


def _bn(momentum, name):
    return layers.BatchNormalization(axis=base.channel_axis(), momentum=momentum, name=name)


def _residual(x, inputs, strides, input_filters, output_filters, survival_probability, name):
    if strides == 1 and input_filters == output_filters:
        if survival_probability:
            x = layers.Dropout(
                survival_probability, noise_shape=(None, 1, 1, 1), name=f"{name}drop"
            )(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def MBConvBlock(  # noqa: N802
    input_filters, output_filters, expand_ratio=1, kernel_size=3, strides=1, se_ratio=0.0,
    bn_momentum=0.9, activation="swish", survival_probability=0.8, name=None,
):  # fmt: skip
    """1x1 expansion, depthwise convolution, squeeze-and-excitation, 1x1 projection."""

    def apply(inputs):
        filters = input_filters * expand_ratio
        x = inputs
        if expand_ratio != 1:
            x = _bn(bn_momentum, f"{name}expand_bn")(_conv(filters, 1, f"{name}expand_conv")(x))
            x = layers.Activation(activation, name=f"{name}expand_activation")(x)
        x = layers.DepthwiseConv2D(
            kernel_size,
            strides=strides,
            padding="same",
            use_bias=False,
            depthwise_initializer=CONV_KERNEL_INITIALIZER,
            name=f"{name}dwconv2",
        )(x)
        x = layers.Activation(activation, name=f"{name}activation")(
            _bn(bn_momentum, f"{name}bn")(x)
        )
        if 0 < se_ratio <= 1:
            x = squeeze_excite(x, input_filters, filters, se_ratio, activation, name)
        x = _conv(output_filters, 1, f"{name}project_conv")(x)
        x = _bn(bn_momentum, f"{name}project_bn")(x)
        return _residual(
            x, inputs, strides, input_filters, output_filters, survival_probability, name
        )

    return apply


def FusedMBConvBlock(  # noqa: N802
    input_filters, output_filters, expand_ratio=1, kernel_size=3, strides=1, se_ratio=0.0,
    bn_momentum=0.9, activation="swish", survival_probability=0.8, name=None,
):  # fmt: skip
    """A full kxk expansion convolution (no depthwise), squeeze-and-excitation, 1x1
    projection (the kxk convolution itself when ``expand_ratio`` is 1)."""

    def apply(inputs):
        filters = input_filters * expand_ratio
        x = inputs
        if expand_ratio != 1:
            x = _conv(filters, kernel_size, f"{name}expand_conv", strides=strides)(x)
            x = _bn(bn_momentum, f"{name}expand_bn")(x)
            x = layers.Activation(activation=activation, name=f"{name}expand_activation")(x)
        if 0 < se_ratio <= 1:
            x = squeeze_excite(x, input_filters, filters, se_ratio, activation, name)
        expanded = expand_ratio != 1
        x = _conv(
            output_filters,
            1 if expanded else kernel_size,
            f"{name}project_conv",
            strides=1 if expanded else strides,
        )(x)
        x = _bn(bn_momentum, f"{name}project_bn")(x)
        if not expanded:
            x = layers.Activation(activation=activation, name=f"{name}project_activation")(x)
        return _residual(
            x, inputs, strides, input_filters, output_filters, survival_probability, name
        )

    return apply


def EfficientNetV2(  # noqa: N802
    width_coefficient,
    depth_coefficient,
    default_size,
    dropout_rate=0.2,
    drop_connect_rate=0.2,
    depth_divisor=8,
    min_depth=8,
    bn_momentum=0.9,
    activation="swish",
    blocks_args="default",
    name="efficientnetv2",
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    include_preprocessing=True,
    weights_name=None,
    variant=None,
):
    """An EfficientNetV2; ``variant`` (e.g. "efficientnetv2-s") picks the default blocks
    (Keras looks them up by ``name``, so a renamed model would fail there)."""
    if blocks_args == "default":
        blocks_args = DEFAULT_BLOCKS_ARGS[variant or name]
    base.check_weights(weights, include_top, classes)
    x, inputs = base.image_input(input_tensor, input_shape, default_size, 32, include_top, weights)
    axis = base.channel_axis()
    variant_name = variant or name
    if include_preprocessing:
        if variant_name.split("-")[-1].startswith("b") and x.shape[axis] == 3:
            x = layers.Rescaling(scale=1.0 / 255)(x)
            x = layers.Normalization(
                mean=[0.485, 0.456, 0.406],
                variance=[0.229**2, 0.224**2, 0.225**2],
                axis=axis % 4,
            )(x)
        else:
            x = layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)

    def filters(n):
        return round_filters(n, width_coefficient, min_depth, depth_divisor)

    x = _conv(filters(blocks_args[0]["input_filters"]), 3, "stem_conv", strides=2)(x)
    x = layers.Activation(activation, name="stem_activation")(_bn(bn_momentum, "stem_bn")(x))
    blocks_args = copy.deepcopy(blocks_args)
    total = float(sum(args["num_repeat"] for args in blocks_args))
    b = 0
    for i, args in enumerate(blocks_args):
        args["input_filters"] = filters(args["input_filters"])
        args["output_filters"] = filters(args["output_filters"])
        block = {0: MBConvBlock, 1: FusedMBConvBlock}[args.pop("conv_type")]
        for j in range(round_repeats(args.pop("num_repeat"), depth_coefficient)):
            if j > 0:
                args["strides"], args["input_filters"] = 1, args["output_filters"]
            x = block(
                activation=activation,
                bn_momentum=bn_momentum,
                survival_probability=drop_connect_rate * b / total,
                name=f"block{i + 1}{chr(j + 97)}_",
                **args,
            )(x)
            b += 1
    x = _conv(filters(1280), 1, "top_conv")(x)
    x = layers.Activation(activation=activation, name="top_activation")(
        _bn(bn_momentum, "top_bn")(x)
    )
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(
            classes,
            activation=classifier_activation,
            kernel_initializer=DENSE_KERNEL_INITIALIZER,
            bias_initializer=initializers.Constant(0.0),
            name="predictions",
        )(x)
    else:
        x = base.classifier(x, False, pooling, classes, None, weights)
    files = (name + ".h5", name + "_notop.h5")
    return base.finish_known(
        inputs, x, name, weights, include_top, files, _HASHES.get(weights_name), "efficientnet_v2/"
    )


def _make(width, depth, size, suffix, key):
    variant = f"efficientnetv2-{suffix}"

    def application(
        include_top=True,
        weights="imagenet",
        input_tensor=None,
        input_shape=None,
        pooling=None,
        classes=1000,
        classifier_activation="softmax",
        include_preprocessing=True,
        name=variant,
    ):
        return EfficientNetV2(
            width,
            depth,
            size,
            name=name,
            include_top=include_top,
            weights=weights,
            input_tensor=input_tensor,
            input_shape=input_shape,
            pooling=pooling,
            classes=classes,
            classifier_activation=classifier_activation,
            include_preprocessing=include_preprocessing,
            weights_name=key,
            variant=variant,
        )

    application.__name__ = application.__qualname__ = f"EfficientNetV2{suffix.upper()}"
    application.__doc__ = (
        f"EfficientNetV2{suffix.upper()}: width x{width}, depth x{depth}, {size}x{size} inputs."
    )
    return application


EfficientNetV2B0 = _make(1.0, 1.0, 224, "b0", "b0")
EfficientNetV2B1 = _make(1.0, 1.1, 240, "b1", "b1")
EfficientNetV2B2 = _make(1.1, 1.2, 260, "b2", "b2")
EfficientNetV2B3 = _make(1.2, 1.4, 300, "b3", "b3")
EfficientNetV2S = _make(1.0, 1.0, 384, "s", "-s")
EfficientNetV2M = _make(1.0, 1.0, 480, "m", "-m")
EfficientNetV2L = _make(1.0, 1.0, 480, "l", "-l")


def preprocess_input(x, data_format=None):
    """The identity: EfficientNetV2 preprocesses inside the model."""
    return x


decode_predictions = imagenet_utils.decode_predictions
