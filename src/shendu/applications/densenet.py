"""DenseNet121/169/201 (Huang et al. 2016): dense blocks, each layer's 32 new channels
concatenated to all before, with transitions halving channels and size."""

from __future__ import annotations

from .. import layers
from . import base, imagenet_utils

_FILES = {
    (6, 12, 24, 16): (
        "densenet121",
        "9d60b8095a5708f2dcce2bca79d332c7",
        "30ee3e1110167f948a6b9946edeeb738",
    ),
    (6, 12, 32, 32): (
        "densenet169",
        "d699b8f76981ab1b30698df4c175e90b",
        "b8c4d4c20dd625c148057b9ff1c1176b",
    ),
    (6, 12, 48, 32): (
        "densenet201",
        "1ceb130c1ea1b78c3bf6114dbdfd8807",
        "c13680b51ded0fb44dff2d8f86ac8bb1",
    ),
}
_EPS = 1.001e-5


def _bn(name):
    return layers.BatchNormalization(axis=base.channel_axis(), epsilon=_EPS, name=name)


def conv_block(x, growth_rate, name):
    """BN-ReLU-1x1 (4k) -> BN-ReLU-3x3 (k), concatenated to the input."""
    y = layers.Activation("relu", name=f"{name}_0_relu")(_bn(f"{name}_0_bn")(x))
    y = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(y)
    y = layers.Activation("relu", name=f"{name}_1_relu")(_bn(f"{name}_1_bn")(y))
    y = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(y)
    return layers.Concatenate(axis=base.channel_axis(), name=f"{name}_concat")([x, y])


def dense_block(x, blocks, name):
    for i in range(blocks):
        x = conv_block(x, 32, name=f"{name}_block{i + 1}")
    return x


def transition_block(x, reduction, name):
    """BN-ReLU, a 1x1 convolution to ``reduction`` of the channels, 2x2 average pooling."""
    x = layers.Activation("relu", name=f"{name}_relu")(_bn(f"{name}_bn")(x))
    channels = x.shape[base.channel_axis()]
    x = layers.Conv2D(int(channels * reduction), 1, use_bias=False, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def DenseNet(  # noqa: N802
    blocks,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="densenet",
):
    """A DenseNet with ``blocks`` layers in each of its four dense blocks."""
    base.check_weights(weights, include_top, classes)
    x, inputs = base.image_input(input_tensor, input_shape, 224, 32, include_top, weights)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(x)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = layers.Activation("relu", name="conv1_relu")(_bn("conv1_bn")(x))
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for stage, count in enumerate(blocks, 2):
        x = dense_block(x, count, name=f"conv{stage}")
        if stage < 5:
            x = transition_block(x, 0.5, name=f"pool{stage}")
    x = layers.Activation("relu", name="relu")(_bn("bn")(x))
    x = base.classifier(x, include_top, pooling, classes, classifier_activation, weights)
    stem, *hashes = _FILES.get(tuple(blocks), (None, None, None))
    files = base.tf_kernels_files(stem)
    return base.finish_known(
        inputs, x, name, weights, include_top, files, hashes if stem else None, "densenet/"
    )


def _make(blocks, default_name, doc):
    return base.standard_application(
        lambda **arguments: DenseNet(list(blocks), **arguments), default_name, doc
    )


DenseNet121 = _make((6, 12, 24, 16), "densenet121", "DenseNet121: blocks of 6, 12, 24, 16.")
DenseNet169 = _make((6, 12, 32, 32), "densenet169", "DenseNet169: blocks of 6, 12, 32, 32.")
DenseNet201 = _make((6, 12, 48, 32), "densenet201", "DenseNet201: blocks of 6, 12, 48, 32.")


def preprocess_input(x, data_format=None):
    """Torch mode: x / 255, normalised by the ImageNet mean and standard deviation."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="torch")


decode_predictions = imagenet_utils.decode_predictions
