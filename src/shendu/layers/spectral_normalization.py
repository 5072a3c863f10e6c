"""Spectral normalization: a wrapped layer's kernel divided by its largest singular value."""

from __future__ import annotations

import numpy as np

from .. import backend, initializers
from .wrapper import Wrapper


class SpectralNormalization(Wrapper):
    """Keeps the wrapped layer's kernel (or embeddings) at spectral norm about 1.

    At each training call, ``power_iterations`` steps of the power method on the kernel W
    reshaped to (-1, out) refine a vector u (1, out), a non-trainable weight kept between
    calls: v = normalize(u W^T), u = normalize(v W), with normalize(a) = a / max(||a||,
    eps); then sigma = v W u^T estimates W's largest singular value and the kernel becomes
    W / sigma (written into the variable, as Keras does: gradients then flow to it as the
    wrapped layer uses it; an all-zero kernel is left alone). At inference the kernel is
    used as it stands.
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if power_iterations <= 0:
            raise ValueError(
                "`power_iterations` should be greater than zero. Received: "
                f"`power_iterations={power_iterations}`"
            )
        self.power_iterations = power_iterations

    def build(self, input_shape=None):
        super().build(input_shape)
        if hasattr(self.layer, "kernel"):
            self.kernel = self.layer.kernel
        elif hasattr(self.layer, "embeddings"):
            self.kernel = self.layer.embeddings
        else:
            raise ValueError(
                f"{type(self.layer).__name__} object has no attribute 'kernel' nor 'embeddings'"
            )
        self.kernel_shape = tuple(self.kernel.shape)
        # the kernel is the wrapper's own too (Keras tracks it so): weights list it first
        self._variables.append(self.kernel)
        self.vector_u = self.add_weight(
            (1, self.kernel_shape[-1]),
            initializers.TruncatedNormal(stddev=0.02),
            trainable=False,
            name="vector_u",
        )
        self.built = True

    def _normalized(self):
        """(u, W / sigma) from the kernel's current values (no gradient: the power method
        runs on the arrays)."""
        xp = backend.array_module(self.kernel.data)
        eps = backend.epsilon()
        weights = self.kernel.data.reshape(-1, self.kernel_shape[-1])
        u = self.vector_u.data
        for _ in range(self.power_iterations):
            v = u @ weights.T
            v = v / max(float(xp.linalg.norm(v)), eps)
            u = v @ weights
            u = u / max(float(xp.linalg.norm(u)), eps)
        sigma = (v @ weights) @ u.T
        return u, self.kernel.data / sigma

    def call(self, inputs, training=False):
        if training and np.any(self.kernel.data != 0):
            u, kernel = self._normalized()
            self.vector_u.data[...] = u
            self.kernel.data[...] = kernel
        return self.layer(inputs)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}
