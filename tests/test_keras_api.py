"""The Keras core API around the ops: random, config, tree, backend, utils, saving and models
helpers, initializers, scopes, InputSpec, Function and Operation, and the top-level names."""

import collections
import json
import os

import numpy as np
import pytest

import shendu
import shendu as keras
from shendu import layers as L

# ------------------------------------------------------------------------------ random


def test_random_seeds_and_streams():
    a = keras.random.normal((3, 4), seed=7).numpy()
    b = keras.random.normal((3, 4), seed=7).numpy()
    np.testing.assert_array_equal(a, b)  # an int seed repeats its draw
    gen = keras.random.SeedGenerator(42)
    first = keras.random.uniform((5,), seed=gen).numpy()
    second = keras.random.uniform((5,), seed=gen).numpy()
    assert not np.array_equal(first, second)  # a stream advances
    state = gen.get_state()
    third = keras.random.uniform((5,), seed=gen).numpy()
    gen.set_state(state)
    np.testing.assert_array_equal(keras.random.uniform((5,), seed=gen).numpy(), third)
    again = keras.random.SeedGenerator(42)
    np.testing.assert_array_equal(keras.random.uniform((5,), seed=again).numpy(), first)
    assert keras.random.SeedGenerator.from_config(gen.get_config())._initial_seed == 42


def test_random_distributions():
    t = keras.random.truncated_normal((2000,), stddev=2.0, seed=1).numpy()
    assert np.abs(t).max() <= 4.0 and t.dtype == np.float32
    r = keras.random.randint((1000,), 2, 5, seed=1).numpy()
    assert r.dtype == np.int32 and r.min() == 2 and r.max() == 4
    u = keras.random.uniform((1000,), -1, 1, seed=3).numpy()
    assert -1 <= u.min() and u.max() < 1
    logits = np.log(np.array([[0.1, 0.9], [0.9, 0.1]]))
    c = keras.random.categorical(logits, 2000, seed=0).numpy()
    assert c.shape == (2, 2000)
    assert 0.85 < c[0].mean() < 0.95 and 0.05 < c[1].mean() < 0.15
    assert keras.random.gamma((500,), 2.0, seed=0).numpy().mean() == pytest.approx(2.0, rel=0.15)
    assert keras.random.beta((500,), 2.0, 2.0, seed=0).numpy().mean() == pytest.approx(0.5, 0.1)
    assert keras.random.binomial((500,), 10, 0.3, seed=0).numpy().mean() == pytest.approx(3, 0.15)
    x = np.arange(10.0)
    s = keras.random.shuffle(x, seed=2).numpy()
    assert sorted(s) == list(x) and not np.array_equal(s, x)
    d = keras.random.dropout(np.ones(1000), 0.5, seed=4).numpy()
    assert set(np.unique(d)) == {0.0, 2.0}
    with pytest.raises(ValueError, match="`seed` must be None, an int or a SeedGenerator"):
        keras.random.normal((2,), seed="x")


# ------------------------------------------------------------------------------ config


def test_epsilon_and_image_data_format():
    assert keras.config.epsilon() == 1e-7
    keras.config.set_epsilon(1e-5)
    try:
        assert keras.backend.epsilon() == 1e-5
    finally:
        keras.config.set_epsilon(1e-7)
    with pytest.raises(ValueError, match="positive float"):
        keras.config.set_epsilon(-1)
    keras.config.set_image_data_format("channels_first")
    try:
        conv = L.Conv2D(4, 3)
        assert conv.data_format == "channels_first"
        assert conv(np.zeros((1, 2, 6, 6))).shape == (1, 4, 4, 4)
        assert L.MaxPooling2D().data_format == "channels_first"
    finally:
        keras.config.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match="must be one of"):
        keras.config.set_image_data_format("nhwc")


def _tiny():
    m = keras.Sequential([keras.Input((2,)), L.Dense(1)])
    m.compile("sgd", "mse")
    return m


