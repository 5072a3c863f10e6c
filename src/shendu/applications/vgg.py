"""VGG16 and VGG19 (Simonyan and Zisserman 2014): stacks of 3x3 convolutions and 2x2 max
pooling, then two 4096-unit layers; Keras's layer names and ImageNet files."""

from __future__ import annotations

from .. import layers
from . import base, imagenet_utils

_HASHES = {
    16: ("64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc"),
    19: ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6"),
}


def _vgg(
    depth,
    include_top,
    weights,
    input_tensor,
    input_shape,
    pooling,
    classes,
    classifier_activation,
    name,
):
    base.check_weights(weights, include_top, classes)
    x, inputs = base.image_input(input_tensor, input_shape, 224, 32, include_top, weights)
    convs_per_block = [2, 2, 3, 3, 3] if depth == 16 else [2, 2, 4, 4, 4]
    for block, (filters, convs) in enumerate(zip([64, 128, 256, 512, 512], convs_per_block), 1):
        for i in range(1, convs + 1):
            x = layers.Conv2D(
                filters, (3, 3), activation="relu", padding="same", name=f"block{block}_conv{i}"
            )(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = base.classifier(x, False, pooling, classes, None, weights, pool_names=(None, None))
    files = base.tf_kernels_files(f"vgg{depth}")
    return base.finish_known(
        inputs, x, name, weights, include_top, files, _HASHES[depth], f"vgg{depth}/"
    )


def VGG16(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="vgg16",
):
    """VGG16: 13 convolutions and 3 dense layers (138,357,544 parameters with the top)."""
    return _vgg(
        16,
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
    )


def VGG19(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="vgg19",
):
    """VGG19: 16 convolutions and 3 dense layers (143,667,240 parameters with the top)."""
    return _vgg(
        19,
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
    )


def preprocess_input(x, data_format=None):
    """Caffe mode: RGB -> BGR, minus the ImageNet channel means."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


decode_predictions = imagenet_utils.decode_predictions
