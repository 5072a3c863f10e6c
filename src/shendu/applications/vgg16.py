"""``keras.applications.vgg16``: VGG16 with its preprocessing (caffe mode)."""

from .vgg import VGG16, decode_predictions, preprocess_input

__all__ = ["VGG16", "decode_predictions", "preprocess_input"]
