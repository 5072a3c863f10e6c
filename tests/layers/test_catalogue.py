"""Every catalogue layer through the common layer test (build, shapes, dtype, weight shapes
as in Keras, config round trip, one training step), plus references and error messages."""

import numpy as np
import pytest

import shendu
from shendu import layers as L
from shendu.testing import gradcheck, run_layer_test

# (class, kwargs, input shape, output shape, Keras weight shapes or None, input dtype)
CASES = [
    (L.Conv1D, {"filters": 4, "kernel_size": 3}, (2, 7, 3), (2, 5, 4), [(3, 3, 4), (4,)]),
    (
        L.Conv1D,
        {"filters": 4, "kernel_size": 3, "padding": "causal", "dilation_rate": 2},
        (2, 7, 3),
        (2, 7, 4),
        None,
    ),
    (
        L.Conv2D,
        {"filters": 4, "kernel_size": 3, "padding": "same", "strides": 2},
        (2, 6, 6, 3),
        (2, 3, 3, 4),
        [(3, 3, 3, 4), (4,)],
    ),
    (
        L.Conv2D,
        {"filters": 4, "kernel_size": (3, 2), "groups": 2, "use_bias": False},
        (2, 5, 5, 4),
        (2, 3, 4, 4),
        [(3, 2, 2, 4)],
    ),
    (
        L.Conv2D,
        {"filters": 2, "kernel_size": 3, "data_format": "channels_first"},
        (2, 3, 5, 5),
        (2, 2, 3, 3),
        [(3, 3, 3, 2), (2,)],
    ),
    (
        L.Conv1DTranspose,
        {"filters": 2, "kernel_size": 3, "strides": 2},
        (2, 4, 3),
        (2, 9, 2),
        [(3, 2, 3), (2,)],
    ),
    (
        L.Conv2DTranspose,
        {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"},
        (2, 4, 4, 3),
        (2, 8, 8, 2),
        [(3, 3, 2, 3), (2,)],
    ),
    (
        L.DepthwiseConv2D,
        {"kernel_size": 3, "depth_multiplier": 2},
        (2, 5, 5, 3),
        (2, 3, 3, 6),
        [(3, 3, 3, 2), (6,)],
    ),
    (
        L.SeparableConv2D,
        {"filters": 4, "kernel_size": 3},
        (2, 5, 5, 3),
        (2, 3, 3, 4),
        [(3, 3, 3, 1), (1, 1, 3, 4), (4,)],
    ),
    (L.MaxPooling1D, {"pool_size": 2}, (2, 6, 3), (2, 3, 3), []),
    (L.MaxPooling2D, {"pool_size": 2}, (2, 6, 6, 3), (2, 3, 3, 3), []),
    (L.AveragePooling1D, {"pool_size": 3, "strides": 1}, (2, 6, 3), (2, 4, 3), []),
    (L.AveragePooling2D, {"pool_size": 2, "padding": "same"}, (2, 5, 5, 3), (2, 3, 3, 3), []),
    (L.GlobalMaxPooling1D, {}, (2, 6, 3), (2, 3), []),
    (L.GlobalMaxPooling2D, {"keepdims": True}, (2, 4, 4, 3), (2, 1, 1, 3), []),
    (L.GlobalAveragePooling1D, {}, (2, 6, 3), (2, 3), []),
    (L.GlobalAveragePooling2D, {}, (2, 4, 4, 3), (2, 3), []),
    (L.BatchNormalization, {}, (4, 3), (4, 3), [(3,), (3,), (3,), (3,)]),
    (L.BatchNormalization, {"axis": 1}, (4, 3, 5), (4, 3, 5), [(3,), (3,), (3,), (3,)]),
    (L.LayerNormalization, {}, (2, 3, 4), (2, 3, 4), [(4,), (4,)]),
    (L.GroupNormalization, {"groups": 2}, (2, 3, 4), (2, 3, 4), [(4,), (4,)]),
    (L.RMSNormalization, {}, (2, 4), (2, 4), [(4,)]),
    (L.UnitNormalization, {}, (2, 4), (2, 4), []),
    (L.SpatialDropout1D, {"rate": 0.5}, (2, 5, 3), (2, 5, 3), []),
    (L.SpatialDropout2D, {"rate": 0.5}, (2, 4, 4, 3), (2, 4, 4, 3), []),
    (L.GaussianNoise, {"stddev": 0.1}, (2, 3), (2, 3), []),
    (L.GaussianDropout, {"rate": 0.3}, (2, 3), (2, 3), []),
    (L.AlphaDropout, {"rate": 0.3}, (2, 3), (2, 3), []),
    (L.ActivityRegularization, {"l1": 0.01}, (2, 3), (2, 3), []),
    (L.ReLU, {"max_value": 1.0, "negative_slope": 0.1}, (2, 3), (2, 3), []),
    (L.LeakyReLU, {}, (2, 3), (2, 3), []),
    (L.PReLU, {"alpha_initializer": "ones"}, (2, 3, 4), (2, 3, 4), [(3, 4)]),
    (L.ELU, {}, (2, 3), (2, 3), []),
    (L.Softmax, {}, (2, 3), (2, 3), []),
    (L.SimpleRNN, {"units": 4}, (2, 5, 3), (2, 4), [(3, 4), (4, 4), (4,)]),
    (
        L.LSTM,
        {"units": 4, "return_sequences": True},
        (2, 5, 3),
        (2, 5, 4),
        [(3, 16), (4, 16), (16,)],
    ),
    (L.GRU, {"units": 4}, (2, 5, 3), (2, 4), [(3, 12), (4, 12), (2, 12)]),
    (
        L.GRU,
        {"units": 4, "reset_after": False, "go_backwards": True},
        (2, 5, 3),
        (2, 4),
        [(3, 12), (4, 12), (12,)],
    ),
    (
        L.LSTM,
        {"units": 4, "dropout": 0.2, "recurrent_dropout": 0.2, "seed": 1},
        (2, 5, 3),
        (2, 4),
        None,
    ),
    (L.Permute, {"dims": (2, 1)}, (2, 3, 4), (2, 4, 3), []),
    (L.RepeatVector, {"n": 3}, (2, 4), (2, 3, 4), []),
    (L.Cropping1D, {"cropping": (1, 2)}, (2, 6, 3), (2, 3, 3), []),
    (L.Cropping2D, {"cropping": ((1, 1), (0, 2))}, (2, 5, 5, 3), (2, 3, 3, 3), []),
    (L.UpSampling1D, {"size": 2}, (2, 3, 4), (2, 6, 4), []),
    (L.UpSampling2D, {"size": (2, 3)}, (2, 3, 3, 2), (2, 6, 9, 2), []),
    (L.ZeroPadding1D, {"padding": 2}, (2, 3, 4), (2, 7, 4), []),
    (L.ZeroPadding2D, {"padding": ((1, 0), (2, 1))}, (2, 3, 3, 2), (2, 4, 6, 2), []),
    (L.Rescaling, {"scale": 1 / 255.0}, (2, 3), (2, 3), []),
    (L.Resizing, {"height": 4, "width": 6}, (2, 8, 8, 3), (2, 4, 6, 3), []),
    (L.CenterCrop, {"height": 4, "width": 4}, (2, 8, 8, 3), (2, 4, 4, 3), []),
    (L.RandomFlip, {"seed": 1}, (2, 8, 8, 3), (2, 8, 8, 3), []),
    (L.RandomRotation, {"factor": 0.1, "seed": 1}, (2, 8, 8, 3), (2, 8, 8, 3), []),
    (L.RandomZoom, {"height_factor": 0.2, "seed": 1}, (2, 8, 8, 3), (2, 8, 8, 3), []),
    (
        L.RandomTranslation,
        {"height_factor": 0.1, "width_factor": 0.1, "seed": 1},
        (2, 8, 8, 3),
        (2, 8, 8, 3),
        [],
    ),
    (L.RandomCrop, {"height": 6, "width": 6, "seed": 1}, (2, 8, 8, 3), (2, 6, 6, 3), []),
    (L.RandomContrast, {"factor": 0.2, "seed": 1}, (2, 8, 8, 3), (2, 8, 8, 3), []),
    (L.RandomBrightness, {"factor": 0.2, "seed": 1}, (2, 8, 8, 3), (2, 8, 8, 3), []),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_layer(case):
    cls, kwargs, in_shape, out_shape, weights = case
    run_layer_test(
        cls, kwargs, in_shape, expected_output_shape=out_shape, expected_weight_shapes=weights
    )


def test_embedding_and_masking_flow_to_lstm():
    run_layer_test(
        L.Embedding,
        {"input_dim": 10, "output_dim": 4},
        (2, 5),
        input_dtype="int64",
        expected_output_shape=(2, 5, 4),
        expected_weight_shapes=[(10, 4)],
        expected_output_dtype="float32",
    )
    emb = L.Embedding(10, 4, mask_zero=True)
    x = np.array([[3, 4, 5, 0, 0]])
    seq = emb(x)
    np.testing.assert_array_equal(seq._keras_mask, [[True, True, True, False, False]])
    lstm = L.LSTM(3)
    masked = lstm(seq).numpy()
    trimmed = lstm(emb(x[:, :3])).numpy()
    np.testing.assert_allclose(masked, trimmed, rtol=1e-6)
    with pytest.raises(ValueError, match=r"indices must be in \[0, 10\)"):
        emb(np.array([[11]]))


def test_batch_norm_training_and_inference_semantics():
    bn = L.BatchNormalization(momentum=0.5)
    x = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32) * 2 + 1
    y = bn(x, training=True).numpy()
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.5 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.5 + 0.5 * x.var(0), rtol=1e-5)
    inf = bn(x).numpy()
    ref = (x - bn.moving_mean.numpy()) / np.sqrt(bn.moving_variance.numpy() + 1e-3)
    np.testing.assert_allclose(inf, ref, rtol=1e-5)
    assert [w.path.split("/")[-1] for w in bn.weights] == [
        "gamma",
        "beta",
        "moving_mean",
        "moving_variance",
    ]


