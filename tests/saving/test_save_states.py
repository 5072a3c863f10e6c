"""model.save() writes a file that load_model() loads in every state a model can be in, and
refuses up front what a loader would refuse; user data that looks like a URL or a path
is data."""

import numpy as np
import pytest

pytest.importorskip("safetensors")

import shendu  # noqa: E402
from shendu import layers as L  # noqa: E402
from shendu.saving import ModelFileError, load_model  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.random((16, 4)).astype("float32")
Y = RNG.random((16, 2)).astype("float32")


def _model():
    return shendu.Sequential([L.Input((4,)), L.Dense(5, name="a"), L.Dense(2, name="b")])


def _fit(m, epochs=1):
    m.fit(X, Y, epochs=epochs, batch_size=4, shuffle=False, verbose=0)


def compiled_not_trained():
    m = _model()
    m.compile("adam", "mse")
    return m


def trained_then_recompiled():
    m = compiled_not_trained()
    _fit(m)
    m.compile("sgd", "mse")
    return m


def frozen_after_training():
    m = compiled_not_trained()
    _fit(m)
    m.layers[0].trainable = False
    return m


def frozen_and_trained_again():
    m = frozen_after_training()
    m.compile("adam", "mse")
    _fit(m)
    return m


def unfrozen_after_training_frozen():
    m = frozen_and_trained_again()
    m.layers[0].trainable = True
    return m


def optimizer_replaced():
    m = compiled_not_trained()
    _fit(m)
    m.optimizer = shendu.optimizers.SGD(0.1, momentum=0.9)
    return m


def whole_model_frozen():
    m = compiled_not_trained()
    _fit(m)
    m.trainable = False
    return m


def never_compiled():
    return _model()


def weight_decay_and_ema():
    m = _model()
    m.compile(shendu.optimizers.AdamW(weight_decay=0.1, use_ema=True), "mse")
    _fit(m)
    return m


STATES = [
    compiled_not_trained,
    trained_then_recompiled,
    frozen_after_training,
    frozen_and_trained_again,
    unfrozen_after_training_frozen,
    optimizer_replaced,
    whole_model_frozen,
    never_compiled,
    weight_decay_and_ema,
]


@pytest.mark.parametrize("make", STATES, ids=[f.__name__ for f in STATES])
def test_every_state_saves_and_loads(make, tmp_path):
    m = make()
    path = str(tmp_path / "m.shendu")
    m.save(path)
    m2 = load_model(path)
    np.testing.assert_array_equal(m.predict(X, verbose=0), m2.predict(X, verbose=0))
    for a, b in zip(m.get_weights(), m2.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert [v.trainable for v in m2.weights] == [v.trainable for v in m.weights]
    if getattr(m, "optimizer", None) is not None:
        assert m2.optimizer.iterations == m.optimizer.iterations
        state, state2 = m.optimizer.get_state(), m2.optimizer.get_state()
        assert sorted(state) == sorted(state2)
        for k in state:
            np.testing.assert_array_equal(np.reshape(state[k], -1), np.reshape(state2[k], -1))


@pytest.mark.parametrize(
    "make",
    [trained_then_recompiled, frozen_and_trained_again, optimizer_replaced],
    ids=lambda f: f.__name__,
)
def test_loaded_model_trains_on_like_the_original(make, tmp_path):
    m = make()
    if not m.compiled or m.optimizer is None:
        pytest.skip("not compiled")
    path = str(tmp_path / "m.shendu")
    m.save(path)
    m2 = load_model(path)
    _fit(m, 2)
    _fit(m2, 2)
    for a, b in zip(m.get_weights(), m2.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_tokens_that_look_like_urls_and_paths_are_data(tmp_path):
    vocab = ["https://example.com/a", "../etc", "/root", "C:\\\\x", "~user", "file.h5"]
    inp = L.Input((1,), dtype="string")
    lookup = L.StringLookup(vocabulary=vocab)
    m = shendu.Model(inp, lookup(inp))
    path = str(tmp_path / "v.shendu")
    m.save(path)
    m2 = load_model(path)
    data = np.array([["../etc"], ["https://example.com/a"], ["unknown"]], dtype=object)
    np.testing.assert_array_equal(m.predict(data, verbose=0), m2.predict(data, verbose=0))
    assert m2.layers[-1].get_vocabulary()[1:] == vocab


@shendu.saving.register_serializable(package="tests")
class NamesAFile(L.Layer):
    def get_config(self):
        return {**super().get_config(), "filepath": "/etc/passwd"}


def test_save_refuses_what_load_would_refuse(tmp_path):
    inp = L.Input((2,))
    m = shendu.Model(inp, NamesAFile()(inp))
    path = tmp_path / "bad.shendu"
    with pytest.raises(ModelFileError, match="names a 'filepath'"):
        m.save(str(path))
    assert not path.exists() and not list(tmp_path.iterdir())


def test_save_refuses_a_config_deeper_than_the_loader_reads(tmp_path):
    model = _model()
    for _ in range(40):
        model = shendu.Sequential([L.Input((4,)), model])
    path = tmp_path / "deep.shendu"
    with pytest.raises(ValueError, match="nests deeper than the 100 levels"):
        model.save(str(path))
    assert not path.exists()


def test_optimizer_state_of_foreign_variables_is_refused_before_writing(tmp_path):
    m = compiled_not_trained()
    _fit(m)
    stranger = shendu.layers.Variable(np.zeros(3, np.float32), name="stranger")
    m.optimizer.build([stranger])
    path = tmp_path / "m.shendu"
    with pytest.raises(ValueError, match="variables that are not the model's: \\['stranger'\\]"):
        m.save(str(path))
    assert not path.exists()
    m.save(str(path), include_optimizer=False)
    assert load_model(str(path)).optimizer.iterations == 0


def test_legit_load_stays_within_the_file_size(tmp_path):
    """A 27 MB model loads with a peak of the file's size plus a few MiB: the weights
    stream from the file into the variables and slots (no second copy)."""
    import os
    import tracemalloc

    m = shendu.Sequential([L.Input((400,)), L.Dense(1500), L.Dense(1500), L.Dense(10)])
    m.compile("adam", "mse")
    m.fit(np.zeros((4, 400), "float32"), np.zeros((4, 10), "float32"), verbose=0)
    path = str(tmp_path / "big.shendu")
    m.save(path)
    size = os.path.getsize(path)
    tracemalloc.start()
    try:
        m2 = load_model(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < size + 8 * 2**20, (peak, size)
    np.testing.assert_array_equal(m2.layers[1].kernel.numpy(), m.layers[1].kernel.numpy())
