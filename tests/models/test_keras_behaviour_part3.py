"""Keras behaviour met in real programs (issue: Keras behaviour, part 3), written as Keras
code; expected figures from Keras 3.15 (JAX) on the same code."""

import os

import numpy as np
import pytest

import shendu as keras
from shendu import layers, testing


class Encoder(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(4)

    def call(self, source, source_mask=None):
        return self.dense(source)


def test_a_layer_called_with_its_tensor_by_keyword():
    inputs = keras.Input((3, 2))
    outputs = Encoder()(source=inputs)  # was KeyError: 'inputs'
    model = keras.Model(inputs, outputs)
    assert model(np.ones((1, 3, 2))).shape == (1, 3, 4)  # Keras 3.15
    assert Encoder()(source=np.ones((2, 3, 2), "float32")).shape == (2, 3, 4)


def test_a_build_without_an_input_shape():
    class Scale(layers.Layer):
        def build(self):  # valid in Keras (keras.io's GRN/VSN)
            self.w = self.add_weight(shape=(3,), initializer="ones")

        def call(self, x):
            return x * self.w

    assert Scale()(np.ones((2, 3), "float32")).shape == (2, 3)  # was TypeError


def test_a_model_from_an_intermediate_tensor():
    inputs = keras.Input((4,))
    middle = layers.Dense(3)(inputs)
    outputs = layers.Dense(2)(middle)
    model = keras.Model(middle, outputs)  # was "Model inputs must come from Input()"
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense"]
    assert model(np.ones((2, 3), "float32")).shape == (2, 2)  # Keras 3.15
    assert keras.Model(inputs, outputs)(np.ones((1, 4), "float32")).shape == (1, 2)


def test_load_weights_from_a_whole_model_file(tmp_path):
    def make():
        inputs = keras.Input((2,))
        return keras.Model(inputs, layers.Dense(1)(inputs))

    saved = make()
    saved.save(tmp_path / "checkpoint.keras")
    other = make()
    other.load_weights(tmp_path / "checkpoint.keras")  # was refused
    for a, b in zip(other.get_weights(), saved.get_weights()):
        np.testing.assert_array_equal(a, b)


X = np.arange(8, dtype="float32").reshape(1, 2, 2, 2)


@pytest.mark.parametrize(
    "interpolation, first_row",
    [  # Keras 3.15 (JAX), channel 0
        ("bilinear", [0.0, 0.5, 1.5, 2.0]),
        ("bicubic", [-0.5294, 0.0613, 1.2328, 1.8235]),
        ("lanczos3", [-1.0529, -0.2362, 0.8323, 1.649]),
    ],
)
def test_upsampling_interpolations(interpolation, first_row):
    out = layers.UpSampling2D(interpolation=interpolation)(X).numpy()
    np.testing.assert_allclose(out[0, 0, :, 0], first_row, atol=1e-4)


def test_bilinear_upsampling_shapes_and_gradient():
    layer = layers.UpSampling2D((2, 3), interpolation="bilinear", data_format="channels_first")
    assert layer(X).shape == (1, 2, 4, 6)  # Keras 3.15
    x = keras.tensor(np.random.default_rng(0).random((1, 3, 3, 2)), requires_grad=True)
    assert testing.gradcheck(
        lambda t: keras.ops.image.resize(t, (6, 6), interpolation="bilinear"), [x]
    )
    with pytest.raises(ValueError, match=r"`interpolation` must be one of"):
        layers.UpSampling2D(interpolation="area")


def test_the_history_of_a_resumed_fit_holds_the_epochs_it_ran(tmp_path):
    class Stop(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 4:
                raise RuntimeError("stop")

    inputs = keras.Input((2,))
    model = keras.Model(inputs, layers.Dense(1)(inputs))
    model.compile("sgd", "mse")
    x, y = np.ones((8, 2)), np.ones((8, 1))
    backup = keras.callbacks.BackupAndRestore(str(tmp_path))
    with pytest.raises(RuntimeError):
        model.fit(x, y, epochs=10, verbose=0, callbacks=[backup, Stop()])
    history = model.fit(
        x, y, epochs=10, verbose=0, callbacks=[keras.callbacks.BackupAndRestore(str(tmp_path))]
    )
    assert history.epoch == [4, 5, 6, 7, 8, 9]  # Keras 3.15 (shendu reported 10 epochs)
    assert len(history.history["loss"]) == 6


def test_two_losses_compiled_before_a_subclassed_model_is_built():
    class TwoHeads(keras.Model):
        def __init__(self):
            super().__init__()
            self.a, self.b = layers.Dense(1), layers.Dense(1)

        def call(self, x):
            return self.a(x), self.b(x)

    model = TwoHeads()
    model.compile("sgd", loss=["mse", "mae"])  # was "expected 1 values"
    x, ya, yb = np.ones((8, 2)), np.ones((8, 1)), np.zeros((8, 1))
    history = model.fit(x, (ya, yb), epochs=2, verbose=0)
    losses = history.history
    np.testing.assert_allclose(
        losses["loss"], np.add(losses["output_0_loss"], losses["output_1_loss"]), rtol=1e-5
    )


def test_discretization_bins_are_keras_approximate_quantiles():
    data = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])
    layer = layers.Discretization(num_bins=4, epsilon=0.01)
    layer.adapt(data)
    # Keras 3.15's docstring example: boundaries [0.0, 0.5, 1.3], bins below
    np.testing.assert_allclose(layer.bin_boundaries, [0.0, 0.5, 1.3], rtol=1e-6)
    assert np.asarray(layer(data)).tolist() == [[0, 2, 3, 2], [1, 3, 3, 1]]
    evenly = layers.Discretization(num_bins=3)
    evenly.adapt(np.arange(10.0).reshape(-1, 1))
    np.testing.assert_allclose(evenly.bin_boundaries, [2.3333333, 5.6666665], rtol=1e-6)
    normal = layers.Discretization(num_bins=5)
    normal.adapt(np.random.default_rng(0).normal(size=(1000, 1)))
    np.testing.assert_allclose(normal.bin_boundaries, [-0.85, -0.305, 0.176, 0.771], atol=1e-3)