def test_max_epochs_and_steps_cap_fit():
    keras.config.set_max_epochs(2)
    keras.config.set_max_steps_per_epoch(3)
    try:
        h = _tiny().fit(np.zeros((100, 2)), np.zeros((100, 1)), epochs=50, batch_size=4, verbose=0)
        assert len(h.epoch) == 2
        m = _tiny()
        m.fit(np.zeros((100, 2)), np.zeros((100, 1)), epochs=1, batch_size=4, verbose=0)
        assert m.optimizer.iterations == 3
    finally:
        keras.config.set_max_epochs(None)
        keras.config.set_max_steps_per_epoch(None)


def test_interactive_logging_switch(capsys):
    keras.config.disable_interactive_logging()
    try:
        assert not keras.utils.is_interactive_logging_enabled()
        _tiny().fit(np.zeros((8, 2)), np.zeros((8, 1)), epochs=1, batch_size=4, verbose=1)
        out = capsys.readouterr().out
        assert "\r" not in out and out.count("\n") == 2  # "Epoch 1/1" and one summary line
    finally:
        keras.config.enable_interactive_logging()


def test_dtype_policy():
    assert keras.config.dtype_policy().name == "float32"
    with pytest.warns(UserWarning, match="keeps variables and computation in float32"):
        keras.config.set_dtype_policy("mixed_float16")
    assert keras.config.dtype_policy().compute_dtype == "float32"
    keras.config.set_dtype_policy("float32")
    with pytest.raises(ValueError, match="Invalid dtype policy name"):
        keras.config.set_dtype_policy("int8")
    with pytest.raises(ValueError, match="no 'jax' backend"):
        keras.config.set_backend("jax")


# -------------------------------------------------------------------------------- tree


def test_tree_functions():
    Point = collections.namedtuple("Point", "x y")
    s = {"b": [1, (2, 3)], "a": Point(4, None)}
    assert keras.tree.flatten(s) == [4, None, 1, 2, 3]  # sorted keys, None a leaf
    doubled = keras.tree.map_structure(lambda v: None if v is None else v * 2, s)
    assert doubled["a"] == Point(8, None) and doubled["b"] == [2, (4, 6)]
    assert keras.tree.pack_sequence_as(s, list(range(5)))["b"] == [2, (3, 4)]
    keras.tree.assert_same_structure(s, doubled)
    with pytest.raises(ValueError, match="same nested structure"):
        keras.tree.assert_same_structure([1, 2], [1, [2]])
    with pytest.raises(ValueError, match="has 5 leaves but the flat sequence has 2"):
        keras.tree.pack_sequence_as(s, [1, 2])
    paths = dict(keras.tree.flatten_with_path({"a": [5, 6]}))
    assert paths == {("a", 0): 5, ("a", 1): 6}
    assert keras.tree.lists_to_tuples([1, [2]]) == (1, (2,))
    assert keras.tree.is_nested((1,)) and not keras.tree.is_nested(np.zeros(2))
    assert keras.tree.map_shape_structure(lambda s: s[0], {"x": (3, 4)}) == {"x": 3}
    assert keras.tree.traverse(lambda v: v * 10 if isinstance(v, int) else None, [1, [2]]) == [
        10,
        [20],
    ]
    up = keras.tree.map_structure_up_to({"a": None}, lambda v: len(v), {"a": [1, 2]})
    assert up == {"a": 2}


# ----------------------------------------------------------------------------- backend


def test_backend_functions():
    b = keras.backend
    assert b.backend() == "numpy"
    assert b.standardize_dtype("float") == "float64" or b.standardize_dtype(float) == "float32"
    assert b.standardize_dtype(np.int32) == "int32" and b.standardize_dtype("string") == "string"
    assert b.result_type("int32", "float32") == "float32"
    assert b.result_type("int32", float) == "float32" and b.result_type(int, float) == "float32"
    assert b.is_int_dtype("uint8") and b.is_float_dtype("float16")
    first, second = b.get_uid("x"), b.get_uid("x")
    assert second == first + 1
    L.Dense(1)
    b.clear_session()
    assert L.Dense(1).name == "dense"
    assert b.is_keras_tensor(keras.Input((2,))) and not b.is_keras_tensor(np.zeros(2))


# ------------------------------------------------------------------------------- utils


