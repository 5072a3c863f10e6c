"""Random draws under ``keras.random`` names.

``seed`` is, as in Keras: None (the library's global generator, ``backend.generator()``,
seeded by ``set_random_seed``), an int (the same draw every call with that seed), or a
``SeedGenerator`` (a seeded stream: each draw advances it; its state saves and restores).
Results are Tensors; ``dtype`` defaults to floatx for floats and int32 for integers.
"""

from __future__ import annotations

import numpy as np

from . import backend
from .autograd.tensor import Tensor


class SeedGenerator:
    """A stream of seeds: ``next()`` gives the seed of the next draw and advances a counter.

    The state (seed, counter) is plain data: ``get_state``/``set_state`` save and restore
    it, so a stream replays exactly (exact resume)."""

    def __init__(self, seed=None, name=None, **kwargs):
        if seed is None:
            seed = int(backend.generator().integers(0, 2**31 - 1))
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise ValueError(f"SeedGenerator: `seed` must be an int. Received: seed={seed!r}")
        self._initial_seed = int(seed)
        self.name = name or "seed_generator"
        self.counter = 0

    @property
    def state(self):
        return np.array([self._initial_seed, self.counter], dtype=np.int64)

    def next(self, ordered=True):
        """The seed of the next draw (and advance)."""
        self.counter += 1
        return np.random.SeedSequence([self._initial_seed, self.counter]).generate_state(1)[0]

    def get_state(self):
        return {"seed": self._initial_seed, "counter": self.counter}

    def set_state(self, state):
        self._initial_seed, self.counter = int(state["seed"]), int(state["counter"])

    def get_config(self):
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<SeedGenerator seed={self._initial_seed} counter={self.counter}>"


def _generator_for(seed) -> np.random.Generator:
    """The NumPy Generator a draw with ``seed`` uses."""
    if seed is None:
        return backend.generator()
    if isinstance(seed, SeedGenerator):
        return np.random.default_rng(seed.next())
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    if isinstance(seed, (tuple, list, np.ndarray)):
        return np.random.default_rng([int(s) for s in np.asarray(seed).reshape(-1)])
    raise ValueError(
        "`seed` must be None, an int or a SeedGenerator. "
        f"Received: seed={seed!r} of type {type(seed).__name__}"
    )


def _float(dtype):
    name = backend.standardize_dtype(dtype)
    if np.dtype(name).kind != "f":
        raise ValueError(f"Expected a float dtype. Received: dtype={dtype!r}")
    return name


def _shape(shape):
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of N(mean, stddev**2)."""
    rng = _generator_for(seed)
    return Tensor.wrap(rng.normal(mean, stddev, _shape(shape)).astype(_float(dtype)))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples of U[minval, maxval)."""
    dtype = backend.standardize_dtype(dtype)
    if np.dtype(dtype).kind in "iu":
        return randint(shape, minval, maxval, dtype, seed)
    rng = _generator_for(seed)
    return Tensor.wrap(rng.uniform(minval, maxval, _shape(shape)).astype(dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """N(mean, stddev**2) samples, redrawn until within two standard deviations."""
    rng = _generator_for(seed)
    shape = _shape(shape)
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2.0
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2.0
    return Tensor.wrap((mean + stddev * out).astype(_float(dtype)))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers uniform in [minval, maxval)."""
    rng = _generator_for(seed)
    return Tensor.wrap(
        rng.integers(minval, maxval, _shape(shape)).astype(backend.standardize_dtype(dtype))
    )


def categorical(logits, num_samples, dtype="int32", seed=None):
    """For each row of ``logits`` (batch, classes), ``num_samples`` class indices drawn from
    softmax(logits)."""
    rng = _generator_for(seed)
    z = np.asarray(logits.data if isinstance(logits, Tensor) else logits, np.float64)
    if z.ndim != 2:
        raise ValueError(f"`logits` should be a 2-D tensor. Received: shape={z.shape}")
    z = z - z.max(axis=-1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=-1, keepdims=True)
    cum = np.cumsum(p, axis=-1)
    u = rng.random((z.shape[0], int(num_samples)))
    out = (u[:, :, None] > cum[:, None, :]).sum(-1)
    return Tensor.wrap(np.minimum(out, z.shape[1] - 1).astype(backend.standardize_dtype(dtype)))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zero a fraction ``rate`` of ``inputs`` and scale the rest by 1 / (1 - rate)
    (differentiable in ``inputs``)."""
    from .ops.nn import dropout as _dropout

    return _dropout(inputs, rate, noise_shape, seed=_generator_for(seed))


def shuffle(x, axis=0, seed=None):
    """``x`` with its slices along ``axis`` in a random order (differentiable)."""
    from .ops._util import as_tensor
    from .ops.shape import take

    x = as_tensor(x)
    order = _generator_for(seed).permutation(x.shape[axis])
    return take(x, order, axis=axis)


def gamma(shape, alpha, dtype=None, seed=None):
    """Gamma(alpha, 1) samples."""
    rng = _generator_for(seed)
    return Tensor.wrap(rng.gamma(alpha, 1.0, _shape(shape)).astype(_float(dtype)))


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Beta(alpha, beta) samples."""
    rng = _generator_for(seed)
    return Tensor.wrap(rng.beta(alpha, beta, _shape(shape)).astype(_float(dtype)))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Binomial(counts, probabilities) samples (as floats by default, as in Keras)."""
    rng = _generator_for(seed)
    return Tensor.wrap(
        rng.binomial(counts, probabilities, _shape(shape)).astype(backend.standardize_dtype(dtype))
    )


__all__ = [
    "SeedGenerator",
    "beta",
    "binomial",
    "categorical",
    "dropout",
    "gamma",
    "normal",
    "randint",
    "shuffle",
    "truncated_normal",
    "uniform",
]
