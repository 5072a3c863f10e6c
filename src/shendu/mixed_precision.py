"""``keras.mixed_precision``: the policy functions under their Keras 2 names. shendu keeps
float32 for mixed policies (see ``shendu.config.set_dtype_policy``)."""

from __future__ import annotations

from .config import DTypePolicy, dtype_policy, set_dtype_policy
from .optimizers.loss_scale import LossScaleOptimizer

Policy = DTypePolicy
global_policy = dtype_policy
set_global_policy = set_dtype_policy

__all__ = [
    "DTypePolicy",
    "LossScaleOptimizer",
    "Policy",
    "dtype_policy",
    "global_policy",
    "set_dtype_policy",
    "set_global_policy",
]