def test_text_layers_take_python_lists_of_strings():
    vectorize = layers.TextVectorization(max_tokens=5000, output_sequence_length=4)
    vectorize.adapt(["foo", "bar", "baz"])
    # Keras 3.15's docstring: known words keep their ids (were mapped to the OOV index 1)
    assert np.asarray(vectorize(["foo qux bar", "qux baz"])).tolist() == [
        [2, 1, 4, 0],
        [1, 3, 0, 0],
    ]
    lookup = layers.StringLookup(vocabulary=["a", "b", "c"])
    assert np.asarray(lookup(["a", "c", "z"])).tolist() == [1, 3, 0]  # Keras 3.15
    assert np.asarray(lookup([["a", "c"], ["b", "z"]])).tolist() == [[1, 3], [2, 0]]
    assert np.asarray(layers.IntegerLookup(vocabulary=[5, 6])([5, 6, 7])).tolist() == [1, 2, 0]


def test_gradients_flow_through_utils_normalize():
    # keras.io's GNN on citations normalises node embeddings with it; shendu computed it in
    # NumPy, which cut the gradient to every layer before it (accuracy 0.21; Keras 0.59)
    class Unit(layers.Layer):
        def call(self, x):
            return keras.utils.normalize(x, axis=-1, order=2)

    inputs = keras.Input((2,))
    kernel = keras.initializers.Constant([[1.0, 2.0], [3.0, 0.0]])
    dense = layers.Dense(2, use_bias=False, kernel_initializer=kernel)
    model = keras.Model(inputs, Unit()(dense(inputs)))
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    model.train_on_batch(np.array([[1.0, 2.0]]), np.array([[1.0, 0.0]]))
    expected = [[1.005183, 1.981858], [3.010367, -0.036284]]  # Keras 3.15
    np.testing.assert_allclose(dense.kernel.numpy(), expected, atol=1e-5)
    x = keras.ops.convert_to_tensor(np.array([[0.0, 0.0], [3.0, 4.0]], "float32"))
    np.testing.assert_allclose(keras.utils.normalize(x).numpy(), [[0, 0], [0.6, 0.8]])
    array = keras.utils.normalize(np.array([[3.0, 4.0]]))  # NumPy in, NumPy out
    assert isinstance(array, np.ndarray)


# ----------------------------------------------------------------- Keras 3.15's signatures


