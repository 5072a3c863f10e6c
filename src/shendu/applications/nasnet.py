"""NASNetMobile and NASNetLarge (Zoph et al. 2018): normal and reduction cells found by
architecture search, built of separable convolutions and poolings."""

from __future__ import annotations

from .. import backend, layers
from . import base, imagenet_utils

_FILES = {
    224: ("nasnet_mobile", "020fb642bf7360b370c678b08e0adf61", "1ed92395b5b598bdda52abe5c0dbfd63"),
    331: ("nasnet_large", "11577c9a518f0070763c2b964a382f17", "d81d89dc07e6e56530c4e77faddd61b5"),
}


def _bn(name=None):
    return layers.BatchNormalization(
        axis=base.channel_axis(), momentum=0.9997, epsilon=1e-3, name=name
    )


def _conv1x1(filters, name, strides=(1, 1)):
    return layers.Conv2D(
        filters,
        (1, 1),
        strides=strides,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        name=name,
    )


def _separable_conv_block(ip, filters, kernel_size=(3, 3), strides=(1, 1), block_id=None):
    """ReLU, separable convolution (strided, TF-'same' padded), BN, ReLU, separable
    convolution, BN."""
    x = layers.Activation("relu")(ip)
    if strides == (2, 2):
        x = layers.ZeroPadding2D(
            padding=imagenet_utils.correct_pad(x, kernel_size),
            name=f"separable_conv_1_pad_{block_id}",
        )(x)
    x = layers.SeparableConv2D(
        filters,
        kernel_size,
        strides=strides,
        name=f"separable_conv_1_{block_id}",
        padding="valid" if strides == (2, 2) else "same",
        use_bias=False,
    )(x)
    x = _bn(f"separable_conv_1_bn_{block_id}")(x)
    x = layers.Activation("relu")(x)
    x = layers.SeparableConv2D(
        filters, kernel_size, name=f"separable_conv_2_{block_id}", padding="same", use_bias=False
    )(x)
    return _bn(f"separable_conv_2_bn_{block_id}")(x)


