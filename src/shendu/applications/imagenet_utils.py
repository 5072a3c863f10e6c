"""ImageNet helpers shared by the applications: ``preprocess_input`` (Keras's three modes),
``decode_predictions`` (with the ImageNet class index shipped in the package, so nothing is
downloaded), ``obtain_input_shape`` and the other checks every architecture makes."""

from __future__ import annotations

import os
import warnings

import numpy as np

from .. import activations, backend
from ..autograd.tensor import Tensor

_CLASS_INDEX: list | None = None
_CLASS_INDEX_FILE = os.path.join(os.path.dirname(__file__), "imagenet_classes.txt")

CAFFE_MEAN = (103.939, 116.779, 123.68)  # BGR
TORCH_MEAN, TORCH_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _check_data_format(data_format):
    if data_format is None:
        return backend.image_data_format()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "Expected data_format to be one of `channels_first` or `channels_last`. "
            f"Received: data_format={data_format}"
        )
    return data_format


def preprocess_input(x, data_format=None, mode="caffe"):
    """Images with values in [0, 255] -> a network's input, by ``mode``:

    - "caffe": RGB -> BGR, minus the ImageNet mean per channel (103.939, 116.779, 123.68);
    - "tf": x / 127.5 - 1 (values in [-1, 1]);
    - "torch": x / 255, minus (0.485, 0.456, 0.406), over (0.229, 0.224, 0.225).

    A floating NumPy array is changed in place where its dtype allows (as Keras); other
    inputs give a new float array (a Tensor for a Tensor)."""
    if mode not in ("caffe", "tf", "torch"):
        raise ValueError(
            f"Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode={mode}"
        )
    data_format = _check_data_format(data_format)
    as_tensor = isinstance(x, Tensor)
    if as_tensor:
        x = x.data.astype(np.promote_types(x.dtype, np.float32))
    elif not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        x = np.asarray(x).astype(backend.floatx())
    channel = -1 if data_format == "channels_last" else (0 if x.ndim == 3 else 1)
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return Tensor.wrap(x) if as_tensor else x
    shape = [1] * x.ndim
    shape[channel] = 3
    if mode == "torch":
        x /= 255.0
        x -= np.reshape(TORCH_MEAN, shape).astype(x.dtype)
        x /= np.reshape(TORCH_STD, shape).astype(x.dtype)
    else:
        x = np.flip(x, axis=channel)
        x = x - np.reshape(CAFFE_MEAN, shape).astype(x.dtype)
    return Tensor.wrap(x) if as_tensor else x


def class_index():
    """[(WordNet id, class name)] for the 1000 ImageNet classes, in Keras's order."""
    global _CLASS_INDEX
    if _CLASS_INDEX is None:
        with open(_CLASS_INDEX_FILE, encoding="utf-8") as f:
            _CLASS_INDEX = [tuple(line.split()) for line in f if line.strip()]
    return _CLASS_INDEX


def decode_predictions(preds, top=5):
    """Per sample, the ``top`` classes as (WordNet id, name, score), best first."""
    preds = np.asarray(preds.data if isinstance(preds, Tensor) else preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError(
            "`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape "
            f"(samples, 1000)). Received array with shape: {preds.shape}"
        )
    index = class_index()
    results = []
    for pred in preds:
        best = pred.argsort()[-top:][::-1]
        result = [(*index[i], pred[i]) for i in best]
        result.sort(key=lambda r: r[2], reverse=True)
        results.append(result)
    return results


def obtain_input_shape(
    input_shape, default_size, min_size, data_format, require_flatten, weights=None
):
    """The model's input shape from the user's (or the default), checked as Keras checks
    it: three dimensions, at least ``min_size`` pixels, static when the top is flattened,
    the default size with ImageNet weights and a top."""
    channels_first = data_format == "channels_first"
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if channels_first else input_shape[-1]
        if channels not in (1, 3):
            warnings.warn(
                "This model usually expects 1 or 3 input channels. However, it was passed an "
                f"input_shape with {channels} input channels.",
                stacklevel=3,
            )
        default_shape = (
            (channels, default_size, default_size)
            if channels_first
            else (default_size, default_size, channels)
        )
    else:
        default_shape = (
            (3, default_size, default_size) if channels_first else (default_size, default_size, 3)
        )
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and tuple(input_shape) != default_shape:
            raise ValueError(
                "When setting `include_top=True` and loading `imagenet` weights, "
                f"`input_shape` should be {default_shape}. Received: input_shape={input_shape}"
            )
        return default_shape
    if input_shape:
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError("`input_shape` must be a tuple of three integers.")
        channels = input_shape[0] if channels_first else input_shape[-1]
        spatial = input_shape[1:] if channels_first else input_shape[:2]
        if channels != 3 and weights == "imagenet":
            raise ValueError(
                f"The input must have 3 channels; Received `input_shape={input_shape}`"
            )
        if any(s is not None and s < min_size for s in spatial):
            raise ValueError(
                f"Input size must be at least {min_size}x{min_size}; "
                f"Received: input_shape={input_shape}"
            )
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (3, None, None) if channels_first else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError(
            "If `include_top` is True, you should specify a static `input_shape`. "
            f"Received: input_shape={input_shape}"
        )
    return input_shape


def correct_pad(inputs, kernel_size):
    """The ZeroPadding2D amounts that make a stride-2 'valid' convolution centred as TF's
    'same' one (one pixel less before on an even side)."""
    axis = 2 if backend.image_data_format() == "channels_first" else 1
    size = tuple(inputs.shape[axis : axis + 2])
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


def validate_activation(classifier_activation, weights):
    """With pretrained weights the classifier's activation must be softmax or None."""
    if weights is None:
        return
    fn = activations.get(classifier_activation)
    if fn not in (activations.get("softmax"), activations.get(None)):
        raise ValueError(
            "Only `None` and `softmax` activations are allowed for the "
            "`classifier_activation` argument when using pretrained weights, with "
            f"`include_top=True`; Received: classifier_activation={classifier_activation}"
        )


__all__ = ["decode_predictions", "preprocess_input"]