def test_variable_takes_keras_arguments():
    v = keras.Variable(initializer="ones", shape=(2,), dtype="float32", trainable=False)
    assert v.numpy().tolist() == [1.0, 1.0] and v.dtype == "float32" and not v.trainable
    assert keras.Variable(np.ones(2), dtype="float16").dtype == "float16"  # Keras 3.15
    assert keras.Variable(3.0).dtype == "float32" and keras.Variable([1, 2]).dtype == "int32"
    assert keras.Variable(keras.initializers.RandomNormal(seed=1), shape=(2, 3)).shape == (2, 3)
    with pytest.raises(ValueError, match="an initializer needs a `shape`"):
        keras.Variable("zeros")
    with pytest.raises(ValueError, match=r"has shape \(2,\), but `shape` is \(3,\)"):
        keras.Variable(np.ones(2), shape=(3,))


def test_relu_activation_options_as_keras():
    x = np.array([-3.0, -1.0, 0.0, 0.5, 1.0, 2.0, 9.0], "float32")
    relu = keras.activations.relu
    # Keras 3.15's values
    assert relu(x, negative_slope=0.1).numpy().tolist() == pytest.approx(
        [-0.3, -0.1, 0.0, 0.5, 1.0, 2.0, 9.0]
    )
    assert relu(x, max_value=5.0).numpy().tolist() == [0, 0, 0, 0.5, 1, 2, 5]
    assert relu(x, threshold=1.0).numpy().tolist() == [0, 0, 0, 0, 0, 2, 9]
    out = relu(x, negative_slope=0.1, max_value=5.0, threshold=1.0).numpy()
    assert out.tolist() == pytest.approx([-0.4, -0.2, -0.1, -0.05, 0.0, 2.0, 5.0])
    assert layers.ReLU(negative_slope=0.1, threshold=1.0)(x).numpy().tolist() == pytest.approx(
        [-0.4, -0.2, -0.1, -0.05, 0.0, 2.0, 9.0]
    )
    assert keras.activations.get("relu") is relu
    assert keras.activations.serialize(relu) == "relu"
    assert testing.gradcheck(
        lambda t: relu(t, negative_slope=0.2, max_value=1.5, threshold=0.3),
        (np.array([-1.0, 0.1, 0.7, 2.0]),),
    )


def test_category_encoding_count_weights():
    encode = layers.CategoryEncoding(num_tokens=4, output_mode="count")
    weights = np.array([[0.5, 1.0, 2.0], [1.0, 1.0, 0.25]])
    out = encode(np.array([[0, 1, 1], [2, 3, 3]]), count_weights=weights)
    assert out.numpy().tolist() == [[0.5, 3.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.25]]  # Keras
    with pytest.raises(ValueError, match="`count_weights` is not used"):
        layers.CategoryEncoding(4)(np.array([[0, 1]]), count_weights=np.ones((1, 2)))


def test_precision_and_recall_top_k_and_class_id():
    y_true = np.array([[0, 0, 1, 1], [0, 1, 0, 1], [1, 0, 0, 0]])
    y_pred = np.array([[0.1, 0.9, 0.8, 0.3], [0.2, 0.7, 0.6, 0.1], [0.5, 0.4, 0.3, 0.2]])
    # Keras 3.15: (precision, recall, precision with sample weights [1, 2, 0.5])
    expected = [
        ({"top_k": 1}, (0.66667, 0.4, 0.71429)),
        ({"top_k": 2}, (0.5, 0.6, 0.5)),
        ({"class_id": 1}, (0.5, 1.0, 0.66667)),
        ({"class_id": 3, "top_k": 2}, (0.0, 0.0, 0.0)),
        ({"thresholds": [0.25, 0.5], "top_k": 3}, ([0.5, 0.5], [0.8, 0.4], [0.52941, 0.5])),
        ({"thresholds": 0.35, "class_id": 0}, (1.0, 1.0, 1.0)),
    ]
    for kwargs, (precision, recall, weighted) in expected:
        for cls, value in ((keras.metrics.Precision, precision), (keras.metrics.Recall, recall)):
            metric = cls(**kwargs)
            metric.update_state(y_true, y_pred)
            np.testing.assert_allclose(metric.result().numpy(), value, atol=1e-5)
        metric = keras.metrics.Precision(**kwargs)
        metric.update_state(y_true, y_pred, sample_weight=np.array([1.0, 2.0, 0.5]))
        np.testing.assert_allclose(metric.result().numpy(), weighted, atol=1e-5)
    config = keras.metrics.Precision(top_k=2).get_config()
    assert config["top_k"] == 2 and config["thresholds"] is None  # Keras 3.15
    assert keras.metrics.Precision.from_config(config).top_k == 2