def test_layer_gradcheck_float64():
    shendu.set_floatx("float64")
    try:
        rng = np.random.default_rng(0)
        for layer, shape in [
            (L.Conv2D(2, 3, padding="same"), (2, 4, 4, 2)),
            (L.LSTM(3, return_sequences=True), (2, 4, 2)),
            (L.GRU(3), (2, 4, 2)),
            (L.LayerNormalization(), (2, 5)),
            (L.MultiHeadAttention(2, 3), (2, 4, 5)),
            (L.Conv2DTranspose(2, 3, strides=2), (1, 3, 3, 2)),
            (L.BatchNormalization(), (4, 3)),
        ]:
            x = rng.standard_normal(shape)
            if isinstance(layer, L.MultiHeadAttention):
                assert gradcheck(lambda v, lay=layer: lay(v, v), (x,))
            elif isinstance(layer, L.BatchNormalization):
                assert gradcheck(lambda v, lay=layer: lay(v, training=True), (x,))
            else:
                assert gradcheck(lambda v, lay=layer: lay(v), (x,))
    finally:
        shendu.set_floatx("float32")


def test_attention_layers():
    rng = np.random.default_rng(0)
    q, v = (
        rng.standard_normal((2, 3, 4)).astype(np.float32),
        rng.standard_normal((2, 5, 4)).astype(np.float32),
    )
    mha = L.MultiHeadAttention(num_heads=2, key_dim=3)
    out, scores = mha(q, v, return_attention_scores=True)
    assert out.shape == (2, 3, 4) and scores.shape == (2, 2, 3, 5)
    assert [w.shape for w in mha.weights] == [
        (4, 2, 3),
        (2, 3),
        (4, 2, 3),
        (2, 3),
        (4, 2, 3),
        (2, 3),
        (2, 3, 4),
        (4,),
    ]
    np.testing.assert_allclose(mha(q, v).numpy(), out.numpy(), rtol=1e-5, atol=1e-6)
    explicit_out, causal = mha(q, q, use_causal_mask=True, return_attention_scores=True)
    assert np.allclose(np.triu(causal.numpy()[0, 0], 1), 0)
    # the plain path masks inside the attention node: the same outputs
    np.testing.assert_allclose(
        mha(q, q, use_causal_mask=True).numpy(), explicit_out.numpy(), rtol=1e-5, atol=1e-6
    )
    cross_out, cross = mha(q, v, use_causal_mask=True, return_attention_scores=True)
    np.testing.assert_allclose(cross.numpy()[0, 0], np.tril(cross.numpy()[0, 0]))
    np.testing.assert_allclose(
        mha(q, v, use_causal_mask=True).numpy(), cross_out.numpy(), rtol=1e-5, atol=1e-6
    )
    att = L.Attention()
    o = att([q, v]).numpy()
    w = np.exp(q @ v.transpose(0, 2, 1))
    np.testing.assert_allclose(o, (w / w.sum(-1, keepdims=True)) @ v, rtol=1e-5)
    add = L.AdditiveAttention()
    assert add([q, v]).shape == (2, 3, 4) and add.weights[0].shape == (4,)