def _adjust_block(p, ip, filters, block_id=None):
    """Bring the previous cell's output ``p`` to the shape of ``ip``: a factorised
    reduction when the sizes differ, a 1x1 projection when the channels do."""
    axis = base.channel_axis()
    if p is None:
        return ip
    if p.shape[-2] != ip.shape[-2]:
        p = layers.Activation("relu", name=f"adjust_relu_1_{block_id}")(p)
        p1 = layers.AveragePooling2D(
            (1, 1), strides=(2, 2), padding="valid", name=f"adjust_avg_pool_1_{block_id}"
        )(p)
        p1 = _conv1x1(filters // 2, f"adjust_conv_1_{block_id}")(p1)
        p2 = layers.ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
        p2 = layers.Cropping2D(cropping=((1, 0), (1, 0)))(p2)
        p2 = layers.AveragePooling2D(
            (1, 1), strides=(2, 2), padding="valid", name=f"adjust_avg_pool_2_{block_id}"
        )(p2)
        p2 = _conv1x1(filters // 2, f"adjust_conv_2_{block_id}")(p2)
        p = layers.concatenate([p1, p2], axis=axis)
        return _bn(f"adjust_bn_{block_id}")(p)
    if p.shape[axis] != filters:
        p = layers.Activation("relu")(p)
        p = _conv1x1(filters, f"adjust_conv_projection_{block_id}")(p)
        return _bn(f"adjust_bn_{block_id}")(p)
    return p


def _avg(name, strides=(1, 1), padding="same"):
    return layers.AveragePooling2D((3, 3), strides=strides, padding=padding, name=name)


def _normal_a_cell(ip, p, filters, block_id=None):
    p = _adjust_block(p, ip, filters, block_id)
    h = layers.Activation("relu")(ip)
    h = _bn(f"normal_bn_1_{block_id}")(_conv1x1(filters, f"normal_conv_1_{block_id}")(h))
    x1 = layers.add(
        [
            _separable_conv_block(h, filters, (5, 5), block_id=f"normal_left1_{block_id}"),
            _separable_conv_block(p, filters, block_id=f"normal_right1_{block_id}"),
        ],
        name=f"normal_add_1_{block_id}",
    )
    x2 = layers.add(
        [
            _separable_conv_block(p, filters, (5, 5), block_id=f"normal_left2_{block_id}"),
            _separable_conv_block(p, filters, (3, 3), block_id=f"normal_right2_{block_id}"),
        ],
        name=f"normal_add_2_{block_id}",
    )
    x3 = layers.add([_avg(f"normal_left3_{block_id}")(h), p], name=f"normal_add_3_{block_id}")
    x4 = layers.add(
        [_avg(f"normal_left4_{block_id}")(p), _avg(f"normal_right4_{block_id}")(p)],
        name=f"normal_add_4_{block_id}",
    )
    x5 = _separable_conv_block(h, filters, block_id=f"normal_left5_{block_id}")
    x5 = layers.add([x5, h], name=f"normal_add_5_{block_id}")
    x = layers.concatenate(
        [p, x1, x2, x3, x4, x5], axis=base.channel_axis(), name=f"normal_concat_{block_id}"
    )
    return x, ip


def _reduction_a_cell(ip, p, filters, block_id=None):
    p = _adjust_block(p, ip, filters, block_id)
    h = layers.Activation("relu")(ip)
    h = _bn(f"reduction_bn_1_{block_id}")(_conv1x1(filters, f"reduction_conv_1_{block_id}")(h))
    h3 = layers.ZeroPadding2D(
        padding=imagenet_utils.correct_pad(h, 3), name=f"reduction_pad_1_{block_id}"
    )(h)
    two = (2, 2)
    x1 = layers.add(
        [
            _separable_conv_block(h, filters, (5, 5), two, f"reduction_left1_{block_id}"),
            _separable_conv_block(p, filters, (7, 7), two, f"reduction_right1_{block_id}"),
        ],
        name=f"reduction_add_1_{block_id}",
    )
    x2 = layers.add(
        [
            layers.MaxPooling2D(
                (3, 3), strides=two, padding="valid", name=f"reduction_left2_{block_id}"
            )(h3),
            _separable_conv_block(p, filters, (7, 7), two, f"reduction_right2_{block_id}"),
        ],
        name=f"reduction_add_2_{block_id}",
    )
    x3 = layers.add(
        [
            _avg(f"reduction_left3_{block_id}", two, "valid")(h3),
            _separable_conv_block(p, filters, (5, 5), two, f"reduction_right3_{block_id}"),
        ],
        name=f"reduction_add3_{block_id}",
    )
    x4 = layers.add([x2, _avg(f"reduction_left4_{block_id}")(x1)])
    x5 = layers.add(
        [
            _separable_conv_block(x1, filters, (3, 3), block_id=f"reduction_left4_{block_id}"),
            layers.MaxPooling2D(
                (3, 3), strides=two, padding="valid", name=f"reduction_right5_{block_id}"
            )(h3),
        ],
        name=f"reduction_add4_{block_id}",
    )
    x = layers.concatenate(
        [x2, x3, x4, x5], axis=base.channel_axis(), name=f"reduction_concat_{block_id}"
    )
    return x, ip


def NASNet(  # noqa: N802
    input_shape=None,
    penultimate_filters=4032,
    num_blocks=6,
    stem_block_filters=96,
    skip_reduction=True,
    filter_multiplier=2,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    default_size=None,
    classifier_activation="softmax",
    name="NASNet",
):
    """A NASNet: a stem, two reduction cells, then three stacks of ``num_blocks`` normal
    cells separated by reduction cells; ``penultimate_filters`` fixes the widths."""
    if backend.image_data_format() == "channels_first":
        raise ValueError(
            "NASNet does not support the `channels_first` image data format. "
            "Switch to `channels_last`."
        )
    base.check_weights(weights, include_top, classes)
    if isinstance(input_shape, tuple) and None in input_shape and weights == "imagenet":
        raise ValueError(
            "When specifying the input shape of a NASNet and loading `ImageNet` weights, "
            f"the input_shape argument must be static (no None entries). Got: {input_shape}"
        )
    default_size = default_size or 331
    if penultimate_filters % (24 * (filter_multiplier**2)) != 0:
        raise ValueError(
            "For NASNet-A models, the `penultimate_filters` must be a multiple of "
            f"24 * (`filter_multiplier` ** 2). Current value: {penultimate_filters}"
        )
    x, inputs = base.image_input(input_tensor, input_shape, default_size, 32, include_top, weights)
    filters = penultimate_filters // 24
    x = layers.Conv2D(
        stem_block_filters,
        (3, 3),
        strides=(2, 2),
        padding="valid",
        use_bias=False,
        name="stem_conv1",
        kernel_initializer="he_normal",
    )(x)
    x = _bn("stem_bn1")(x)
    p = None
    x, p = _reduction_a_cell(x, p, filters // filter_multiplier**2, block_id="stem_1")
    x, p = _reduction_a_cell(x, p, filters // filter_multiplier, block_id="stem_2")
    for stack in range(3):
        width = filters * filter_multiplier**stack
        if stack:
            x, p0 = _reduction_a_cell(x, p, width, block_id=f"reduce_{stack * num_blocks}")
            p = p if skip_reduction else p0
        first = stack * num_blocks + (1 if stack else 0)
        for i in range(num_blocks):
            x, p = _normal_a_cell(x, p, width, block_id=f"{first + i}")
    x = layers.Activation("relu")(x)
    x = base.classifier(
        x, include_top, pooling, classes, classifier_activation, weights, pool_names=(None, None)
    )
    stem, *hashes = _FILES.get(default_size, (None, None, None))
    if stem is None and weights == "imagenet":
        raise ValueError("ImageNet weights can only be loaded with NASNetLarge or NASNetMobile")
    files = (f"{stem}.h5", f"{stem}_no_top.h5")
    return base.finish_known(
        inputs, x, name, weights, include_top, files, hashes if stem else None, "nasnet/"
    )


def NASNetMobile(  # noqa: N802
    input_shape=None,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="nasnet_mobile",
):
    """NASNetMobile: 4 cells per stack, 224x224 inputs (5,326,716 parameters with the top)."""
    if not include_top and input_shape is None:
        input_shape = (224, 224, 3)
    return NASNet(
        input_shape,
        penultimate_filters=1056,
        num_blocks=4,
        stem_block_filters=32,
        skip_reduction=False,
        filter_multiplier=2,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        pooling=pooling,
        classes=classes,
        default_size=224,
        classifier_activation=classifier_activation,
        name=name,
    )


def NASNetLarge(  # noqa: N802
    input_shape=None,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="nasnet_large",
):
    """NASNetLarge: 6 cells per stack, 331x331 inputs (88,949,818 parameters with the top)."""
    return NASNet(
        input_shape,
        penultimate_filters=4032,
        num_blocks=6,
        stem_block_filters=96,
        skip_reduction=True,
        filter_multiplier=2,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        pooling=pooling,
        classes=classes,
        default_size=331,
        classifier_activation=classifier_activation,
        name=name,
    )


def preprocess_input(x, data_format=None):
    """TF mode: values scaled to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
