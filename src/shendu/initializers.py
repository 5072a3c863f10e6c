"""Weight initializers (Keras names and defaults), drawing from the library's seeded generator.

Each is called as ``init(shape, dtype)`` and returns a NumPy array.
"""

from __future__ import annotations

import math

import numpy as np

from . import backend
from .naming import resolve
from .naming import serialize as _serialize


def _fans(shape, input_axes=None, output_axes=None):
    """(fan_in, fan_out): the products over ``input_axes`` and ``output_axes`` when both are
    given (Keras 3.15's option, for kernels such as EinsumDense's), else by the shape's
    layout (a convolution kernel: (*window, in, out))."""
    if input_axes is not None and output_axes is not None:
        return int(np.prod([shape[a] for a in input_axes])), int(
            np.prod([shape[a] for a in output_axes])
        )
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: ``__call__(shape, dtype=None)`` returns an array; configs round-trip."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _rng(self):
        seed = getattr(self, "seed", None)
        if seed is None:
            return backend.generator()
        # a fixed seed gives the same values on every call, as in Keras
        return np.random.default_rng(seed)


def _dtype(dtype):
    return np.dtype(dtype or backend.floatx())


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None):
        return np.zeros(shape, _dtype(dtype))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None):
        return np.ones(shape, _dtype(dtype))


class Constant(Initializer):
    """Every value equal to ``value``."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return np.full(shape, self.value, _dtype(dtype))

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    """Normal(mean, stddev)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        return self._rng().normal(self.mean, self.stddev, shape).astype(_dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    """Uniform(minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None):
        return self._rng().uniform(self.minval, self.maxval, shape).astype(_dtype(dtype))

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated_normal(rng, shape, stddev):
    """Normal(0, stddev) redrawn outside two standard deviations."""
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return out * stddev


class TruncatedNormal(Initializer):
    """Normal(mean, stddev) truncated at two standard deviations."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        return (self.mean + _truncated_normal(self._rng(), shape, self.stddev)).astype(
            _dtype(dtype)
        )

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(Initializer):
    """Scale / n variance, n = fan_in, fan_out or their mean; normal or uniform.

    truncated_normal: stddev = sqrt(scale / n) / 0.87962566 (Keras's correction);
    untruncated_normal: stddev = sqrt(scale / n); uniform: limit = sqrt(3 scale / n).
    """

    def __init__(
        self,
        scale=1.0,
        mode="fan_in",
        distribution="truncated_normal",
        seed=None,
        input_axes=None,
        output_axes=None,
    ):
        if scale <= 0:
            raise ValueError(f"Expected a positive `scale`. Received: scale={scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(
                f"Expected `mode` fan_in, fan_out or fan_avg. Received: mode={mode!r}"
            )
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform", "normal"):
            raise ValueError(f"Unknown `distribution`. Received: distribution={distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed
        self.input_axes = None if input_axes is None else list(input_axes)
        self.output_axes = None if output_axes is None else list(output_axes)

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = _fans(tuple(shape), self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        scale = self.scale / max(1.0, n)
        rng = self._rng()
        if self.distribution in ("truncated_normal", "normal"):
            out = _truncated_normal(rng, shape, math.sqrt(scale) / 0.87962566103423978)
        elif self.distribution == "untruncated_normal":
            out = rng.normal(0.0, math.sqrt(scale), shape)
        else:
            limit = math.sqrt(3.0 * scale)
            out = rng.uniform(-limit, limit, shape)
        return out.astype(_dtype(dtype))

    def get_config(self):
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
            **_axes_config(self),
        }


def _axes_config(initializer):
    """``input_axes``/``output_axes`` when set (configs stay as before otherwise)."""
    if initializer.input_axes is None and initializer.output_axes is None:
        return {}
    return {"input_axes": initializer.input_axes, "output_axes": initializer.output_axes}


def _scaling(name, scale, mode, distribution, doc):
    def __init__(self, seed=None, input_axes=None, output_axes=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self):
        return {"seed": self.seed, **_axes_config(self)}

    return type(
        name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc}
    )


GlorotUniform = _scaling(
    "GlorotUniform",
    1.0,
    "fan_avg",
    "uniform",
    "Uniform(-l, l), l = sqrt(6 / (fan_in + fan_out)). The Dense default.",
)
GlorotNormal = _scaling(
    "GlorotNormal",
    1.0,
    "fan_avg",
    "truncated_normal",
    "Truncated normal, stddev = sqrt(2 / (fan_in + fan_out)).",
)
HeUniform = _scaling("HeUniform", 2.0, "fan_in", "uniform", "Uniform, l = sqrt(6 / fan_in).")
HeNormal = _scaling(
    "HeNormal", 2.0, "fan_in", "truncated_normal", "Truncated normal, stddev = sqrt(2 / fan_in)."
)
LecunUniform = _scaling("LecunUniform", 1.0, "fan_in", "uniform", "Uniform, l = sqrt(3 / fan_in).")
LecunNormal = _scaling(
    "LecunNormal",
    1.0,
    "fan_in",
    "truncated_normal",
    "Truncated normal, stddev = sqrt(1 / fan_in).",
)