def test_sparse_top_k_accuracy_from_sorted_ids():
    metric = keras.metrics.SparseTopKCategoricalAccuracy(k=1, from_sorted_ids=True)
    metric.update_state(np.array([2, 1]), np.array([[2, 0, 1], [0, 1, 2]]))
    assert float(metric.result()) == 0.5  # Keras 3.15
    values = keras.metrics.sparse_top_k_categorical_accuracy(
        np.array([2, 1]), np.array([[2, 0, 1], [0, 1, 2]]), k=2, from_sorted_ids=True
    )
    assert np.asarray(values).tolist() == [1.0, 1.0]


def test_layer_dtype_policy():
    dense = layers.Dense(2, dtype="mixed_float16")
    assert dense.dtype_policy.name == "mixed_float16"  # Keras 3.15
    assert dense.variable_dtype == "float32"
    assert layers.Dense(2).dtype_policy.name == "float32"
    assert layers.Dense(2, dtype=keras.DTypePolicy("float64")).dtype == "float64"
    assert keras.Input((2,), dtype="int32").dtype == "int32"


def test_keras_names_and_orders():
    names = [keras.optimizers.SGD().name, keras.optimizers.RMSprop().name]
    assert names == ["sgd", "rm_sprop"]  # Keras 3.15
    assert keras.optimizers.AdamW().name == "adam_w"
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)
    assert keras.optimizers.schedules.serialize(schedule) == {  # Keras 3.15
        "module": "keras.optimizers.schedules",
        "class_name": "ExponentialDecay",
        "config": {
            "initial_learning_rate": 0.1,
            "decay_steps": 10,
            "decay_rate": 0.9,
            "staircase": False,
            "name": "ExponentialDecay",
        },
        "registered_name": None,
    }
    loss = keras.losses.BinaryCrossentropy(True)  # from_logits, by position as in Keras
    assert loss.get_config()["from_logits"] is True
    assert keras.losses.Huber().name == "huber_loss"
    with pytest.raises(TypeError, match="Huber: got an unexpected keyword argument 'bogus'"):
        keras.losses.Huber(bogus=1)
    accuracy = keras.metrics.Accuracy("acc")  # name first, as in Keras
    accuracy.update_state([1, 2], [1, 3])
    assert accuracy.name == "acc" and float(accuracy.result()) == 0.5
    up = layers.Conv2DTranspose(4, 3, 2, "same", 1)  # output_padding fifth, as in Keras
    assert up(np.ones((1, 5, 5, 2), "float32")).shape == (1, 10, 10, 4)  # Keras 3.15


# ----------------------------------------------------------------- the stateless API


def _stateless_model():
    return keras.Sequential(
        [
            keras.Input((3,)),
            layers.Dense(2, kernel_initializer="ones", bias_initializer="zeros"),
            layers.BatchNormalization(momentum=0.5),
        ]
    )


def test_stateless_call_uses_the_given_values_and_leaves_the_model():
    model = _stateless_model()
    x = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, -1.0]], "float32")
    trainable = [np.full((3, 2), 0.5, "float32"), np.array([1.0, -1.0], "float32")]
    trainable += [np.ones(2, "float32"), np.zeros(2, "float32")]
    non_trainable = [np.zeros(2, "float32"), np.ones(2, "float32")]
    out, after = model.stateless_call(trainable, non_trainable, x, training=True)
    # Keras 3.15's figures
    np.testing.assert_allclose(out.numpy(), [[0.99978] * 2, [-0.99978] * 2], atol=1e-5)
    np.testing.assert_allclose(np.array(after), [[1.25, 0.25], [1.625, 1.625]], atol=1e-5)
    assert model.layers[0].kernel.numpy().tolist() == [[1.0, 1.0]] * 3  # unchanged
    assert model.layers[1].moving_mean.numpy().tolist() == [0.0, 0.0]
    out, after = model.stateless_call(trainable, non_trainable, x)
    np.testing.assert_allclose(out.numpy(), [[3.998, 1.999], [0.9995, -0.9995]], atol=1e-4)
    with pytest.raises(ValueError, match="expected 4 trainable_variables. Received: 1"):
        model.stateless_call(trainable[:1], non_trainable, x)


