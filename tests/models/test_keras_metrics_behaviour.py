"""Metrics as Keras 3.15 has them (figures from Keras on the same code): the cosine
similarity's sign, trackers held by a model in model.metrics and the history, Keras's
names for weighted metrics, and Metric.add_weight."""

import numpy as np
import pytest

import shendu as keras


def test_cosine_similarity_metric_is_the_similarity():
    metric = keras.metrics.CosineSimilarity(axis=1)
    metric.update_state([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])
    assert float(metric.result()) == pytest.approx(0.5, abs=1e-6)  # Keras 0.5 (was -0.5)
    loss = keras.losses.CosineSimilarity(axis=1)
    assert float(loss([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])) == pytest.approx(
        -0.5, abs=1e-6
    )  # the loss keeps Keras's negative sign


class Tracked(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.tracker = keras.metrics.Mean(name="extra")

    def call(self, x):
        return self.dense(x)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = keras.ops.mean((y - y_pred) ** 2)
        self.tracker.update_state(loss * 2)
        return loss


def test_a_tracker_held_by_the_model_is_among_its_metrics_and_in_the_history():
    model = Tracked()
    model.compile("sgd")
    history = model.fit(np.ones((8, 2)), np.ones((8, 1)), epochs=2, verbose=0)
    assert [m.name for m in model.metrics] == ["loss", "extra"]  # Keras 3.15
    assert sorted(history.history) == ["extra", "loss"]  # was ["loss"]
    np.testing.assert_allclose(history.history["extra"], 2 * np.array(history.history["loss"]))


def _binary_model(**compile_kwargs):
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs))
    model.compile("sgd", "binary_crossentropy", **compile_kwargs)
    return model


def test_weighted_metrics_keep_their_names_unless_they_repeat():
    x, y, w = np.ones((8, 2)), np.ones((8, 1)), np.ones(8)
    history = _binary_model(weighted_metrics=["accuracy"]).fit(
        x, y, sample_weight=w, validation_data=(x[:4], y[:4]), epochs=1, verbose=0
    )
    # Keras 3.15 (the names were weighted_accuracy, val_weighted_accuracy)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    both = _binary_model(metrics=["accuracy", "mae"], weighted_metrics=["accuracy", "mae"])
    history = both.fit(x, y, sample_weight=w, epochs=1, verbose=0)
    assert sorted(history.history) == [
        "accuracy", "loss", "mae", "weighted_accuracy", "weighted_mae",
    ]  # fmt: skip


def test_a_metric_adds_its_state_with_add_weight():
    class Count(keras.metrics.Metric):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.n = self.add_weight(name="n", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.n.assign_add(keras.ops.cast(keras.ops.shape(y_true)[0], "float32"))

        def result(self):
            return self.n

    count = Count()
    count.update_state(np.ones((3, 1)), np.ones((3, 1)))
    assert float(count.result().numpy()) == 3.0  # Keras 3.15: 3.0
    count.reset_state()
    assert float(count.result().numpy()) == 0.0


def test_a_result_is_a_tensor_as_in_keras():
    mean = keras.metrics.Mean()
    mean.update_state([1.0, 2.0])
    result = mean.result()
    assert isinstance(result, keras.ops.convert_to_tensor(0.0).__class__)
    assert result.numpy() == 1.5 and result.dtype == np.float32  # Keras: a float32 array
    assert float(result) == 1.5 and f"{result:.2f}" == "1.50"
    assert result == pytest.approx(1.5)  # other objects compare themselves
    per_class = keras.metrics.F1Score(average=None)
    per_class.update_state(np.eye(3), np.eye(3))
    assert per_class.result().shape == (3,)
