"""``Distiller``: a model that trains a student on labels and on a frozen teacher.

The loss is w * student_loss(y, student(x)) + (1 - w) * sum_i a_i * d_i, with w the
``student_loss_weight``, and d_i the distillation losses (``LogitsDistillation``,
``FeatureDistillation``, ...) weighted by ``distillation_loss_weights`` a_i. Feature
losses read intermediate layers through extractor models built once from the teacher's
and the student's graphs. The teacher is frozen; ``call`` is the student's.
"""

from __future__ import annotations

from typing import Any

from .. import metrics as metrics_mod
from .. import ops
from ..models.model import Model
from ..models.sequential import Sequential
from ..saving import deserialize_keras_object, serialize_keras_object
from ..tree import flatten, map_structure
from .losses import FeatureDistillation, LogitsDistillation, _as_loss


def _check_shapes(first, second, context):
    if len(first) != len(second):
        raise ValueError(
            f"Teacher and student {context} shapes have different dimensions. "
            f"Teacher: {first}, Student: {second}."
        )
    for a, b in zip(first, second):
        if a is not None and b is not None and a != b:
            raise ValueError(
                f"Teacher and student {context} shapes are incompatible. Teacher: {first}, "
                f"Student: {second}. All dimensions must match."
            )


class Distiller(Model):
    """Knowledge distillation from ``teacher`` (frozen) to ``student`` (see the module's
    docstring); compile it with the student's ``loss``, fit it on labelled data, then use
    ``distiller.student``."""

    def __init__(
        self,
        teacher: Model,
        student: Model,
        distillation_losses: Any,
        distillation_loss_weights: list | None = None,
        student_loss_weight: float = 0.5,
        name: str = "distiller",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        for role, model in (("Teacher", teacher), ("Student", student)):
            if not isinstance(model, Model):
                raise ValueError(f"{role} must be a keras.Model, got {type(model)}")
        self._check_compatible(teacher, student)
        self.teacher, self.student = teacher, student
        if not isinstance(student_loss_weight, (int, float)) or isinstance(
            student_loss_weight, bool
        ):
            raise ValueError(
                f"student_loss_weight must be a number, got {type(student_loss_weight)}"
            )
        if not 0.0 <= student_loss_weight <= 1.0:
            raise ValueError(
                f"student_loss_weight must be between 0.0 and 1.0, got {student_loss_weight}"
            )
        self.student_loss_weight = student_loss_weight
        if distillation_losses is None:
            raise ValueError(
                "'distillation_losses' cannot be `None`. Provide a distillation loss (e.g., "
                "LogitsDistillation or FeatureDistillation) or a list of distillation losses."
            )
        if not isinstance(distillation_losses, (list, tuple)):
            distillation_losses, distillation_loss_weights = [distillation_losses], [1.0]
        elif distillation_loss_weights is None:
            distillation_loss_weights = [1.0] * len(distillation_losses)
        elif len(distillation_loss_weights) != len(distillation_losses):
            raise ValueError(
                f"Number of distillation_loss_weights ({len(distillation_loss_weights)}) must "
                f"match number of distillation_losses ({len(distillation_losses)})"
            )
        self.distillation_losses = list(distillation_losses)
        self.distillation_loss_weights = list(distillation_loss_weights)
        for loss in self.distillation_losses:
            loss.validate_model_compatibility(teacher, student)
        self._teacher_features = self._extractor(teacher, "teacher_layer_name")
        self._student_features = self._extractor(student, "student_layer_name")
        self.teacher.trainable = False
        self.student_loss_tracker = metrics_mod.Mean(name="student_loss")
        self.distillation_loss_tracker = metrics_mod.Mean(name="distillation_loss")
        self.total_loss_tracker = metrics_mod.Mean(name="total_loss")

    @staticmethod
    def _check_compatible(teacher, student):
        for kind in ("inputs", "outputs"):
            mine, theirs = getattr(teacher, kind, None), getattr(student, kind, None)
            if not mine or not theirs or getattr(teacher, "inputs", None) is None:
                continue
            if getattr(student, "inputs", None) is None:
                continue
            for a, b in zip(flatten(mine), flatten(theirs)):
                _check_shapes(tuple(a.shape), tuple(b.shape), kind[:-1])
                if a.dtype != b.dtype:
                    raise ValueError(
                        f"Teacher and student {kind[:-1]} dtypes must match. "
                        f"Teacher: {a.dtype}, Student: {b.dtype}."
                    )

    def _extractor(self, model, attribute):
        """A model from ``model``'s inputs to its output and the layers the feature losses
        name, or None when no loss names one."""
        names = []
        for loss in self.distillation_losses:
            name = getattr(loss, attribute, None)
            if name and name not in names:
                names.append(name)
        if not names:
            return None
        if getattr(model, "inputs", None) is None:
            raise ValueError(
                f"Cannot create feature extractor for {model.name}. The model has no symbolic "
                "inputs attribute."
            )
        final = model.layers[-1].output if isinstance(model, Sequential) else model.output
        outputs = {"final_output": final}
        for name in names:
            outputs[name] = model.get_layer(name=name).output
        return Model(model.inputs, outputs, name=f"{model.name}_multi_feature_extractor")

    # the three signatures below are Keras's Distiller's, narrower than Model's
    def compile(self, optimizer="adam", loss=None, metrics=None, **kwargs):  # type: ignore[override]
        """Compile with the student's supervised ``loss`` (required)."""
        if loss is None:
            raise ValueError("'loss' cannot be `None`.")
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            raise ValueError(f"metrics must be a list or tuple, got {type(metrics)}")
        self._student_loss = map_structure(_as_loss, loss)
        self._student_loss_config = loss
        super().compile(optimizer=optimizer, loss=None, metrics=metrics, **kwargs)

    def call(self, inputs, training=None, **kwargs):  # type: ignore[override]
        return self.student(inputs, training=training, **kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if y_pred is None:
            y_pred = self(x, training=training)
        student_loss: Any = 0.0
        if self.student_loss_weight > 0.0 and y is not None:
            values = flatten(
                map_structure(lambda loss, t, p: loss(t, p), self._student_loss, y, y_pred)
            )
            student_loss = ops.sum(ops.stack(values)) if len(values) > 1 else values[0]
            if len(ops.shape(student_loss)) > 0:
                student_loss = ops.mean(student_loss)
        distillation: Any = 0.0
        if self.student_loss_weight < 1.0:
            teacher = (
                self._teacher_features(x, training=False)
                if self._teacher_features is not None
                else {"final_output": self.teacher(x, training=False)}
            )
            student = (
                self._student_features(x, training=True)
                if self._student_features is not None
                else {"final_output": y_pred}
            )
            for loss, weight in zip(self.distillation_losses, self.distillation_loss_weights):
                if getattr(loss, "teacher_layer_name", None) is not None:
                    t_out = teacher[loss.teacher_layer_name]
                    s_out = student[loss.student_layer_name or "final_output"]
                else:
                    t_out, s_out = teacher["final_output"], y_pred
                loss.validate_outputs(t_out, s_out)
                value = loss.compute_loss(t_out, s_out)
                if len(ops.shape(value)) > 0:
                    raise ValueError(
                        f"Distillation loss {type(loss).__name__} returned a non-scalar loss "
                        f"with shape {ops.shape(value)}. The compute_loss method must return "
                        "a scalar tensor."
                    )
                distillation = ops.add(distillation, ops.multiply(weight, value))
        w = self.student_loss_weight
        total = ops.add(ops.multiply(w, student_loss), ops.multiply(1.0 - w, distillation))
        self.student_loss_tracker.update_state(student_loss)
        self.distillation_loss_tracker.update_state(distillation)
        self.total_loss_tracker.update_state(total)
        return total

    def reset_metrics(self):
        super().reset_metrics()
        for tracker in (
            self.student_loss_tracker,
            self.distillation_loss_tracker,
            self.total_loss_tracker,
        ):
            tracker.reset_state()

    def get_config(self):
        return {
            "name": self.name,
            "teacher": serialize_keras_object(self.teacher),
            "student": serialize_keras_object(self.student),
            "distillation_losses": [
                serialize_keras_object(loss) for loss in self.distillation_losses
            ],
            "distillation_loss_weights": self.distillation_loss_weights,
            "student_loss_weight": self.student_loss_weight,
        }

    @classmethod
    def from_config(cls, config):  # type: ignore[override]
        config = dict(config)
        config["teacher"] = deserialize_keras_object(config["teacher"])
        config["student"] = deserialize_keras_object(config["student"])
        known = {
            "LogitsDistillation": LogitsDistillation,
            "FeatureDistillation": FeatureDistillation,
        }
        config["distillation_losses"] = [
            deserialize_keras_object(loss, custom_objects=known)
            for loss in config["distillation_losses"]
        ]
        return cls(**config)
