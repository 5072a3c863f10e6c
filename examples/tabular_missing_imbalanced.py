"""Tabular data with missing values and imbalanced classes: scikit-learn's breast cancer set
with 10% of the values removed, a NaN-aware Normalization (adapted ignoring NaN, missing
values imputed with the mean), a minority class kept at 1:4, and class_weight against no
weighting, with precision, recall and AUC.

Full run: AUC 0.985 unweighted, 0.989 weighted; class weighting raises the minority recall
from 0.76 to 0.94.
Run: uv run python examples/tabular_missing_imbalanced.py [--quick]  (needs scikit-learn)
"""

import argparse

import numpy as np
from sklearn.datasets import load_breast_cancer

import shendu
from shendu import layers as L

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true")
args = parser.parse_args()
shendu.set_random_seed(0)
rng = np.random.default_rng(0)

x, y = load_breast_cancer(return_X_y=True)
y = 1 - y  # 1 = malignant
keep = np.concatenate([np.where(y == 0)[0], np.where(y == 1)[0][: (y == 0).sum() // 4]])
x, y = x[keep].astype("float32"), y[keep]
x[rng.random(x.shape) < 0.1] = np.nan  # 10% missing
x_train, x_test, y_train, y_test = shendu.datasets.train_test_split(x, y, seed=0)


def build():
    norm = L.Normalization(impute_nan=True)
    norm.adapt(x_train)
    model = shendu.Sequential(
        [
            L.Input((x.shape[1],)),
            norm,
            L.Dense(16, activation="relu"),
            L.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        "adam",
        "binary_crossentropy",
        metrics=["precision", "recall", shendu.metrics.AUC(name="auc")],
    )
    return model


counts = np.bincount(y_train)
weights = {0: 1.0, 1: counts[0] / counts[1]}
for name, cw in (("unweighted", None), ("class_weight", weights)):
    model = build()
    model.fit(
        x_train,
        y_train,
        epochs=10 if args.quick else 60,
        batch_size=16,
        class_weight=cw,
        verbose=0,
    )
    r = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    print(f"{name}: precision={r['precision']:.3f} recall={r['recall']:.3f} auc={r['auc']:.3f}")
print(f"auc={r['auc']:.4f}")
