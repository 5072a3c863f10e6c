"""GroupQueryAttention: weight shapes as Keras 3.15's; with as many key/value heads as
query heads it is multi-head attention; sharing heads equals repeating the key/value
projections; causal masking; errors; config round trip; .keras layout; a training step."""

import numpy as np
import pytest

import shendu as keras
from shendu import layers

RNG = np.random.default_rng(0)
Q = RNG.standard_normal((2, 5, 8)).astype("float32")
V = RNG.standard_normal((2, 6, 8)).astype("float32")


def test_weight_shapes_are_keras():
    layer = layers.GroupQueryAttention(head_dim=3, num_query_heads=6, num_key_value_heads=3)
    assert layer(Q, V).shape == (2, 5, 8)
    assert [w.shape for w in layer.get_weights()] == [
        (8, 6, 3), (6, 3), (8, 3, 3), (3, 3), (8, 3, 3), (3, 3), (6, 3, 8), (8,),
    ]  # fmt: skip


def test_equal_heads_is_multi_head_attention():
    gqa = layers.GroupQueryAttention(head_dim=4, num_query_heads=2, num_key_value_heads=2)
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    gqa(Q, V)
    mha(Q, V)
    mha.set_weights(gqa.get_weights())
    np.testing.assert_allclose(gqa(Q, V).numpy(), mha(Q, V).numpy(), rtol=1e-5, atol=1e-6)


def test_shared_heads_equal_repeated_projections():
    gqa = layers.GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)
    gqa(Q, V, use_causal_mask=False)
    mha = layers.MultiHeadAttention(num_heads=4, key_dim=4)
    mha(Q, V)
    w = gqa.get_weights()
    repeat = [np.repeat(w[2], 2, axis=1), np.repeat(w[3], 2, axis=0)]
    repeat += [np.repeat(w[4], 2, axis=1), np.repeat(w[5], 2, axis=0)]
    mha.set_weights([w[0], w[1], *repeat, w[6], w[7]])
    np.testing.assert_allclose(gqa(Q, V).numpy(), mha(Q, V).numpy(), rtol=1e-5, atol=1e-6)
    causal = gqa(Q, Q, use_causal_mask=True).numpy()
    np.testing.assert_allclose(
        causal[:, :1], gqa(Q[:, :1], Q[:, :1]).numpy(), rtol=1e-5, atol=1e-6
    )


def test_errors_and_config():
    with pytest.raises(ValueError, match="must be divisible by `num_key_value_heads`"):
        layers.GroupQueryAttention(head_dim=4, num_query_heads=3, num_key_value_heads=2)
    with pytest.raises(ValueError, match="`sliding_window` and `use_gate` are not supported"):
        layers.GroupQueryAttention(4, 2, 1, sliding_window=8)
    layer = layers.GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=1)
    config = layer.get_config()
    assert config["num_key_value_heads"] == 1 and config["head_dim"] == 4
    assert layers.GroupQueryAttention.from_config(config)(Q, V).shape == (2, 5, 8)


def test_trains_and_saves_in_keras_layout(tmp_path):
    pytest.importorskip("h5py")
    import h5py

    keras.utils.set_random_seed(0)
    inp = keras.Input((5, 8))
    att = layers.GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)
    out = layers.Dense(1)(layers.GlobalAveragePooling1D()(att(inp, inp)))
    model = keras.Model(inp, out)
    model.compile("adam", "mse")
    history = model.fit(Q, np.ones((2, 1)), epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "g.keras")
    back = keras.saving.load_model(tmp_path / "g.keras")
    np.testing.assert_allclose(back.predict(Q, verbose=0), model.predict(Q, verbose=0), rtol=1e-6)
    model.save_weights(tmp_path / "g.weights.h5")
    with h5py.File(tmp_path / "g.weights.h5") as h5:
        assert h5["layers/grouped_query_attention/_key_dense/vars/0"].shape == (8, 2, 4)
