"""``keras.applications.vgg19``: VGG19 with its preprocessing (caffe mode)."""

from .vgg import VGG19, decode_predictions, preprocess_input

__all__ = ["VGG19", "decode_predictions", "preprocess_input"]
