"""ONNX export: onnx.checker (full check) passes and onnxruntime matches predict on the
seed model and every benchmark model (MLP, mnist_convnet CNN, LSTM, Transformer block)."""

import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import shendu  # noqa: E402
from shendu import layers as L  # noqa: E402

RNG = np.random.default_rng(0)


def _check(model, x, tmp_path, rtol=1e-3, atol=1e-5):
    path = str(tmp_path / "m.onnx")
    model.export(path)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {i.name: v for i, v in zip(sess.get_inputs(), x if isinstance(x, list) else [x])}
    got = sess.run(None, feeds)
    want = model.predict(x, verbose=0)
    want = want if isinstance(want, list) else [want]
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def _seeded():
    shendu.set_random_seed(0)


def test_seed_model(tmp_path):
    _seeded()
    m = shendu.Sequential(
        [
            L.Dense(10, input_dim=4, activation="relu"),
            L.Dense(10, activation="relu"),
            L.Dense(3, activation="softmax"),
        ]
    )
    _check(m, RNG.standard_normal((5, 4)).astype("float32"), tmp_path)


def test_benchmark_mlp(tmp_path):
    _seeded()
    m = shendu.Sequential(
        [
            L.Input((784,)),
            L.Dense(512, activation="relu"),
            L.Dense(512, activation="relu"),
            L.Dense(10),
        ]
    )
    _check(m, RNG.standard_normal((4, 784)).astype("float32"), tmp_path)


def test_benchmark_cnn_with_batchnorm_and_dropout(tmp_path):
    _seeded()
    m = shendu.Sequential(
        [
            L.Input((28, 28, 1)),
            L.Conv2D(32, 3, activation="relu"),
            L.MaxPooling2D(2),
            L.Conv2D(64, 3, activation="relu", padding="same"),
            L.BatchNormalization(),
            L.MaxPooling2D(2),
            L.Flatten(),
            L.Dropout(0.5),
            L.Dense(10, activation="softmax"),
        ]
    )
    x = RNG.random((2, 28, 28, 1), dtype=np.float32)
    m.layers[3].moving_mean.assign(RNG.random(64).astype("float32"))
    _check(m, x, tmp_path)


def test_benchmark_lstm_and_gru_embedding(tmp_path):
    _seeded()
    m = shendu.Sequential([L.Input((50, 32)), L.LSTM(128), L.Dense(1)])
    _check(m, RNG.standard_normal((3, 50, 32)).astype("float32"), tmp_path)
    m2 = shendu.Sequential(
        [
            L.Input((7,), dtype="int64"),
            L.Embedding(20, 8),
            L.GRU(6, return_sequences=True),
            L.SimpleRNN(4, go_backwards=True),
            L.Dense(2),
        ]
    )
    _check(m2, RNG.integers(0, 20, (3, 7)), tmp_path)


def test_benchmark_transformer_block(tmp_path):
    _seeded()
    inp = L.Input((64, 128))
    att = L.MultiHeadAttention(num_heads=4, key_dim=32)(inp, inp)
    h = L.LayerNormalization(epsilon=1e-5)(L.Add()([inp, att]))
    ff = L.Dense(128)(L.Dense(512, activation="relu")(h))
    h = L.LayerNormalization(epsilon=1e-5)(L.Add()([h, ff]))
    out = L.Dense(1)(L.GlobalAveragePooling1D()(h))
    _check(shendu.Model(inp, out), RNG.standard_normal((2, 64, 128)).astype("float32"), tmp_path)


def test_unsupported_layer_is_named(tmp_path):
    m = shendu.Sequential([L.Input((4,)), L.Lambda(lambda t: t * 2, name="doubler")])
    with pytest.raises(ValueError, match=r"layer 'doubler' \(Lambda\) has no ONNX converter"):
        m.export(str(tmp_path / "x.onnx"))


def test_cli_export(tmp_path):
    pytest.importorskip("safetensors")
    m = shendu.Sequential([L.Input((4,)), L.Dense(3)])
    m.save(str(tmp_path / "m.shendu"))
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "shendu.cli",
            "export",
            str(tmp_path / "m.shendu"),
            str(tmp_path / "m.onnx"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert os.path.exists(tmp_path / "m.onnx")


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv_autoencoder_with_transposed_conv(tmp_path, padding):
    _seeded()
    m = shendu.Sequential(
        [
            L.Input((8, 8, 1)),
            L.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
            L.Conv2DTranspose(3, 3, strides=2, padding=padding, activation="sigmoid"),
            L.DepthwiseConv2D(3, padding="same"),
            L.GlobalMaxPooling2D(),
        ]
    )
    _check(m, RNG.random((2, 8, 8, 1), dtype=np.float32), tmp_path)
