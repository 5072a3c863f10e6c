"""Pipeline (preprocessing layers applied in turn, dict inputs included) and
MaxNumBoundingBoxes (bounding boxes padded or cut to a fixed count per image)."""

from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from .base import Layer
from .image_augmentation import as_array


class Pipeline(Layer):
    """Apply ``layers`` one after another, like a Sequential model but for preprocessing:
    a Pipeline holds no model state of its own, passes dicts such as ``{"images": ...,
    "labels": ...}`` through, and hands ``training`` (default True, as Keras) to the layers
    whose call takes it."""

    def __init__(self, layers, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        layers = list(layers)
        for layer in layers:
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"Pipeline takes layers. Received an object of type {type(layer).__name__}"
                )
        self._pipeline_layers = layers

    @property
    def layers(self):
        return self._pipeline_layers

    def call(self, inputs, training=True):
        outputs = inputs
        for layer in self._pipeline_layers:
            kwargs = {"training": training} if layer.call_has_training else {}
            outputs = layer(outputs, **kwargs)
        return outputs

    def compute_output_shape(self, input_shape):
        for layer in self._pipeline_layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def get_config(self):
        from . import serialize

        return {
            **super().get_config(),
            "layers": [serialize(layer) for layer in self._pipeline_layers],
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from . import deserialize

        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError(
                "`Pipeline` config must contain a `layers` key mapping to a list of "
                f"serialized layers. Received config with layers={layers}."
            )
        config = dict(config)
        config["layers"] = [deserialize(c, custom_objects=custom_objects) for c in layers]
        return cls(**config)


class MaxNumBoundingBoxes(Layer):
    """Pad (with ``fill_value``) or cut each image's bounding boxes to ``max_number``:
    ``{"images", "bounding_boxes": {"boxes": (N, k, 4), "labels": (N, k)}}`` in, the same
    dict out with ``k = max_number``; images and other keys pass through."""

    def __init__(self, max_number, fill_value=-1, **kwargs):
        super().__init__(**kwargs)
        self.max_number, self.fill_value = int(max_number), int(fill_value)

    def _fit(self, values, width):
        values = as_array(values)
        kept = values[:, : self.max_number]
        pad = [(0, 0), (0, self.max_number - kept.shape[1])] + [(0, 0)] * (values.ndim - 2)
        out = np.pad(kept, pad, constant_values=self.fill_value)
        return Tensor.wrap(out.reshape((len(values), self.max_number) + width))

    def call(self, inputs, training=True):
        if not isinstance(inputs, dict) or "bounding_boxes" not in inputs:
            return inputs
        boxes = inputs["bounding_boxes"]
        extra = set(boxes) - {"boxes", "labels"}
        if extra:
            raise KeyError(
                f"There are unsupported keys in `bounding_boxes`: {sorted(extra)}. "
                "Only `boxes` and `labels` are supported."
            )
        out = dict(inputs)
        out["bounding_boxes"] = {
            "boxes": self._fit(boxes["boxes"], (4,)),
            "labels": self._fit(boxes["labels"], ()),
        }
        return out

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, dict) and "bounding_boxes" in input_shape:
            shapes = dict(input_shape)
            boxes = input_shape["bounding_boxes"]
            shapes["bounding_boxes"] = {
                "boxes": (boxes["boxes"][0], self.max_number, 4),
                "labels": (boxes["labels"][0], self.max_number),
            }
            return shapes
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "max_number": self.max_number,
            "fill_value": self.fill_value,
        }
