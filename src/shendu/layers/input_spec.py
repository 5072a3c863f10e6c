"""``InputSpec``: what a layer accepts (rank, dtype, sizes of given axes), checked on every
call when a layer sets ``self.input_spec`` (Keras's ``assert_input_compatibility``)."""

from __future__ import annotations

import numpy as np


class InputSpec:
    """Constraints on an input: ``ndim`` (exact rank), ``min_ndim``/``max_ndim``, ``shape``
    (None entries are free), ``axes`` ({axis: size}), ``dtype``."""

    def __init__(
        self,
        dtype=None,
        shape=None,
        ndim=None,
        max_ndim=None,
        min_ndim=None,
        axes=None,
        allow_last_axis_squeeze=False,
        name=None,
        optional=False,
    ):
        self.dtype = None if dtype is None else np.dtype(dtype).name
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim, self.min_ndim = max_ndim, min_ndim
        self.axes = dict(axes or {})
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.name, self.optional = name, optional
        if self.axes and self.ndim is not None:
            bad = [a for a in self.axes if a >= self.ndim or a < -self.ndim]
            if bad:
                raise ValueError(f"InputSpec: axes {bad} are out of range for ndim={self.ndim}")

    def __repr__(self):
        parts = [
            f"{k}={v}"
            for k, v in (
                ("dtype", self.dtype),
                ("shape", self.shape),
                ("ndim", self.ndim),
                ("max_ndim", self.max_ndim),
                ("min_ndim", self.min_ndim),
                ("axes", self.axes or None),
            )
            if v is not None
        ]
        return f"InputSpec({', '.join(parts)})"

    def get_config(self):
        return {
            "dtype": self.dtype,
            "shape": self.shape,
            "ndim": self.ndim,
            "max_ndim": self.max_ndim,
            "min_ndim": self.min_ndim,
            "axes": self.axes,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def assert_input_compatibility(input_spec, inputs, layer_name):
    """Raise a ValueError naming the layer when ``inputs`` break ``input_spec``."""
    specs = input_spec if isinstance(input_spec, (list, tuple)) else [input_spec]
    xs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    for i, (spec, x) in enumerate(zip(specs, xs)):
        if spec is None or not hasattr(x, "shape"):
            continue
        shape = tuple(x.shape)
        ndim = len(shape)
        where = f"Input {i} of layer {layer_name!r} is incompatible with the layer"
        if (
            spec.ndim is not None
            and ndim != spec.ndim
            and not (spec.allow_last_axis_squeeze and ndim == spec.ndim + 1 and shape[-1] == 1)
        ):
            raise ValueError(
                f"{where}: expected ndim={spec.ndim}, found ndim={ndim}. "
                f"Full shape received: {shape}"
            )
        if spec.max_ndim is not None and ndim > spec.max_ndim:
            raise ValueError(f"{where}: expected max_ndim={spec.max_ndim}, found ndim={ndim}")
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            raise ValueError(
                f"{where}: expected min_ndim={spec.min_ndim}, found ndim={ndim}. "
                f"Full shape received: {shape}"
            )
        if spec.dtype is not None and np.dtype(x.dtype).name != spec.dtype:
            raise ValueError(f"{where}: expected dtype={spec.dtype}, found dtype={x.dtype}")
        for axis, size in spec.axes.items():
            if size is not None and shape[axis] not in (size, None):
                raise ValueError(
                    f"{where}: expected axis {axis} of input shape to have value {size}, but "
                    f"received input with shape {shape}"
                )
        if spec.shape is not None:
            for want, got in zip(spec.shape, shape):
                if want is not None and got is not None and want != got:
                    raise ValueError(f"{where}: expected shape={spec.shape}, found shape={shape}")
