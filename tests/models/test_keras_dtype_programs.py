"""Keras programs on integer and float64 data, written as Keras code. Images arrive as
uint8 (``keras.datasets``, PIL): Keras converts them to each Input's dtype before any layer
sees them, so a Normalization adapted on uint8 pixels normalises instead of wrapping
around. Figures measured on Keras 3.15 (JAX) with the same program are in each test."""

import numpy as np

import shendu as keras


def _uint8_digits():
    x, y = keras.datasets.load_digits()
    images = np.clip(x * 16, 0, 255).astype("uint8")[..., None]  # (1797, 8, 8, 1) uint8
    return images, y


def test_uint8_images_through_normalization_train_as_in_keras():
    images, y = _uint8_digits()
    keras.utils.set_random_seed(0)
    norm = keras.layers.Normalization()
    norm.adapt(images[:1400])
    inputs = keras.Input((8, 8, 1))
    h = keras.layers.Flatten()(norm(inputs))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(h))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        images[:1400],
        y[:1400],
        validation_data=(images[1400:], y[1400:]),
        epochs=3,
        batch_size=32,
        verbose=0,
    )
    # Keras 3.15: 0.718 after 3 epochs; shendu before the dtype rules: 0.151 (pixels wrapped)
    assert history.history["val_accuracy"][-1] > 0.55
    # a pixel of 0 normalised: Keras gives -0.81 (shendu gave 1.85, 0 - mean wrapped in uint8)
    zero = norm(images[:1]).numpy()[0, 0, 0, 0]
    np.testing.assert_allclose(zero, -0.81, atol=0.01)
    assert model.predict(images[:4], verbose=0).dtype == np.float32


def test_uint8_images_through_rescaling_into_a_cnn():
    images, y = _uint8_digits()
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        images[:1400],
        y[:1400],
        validation_data=(images[1400:], y[1400:]),
        epochs=5,
        batch_size=32,
        verbose=0,
    )
    assert history.history["val_accuracy"][-1] > 0.75  # Keras 3.15: 0.844
    assert model.predict(images[:4], verbose=0).dtype == np.float32


def test_model_inputs_take_the_input_dtype():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    u8 = np.arange(12, dtype="uint8").reshape(4, 3)
    assert model(u8).dtype == np.float32  # Keras: float32 (shendu gave uint8 results)
    assert model.predict(u8, verbose=0).dtype == np.float32
    assert model(u8.astype("float64")).dtype == np.float32
    ids = keras.Input((2,), dtype="int32")
    embed = keras.Model(ids, keras.layers.Embedding(5, 3)(ids))
    assert embed(np.array([[1.0, 2.0]])).dtype == np.float32  # ids cast to int32 first


def test_float_layers_compute_integer_and_float64_inputs_in_float32():
    i32 = np.arange(12, dtype="int32").reshape(4, 3)
    assert keras.layers.LayerNormalization()(i32).dtype == np.float32
    assert keras.layers.BatchNormalization()(i32.astype("uint8")).dtype == np.float32
    assert keras.layers.Rescaling(2)(i32.astype("uint8")).dtype == np.float32
    assert keras.layers.Dense(2)(i32).dtype == np.float32
    assert keras.layers.Dense(2)(i32.astype("float64")).dtype == np.float32
    x = keras.ops.convert_to_tensor(i32.astype("float64"))
    assert keras.layers.Dense(2)(x).dtype == np.float32


def test_reloaded_sequential_keeps_its_input_dtype(tmp_path):
    model = keras.Sequential([keras.Input((3,), dtype="int32"), keras.layers.Embedding(5, 2)])
    path = tmp_path / "m.keras"
    model.save(path)
    again = keras.models.load_model(path)
    assert again.get_config()["layers"][0]["config"]["dtype"] == "int32"


def test_sparse_crossentropy_ignore_class_averages_over_the_kept_entries():
    """Keras masks the ignored entries: 4 tokens with 2 ignored average over 2 (1.6094 for
    uniform probabilities over 5 classes); shendu averaged over all 4 (0.8047). The same
    program on Keras 3.15: evaluate 1.6094, fit losses [1.6094, 1.5961]."""
    loss = keras.losses.SparseCategoricalCrossentropy(ignore_class=0)
    y, p = np.array([[0, 1, 0, 2]]), np.full((1, 4, 5), 0.2, "float32")
    np.testing.assert_allclose(float(loss(y, p)), 1.6094379, rtol=1e-6)
    L = keras.layers
    model = keras.Sequential(
        [
            keras.Input((4,)),
            L.Dense(20, kernel_initializer="zeros"),
            L.Reshape((4, 5)),
            L.Softmax(),
        ]
    )
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(ignore_class=0))
    x, y = np.ones((2, 4), "float32"), np.array([[0, 1, 0, 2], [3, 0, 0, 0]])
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), 1.6094, atol=1e-4)
    history = model.fit(x, y, epochs=2, verbose=0)
    np.testing.assert_allclose(history.history["loss"], [1.6094, 1.5961], atol=1e-4)