def test_optimizer_stateless_apply():
    model = _stateless_model()
    model.build((None, 3))
    optimizer = keras.optimizers.Adam(learning_rate=0.1)
    optimizer.build(model.trainable_variables)
    values = [np.full((3, 2), 0.5, "float32"), np.array([1.0, -1.0], "float32")]
    values += [np.ones(2, "float32"), np.zeros(2, "float32")]
    grads = [np.ones((3, 2), "float32"), np.array([0.5, -0.5], "float32")]
    grads += [np.zeros(2, "float32"), np.ones(2, "float32")]
    values, state = optimizer.stateless_apply(optimizer.variables, grads, values)
    values, state = optimizer.stateless_apply(state, grads, values)
    expected = [[[0.3, 0.3]] * 3, [0.8, -0.8], [1.0, 1.0], [-0.2, -0.2]]  # Keras 3.15
    for value, want in zip(values, expected):
        np.testing.assert_allclose(value, want, atol=1e-5)
    assert int(state[0]) == 2 and optimizer.iterations == 0
    assert model.layers[0].kernel.numpy().tolist() == [[1.0, 1.0]] * 3
    with pytest.raises(ValueError, match="build the optimizer first"):
        keras.optimizers.SGD().stateless_apply([], [], [])


def test_metric_stateless_functions():
    metric = keras.metrics.SparseCategoricalAccuracy()
    y_true = np.array([0, 1, 2])
    state = metric.stateless_update_state(metric.variables, y_true, np.eye(3)[[0, 2, 2]])
    state = metric.stateless_update_state(state, y_true, np.eye(3)[[0, 1, 2]])
    assert [float(v) for v in state] == [5.0, 6.0]  # Keras 3.15: total, count
    assert float(metric.stateless_result(state)) == pytest.approx(5 / 6)
    assert float(metric.result()) == 0.0  # the metric itself is untouched
    assert [float(v) for v in metric.stateless_reset_state()] == [0.0, 0.0]

    class Count(keras.metrics.Metric):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.n = self.add_weight(name="n", initializer="zeros", shape=())

        def update_state(self, y):
            self.n.assign(self.n + float(np.size(y)))

        def result(self):
            return self.n

    count = Count()
    state = count.stateless_update_state([np.array(2.0)], np.ones(3))
    assert [float(v) for v in state] == [5.0] and float(count.result()) == 0.0  # Keras
    with pytest.raises(ValueError, match="expected 1 metric variables. Received: 2"):
        count.stateless_update_state([0.0, 0.0], np.ones(3))


def test_state_tree_round_trip():
    model = _stateless_model()
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    tree = model.get_state_tree("numpy_array")
    name = model.name
    # Keras 3.15's layout: branches, then the layer path
    assert sorted(tree) == [
        "metrics_variables",
        "non_trainable_variables",
        "optimizer_variables",
        "trainable_variables",
    ]
    dense = model.layers[0].name
    assert tree["trainable_variables"][name][dense]["kernel"].shape == (3, 2)
    assert set(tree["metrics_variables"]["loss"]) == {"total", "count"}
    assert int(tree["optimizer_variables"][model.optimizer.name]["iteration"]) == 1
    copy = _stateless_model()
    copy.compile(optimizer="adam", loss="mse", metrics=["mae"])
    copy.fit(np.zeros((4, 3)), np.zeros((4, 2)), verbose=0)
    renamed = {
        branch: {copy.name: values[name]} if branch.endswith("trainable_variables") else values
        for branch, values in tree.items()
    }
    renamed["trainable_variables"][copy.name] = {
        copy.layers[i].name: layer
        for i, layer in enumerate(tree["trainable_variables"][name].values())
    }
    renamed["non_trainable_variables"][copy.name] = {
        copy.layers[1].name: tree["non_trainable_variables"][name][model.layers[1].name]
    }
    renamed["optimizer_variables"] = {}
    renamed["metrics_variables"] = {}
    copy.set_state_tree(renamed)
    np.testing.assert_allclose(
        copy.predict(np.ones((2, 3)), verbose=0), model.predict(np.ones((2, 3)), verbose=0)
    )
    with pytest.raises(ValueError, match="the model has no state named"):
        copy.set_state_tree({"trainable_variables": {"nothing": {"kernel": np.ones(1)}}})


