"""The base of layers that wrap another layer (``TimeDistributed``; user wrappers)."""

from __future__ import annotations

from .base import Layer


class Wrapper(Layer):
    """A layer holding another, ``self.layer``, whose weights it tracks; its config holds the
    wrapped layer's. Subclasses define ``call`` (and ``build`` when the wrapped layer sees
    another input shape than the wrapper)."""

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Layer {layer!r} supplied to Wrapper isn't a supported layer type. "
                "Please ensure wrapped layer is a valid Keras layer."
            )
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer._build_from_shapes(input_shape)
        self.built = True

    def get_config(self):
        from . import serialize

        return {**super().get_config(), "layer": serialize(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from . import deserialize

        config = dict(config)
        config["layer"] = deserialize(config["layer"], custom_objects=custom_objects)
        return cls(**config)