class Orthogonal(Initializer):
    """A (scaled) random orthogonal matrix, from the QR decomposition of a normal matrix."""

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype=None):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of rank >= 2. Received: shape={shape}")
        rows = int(np.prod(shape[:-1]))
        cols = shape[-1]
        a = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q[:rows, :cols]).reshape(shape).astype(_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """gain times the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(f"Identity needs a 2-D shape. Received: shape={shape}")
        return (self.gain * np.eye(*shape)).astype(_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


class STFT(Initializer):
    """The real or imaginary part of a windowed DFT basis, for a Conv1D that computes an
    STFT: kernel[t, 0, k] = w[t] cos(-2 pi t k / n) (or sin) / s, n = 2 (bins - 1), w the
    window (SciPy's ``get_window``, ``periodic`` or symmetric), s = sqrt(sum w^2)
    ('density') or sum |w| ('spectrum')."""

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ("real", "imag"):
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str) and window not in ("hann", "hamming"):
            raise ValueError(f"STFT: window must be 'hann' or 'hamming'. Received: {window!r}")
        if scaling not in (None, "density", "spectrum"):
            raise ValueError(
                f"Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
                f"Received scaling={scaling}"
            )
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype=None):
        frame_length, _, bins = shape
        scale = 1.0
        win = None
        if self.window is not None:
            if isinstance(self.window, str):
                fn = np.hanning if self.window == "hann" else np.hamming
                win = fn(frame_length + 1)[:-1] if self.periodic else fn(frame_length)
            else:
                win = np.asarray(self.window, np.float64)
            if self.scaling == "density":
                scale = np.sqrt(np.sum(win**2))
            elif self.scaling == "spectrum":
                scale = np.sum(np.abs(win))
        n = (bins - 1) * 2
        args = (
            -2
            * np.pi
            * np.arange(frame_length)[:, None, None]
            * (np.arange(bins)[None, None, :] / n)
        )
        kernel = np.cos(args) if self.side == "real" else np.sin(args)
        if win is not None:
            kernel = kernel * win[:, None, None] / scale
        return np.broadcast_to(kernel, tuple(shape)).astype(_dtype(dtype))

    def get_config(self):
        return {
            "side": self.side,
            "window": self.window,
            "periodic": self.periodic,
            "scaling": self.scaling,
        }


IdentityInitializer, OrthogonalInitializer, STFTInitializer = Identity, Orthogonal, STFT

_TABLE = {
    cls.__name__: cls
    for cls in (
        Zeros,
        Ones,
        Constant,
        RandomNormal,
        RandomUniform,
        TruncatedNormal,
        VarianceScaling,
        GlorotUniform,
        GlorotNormal,
        HeUniform,
        HeNormal,
        LecunUniform,
        LecunNormal,
        Orthogonal,
        Identity,
        STFT,
    )
}
_TABLE.update(
    {
        "IdentityInitializer": Identity,
        "OrthogonalInitializer": Orthogonal,
        "STFTInitializer": STFT,
    }
)
_TABLE.update(
    {
        "zeros": Zeros,
        "ones": Ones,
        "constant": Constant,
        "random_normal": RandomNormal,
        "random_uniform": RandomUniform,
        "truncated_normal": TruncatedNormal,
        "variance_scaling": VarianceScaling,
        "glorot_uniform": GlorotUniform,
        "glorot_normal": GlorotNormal,
        "he_uniform": HeUniform,
        "he_normal": HeNormal,
        "lecun_uniform": LecunUniform,
        "lecun_normal": LecunNormal,
        "orthogonal": Orthogonal,
        "identity": Identity,
        "stft": STFT,
        "uniform": RandomUniform,
        "normal": RandomNormal,
    }
)
# Keras also exports each class under its lowercase name (keras.initializers.glorot_uniform)
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, glorot_uniform, glorot_normal = VarianceScaling, GlorotUniform, GlorotNormal
he_uniform, he_normal, lecun_uniform, lecun_normal = HeUniform, HeNormal, LecunUniform, LecunNormal
orthogonal, identity, stft = Orthogonal, Identity, STFT


def get(identifier):
    """An initializer from a name ('glorot_uniform'), a config dict, an instance or a callable."""
    return resolve(identifier, _TABLE, "initializer")


def serialize(initializer):
    """An initializer's config, as Keras writes it (``deserialize`` reads it back)."""
    return _serialize(initializer)


def deserialize(config, custom_objects=None):
    """An initializer from its config (``serialize``'s output)."""
    return resolve(config, _TABLE, "initializer", custom_objects)


__all__ = list(_TABLE) + ["deserialize", "get", "serialize"]
