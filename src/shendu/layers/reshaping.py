"""Reshaping layers: Permute, RepeatVector, Cropping, UpSampling, ZeroPadding."""

from __future__ import annotations

from .. import backend, ops
from .base import Layer


def _pairs(value, rank, name):
    if isinstance(value, int):
        return ((value, value),) * rank
    value = tuple(value)
    if rank == 1 and len(value) == 2 and all(isinstance(v, int) for v in value):
        return (value,)
    out = tuple((v, v) if isinstance(v, int) else tuple(v) for v in value)
    if len(out) != rank or any(len(p) != 2 or min(p) < 0 for p in out):
        raise ValueError(f"Invalid `{name}` for a {rank}-D layer. Received: {name}={value}")
    return out


class Permute(Layer):
    """Permute the non-batch axes: ``dims`` is 1-based, as in Keras."""

    replay_safe = True

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                f"Invalid permutation argument `dims` for Permute layer. Received: dims={dims}"
            )

    def call(self, inputs):
        return ops.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}


class RepeatVector(Layer):
    """(batch, features) -> (batch, n, features)."""

    replay_safe = True

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = int(n)

    def expected_ndim(self):
        return 2

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n) + tuple(input_shape[1:])

    def call(self, inputs):
        return ops.broadcast_to(
            ops.expand_dims(inputs, 1), (inputs.shape[0], self.n, inputs.shape[1])
        )

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class _Spatial(Layer):
    replay_safe = True  # see Layer.replay_safe
    rank = 2

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend.standardize_data_format(data_format)

    def expected_ndim(self):
        return self.rank + 2

    def _axes(self):
        return (
            tuple(range(1, self.rank + 1))
            if self.data_format == "channels_last"
            else tuple(range(2, self.rank + 2))
        )

    def get_config(self):
        config = super().get_config()
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class _Cropping(_Spatial):
    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.cropping = _pairs(cropping, self.rank, "cropping")

    def call(self, inputs):
        index = [slice(None)] * inputs.ndim
        for axis, (lo, hi) in zip(self._axes(), self.cropping):
            n = inputs.shape[axis]
            if lo + hi >= n:
                raise ValueError(
                    f"Layer {self.name!r}: cropping {(lo, hi)} removes all of axis {axis} "
                    f"(size {n})"
                )
            index[axis] = slice(lo, n - hi)
        return inputs[tuple(index)]

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (lo, hi) in zip(self._axes(), self.cropping):
            if shape[axis] is not None:
                shape[axis] -= lo + hi
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "cropping": [list(p) for p in self.cropping]}


class Cropping1D(_Cropping):
    rank = 1

    def __init__(self, cropping=(1, 1), data_format=None, **kwargs):  # Keras's default
        super().__init__(cropping, data_format, **kwargs)


class Cropping2D(_Cropping):
    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class _ZeroPadding(_Spatial):
    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.padding = _pairs(padding, self.rank, "padding")

    def call(self, inputs):
        pads = [(0, 0)] * inputs.ndim
        for axis, p in zip(self._axes(), self.padding):
            pads[axis] = p
        return ops.pad(inputs, pads)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (lo, hi) in zip(self._axes(), self.padding):
            if shape[axis] is not None:
                shape[axis] += lo + hi
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding]}


class ZeroPadding1D(_ZeroPadding):
    rank = 1


class ZeroPadding2D(_ZeroPadding):
    rank = 2


class ZeroPadding3D(_ZeroPadding):
    rank = 3


#: UpSampling2D's interpolations (Keras 3.15's: "nearest" repeats, the others resize)
_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5")


class _UpSampling(_Spatial):
    def __init__(self, size=2, data_format=None, interpolation="nearest", **kwargs):
        super().__init__(data_format, **kwargs)
        self.size = (size,) * self.rank if isinstance(size, int) else tuple(size)
        allowed = _INTERPOLATIONS if self.rank == 2 else ("nearest",)
        if interpolation not in allowed:
            raise ValueError(
                f"{type(self).__name__}: `interpolation` must be one of {allowed}. "
                f"Received: interpolation={interpolation!r}"
            )
        self.interpolation = interpolation

    def call(self, inputs):
        x = inputs
        if self.interpolation != "nearest":  # UpSampling2D: Keras resizes the image
            h, w = (x.shape[a] * s for a, s in zip(self._axes(), self.size))
            return ops.image.resize(
                x, (h, w), interpolation=self.interpolation, data_format=self.data_format
            )
        for axis, s in zip(self._axes(), self.size):
            x = ops.repeat(x, s, axis=axis)
        return x

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, s in zip(self._axes(), self.size):
            if shape[axis] is not None:
                shape[axis] *= s
        return tuple(shape)

    def get_config(self):
        config = {**super().get_config(), "size": list(self.size)}
        if self.rank > 1:
            config["interpolation"] = self.interpolation
        return config


class UpSampling1D(_UpSampling):
    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(size=size, **kwargs)


class UpSampling2D(_UpSampling):
    rank = 2


class UpSampling3D(_UpSampling):
    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size=size, data_format=data_format, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("interpolation", None)  # Keras's UpSampling3D has no interpolation
        return config
