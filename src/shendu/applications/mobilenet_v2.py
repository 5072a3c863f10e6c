"""MobileNetV2 (Sandler et al. 2018): inverted residual blocks with linear bottlenecks."""

from __future__ import annotations

from .. import layers
from . import base, imagenet_utils
from .mobilenet import default_size_for, input_rows

_SIZES = (96, 128, 160, 192, 224)


def _bn(name):
    return layers.BatchNormalization(
        axis=base.channel_axis(), epsilon=1e-3, momentum=0.999, name=name
    )


def _inverted_res_block(inputs, expansion, stride, alpha, filters, block_id):
    """1x1 expansion (ReLU6) -> 3x3 depthwise (ReLU6) -> linear 1x1 projection, added to
    the input when the shapes agree."""
    in_channels = inputs.shape[base.channel_axis()]
    pointwise_filters = base.make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = f"block_{block_id}_"
    if block_id:
        x = layers.Conv2D(
            expansion * in_channels, 1, padding="same", use_bias=False, name=f"{prefix}expand"
        )(x)
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(_bn(f"{prefix}expand_BN")(x))
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(
        kernel_size=3,
        strides=stride,
        use_bias=False,
        padding="same" if stride == 1 else "valid",
        name=f"{prefix}depthwise",
    )(x)
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(_bn(f"{prefix}depthwise_BN")(x))
    x = layers.Conv2D(
        pointwise_filters, 1, padding="same", use_bias=False, name=f"{prefix}project"
    )(x)
    x = _bn(f"{prefix}project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=f"{prefix}add")([inputs, x])
    return x


_BLOCKS = [  # (filters, stride, expansion)
    (16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6),
    (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6), (160, 2, 6),
    (160, 1, 6), (160, 1, 6), (320, 1, 6),
]  # fmt: skip


def MobileNetV2(  # noqa: N802
    input_shape=None,
    alpha=1.0,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
):
    """MobileNetV2: 17 inverted residual blocks, widths times ``alpha`` (3,538,984
    parameters at alpha 1 with the top)."""
    base.check_weights(weights, include_top, classes)
    if input_shape is None and input_tensor is not None:
        spatial = tuple(input_tensor.shape[1:])
        default_size = default_size_for(spatial, _SIZES)
    else:
        default_size = default_size_for(input_shape, _SIZES)
    if weights == "imagenet" and alpha not in (0.35, 0.5, 0.75, 1.0, 1.3, 1.4):
        raise ValueError(
            "If imagenet weights are being loaded, alpha must be one of `0.35`, `0.50`, "
            f"`0.75`, `1.0`, `1.3` or `1.4` only. Received `alpha={alpha}`"
        )
    x, inputs = base.image_input(input_tensor, input_shape, default_size, 32, include_top, weights)
    rows = input_rows(tuple(x.shape[1:]), weights, _SIZES)
    x = layers.Conv2D(
        base.make_divisible(32 * alpha, 8),
        3,
        strides=(2, 2),
        padding="same",
        use_bias=False,
        name="Conv1",
    )(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(_bn("bn_Conv1")(x))
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_res_block(x, expansion, stride, alpha, filters, block_id)
    last = base.make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = layers.ReLU(6.0, name="out_relu")(_bn("Conv_1_bn")(x))
    x = base.classifier(
        x, include_top, pooling, classes, classifier_activation, weights, pool_names=(None, None)
    )
    if name is None:
        name = f"mobilenetv2_{alpha:0.2f}_{rows}"
    file = None
    if weights == "imagenet":
        top = "" if include_top else "_no_top"
        file = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}{top}.h5"
    return base.finish(inputs, x, name, weights, file, None, "mobilenet_v2/")


def preprocess_input(x, data_format=None):
    """TF mode: values scaled to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