def test_inputs_one_axis_short_of_a_last_axis_of_1_are_expanded():
    """Keras adjusts the rank: data of shape (batch,) into Input((1,)) gains its last axis
    (Keras 3.15: predict gives (4, 1)); shendu refused."""
    functional_in = keras.Input((1,))
    functional = keras.Model(functional_in, keras.layers.Dense(1)(functional_in))
    sequential = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    for model in (functional, sequential):
        assert model.predict(np.ones(4, "float32"), verbose=0).shape == (4, 1)
        model.compile("sgd", "mse")
        history = model.fit(np.ones(8, "float32"), np.zeros(8, "float32"), epochs=2, verbose=0)
        assert len(history.history["loss"]) == 2


def test_add_loss_of_a_non_scalar_tensor_counts_its_sum():
    """Keras sums a non-scalar added loss; shendu failed in fit ("item() expects a tensor
    with one element"). The same program on Keras 3.15: evaluate 15.0, fit [15.0, 13.6176]."""

    class Penalty(keras.layers.Layer):
        def call(self, x):
            self.add_loss(keras.ops.square(x))
            return x

    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(1, kernel_initializer="ones")(Penalty()(inputs))
    model = keras.Model(inputs, outputs)
    model.compile("sgd", "mse")
    x, y = np.ones((2, 3), "float32"), np.zeros((2, 1), "float32")
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), 15.0, rtol=1e-6)
    history = model.fit(x, y, epochs=2, verbose=0)
    np.testing.assert_allclose(history.history["loss"], [15.0, 13.6176], atol=1e-4)


def test_normalize_keeps_tensors_tensors_and_tf_idf_spelling():
    """Keras 3.15: utils.normalize of a tensor is a tensor ([[0.6, 0.8]] for [[3, 4]]), of
    an array an array; TextVectorization accepts output_mode='tf-idf'."""
    t = keras.utils.normalize(keras.ops.convert_to_tensor(np.array([[3.0, 4.0]], "float32")))
    assert isinstance(t, keras.Tensor) and t.dtype == np.float32
    np.testing.assert_allclose(t.numpy(), [[0.6, 0.8]], rtol=1e-6)
    assert isinstance(keras.utils.normalize(np.array([[3.0, 4.0]])), np.ndarray)
    layer = keras.layers.TextVectorization(output_mode="tf-idf")
    layer.adapt(["a b", "b c"])
    assert layer.output_mode == "tf_idf" and layer(["a b"]).shape == (1, 4)


def test_multi_head_attention_masks_as_keras():
    """Keras 3.15 on the same weights and data: a key_mask acts as the value_mask (shendu
    ignored it), and a query_mask alone leaves the output unchanged (Keras adds a large
    negative number to masked scores, so a fully masked row keeps its softmax; shendu gave
    those rows uniform weights). Sums of the outputs measured on Keras."""
    rng = np.random.default_rng(0)
    q = rng.standard_normal((2, 3, 4)).astype("float32")
    v = rng.standard_normal((2, 5, 4)).astype("float32")
    layer = keras.layers.MultiHeadAttention(
        2, 3, kernel_initializer="ones", bias_initializer="zeros"
    )
    base = np.asarray(layer(q, v))
    vm = np.array([[1, 1, 0, 0, 1], [1, 0, 1, 1, 1]], bool)
    qm = np.array([[1, 0, 1], [1, 1, 0]], bool)
    np.testing.assert_allclose(base.sum(), 199.9398, rtol=1e-5)
    for kwargs in ({"value_mask": vm}, {"key_mask": vm}, {"key_mask": vm, "value_mask": vm}):
        np.testing.assert_allclose(np.asarray(layer(q, v, **kwargs)).sum(), 217.1777, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(layer(q, v, query_mask=qm)), base, rtol=1e-6)


def test_a_subclassed_call_without_training_runs_its_dropout_as_inference_in_fit():
    """Keras's trainers pass ``training=True`` only to a call that takes it: a Dropout
    inside ``call(self, x)`` does nothing during fit (Keras 3.15: loss 0.0 on this program;
    shendu gave 100.0, the Dropout switched on through the call context)."""

    class Model(keras.Model):
        def __init__(self):
            super().__init__()
            self.drop = keras.layers.Dropout(0.5, seed=1)
            self.out = keras.layers.Dense(
                1, kernel_initializer="ones", use_bias=False, trainable=False
            )

        def call(self, x):
            return self.out(self.drop(x))

    model = Model()
    model.compile("sgd", "mse")
    x, y = np.full((4, 3), 10.0, "float32"), np.full((4, 1), 30.0, "float32")
    assert model.fit(x, y, epochs=1, verbose=0).history["loss"] == [0.0]
