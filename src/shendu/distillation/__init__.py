"""``keras.distillation``: train a small student model from a large teacher."""

from .distiller import Distiller
from .losses import DistillationLoss, FeatureDistillation, LogitsDistillation

__all__ = ["DistillationLoss", "Distiller", "FeatureDistillation", "LogitsDistillation"]