def test_auc_and_r2_score_options_as_keras():
    # the draws of one seeded stream, in the order Keras 3.15's run took them
    rng = np.random.default_rng(0)
    y = (rng.random(200) < 0.3).astype("float32")
    p = np.clip(y * 0.3 + rng.random(200) * 0.7, 0, 1).astype("float32")
    w = rng.random(200).astype("float32")
    for curve, plain, weighted in (("ROC", 0.84874, 0.83717), ("PR", 0.75559, 0.72852)):
        metric = keras.metrics.AUC(curve=curve)
        metric.update_state(y, p)
        assert float(metric.result()) == pytest.approx(plain, abs=2e-5)  # Keras 3.15
        metric = keras.metrics.AUC(curve=curve)
        metric.update_state(y, p, sample_weight=w)
        assert float(metric.result()) == pytest.approx(weighted, abs=2e-5)
    t = rng.random((50, 3)).astype("float32")
    q = (t + 0.3 * rng.random((50, 3))).astype("float32")
    metric = keras.metrics.R2Score()
    metric.update_state(t, q)
    assert float(metric.result()) == pytest.approx(0.61794, abs=2e-5)
    metric = keras.metrics.R2Score()
    metric.update_state(t, q, sample_weight=rng.random(50).astype("float32"))
    assert float(metric.result()) == pytest.approx(0.57846, abs=2e-5)  # weights were ignored
    for aggregation, value in (
        (None, [0.6317, 0.68676, 0.57516]),
        ("variance_weighted_average", 0.60838),
    ):
        metric = keras.metrics.R2Score(class_aggregation=aggregation, num_regressors=2)
        metric.update_state(t, q, sample_weight=rng.random(50).astype("float32"))
        np.testing.assert_allclose(np.asarray(metric.result()), value, atol=2e-5)
    labels = (rng.random((60, 3)) < 0.4).astype("float32")
    scores = np.clip(labels * 0.4 + rng.random((60, 3)) * 0.6, 0, 1).astype("float32")
    expected = [
        ({"multi_label": True}, 0.92026),
        ({"multi_label": True, "label_weights": [1, 2, 0.5]}, 0.90671),
        ({"label_weights": [1, 2, 0.5]}, 0.92718),
        ({"multi_label": True, "curve": "PR"}, 0.925),
        ({"summation_method": "minoring"}, 0.92059),
        ({"summation_method": "majoring", "curve": "PR"}, 0.91331),
        ({"curve": "PRGAIN"}, 0.87546),
        ({"thresholds": [0.2, 0.5, 0.8]}, 0.86205),
        (
            {
                "num_thresholds": 7,
                "multi_label": True,
                "num_labels": 3,
                "curve": "PR",
                "summation_method": "minoring",
            },
            0.65169,
        ),
    ]
    for kwargs, value in expected:
        metric = keras.metrics.AUC(**kwargs)
        metric.update_state(labels, scores, sample_weight=rng.random(60).astype("float32"))
        assert float(metric.result()) == pytest.approx(value, abs=2e-5), kwargs
    with pytest.raises(ValueError, match="`num_labels` is needed only when `multi_label`"):
        keras.metrics.AUC(num_labels=3)
    with pytest.raises(ValueError, match="Invalid value for argument `class_aggregation`"):
        keras.metrics.R2Score(class_aggregation="median")


def test_summary_options_print_as_keras():
    inner = keras.Sequential(
        [keras.Input((4,)), layers.Dense(3, name="d1"), layers.Dense(2, name="d2")],
        name="inner",
    )
    inner.layers[0].trainable = False
    model = keras.Sequential([keras.Input((4,)), inner, layers.Dense(1, name="out")], name="outer")
    printed = []
    model.summary(show_trainable=True, print_fn=printed.append)
    model.summary(expand_nested=True, print_fn=printed.append)
    model.summary(expand_nested=True, show_trainable=True, line_length=80, print_fn=printed.append)
    model.summary(positions=[0.5, 0.8, 1.0], print_fn=printed.append)
    path = os.path.join(os.path.dirname(__file__), "fixtures", "keras_summary_options.txt")
    with open(path, encoding="utf-8") as f:
        assert "\n".join(printed) + "\n" == f.read()  # Keras 3.15's print, character for character
    only = []
    model.summary(layer_range=["out", "out"], print_fn=only.append)
    assert "out (Dense)" in only[0] and "inner (Sequential)" not in only[0]
    with pytest.raises(ValueError, match="do not match the layer names"):
        model.summary(layer_range=["nothing", "out"])


