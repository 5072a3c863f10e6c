"""Dimensionality reduction: an autoencoder squeezes the 64-pixel digits to 2 numbers; the
2-D codes separate the digit classes (measured by a nearest-centroid classifier on the codes)
and can be plotted (--plot codes.png, needs matplotlib).

Full run: nearest-centroid accuracy on the 2-D codes 0.61 (chance 0.1).
Run: uv run python examples/autoencoder_2d.py [--quick] [--plot codes.png]
"""

import argparse

import numpy as np

import shendu
from shendu import layers as L

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true")
parser.add_argument("--plot")
args = parser.parse_args()
shendu.set_random_seed(0)

x, labels = shendu.datasets.load_digits()
x = (x / 16.0).reshape(len(x), 64).astype("float32")
inp = L.Input((64,))
code = L.Dense(2, name="code")(
    L.Dense(64, activation="relu")(L.Dense(128, activation="relu")(inp))
)
out = L.Dense(64, activation="sigmoid")(
    L.Dense(128, activation="relu")(L.Dense(64, activation="relu")(code))
)
autoencoder = shendu.Model(inp, out)
encoder = shendu.Model(inp, code)
autoencoder.compile("adam", "binary_crossentropy")
autoencoder.fit(x, x, epochs=20 if args.quick else 100, batch_size=64, verbose=0)
codes = encoder.predict(x, verbose=0)
centroids = np.stack([codes[labels == k].mean(0) for k in range(10)])
predicted = np.linalg.norm(codes[:, None] - centroids[None], axis=-1).argmin(1)
if args.plot:
    from shendu.utils.plotting import _pyplot

    plt = _pyplot()
    plt.figure(figsize=(5, 5))
    plt.scatter(codes[:, 0], codes[:, 1], c=labels, s=4, cmap="tab10")
    plt.savefig(args.plot)
print(f"centroid_accuracy={(predicted == labels).mean():.4f}")