def test_bidirectional_timedistributed_and_rnn_cells():
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype(np.float32)
    bi = L.Bidirectional(L.LSTM(4, return_sequences=True))
    assert bi(x).shape == (2, 5, 8) and len(bi.weights) == 6
    assert L.Bidirectional(L.GRU(4), merge_mode="sum")(x).shape == (2, 4)
    td = L.TimeDistributed(L.Dense(6))
    assert td(x).shape == (2, 5, 6)
    cell_rnn = L.RNN(L.LSTMCell(4), return_sequences=True)
    fused = L.LSTM(4, return_sequences=True)
    fused(x)
    cell_rnn(x)
    cell_rnn.set_weights(fused.get_weights())
    np.testing.assert_allclose(cell_rnn(x).numpy(), fused(x).numpy(), rtol=1e-5, atol=1e-6)
    gru_cell = L.RNN(L.GRUCell(4))
    gru = L.GRU(4)
    gru(x)
    gru_cell(x)
    gru_cell.set_weights(gru.get_weights())
    np.testing.assert_allclose(gru_cell(x).numpy(), gru(x).numpy(), rtol=1e-5, atol=1e-6)
    rnn = L.SimpleRNN(4, return_state=True)
    out, h = rnn(x)
    np.testing.assert_allclose(out.numpy(), h.numpy())


