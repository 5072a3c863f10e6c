"""Small offline data for the keras.io corpus (no downloads): the digits and iris sets
shipped with shendu (read as files, so a Keras run needs no shendu), and seeded
synthetic stand-ins for the text, time-series and tabular sets the examples download."""

import gzip
import os

import numpy as np

DATA = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "src", "shendu", "datasets", "data"
)


def digits(split=0.8, channels_last=True):
    """8x8 handwritten digits in [0, 1], (x_train, y_train), (x_test, y_test)."""
    with np.load(os.path.join(DATA, "digits.npz")) as f:
        x = f["images"].astype("float32") / 16.0
        y = f["target"].astype("int64")
    if channels_last:
        x = x[..., None]
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    n = int(len(x) * split)
    return (x[:n], y[:n]), (x[n:], y[n:])


def iris():
    """Iris features (150, 4) float32 and labels (150,) int64."""
    with gzip.open(os.path.join(DATA, "iris.csv.gz"), "rt") as f:
        rows = [line.strip().split(",") for line in f.readlines()[1:] if line.strip()]
    names = sorted({r[-1] for r in rows})
    x = np.array([[float(v) for v in r[:-1]] for r in rows], dtype="float32")
    y = np.array([names.index(r[-1]) for r in rows], dtype="int64")
    return x, y


def token_reviews(n=600, length=40, vocab=500, seed=0):
    """IMDB-like reviews: variable-length token lists whose label is carried by a few
    'positive' and 'negative' words; padded later by the program (pad_sequences)."""
    rng = np.random.default_rng(seed)
    positive, negative = np.arange(2, 12), np.arange(12, 22)
    sequences, labels = [], []
    for _ in range(n):
        label = int(rng.integers(0, 2))
        size = int(rng.integers(length // 3, length))
        words = rng.integers(22, vocab, size)
        marks = rng.choice(positive if label else negative, size=max(2, size // 8))
        words[rng.choice(size, size=len(marks), replace=False)] = marks
        sequences.append(words.tolist())
        labels.append(label)
    return sequences, np.array(labels, dtype="int64")


def sine_series(n=1200, seed=0):
    """A noisy sum of sines (a stand-in for the weather and temperature series)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype="float32")
    y = np.sin(t / 12.0) + 0.5 * np.sin(t / 5.0) + 0.1 * rng.standard_normal(n)
    return y.astype("float32")


def labelled_series(n=400, steps=64, seed=0):
    """FordA-like univariate series, (n, steps, 1), labels 0/1 by the dominant frequency."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps, dtype="float32")
    labels = rng.integers(0, 2, n)
    freq = np.where(labels == 1, 0.45, 0.15)[:, None]
    x = np.sin(freq * t + rng.uniform(0, 6.28, (n, 1))) + 0.3 * rng.standard_normal((n, steps))
    return x[..., None].astype("float32"), labels.astype("int64")


def tabular(n=800, seed=0, positive_rate=0.5):
    """Heart-disease-like records: numeric columns, an integer and a string category, and
    a label that depends on them."""
    rng = np.random.default_rng(seed)
    age = rng.normal(55, 9, n).astype("float32")
    chol = rng.normal(240, 40, n).astype("float32")
    sex = rng.integers(0, 2, n).astype("int64")
    thal = rng.choice(np.array(["normal", "fixed", "reversible"]), n)
    score = 0.08 * (age - 55) + 0.02 * (chol - 240) + 1.2 * (thal == "reversible") - 0.6 * sex
    threshold = np.quantile(score, 1.0 - positive_rate)
    target = (score + 0.3 * rng.standard_normal(n) > threshold).astype("int64")
    return {"age": age, "chol": chol, "sex": sex, "thal": thal}, target


def citation_graph(nodes=700, features=200, classes=7, seed=0):
    """A Cora-like citation graph: papers of ``classes`` subjects with sparse binary word
    features that lean on the subject, and citations mostly (90%) between papers of one
    subject. Returns (node features float32 (nodes, features), labels int64 (nodes,),
    citations int64 (2, edges) as [target, source] rows)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, nodes)
    topic_words = rng.random((classes, features)) < 0.08
    words = rng.random((nodes, features)) < 0.02
    words |= topic_words[labels] & (rng.random((nodes, features)) < 0.08)
    edges = []
    for paper in range(nodes):
        for _ in range(int(rng.integers(2, 7))):
            same = rng.random() < 0.9
            pool = np.flatnonzero((labels == labels[paper]) == same)
            edges.append((paper, int(rng.choice(pool))))
    citations = np.array(edges, dtype="int64").T
    return words.astype("float32"), labels.astype("int64"), citations