def test_timeseries_dataset_matches_the_definition():
    data = np.arange(100).reshape(50, 2)
    targets = np.arange(50) * 10
    ds = keras.utils.timeseries_dataset_from_array(
        data,
        targets,
        sequence_length=4,
        sequence_stride=3,
        sampling_rate=2,
        batch_size=5,
        start_index=2,
    )
    xs, ys = zip(*list(ds))
    x, y = np.concatenate(xs), np.concatenate(ys)
    positions = np.arange(0, 50 - 2 - 3 * 2, 3)
    assert len(ds) == len(xs) and len(x) == len(positions)
    for i, p in enumerate(positions):
        np.testing.assert_array_equal(x[i], data[2 + p + np.arange(4) * 2])
        assert y[i] == targets[2 + p]
    windows = keras.utils.timeseries_dataset_from_array(data, None, 10, batch_size=None)
    assert next(iter(windows)).shape == (10, 2)
    assert len(list(ds.take(2))) == 2 and ds.prefetch(4) is ds
    with pytest.raises(ValueError, match="`sequence_stride` must be higher than 0"):
        keras.utils.timeseries_dataset_from_array(data, None, 4, sequence_stride=0)


def test_split_dataset():
    x, y = np.arange(10), np.arange(10) * 2
    left, right = keras.utils.split_dataset((x, y), left_size=0.7, shuffle=True, seed=1)
    assert left.n == 7 and right.n == 3
    got = np.sort(np.concatenate([left.arrays[0], right.arrays[0]]))
    np.testing.assert_array_equal(got, x)
    np.testing.assert_array_equal(left.arrays[1], left.arrays[0] * 2)


class Squares(keras.utils.PyDataset):
    def __init__(self):
        super().__init__(workers=4)
        self.epochs_ended = 0

    def __len__(self):
        return 3

    def __getitem__(self, i):
        x = np.full((4, 2), float(i))
        return x, x.sum(-1, keepdims=True)

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_fit_accepts_a_py_dataset():
    ds = Squares()
    m = _tiny()
    h = m.fit(ds, epochs=2, verbose=0)
    assert len(h.epoch) == 2 and m.optimizer.iterations == 6 and ds.epochs_ended == 2
    assert m.evaluate(ds, verbose=0) >= 0 and m.predict(ds, verbose=0).shape == (12, 1)
    assert keras.utils.Sequence is keras.utils.PyDataset


def test_pack_unpack_and_config():
    u = keras.utils
    assert u.unpack_x_y_sample_weight((1, 2)) == (1, 2, None)
    assert u.unpack_x_y_sample_weight(5) == (5, None, None)
    assert u.pack_x_y_sample_weight(1, 2, 3) == (1, 2, 3) and u.pack_x_y_sample_weight(1) == 1
    assert u.pack_x_y_sample_weight([1, 2]) == ([1, 2],) and u.pack_x_y_sample_weight(1, 2) == (
        1,
        2,
    )
    with pytest.raises(ValueError, match="Data is expected to be in format"):
        u.unpack_x_y_sample_weight((1, 2, 3, 4))
    c = u.Config(lr=0.1)
    c.epochs = 3
    assert c.lr == 0.1 and c["epochs"] == 3 and json.loads(c.to_json())["epochs"] == 3
    c.freeze()
    with pytest.raises(ValueError, match="frozen"):
        c.lr = 1


