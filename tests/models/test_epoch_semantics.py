"""What an epoch is (Keras's EpochIterator): steps_per_epoch carries one pass across epochs,
running out ends an epoch with a warning, an empty pass has no loss. Expected batches and
values measured on Keras 3.15 (JAX) with the same programs."""

import numpy as np
import pytest

import shendu as keras

X = np.arange(100, dtype="float32").reshape(100, 1)


SEEN: list = []  # a module's list: a layer's attribute would be a copy (Keras's tracking)


class Spy(keras.layers.Layer):
    """Records the first value of every batch it sees (run eagerly)."""

    def call(self, x):
        SEEN.append(int(keras.ops.convert_to_numpy(x)[0, 0]))
        return x


def _firsts(**fit_kwargs):
    seen = SEEN
    inputs = keras.Input((1,))
    model = keras.Model(inputs, keras.layers.Dense(1)(Spy()(inputs)))
    model.compile(keras.optimizers.SGD(1e-6), "mse", run_eagerly=True)
    seen.clear()  # the functional construction's evaluations
    history = model.fit(X, X * 0, batch_size=10, shuffle=False, verbose=0, **fit_kwargs)
    return list(seen), len(history.history["loss"])


def test_steps_per_epoch_carries_the_pass_across_epochs():
    seen, epochs = _firsts(epochs=5, steps_per_epoch=2)
    assert seen == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]  # Keras 3.15 (was 0, 10 x 5)
    assert epochs == 5


def test_running_out_ends_the_epoch_and_the_next_starts_a_new_pass():
    with pytest.warns(UserWarning, match="Your input ran out of data"):
        seen, epochs = _firsts(epochs=3, steps_per_epoch=4)
    assert seen == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]  # Keras: the third epoch has 2
    assert epochs == 3
    with pytest.warns(UserWarning, match="Your input ran out of data"):
        seen, epochs = _firsts(epochs=2, steps_per_epoch=15)
    assert seen == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90] * 2
    assert epochs == 2


def _model():
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile("sgd", "mse")
    return model


def test_a_one_shot_validation_generator_serves_every_epoch():
    x, y = np.ones((20, 2), "float32"), np.ones((20, 1), "float32")

    def validation():
        for i in range(2):
            yield x[:10] * (i + 1), y[:10]

    history = _model().fit(x, y, epochs=3, validation_data=validation(), verbose=0)
    val_loss = history.history["val_loss"]
    assert len(val_loss) == 3 and all(v > 0 for v in val_loss)  # was 0.0 from epoch 2 on
    assert val_loss[0] > val_loss[1] > val_loss[2]


def test_a_generator_used_up_ends_training_with_a_warning():
    x, y = np.ones((20, 2), "float32"), np.ones((20, 1), "float32")

    def train():
        for _ in range(2):
            yield x, y

    with pytest.warns(UserWarning, match="Your input ran out of data"):
        history = _model().fit(train(), epochs=3, verbose=0)
    assert len(history.history["loss"]) == 1


@pytest.mark.parametrize("data", [lambda: (np.ones((0, 2)), np.ones((0, 1))), lambda: (iter([]),)])
def test_evaluate_on_no_data_refuses_instead_of_zero(data):
    with pytest.raises(ValueError, match="evaluate: the data produced no batches"):
        _model().evaluate(*data(), verbose=0)


def _weighted_loss(class_weight):
    x = np.ones((4, 2), "float32")
    y = np.array([[0.0], [0.6], [1.4], [1.0]], "float32")
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1, kernel_initializer="zeros")(inputs))
    model.compile(keras.optimizers.SGD(0.0), "mse")
    history = model.fit(x, y, class_weight=class_weight, epochs=1, batch_size=4, verbose=0)
    return history.history["loss"][0]


def test_class_weight_rounds_labels_and_ignores_absent_classes():
    # Keras 3.15: 2.49 for both (0.6 and 1.4 are class 1); shendu truncated (2.31) and
    # refused the key 7
    assert _weighted_loss({0: 1.0, 1: 3.0}) == pytest.approx(2.49, abs=1e-5)
    assert _weighted_loss({0: 1.0, 1: 3.0, 7: 5.0}) == pytest.approx(2.49, abs=1e-5)


class _Calls(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(("begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("end", batch))

    def on_test_batch_end(self, batch, logs=None):
        self.calls.append(("test", batch))

    def on_predict_batch_end(self, batch, logs=None):
        self.calls.append(("predict", batch))


def test_steps_per_execution_groups_the_batch_callbacks_as_keras():
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile("sgd", "mse", steps_per_execution=3)
    x, y = np.ones((100, 2)), np.ones((100, 1))
    seen = _Calls()
    model.fit(x, y, batch_size=10, epochs=1, verbose=0, callbacks=[seen])
    # Keras 3.15: ten steps in threes (a short last execution reports index 11)
    assert seen.calls == [
        ("begin", 0), ("end", 2), ("begin", 3), ("end", 5),
        ("begin", 6), ("end", 8), ("begin", 9), ("end", 11),
    ]  # fmt: skip
    seen.calls.clear()
    model.evaluate(x, y, batch_size=10, verbose=0, callbacks=[seen])
    model.predict(x, batch_size=10, verbose=0, callbacks=[seen])
    assert seen.calls == [("test", i) for i in (2, 5, 8, 11)] + [
        ("predict", i) for i in (2, 5, 8, 11)
    ]
    assert model.get_compile_config()["steps_per_execution"] == 3


@pytest.mark.parametrize("value", [0, -1, 1.5, True])
def test_steps_per_execution_must_be_a_positive_integer(value):
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    with pytest.raises(ValueError, match="`steps_per_execution` must be a positive integer"):
        model.compile("sgd", "mse", steps_per_execution=value)


def test_an_unzipped_save_is_refused_not_ignored(tmp_path):
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    with pytest.raises(ValueError, match=r"zipped=False .* is not supported"):
        model.save(tmp_path / "m.keras", zipped=False)
    with pytest.raises(ValueError, match=r"zipped=False .* is not supported"):
        keras.models.save_model(model, tmp_path / "m.keras", zipped=False)
    assert not (tmp_path / "m.keras").exists()
    model.save(tmp_path / "m.keras", zipped=True)
    assert (tmp_path / "m.keras").exists()
