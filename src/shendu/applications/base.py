"""What every application shares: the ``weights`` argument, the input, the classifier top
or pooling, and the weights file (a path, or Keras's ImageNet file from Keras's cache
folder ``~/.keras/models`` when the user has it: shendu never downloads)."""

from __future__ import annotations

import os

from .. import backend, layers
from ..keras_tensor import KerasTensor
from ..models import Model
from ..utils import get_source_inputs
from ..utils.file_utils import get_file
from . import imagenet_utils

KERAS_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"


def check_weights(weights, include_top, classes):
    """``weights`` must be None, "imagenet" or an existing file; ImageNet's top has 1000."""
    if not (weights in ("imagenet", None) or os.path.exists(os.fspath(weights))):
        raise ValueError(
            "The `weights` argument should be either `None` (random initialization), "
            "'imagenet' (pre-training on ImageNet), or the path to the weights file to be "
            f"loaded. Received: weights={weights}"
        )
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            "If using `weights='imagenet'` with `include_top=True`, `classes` should be "
            f"1000. Received: classes={classes}"
        )


def channel_axis():
    return 1 if backend.image_data_format() == "channels_first" else -1


def image_input(input_tensor, input_shape, default_size, min_size, include_top, weights):
    """(the tensor the body starts from, the model's inputs)."""
    shape = imagenet_utils.obtain_input_shape(
        input_shape,
        default_size=default_size,
        min_size=min_size,
        data_format=backend.image_data_format(),
        require_flatten=include_top,
        weights=weights,
    )
    if input_tensor is None:
        tensor = layers.Input(shape=shape)
        return tensor, tensor
    if not isinstance(input_tensor, KerasTensor):
        raise ValueError(
            "`input_tensor` must be a symbolic tensor (from keras.Input or a layer's output). "
            f"Received: {type(input_tensor).__name__}"
        )
    return input_tensor, get_source_inputs(input_tensor)


def classifier(
    x,
    include_top,
    pooling,
    classes,
    classifier_activation,
    weights,
    pool_names=("avg_pool", "max_pool"),
    dropout=None,
):
    """The usual ending: with the top, global average pooling (``pool_names[0]``, None for
    Keras's default name), optional dropout and the ``predictions`` Dense; without it,
    ``pooling`` "avg" / "max" or the feature map as is."""
    avg_name, max_name = pool_names
    if include_top:
        x = layers.GlobalAveragePooling2D(name=avg_name)(x)
        if dropout:
            x = layers.Dropout(dropout, name="top_dropout")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=avg_name)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=max_name)(x)
    return x


def make_divisible(v, divisor=8, min_value=None):
    """``v`` rounded to a multiple of ``divisor`` (at least ``min_value``, default the
    divisor), never below 90% of ``v``: the channel rounding of MobileNet V2/V3 and
    EfficientNet."""
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return int(new_v + divisor if new_v < 0.9 * v else new_v)


def tf_kernels_files(stem):
    """Keras's file names, with and without the top:
    ``<stem>_weights_tf_dim_ordering_tf_kernels[_notop].h5``."""
    return (
        f"{stem}_weights_tf_dim_ordering_tf_kernels.h5",
        f"{stem}_weights_tf_dim_ordering_tf_kernels_notop.h5",
    )


def finish_known(inputs, outputs, name, weights, include_top, files, hashes, subdir):
    """``finish`` with the ImageNet file and hash picked by ``include_top`` from the pairs
    ``files`` and ``hashes`` (top, no top); ``hashes`` None: no ImageNet weights exist."""
    if hashes is None:
        return finish(inputs, outputs, name, weights)
    pick = 0 if include_top else 1
    return finish(inputs, outputs, name, weights, files[pick], hashes[pick], subdir)


def finish(inputs, outputs, name, weights, imagenet_file=None, file_hash=None, subdir=""):
    """The model, with its weights: a file given by path, or with "imagenet" Keras's
    ``imagenet_file`` found in Keras's cache folder (checked against ``file_hash``)."""
    model = Model(inputs, outputs, name=name)
    if weights == "imagenet":
        if imagenet_file is None:
            raise ValueError(f"{name}: no ImageNet weights exist for these arguments")
        folder = subdir if subdir.startswith("https://") else KERAS_WEIGHTS_URL + subdir
        path = get_file(
            imagenet_file,
            origin=folder + imagenet_file,
            cache_subdir="models",
            file_hash=file_hash,
        )
        model.load_weights(path)
    elif weights is not None:
        model.load_weights(weights)
    return model


def standard_application(build, default_name, doc):
    """A public constructor with Keras's standard signature (include_top, weights,
    input_tensor, input_shape, pooling, classes, classifier_activation, name) that calls
    ``build(**arguments)``; named after the first word of ``doc``."""

    def application(
        include_top=True,
        weights="imagenet",
        input_tensor=None,
        input_shape=None,
        pooling=None,
        classes=1000,
        classifier_activation="softmax",
        name=default_name,
    ):
        return build(
            include_top=include_top,
            weights=weights,
            input_tensor=input_tensor,
            input_shape=input_shape,
            pooling=pooling,
            classes=classes,
            classifier_activation=classifier_activation,
            name=name,
        )

    application.__name__ = application.__qualname__ = doc.split(":")[0]
    application.__doc__ = doc
    return application