@keras.utils.register_keras_serializable(package="tests_api")
class Scaled(L.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_serialization_helpers():
    u = keras.utils
    assert u.get_registered_name(Scaled) == "tests_api>Scaled"
    assert u.get_registered_object("tests_api>Scaled") is Scaled
    assert "tests_api>Scaled" in u.get_custom_objects()
    config = u.serialize_keras_object(Scaled(3.0, name="s"))
    assert config == {"class_name": "Scaled", "config": Scaled(3.0, name="s").get_config()}
    rebuilt = u.deserialize_keras_object(config)
    assert isinstance(rebuilt, Scaled) and rebuilt.factor == 3.0
    assert isinstance(
        u.deserialize_keras_object({"class_name": "Adam", "config": {}}), keras.optimizers.Adam
    )
    # a bare name stays a name unless a custom object has it (Keras 3.15: "relu" -> "relu",
    # "SGD" -> "SGD"; a registered name -> the registered class)
    assert u.deserialize_keras_object("relu") == "relu"
    assert u.deserialize_keras_object("SGD") == "SGD"
    assert u.deserialize_keras_object("tests_api>Scaled") is Scaled
    assert u.deserialize_keras_object("f", custom_objects={"f": len}) is len
    with pytest.raises(ValueError, match="Unknown object: 'os.system'"):
        u.deserialize_keras_object({"class_name": "os.system", "config": {}})
    assert keras.saving.get_registered_name(Scaled) == "tests_api>Scaled"


def test_get_source_inputs_and_model_json(tmp_path):
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    out = L.Add()([L.Dense(2)(a), L.Dense(2)(b)])
    assert keras.utils.get_source_inputs(out) == [a, b]
    model = keras.Model([a, b], out)
    clone = keras.models.model_from_json(model.to_json())
    assert [type(x).__name__ for x in clone.layers] == [type(x).__name__ for x in model.layers]
    path = tmp_path / "m.shendu"
    keras.models.save_model(model, path)
    assert path.exists()


def test_get_file_reads_the_local_cache_only(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(
        FileNotFoundError,
        match="shendu never downloads. Download it .*"
        r"and place it at .*datasets.*data\.csv",
    ):
        keras.utils.get_file("data.csv", origin="https://example.com/data.csv")
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "data.csv").write_text("a,b\n")
    assert keras.utils.get_file("data.csv", origin="https://x/data.csv").endswith("data.csv")
    import hashlib

    digest = hashlib.sha256(b"a,b\n").hexdigest()
    keras.utils.get_file("data.csv", file_hash=digest)
    with pytest.raises(ValueError, match="does not match its expected sha256 hash"):
        keras.utils.get_file("data.csv", file_hash="0" * 64)


def test_image_helpers_and_directory_datasets(tmp_path):
    pytest.importorskip("PIL")
    u = keras.utils
    rng = np.random.default_rng(0)
    for cls in ("cat", "dog"):
        (tmp_path / "img" / cls).mkdir(parents=True)
        (tmp_path / "txt" / cls).mkdir(parents=True)
        for i in range(3):
            u.save_img(tmp_path / "img" / cls / f"{i}.png", rng.uniform(0, 255, (6, 8, 3)))
            (tmp_path / "txt" / cls / f"{i}.txt").write_text(f"{cls} number {i}")
    arr = u.img_to_array(u.load_img(tmp_path / "img" / "cat" / "0.png"))
    assert arr.shape == (6, 8, 3) and arr.dtype == np.float32
    small = u.load_img(
        tmp_path / "img" / "cat" / "0.png", color_mode="grayscale", target_size=(3, 4)
    )
    assert u.img_to_array(small).shape == (3, 4, 1)
    assert u.array_to_img(arr).size == (8, 6)
    ds = u.image_dataset_from_directory(
        tmp_path / "img", image_size=(4, 4), batch_size=4, seed=1, verbose=False
    )
    assert ds.class_names == ["cat", "dog"]
    x, y = next(iter(ds))
    assert x.shape == (4, 4, 4, 3) and set(y.tolist()) <= {0, 1}
    train, val = u.image_dataset_from_directory(
        tmp_path / "img",
        image_size=(4, 4),
        validation_split=0.34,
        subset="both",
        seed=2,
        label_mode="categorical",
        verbose=False,
    )
    assert train.n == 4 and val.n == 2 and next(iter(val))[1].shape == (2, 2)
    texts = u.text_dataset_from_directory(
        tmp_path / "txt", batch_size=6, shuffle=False, verbose=False
    )
    t, labels = next(iter(texts))
    assert t[0] == "cat number 0" and labels.tolist() == [0, 0, 0, 1, 1, 1]


def test_image_extra_error_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pil(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError("no PIL")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pil)
    with pytest.raises(ImportError, match=r"pip install 'shendu\[image\]'"):
        keras.utils.array_to_img(np.zeros((2, 2, 3)))


# ---------------------------------------------------------- initializers, activations, ...


def test_initializer_constraint_regularizer_names():
    assert keras.initializers.glorot_uniform is keras.initializers.GlorotUniform
    assert keras.initializers.OrthogonalInitializer is keras.initializers.Orthogonal
    w = keras.initializers.STFT(side="real")((8, 1, 5))
    assert w.shape == (8, 1, 5)
    np.testing.assert_allclose(w[:, 0, 0], np.hanning(8) / np.sqrt((np.hanning(8) ** 2).sum()))
    init = keras.initializers.deserialize({"class_name": "HeNormal", "config": {"seed": 3}})
    assert isinstance(init, keras.initializers.HeNormal)
    c = keras.constraints.deserialize(keras.constraints.serialize(keras.constraints.max_norm(2)))
    assert isinstance(c, keras.constraints.MaxNorm) and c.max_value == 2
    r = keras.regularizers.deserialize(keras.regularizers.serialize(keras.regularizers.l2(0.3)))
    assert r.l2 == 0.3
    assert keras.regularizers.orthogonal_regularizer is keras.regularizers.OrthogonalRegularizer
    assert keras.activations.deserialize("sparsemax") is keras.ops.sparsemax
    assert keras.activations.get("hard_swish") is keras.ops.hard_silu
    layer = L.Dense(3, activation="squareplus")
    assert layer(np.zeros((1, 2))).numpy().tolist() == [[1.0, 1.0, 1.0]]


# ----------------------------------------------------------------- scopes, specs, graphs


def test_stateless_scope_leaves_variables_unchanged():
    layer = L.Dense(2)
    layer.build((None, 3))
    before = layer.kernel.numpy().copy()
    new_kernel = np.ones((3, 2), np.float32)
    with keras.StatelessScope(state_mapping=[(layer.kernel, new_kernel)]) as scope:
        out = layer(np.ones((1, 3)))
        layer.bias.assign(np.full(2, 5.0))
    np.testing.assert_allclose(out.numpy(), [[3.0, 3.0]])
    np.testing.assert_array_equal(layer.kernel.numpy(), before)
    np.testing.assert_array_equal(layer.bias.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(scope.get_current_value(layer.bias), [5.0, 5.0])


def test_name_scope_device_and_symbolic_scope():
    from shendu.scopes import current_path, in_symbolic_scope

    with keras.name_scope("outer"), keras.name_scope("inner"):
        assert current_path() == "outer/inner"
    assert current_path() == ""
    with keras.device("cpu:0"):
        assert keras.backend.device() == "cpu"
    with pytest.raises(ValueError, match="Invalid device name: 'tpu'"):
        keras.device("tpu")
    with keras.SymbolicScope():
        assert in_symbolic_scope()


class OnlyRank3(L.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = keras.InputSpec(ndim=3, axes={-1: 4})


def test_input_spec_is_checked():
    layer = OnlyRank3(name="r3")
    assert layer(np.zeros((1, 2, 4))).shape == (1, 2, 4)
    with pytest.raises(
        ValueError,
        match="Input 0 of layer 'r3' is incompatible with the layer: "
        "expected ndim=3, found ndim=2",
    ):
        layer(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 4"):
        layer(np.zeros((1, 2, 5)))


def test_function_and_operation():
    x = keras.Input((3,))
    y = L.Dense(2, kernel_initializer="ones")(x)
    fn = keras.Function(x, y)
    np.testing.assert_allclose(fn(np.ones((1, 3))).numpy(), [[3.0, 3.0]])
    assert fn.inputs == [x] and len(fn.operations) == 1

    class Double(keras.Operation):
        def call(self, v):
            return keras.ops.multiply(v, 2)

    assert Double()(np.ones(2)).numpy().tolist() == [2.0, 2.0]


def test_top_level_names_are_the_library_objects():
    assert keras.Layer is L.Layer and keras.Input is L.Input and keras.Variable is L.Variable
    assert keras.Loss is keras.losses.Loss and keras.Metric is keras.metrics.Metric
    assert keras.Optimizer is keras.optimizers.Optimizer
    assert keras.Initializer is keras.initializers.Initializer
    assert keras.Regularizer is keras.regularizers.Regularizer
    assert keras.version() == shendu.__version__
    assert keras.remat(len) is len
    with keras.RematScope(mode="full"):
        pass
    assert keras.dtype_policies.get("float64").name == "float64"
    assert keras.mixed_precision.global_policy().name == "float32"
    assert os.environ.get("KERAS_BACKEND", "") != "shendu"  # importing sets nothing
