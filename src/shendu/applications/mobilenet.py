"""MobileNet (Howard et al. 2017): depthwise separable convolutions, width ``alpha`` and
``depth_multiplier``; Keras's layer names and ImageNet files."""

from __future__ import annotations

from .. import backend, layers
from . import base, imagenet_utils

_ALPHA_TEXT = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5"}


def _rows_cols(input_shape):
    if input_shape is None:
        return None, None
    if backend.image_data_format() == "channels_first":
        return input_shape[1], input_shape[2]
    return input_shape[0], input_shape[1]


def default_size_for(input_shape, sizes):
    """Keras's rule: a square input of a size ImageNet weights exist for, else 224."""
    rows, cols = _rows_cols(input_shape)
    return rows if rows == cols and rows in sizes else 224


def input_rows(input_shape, weights, sizes):
    """The rows in the model's name and weights file: with ImageNet weights, 224 unless the
    input is square of a size weights exist for."""
    rows, cols = _rows_cols(input_shape)
    if weights == "imagenet" and (rows != cols or rows not in sizes):
        return 224
    return rows


def _conv_block(inputs, filters, alpha, kernel=(3, 3), strides=(1, 1)):
    filters = int(filters * alpha)
    x = layers.Conv2D(
        filters, kernel, padding="same", use_bias=False, strides=strides, name="conv1"
    )(inputs)
    x = layers.BatchNormalization(axis=base.channel_axis(), name="conv1_bn")(x)
    return layers.ReLU(6.0, name="conv1_relu")(x)


def _depthwise_conv_block(inputs, filters, alpha, depth_multiplier=1, strides=(1, 1), block_id=1):
    """3x3 depthwise (ReLU6 after batch norm), then a 1x1 pointwise convolution."""
    filters = int(filters * alpha)
    x = inputs
    if strides != (1, 1):
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D(
        (3, 3),
        padding="same" if strides == (1, 1) else "valid",
        depth_multiplier=depth_multiplier,
        strides=strides,
        use_bias=False,
        name=f"conv_dw_{block_id}",
    )(x)
    x = layers.BatchNormalization(axis=base.channel_axis(), name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(
        filters, (1, 1), padding="same", use_bias=False, strides=(1, 1), name=f"conv_pw_{block_id}"
    )(x)
    x = layers.BatchNormalization(axis=base.channel_axis(), name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


_BLOCKS = [  # (pointwise filters, strides)
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
]  # fmt: skip


def MobileNet(  # noqa: N802
    input_shape=None,
    alpha=1.0,
    depth_multiplier=1,
    dropout=1e-3,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
):
    """MobileNet: a 3x3 convolution and 13 depthwise separable blocks, widths times
    ``alpha`` (4,253,864 parameters at alpha 1 with the top)."""
    base.check_weights(weights, include_top, classes)
    sizes = (128, 160, 192, 224)
    default_size = default_size_for(input_shape, sizes)
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError(
                "If imagenet weights are being loaded, depth multiplier must be 1. "
                f"Received depth_multiplier={depth_multiplier}"
            )
        if alpha not in _ALPHA_TEXT:
            raise ValueError(
                "If imagenet weights are being loaded, alpha can be one of `0.25`, `0.50`, "
                f"`0.75` or `1.0` only. Received alpha={alpha}"
            )
    x, inputs = base.image_input(input_tensor, input_shape, default_size, 32, include_top, weights)
    rows = input_rows(tuple(x.shape[1:]), weights, sizes)
    x = _conv_block(x, 32, alpha, strides=(2, 2))
    for block_id, (filters, stride) in enumerate(_BLOCKS, 1):
        x = _depthwise_conv_block(
            x, filters, alpha, depth_multiplier, strides=(stride, stride), block_id=block_id
        )
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = base.classifier(x, False, pooling, classes, None, weights, pool_names=(None, None))
    if name is None:
        name = f"mobilenet_{alpha:0.2f}_{rows}"
    file = None
    if weights == "imagenet":
        top = "" if include_top else "_no_top"
        file = f"mobilenet_{_ALPHA_TEXT[alpha]}_{rows}_tf{top}.h5"
    return base.finish(inputs, x, name, weights, file, None, "mobilenet_v1/")


def preprocess_input(x, data_format=None):
    """TF mode: values scaled to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
