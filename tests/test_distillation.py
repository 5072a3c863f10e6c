"""keras.distillation (Keras 3.15's API): the losses' values, a Distiller's training,
its checks and its config; figures from Keras 3.15 (JAX) on the same code."""

import numpy as np
import pytest

import shendu as keras
from shendu import layers
from shendu.distillation import Distiller, FeatureDistillation, LogitsDistillation

TEACHER = np.array([[1.0, 2.0, 0.5]])
STUDENT = np.array([[0.5, 1.0, 2.0]])


def test_logits_distillation_values():
    kl = LogitsDistillation(temperature=2.0, loss=keras.losses.KLDivergence())
    assert float(kl.compute_loss(TEACHER, STUDENT)) == pytest.approx(0.57215, abs=1e-5)
    # the default names the KL divergence: the documented softmax and T**2 (see the class)
    assert float(LogitsDistillation(2.0).compute_loss(TEACHER, STUDENT)) == pytest.approx(
        0.57215, abs=1e-5
    )
    cce = LogitsDistillation(temperature=4.0, loss="categorical_crossentropy")
    assert float(cce.compute_loss(TEACHER, STUDENT)) == pytest.approx(1.18281, abs=1e-5)
    skip = LogitsDistillation(2.0, loss=["kl_divergence", None])  # None skips an output
    value = skip.compute_loss([TEACHER, np.ones((1, 1))], [STUDENT, np.full((1, 1), 3.0)])
    assert float(value) == pytest.approx(0.57215, abs=1e-5)
    features = FeatureDistillation().compute_loss(np.array([[1.0, 2.0]]), np.array([[0.0, 1.0]]))
    assert float(features) == 1.0


def test_distillation_losses_refuse_bad_arguments():
    with pytest.raises(ValueError, match="temperature must be positive"):
        LogitsDistillation(temperature=0.0)
    with pytest.raises(ValueError, match="at least one loss must be non-`None`"):
        LogitsDistillation(loss=[None, None])
    with pytest.raises(ValueError, match="Loss structure mismatch"):
        FeatureDistillation(loss=["mse", "mse"]).validate_outputs(TEACHER, STUDENT)


def _models(student_width=32):
    teacher = keras.Sequential(
        [keras.Input((8,)), layers.Dense(32, activation="relu", name="t1"), layers.Dense(3)]
    )
    student = keras.Sequential(
        [
            keras.Input((8,)),
            layers.Dense(student_width, activation="relu", name="s1"),
            layers.Dense(3),
        ]
    )
    return teacher, student


def test_distiller_trains_the_student_from_a_frozen_teacher():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((256, 8)).astype("float32")
    y = x[:, :3].argmax(1).astype("int64")
    teacher, student = _models()
    teacher.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    teacher.fit(x, y, epochs=30, verbose=0)
    teacher_weights = [w.copy() for w in teacher.get_weights()]
    distiller = Distiller(
        teacher=teacher,
        student=student,
        distillation_losses=[
            LogitsDistillation(temperature=3.0),
            FeatureDistillation(loss="mse", teacher_layer_name="t1", student_layer_name="s1"),
        ],
        distillation_loss_weights=[1.0, 0.5],
        student_loss_weight=0.3,
    )
    distiller.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = distiller.fit(x, y, epochs=20, verbose=0).history
    # Keras 3.15's logs
    assert sorted(history) == [
        "accuracy",
        "distillation_loss",
        "loss",
        "student_loss",
        "total_loss",
    ]
    assert history["distillation_loss"][-1] < history["distillation_loss"][0]
    assert history["accuracy"][-1] > 0.6
    assert not teacher.trainable and len(distiller.trainable_weights) == 4
    for before, after in zip(teacher_weights, teacher.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert distiller(x[:2]).shape == (2, 3)  # the student's outputs


def test_feature_distillation_reads_intermediate_layers():
    teacher, student = _models(student_width=16)
    with pytest.raises(ValueError, match="In teacher model"):
        Distiller(teacher, student, FeatureDistillation(teacher_layer_name="nothing"))
    features = FeatureDistillation(loss="mse", teacher_layer_name="t1", student_layer_name="s1")
    with pytest.raises(ValueError, match="'loss' cannot be `None`"):
        Distiller(teacher, student, features).compile(optimizer="adam")
    # t1 has 32 units and s1 16: the mean squared error cannot compare them
    distiller = Distiller(teacher, student, features, student_loss_weight=0.5)
    distiller.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError):
        distiller.fit(np.ones((4, 8)), np.zeros(4, "int64"), verbose=0)


def test_distiller_refuses_mismatched_models_and_round_trips_its_config():
    teacher, student = _models()
    other = keras.Sequential([keras.Input((5,)), layers.Dense(3)])
    with pytest.raises(ValueError, match="input shapes are incompatible"):
        Distiller(teacher, other, LogitsDistillation())
    with pytest.raises(ValueError, match="student_loss_weight must be between 0.0 and 1.0"):
        Distiller(teacher, student, LogitsDistillation(), student_loss_weight=1.5)
    with pytest.raises(ValueError, match="must match number of distillation_losses"):
        Distiller(teacher, student, [LogitsDistillation()], distillation_loss_weights=[1, 2])
    distiller = Distiller(teacher, student, LogitsDistillation(temperature=5.0))
    again = Distiller.from_config(distiller.get_config())
    assert again.distillation_losses[0].temperature == 5.0
    assert again.student_loss_weight == 0.5
    assert [w.shape for w in again.student.weights] == [w.shape for w in student.weights]
