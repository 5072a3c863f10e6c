"""Weights in Keras's order (each layer's own, as created, then nested layers' depth first),
and files written in the earlier order (trainable first, then non-trainable) still load."""

import numpy as np

import shendu as keras
from shendu.layers.base import Layer


def _bn_model():
    keras.backend.clear_session()  # layer names from dense, batch_normalization, ...
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(3),
            keras.layers.BatchNormalization(),
            keras.layers.Dense(2),
        ]
    )
    model.compile("adam", "mse")
    x = np.random.default_rng(0).random((16, 4)).astype("float32")
    model.fit(x, np.ones((16, 2)), epochs=2, verbose=0)
    return model, x


def test_get_weights_in_keras_order():
    model, _ = _bn_model()
    # Keras 3.15's order for the same model (its paths carry the model's name in front)
    assert [v.path for v in model.weights] == [
        "dense/kernel",
        "dense/bias",
        "batch_normalization/gamma",
        "batch_normalization/beta",
        "batch_normalization/moving_mean",
        "batch_normalization/moving_variance",
        "dense_1/kernel",
        "dense_1/bias",
    ]
    assert [w.shape for w in model.get_weights()] == [
        (4, 3),
        (3,),
        (3,),
        (3,),
        (3,),
        (3,),
        (3, 2),
        (2,),
    ]
    assert [v.path for v in model.trainable_weights] == [
        "dense/kernel", "dense/bias", "batch_normalization/gamma",
        "batch_normalization/beta", "dense_1/kernel", "dense_1/bias",
    ]  # fmt: skip


def test_a_file_in_the_earlier_order_loads(tmp_path, monkeypatch):
    model, x = _bn_model()
    expected = model.predict(x, verbose=0)
    state = model.optimizer.get_state()
    earlier = property(lambda self: self.trainable_weights + self.non_trainable_weights)
    with monkeypatch.context() as patch:
        patch.setattr(Layer, "weights", earlier)  # as the writer of earlier versions
        model.save(tmp_path / "old.shendu")
        assert [v.path for v in model.weights][-2:] == [
            "batch_normalization/moving_mean",
            "batch_normalization/moving_variance",
        ]
    again = keras.models.load_model(tmp_path / "old.shendu")
    np.testing.assert_array_equal(again.predict(x, verbose=0), expected)
    restored = again.optimizer.get_state()
    assert set(restored) == set(state)
    for key, value in state.items():
        np.testing.assert_array_equal(restored[key], value)