def test_preprocessing_layers():
    norm = L.Normalization(impute_nan=True)
    data = np.array([[1.0, np.nan], [3.0, 4.0], [5.0, 8.0]])
    norm.adapt(data)
    np.testing.assert_allclose(norm.mean, [3.0, 6.0])
    out = norm(data).numpy()
    assert out[0, 1] == 0.0 and np.isfinite(out).all()
    disc = L.Discretization(bin_boundaries=[0.0, 1.0])
    np.testing.assert_array_equal(disc(np.array([-1.0, 0.5, 2.0])).numpy(), [0, 1, 2])
    enc = L.CategoryEncoding(num_tokens=4, output_mode="multi_hot")
    np.testing.assert_array_equal(
        enc(np.array([[0, 1], [3, 3]])).numpy(), [[1, 1, 0, 0], [0, 0, 0, 1]]
    )
    lookup = L.StringLookup()
    lookup.adapt(np.array(["b", "a", "b", "c", "b", "a"]))
    assert lookup.get_vocabulary() == ["[UNK]", "b", "a", "c"]
    np.testing.assert_array_equal(lookup(np.array(["a", "zzz"])).numpy(), [2, 0])
    ilook = L.IntegerLookup(vocabulary=[10, 20])
    np.testing.assert_array_equal(ilook(np.array([20, 10, 99])).numpy(), [2, 1, 0])
    with pytest.raises(ValueError, match="never reads a vocabulary from a file path or URL"):
        L.StringLookup(vocabulary="vocab.txt")
    h = L.Hashing(num_bins=5)
    a = h(np.array(["x", "y", "x"])).numpy()
    assert a[0] == a[2] and 0 <= a.min() and a.max() < 5
    imgs = np.random.default_rng(0).random((2, 8, 8, 3)).astype(np.float32)
    # as Keras: a call on its own augments (training defaults to True); training=False not
    np.testing.assert_array_equal(L.RandomRotation(0.2)(imgs, training=False).numpy(), imgs)
    assert not np.allclose(L.RandomRotation(0.2, seed=1)(imgs).numpy(), imgs)
    flipped = L.RandomFlip("horizontal", seed=3)(imgs, training=True).numpy()
    for i in range(2):
        assert np.array_equal(flipped[i], imgs[i]) or np.array_equal(flipped[i], imgs[i][:, ::-1])
    rot = L.RandomRotation((0.25, 0.25), fill_mode="constant", interpolation="nearest")
    r = rot(imgs, training=True).numpy()
    np.testing.assert_allclose(np.abs(r[0]).sum(), np.abs(np.rot90(imgs[0])).sum(), rtol=1e-5)


WRONG_RANK = [
    (L.Conv2D(2, 3), (4, 4, 3), 4),
    (L.Conv1D(2, 3), (4, 3), 3),
    (L.MaxPooling2D(), (4, 4), 4),
    (L.LSTM(2), (4, 3), 3),
    (L.GRU(2), (4, 3), 3),
    (L.SimpleRNN(2), (4,), 3),
    (L.RepeatVector(2), (2, 3, 4), 2),
    (L.GlobalAveragePooling2D(), (2, 3, 4), 4),
    (L.Cropping2D(1), (2, 5, 5), 4),
    (L.SpatialDropout2D(0.1), (2, 3), 4),
    (L.RandomFlip(), (2, 3), "3 or 4"),
    (L.UpSampling2D(), (2, 4, 4), 4),
]


@pytest.mark.parametrize(
    "layer,shape,rank", WRONG_RANK, ids=[type(w[0]).__name__ for w in WRONG_RANK]
)
def test_wrong_rank_names_layer_expected_rank_and_received_shape(layer, shape, rank):
    with pytest.raises(
        ValueError,
        match=rf"layer '{layer.name}' \({type(layer).__name__}\) is incompatible with the layer: expected ndim={rank}, found ndim={len(shape)}. Full shape received: \(None",
    ):
        layer(np.zeros(shape, np.float32))


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "elu"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv_layer_activation_fused_or_not_gives_the_same_output(activation, data_format):
    x = np.random.default_rng(1).standard_normal((2, 5, 5, 3)).astype("float32")
    if data_format == "channels_first":
        x = np.ascontiguousarray(np.moveaxis(x, -1, 1))
    fused = L.Conv2D(4, 3, activation=activation, data_format=data_format)
    plain = L.Conv2D(4, 3, data_format=data_format)
    fused(x), plain(x)
    plain.set_weights(fused.get_weights())
    expected = shendu.activations.get(activation)(plain(x)).numpy()
    np.testing.assert_allclose(fused(x).numpy(), expected, rtol=1e-6, atol=1e-6)