def test_clone_model_clone_function_call_function_recursive():
    inputs = keras.Input((4,), name="x")
    h = layers.Dense(8, activation="relu", name="h")(inputs)
    shared = layers.Dense(8, name="shared")
    a = shared(h)
    b = shared(a)
    out = layers.Dense(2, name="out")(layers.Add(name="add")([a, b]))
    model = keras.Model(inputs, out, name="f")
    model.compile(optimizer="adam", loss="mse")

    def swap(layer):  # was ignored: the clone kept relu
        if isinstance(layer, layers.Dense) and layer.name == "h":
            return layers.Dense(8, activation="tanh", name="h2")
        return layer.__class__.from_config(layer.get_config())

    calls = []

    def call_fn(layer, *args, **kwargs):
        calls.append(layer.name)
        out = layer(*args, **kwargs)
        if layer.name == "out":
            out = layers.Activation("sigmoid", name="sig")(out)
        return out

    copy = keras.models.clone_model(model, clone_function=swap, call_function=call_fn)
    # Keras 3.15's figures
    assert [layer.name for layer in copy.layers] == ["x", "h2", "shared", "add", "out", "sig"]
    assert calls == ["h2", "shared", "shared", "add", "out"]  # the shared layer cloned once
    assert len(copy.weights) == 6 and copy.optimizer is not None  # compiled as the original
    y = copy.predict(np.ones((2, 4)), verbose=0)
    assert ((y > 0) & (y < 1)).all()
    inner = keras.Sequential([keras.Input((3,), name="inp"), layers.Dense(2, name="d")], name="s")
    outer = keras.Sequential([keras.Input((3,)), inner, layers.Dense(1, name="o")], name="outer")
    names = []

    def track(layer):
        names.append(layer.name)
        return layer.__class__.from_config(layer.get_config())

    copy = keras.models.clone_model(outer, clone_function=track, recursive=True)
    assert names == ["d", "o"] and copy.layers[0] is not inner
    copy = keras.models.clone_model(model, input_tensors=keras.Input((4,), name="new_x"))
    assert copy.output.shape == (None, 2)
    with pytest.raises(ValueError, match="`call_function` argument is not supported with Seq"):
        keras.models.clone_model(outer, call_function=call_fn)


def test_lookup_layers_oov_methods_tf_idf_and_padding():
    vocab, oov = [10, 20, 30], np.array([100, 300, 700, 1100, 1700, 2000])

    def ids(layer, x):
        return np.asarray(layer(x)).tolist()

    # Keras 3.15's docstring and values
    floormod = layers.IntegerLookup(vocabulary=vocab, num_oov_indices=4, oov_method="floormod")
    assert ids(floormod, oov) == [0, 0, 0, 0, 0, 0]
    farmhash = layers.IntegerLookup(vocabulary=vocab, num_oov_indices=4, oov_method="farmhash")
    assert ids(farmhash, oov) == [3, 3, 2, 2, 0, 1]
    salted = layers.IntegerLookup(
        vocabulary=vocab, num_oov_indices=4, oov_method="farmhash", salt=7
    )
    assert ids(salted, oov) == [2, 0, 3, 2, 0, 0]
    strings = layers.StringLookup(vocabulary=["a", "b"], num_oov_indices=3, salt=[1, 2])
    assert ids(strings, np.array(["x", "y", "zz", "a"])) == [1, 1, 1, 3]
    tf_idf = layers.StringLookup(
        vocabulary=["a", "b", "c"], idf_weights=[0.5, 1.0, 2.0], output_mode="tf_idf"
    )
    out = tf_idf(np.array([["a", "a", "c", "x"], ["b", "x", "x", "c"]])).numpy()
    np.testing.assert_allclose(out, [[7 / 6, 1.0, 0.0, 2.0], [7 / 3, 0.0, 1.0, 2.0]], rtol=1e-5)
    adapted = layers.StringLookup(output_mode="tf_idf")
    adapted.adapt(np.array([["a", "b", "a"], ["a", "c", "c"], ["b", "b", "d"]]))
    assert adapted.get_vocabulary() == ["[UNK]", "b", "a", "c", "d"]
    out = adapted(np.array([["a", "d", "x"]])).numpy()
    np.testing.assert_allclose(out, [[0.8047, 0.0, 0.6931, 0.0, 0.9163]], atol=1e-4)
    padded = layers.IntegerLookup(
        vocabulary=[1, 2], output_mode="multi_hot", max_tokens=6, pad_to_max_tokens=True
    )
    assert ids(padded, np.array([[1, 5]])) == [[1, 1, 0, 0, 0, 0]]
    assert ids(layers.StringLookup(vocabulary=["é"]), np.array([b"\xc3\xa9", b"x"])) == [1, 0]
    with pytest.raises(ValueError, match="`salt` can only be used when `oov_method='farmhash'`"):
        layers.IntegerLookup(vocabulary=vocab, salt=3)
    with pytest.raises(ValueError, match="sparse=True needs TensorFlow's SparseTensor"):
        layers.StringLookup(vocabulary=["a"], output_mode="multi_hot", sparse=True)
    again = layers.StringLookup.from_config(tf_idf.get_config())
    np.testing.assert_allclose(
        again(np.array([["a", "x"]])).numpy(), tf_idf(np.array([["a", "x"]])).numpy()
    )


