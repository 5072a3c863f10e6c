"""Models that must train, on data built here or shipped in the package (each well under a
minute on 2 cores)."""

import numpy as np

import shendu
from shendu import layers as L


def test_cnn_on_digits_reaches_95_percent():
    shendu.set_random_seed(0)
    x, y = shendu.datasets.load_digits()
    x = (x / 16.0)[..., None].astype("float32")
    xtr, xte, ytr, yte = shendu.datasets.train_test_split(x, y, test_size=0.2, seed=0)
    m = shendu.Sequential(
        [
            L.Input((8, 8, 1)),
            L.Conv2D(16, 3, activation="relu", padding="same"),
            L.MaxPooling2D(),
            L.Conv2D(32, 3, activation="relu", padding="same"),
            L.MaxPooling2D(),
            L.Flatten(),
            L.Dropout(0.25),
            L.Dense(10, activation="softmax"),
        ]
    )
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    m.fit(xtr, ytr, epochs=15, batch_size=32, verbose=0)
    assert m.evaluate(xte, yte, verbose=0)[1] >= 0.95


def _order_task(n, rng, length=8, vocab=6):
    """Label 1 when token 1 comes before token 2 in the sequence: a bag of words cannot tell."""
    x = rng.integers(3, vocab, size=(n, length))
    y = rng.integers(0, 2, n)
    for i in range(n):
        a, b = rng.choice(length, 2, replace=False)
        first, second = min(a, b), max(a, b)
        x[i, first], x[i, second] = (1, 2) if y[i] else (2, 1)
        pad = rng.integers(0, 3)
        if pad:
            x[i] = np.concatenate([x[i][pad:], np.zeros(pad, int)])  # padding to mask
    return x, y


def test_embedding_bidirectional_lstm_learns_order():
    shendu.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = _order_task(1200, rng)
    xte, yte = _order_task(300, rng)
    m = shendu.Sequential(
        [
            L.Input((8,), dtype="int64"),
            L.Embedding(6, 8, mask_zero=True),
            L.Bidirectional(L.LSTM(16)),
            L.Dense(1, activation="sigmoid"),
        ]
    )
    m.compile(shendu.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    m.fit(x, y, epochs=12, batch_size=32, verbose=0)
    assert m.evaluate(xte, yte, verbose=0)[1] >= 0.9


def test_transformer_block_learns_to_reverse_sequences():
    shendu.set_random_seed(0)
    rng = np.random.default_rng(0)
    length, vocab, d = 6, 8, 32
    x = rng.integers(0, vocab, size=(2000, length))
    y = x[:, ::-1]
    positions = np.arange(length)
    inp = L.Input((length,), dtype="int64")
    tok = L.Embedding(vocab, d)(inp)
    pos = L.Lambda(lambda t: t + L.Embedding(length, d, name="pos")(positions) * 0)(tok)
    pos_emb = L.Embedding(length, d)
    h = L.Lambda(lambda t: t + pos_emb(positions))(tok)
    att = L.MultiHeadAttention(num_heads=4, key_dim=8)(h, h)
    h = L.LayerNormalization()(L.Add()([h, att]))
    ff = L.Dense(d)(L.Dense(64, activation="relu")(h))
    h = L.LayerNormalization()(L.Add()([h, ff]))
    out = L.Dense(vocab, activation="softmax")(h)
    m = shendu.Model(inp, out)
    assert pos is not None
    m.compile(
        shendu.optimizers.Adam(0.005), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    m.fit(x, y, epochs=25, batch_size=64, verbose=0)
    xte = rng.integers(0, vocab, size=(300, length))
    assert m.evaluate(xte, xte[:, ::-1], verbose=0)[1] >= 0.9


def test_conv_autoencoder_beats_the_mean_image():
    shendu.set_random_seed(0)
    x, _ = shendu.datasets.load_digits()
    x = (x / 16.0)[..., None].astype("float32")
    xtr, xte = x[:1400], x[1400:]
    m = shendu.Sequential(
        [
            L.Input((8, 8, 1)),
            L.Conv2D(16, 3, strides=2, padding="same", activation="relu"),
            L.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
            L.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu"),
            L.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid"),
        ]
    )
    m.compile("adam", "mse")
    m.fit(xtr, xtr, epochs=20, batch_size=32, verbose=0)
    mse = float(((m.predict(xte, verbose=0) - xte) ** 2).mean())
    baseline = float(((xtr.mean(0) - xte) ** 2).mean())
    assert mse < 0.5 * baseline, (mse, baseline)
