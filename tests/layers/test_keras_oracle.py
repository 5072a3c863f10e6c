"""Layers against real Keras 3 with the weights copied across by position (optional: skipped
when keras is not installed; run here with Keras 3 on JAX, all equal)."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from keras import layers as K  # noqa: E402

from shendu import layers as S  # noqa: E402

# Keras/JAX's own array conversion warns under NumPy 2 (third-party, not shendu's code)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CASES = [
    ("Conv2D same s2", lambda m: m.Conv2D(4, 3, strides=2, padding="same"), (2, 7, 8, 3)),
    ("Conv1D causal d2", lambda m: m.Conv1D(4, 3, padding="causal", dilation_rate=2), (2, 9, 3)),
    (
        "Depthwise",
        lambda m: m.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
        (2, 6, 6, 3),
    ),
    ("Separable", lambda m: m.SeparableConv2D(4, 3), (2, 6, 6, 3)),
    ("MaxPool same", lambda m: m.MaxPooling2D(3, 2, padding="same"), (2, 7, 7, 3)),
    ("AvgPool same", lambda m: m.AveragePooling2D(3, 2, padding="same"), (2, 7, 7, 3)),
    ("LSTM seq", lambda m: m.LSTM(5, return_sequences=True), (2, 6, 3)),
    ("LSTM back", lambda m: m.LSTM(5, go_backwards=True, return_sequences=True), (2, 6, 3)),
    ("GRU", lambda m: m.GRU(5, return_sequences=True), (2, 6, 3)),
    ("GRU before", lambda m: m.GRU(5, reset_after=False), (2, 6, 3)),
    ("SimpleRNN", lambda m: m.SimpleRNN(5), (2, 6, 3)),
    ("LayerNorm", lambda m: m.LayerNormalization(), (2, 4, 6)),
    ("GroupNorm", lambda m: m.GroupNormalization(2), (2, 4, 6)),
    ("BatchNorm", lambda m: m.BatchNormalization(), (4, 6)),
    ("Embedding", lambda m: m.Embedding(10, 4), (2, 5)),
    ("UpSampling", lambda m: m.UpSampling2D(2), (2, 3, 3, 2)),
    ("PReLU", lambda m: m.PReLU(), (2, 5)),
]


@pytest.mark.parametrize("name,make,shape", CASES, ids=[c[0] for c in CASES])
def test_layer_matches_keras(name, make, shape):
    rng = np.random.default_rng(0)
    x = (
        rng.integers(0, 10, shape)
        if name == "Embedding"
        else rng.standard_normal(shape).astype("float32")
    )
    kl, sl = make(K), make(S)
    ky = np.asarray(kl(x))
    sl(x)
    sl.set_weights([np.asarray(w) for w in kl.get_weights()])
    np.testing.assert_allclose(sl(x).numpy(), ky, atol=1e-4)


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("k,s", [(2, 1), (3, 2), (4, 2), (3, 3), (2, 3)])
def test_conv2d_transpose_matches_keras(padding, k, s):
    x = np.random.default_rng(0).standard_normal((1, 5, 4, 2)).astype("float32")
    kl, sl = (
        K.Conv2DTranspose(3, k, strides=s, padding=padding),
        S.Conv2DTranspose(3, k, strides=s, padding=padding),
    )
    ky = np.asarray(kl(x))
    sl(x)
    sl.set_weights([np.asarray(w) for w in kl.get_weights()])
    np.testing.assert_allclose(sl(x).numpy(), ky, atol=1e-4)


def test_multi_head_attention_matches_keras():
    rng = np.random.default_rng(0)
    q = rng.standard_normal((2, 4, 6)).astype("float32")
    v = rng.standard_normal((2, 5, 6)).astype("float32")
    kl, sl = K.MultiHeadAttention(2, 3), S.MultiHeadAttention(2, 3)
    ky = np.asarray(kl(q, v))
    sl(q, v)
    sl.set_weights([np.asarray(w) for w in kl.get_weights()])
    np.testing.assert_allclose(sl(q, v).numpy(), ky, atol=1e-4)
    np.testing.assert_allclose(
        sl(q, q, use_causal_mask=True).numpy(),
        np.asarray(kl(q, q, use_causal_mask=True)),
        atol=1e-4,
    )
