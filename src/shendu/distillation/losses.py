"""Distillation losses: how a student's outputs are pulled toward a teacher's.

``LogitsDistillation``: both logits divided by a temperature T, then a loss between them;
for the KL divergence it is KL(softmax(t / T) || softmax(s / T)) * T**2 (Hinton et al.:
the T**2 keeps the gradients' scale as T changes). ``FeatureDistillation``: a loss
(mean squared error by default) between the outputs of a teacher layer and a student
layer. Nested outputs take a nested structure of losses (None skips one output).
"""

from __future__ import annotations

from typing import Any

from .. import losses as losses_mod
from .. import ops
from ..tree import assert_same_structure, flatten, map_structure


def _as_loss(item: Any) -> Any:
    """A loss object for a name, the object itself otherwise (None stays None)."""
    if item is None or not isinstance(item, str):
        return item
    return losses_mod.get(item)


def _losses_of(loss: Any, what: str) -> Any:
    converted = map_structure(_as_loss, loss)
    if all(item is None for item in flatten(converted)):
        raise ValueError(f"{what}: at least one loss must be non-`None`.")
    return converted


def _map_losses(fn: Any, structure: Any) -> Any:
    """``fn`` on each loss of a nested list, tuple or dict of losses, where a loss's own
    config (a dict with "class_name") is one loss, not a structure."""
    if isinstance(structure, (list, tuple)):
        return type(structure)(_map_losses(fn, item) for item in structure)
    if isinstance(structure, dict) and "class_name" not in structure:
        return {key: _map_losses(fn, item) for key, item in structure.items()}
    return None if structure is None else fn(structure)


def _sum(values: list) -> Any:
    return ops.sum(ops.stack([ops.convert_to_tensor(v, "float32") for v in values]))


class DistillationLoss:
    """Base class: ``compute_loss(teacher_outputs, student_outputs)`` returns one number;
    ``validate_outputs`` and ``validate_model_compatibility`` refuse what cannot work."""

    def compute_loss(self, teacher_outputs: Any, student_outputs: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("Subclasses must implement compute_loss")

    def validate_outputs(self, teacher_outputs: Any, student_outputs: Any) -> None:
        assert_same_structure(teacher_outputs, student_outputs)

    def validate_model_compatibility(self, teacher: Any, student: Any) -> None:
        return None


class FeatureDistillation(DistillationLoss):
    """``loss`` (mse by default) between the teacher layer's and the student layer's
    outputs (``teacher_layer_name``/``student_layer_name``; None: the model's output),
    averaged, summed over nested outputs."""

    def __init__(
        self, loss: Any = "mse", teacher_layer_name: str | None = None, student_layer_name=None
    ) -> None:
        self.teacher_layer_name = teacher_layer_name
        self.student_layer_name = student_layer_name
        self.loss = _losses_of(loss, "FeatureDistillation: the `loss` argument")

    def validate_model_compatibility(self, teacher: Any, student: Any) -> None:
        if self.teacher_layer_name is not None or self.student_layer_name is not None:
            subclassed = [
                role
                for role, model in (("teacher", teacher), ("student", student))
                if getattr(model, "inputs", None) is None
            ]
            if subclassed:
                raise ValueError(
                    "FeatureDistillation with specific layer names requires Functional or "
                    f"Sequential models. The {' and '.join(subclassed)} model(s) appear to be "
                    "subclassed (no symbolic inputs/outputs). Either use Functional/Sequential "
                    "models, or use FeatureDistillation without layer names (to distill final "
                    "outputs only), or use LogitsDistillation instead."
                )
        for role, model, name in (
            ("teacher", teacher, self.teacher_layer_name),
            ("student", student, self.student_layer_name),
        ):
            if name is not None:
                try:
                    model.get_layer(name=name)
                except ValueError as error:
                    raise ValueError(f"In {role} model: {error}") from None

    def validate_outputs(self, teacher_outputs: Any, student_outputs: Any) -> None:
        super().validate_outputs(teacher_outputs, student_outputs)
        try:
            assert_same_structure(self.loss, teacher_outputs)
        except (ValueError, TypeError) as error:
            raise ValueError(f"Loss structure mismatch: {error}") from None

    def compute_loss(self, teacher_outputs: Any, student_outputs: Any, **kwargs: Any) -> Any:
        def one(loss, teacher, student):
            return 0.0 if loss is None else ops.mean(loss(teacher, student))

        return _sum(flatten(map_structure(one, self.loss, teacher_outputs, student_outputs)))

    def get_config(self) -> dict:
        return {
            "loss": _map_losses(losses_mod.serialize, self.loss),
            "teacher_layer_name": self.teacher_layer_name,
            "student_layer_name": self.student_layer_name,
        }

    @classmethod
    def from_config(cls, config: dict) -> FeatureDistillation:
        config = dict(config)
        config["loss"] = _map_losses(losses_mod.deserialize, config["loss"])
        return cls(**config)


class LogitsDistillation(DistillationLoss):
    """``loss`` (KL divergence by default) between the teacher's and the student's logits,
    both divided by ``temperature``; the KL divergence compares their softmaxes and is
    multiplied by temperature**2.

    Keras 3.15 documents this, and does it for ``loss=keras.losses.KLDivergence()``; for
    the default name "kl_divergence" it resolves a plain function and, not recognising it,
    applies the divergence to the scaled logits themselves (clipped to [1e-7, 1]).
    shendu does what the documentation says for both (the values equal Keras's for the
    KLDivergence object)."""

    def __init__(self, temperature: float = 3.0, loss: Any = "kl_divergence") -> None:
        self.temperature = temperature
        self.loss = _losses_of(loss, "LogitsDistillation")
        if not isinstance(temperature, (int, float)) or isinstance(temperature, bool):
            raise ValueError(f"temperature must be a number, got {type(temperature)}")
        if temperature <= 0.0:
            raise ValueError("temperature must be positive.")

    def compute_loss(self, teacher_outputs: Any, student_outputs: Any, **kwargs: Any) -> Any:
        t = self.temperature

        def one(loss, teacher, student):
            if loss is None:
                return 0.0
            teacher, student = ops.divide(teacher, t), ops.divide(student, t)
            if isinstance(loss, losses_mod.KLDivergence):
                value = loss(ops.softmax(teacher, axis=-1), ops.softmax(student, axis=-1))
                return ops.mean(value) * (t**2)
            return ops.mean(loss(teacher, student))

        return _sum(flatten(map_structure(one, self.loss, teacher_outputs, student_outputs)))

    def get_config(self) -> dict:
        return {
            "temperature": self.temperature,
            "loss": _map_losses(losses_mod.serialize, self.loss),
        }

    @classmethod
    def from_config(cls, config: dict) -> LogitsDistillation:
        config = dict(config)
        config["loss"] = _map_losses(losses_mod.deserialize, config["loss"])
        return cls(**config)