def test_resizing_and_center_crop_as_keras_and_differentiable():
    # Keras 3.15's outputs on the same images (tests/layers/fixtures/keras_resizing.npz):
    # bicubic, lanczos3 and crop_to_aspect_ratio differed (crop_to_aspect_ratio was
    # ignored), pad_to_aspect_ratio, fill_value and antialias were refused
    path = os.path.join(
        os.path.dirname(__file__), "..", "layers", "fixtures", "keras_resizing.npz"
    )
    x = np.random.default_rng(0).random((2, 5, 7, 3)).astype("float32")
    options = {
        "{interpolation:bilinear}": {"interpolation": "bilinear"},
        "{interpolation:nearest}": {"interpolation": "nearest"},
        "{interpolation:bicubic}": {"interpolation": "bicubic"},
        "{crop_to_aspect_ratio:True}": {"crop_to_aspect_ratio": True},
        "{pad_to_aspect_ratio:True}": {"pad_to_aspect_ratio": True},
        "{pad_to_aspect_ratio:True,fill_value:0.5}": {
            "pad_to_aspect_ratio": True,
            "fill_value": 0.5,
        },
        "{interpolation:lanczos3}": {"interpolation": "lanczos3"},
        "{antialias:True}": {"antialias": True},
    }
    with np.load(path) as keras_outputs:
        for key, kwargs in options.items():
            out = layers.Resizing(8, 6, **kwargs)(x).numpy()
            np.testing.assert_allclose(out, keras_outputs[key], atol=1e-5, err_msg=key)
        np.testing.assert_allclose(layers.CenterCrop(4, 4)(x).numpy(), keras_outputs["center"])
        np.testing.assert_allclose(
            layers.CenterCrop(6, 9)(x).numpy(), keras_outputs["center_up"], atol=1e-5
        )
    pixels = (x * 255).astype("uint8")  # Keras 3.15: Resizing keeps uint8, CenterCrop casts
    assert layers.Resizing(8, 6)(pixels).dtype == "uint8"
    assert layers.CenterCrop(4, 4)(pixels).dtype == "float32"
    assert layers.CenterCrop(6, 9)(pixels).dtype == "float32"
    inputs = keras.Input((5, 7, 3))
    head = layers.Conv2D(2, 1)
    model = keras.Model(inputs, layers.CenterCrop(3, 3)(layers.Resizing(10, 14)(head(inputs))))
    model.compile(optimizer="sgd", loss="mse")
    before = head.kernel.numpy().copy()
    model.train_on_batch(x, np.ones((2, 3, 3, 2), "float32"))
    assert not np.array_equal(head.kernel.numpy(), before)  # the gradient passed through


@pytest.mark.parametrize(
    "layer",
    [layers.RandomPerspective(seed=1), layers.RandomElasticTransform(seed=1)],
    ids=lambda layer: type(layer).__name__,
)
def test_geometric_augmentations_refuse_targets_they_would_leave_behind(layer):
    # these layers passed boxes and masks through untouched: labels in the wrong place.
    # (Flips, rotations, zooms, translations, crops and resizes move them: the tests of
    # tests/test_bounding_boxes.py)
    images = np.random.default_rng(0).random((2, 8, 8, 3)).astype("float32")
    boxes = {"boxes": np.zeros((2, 1, 4), "float32"), "labels": np.ones((2, 1))}
    for key, target in (("bounding_boxes", boxes), ("segmentation_masks", images[..., :1])):
        with pytest.raises(ValueError, match=f"does not move {key} with them"):
            layer({"images": images, key: target}, training=True)
    kept = layer({"images": images, "bounding_boxes": boxes}, training=False)
    assert sorted(kept) == ["bounding_boxes", "images"]
    kept = layers.RandomBrightness(0.2, seed=1)({"images": images, "bounding_boxes": boxes})
    assert np.asarray(kept["bounding_boxes"]["boxes"]).tolist() == boxes["boxes"].tolist()
