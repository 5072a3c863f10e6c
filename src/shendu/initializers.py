"""Weight initializers (Keras names and defaults), drawing from the library's seeded generator.

Each is called as ``init(shape, dtype)`` and returns a NumPy array.
"""

from __future__ import annotations

import math

import numpy as np

from . import backend
from .naming import resolve, serialize


def _fans(shape):
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

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if scale <= 0:
            raise ValueError(f"Expected a positive `scale`. Received: scale={scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(
                f"Expected `mode` fan_in, fan_out or fan_avg. Received: mode={mode!r}"
            )
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform", "normal"):
            raise ValueError(f"Unknown `distribution`. Received: distribution={distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = _fans(tuple(shape))
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
        }


def _scaling(name, scale, mode, distribution, doc):
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

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
    )
}
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
        "uniform": RandomUniform,
        "normal": RandomNormal,
    }
)


def get(identifier):
    """An initializer from a name ('glorot_uniform'), a config dict, an instance or a callable."""
    return resolve(identifier, _TABLE, "initializer")


__all__ = list(_TABLE) + ["get", "serialize"]
