"""Multi-label classification (sigmoid outputs, binary cross-entropy, per-label metrics)
and multi-task learning (one functional model with a regression head and a
classification head), on data generated here.

Full run: mean per-label accuracy 0.97; regression MAE 0.12 against a target std of 1.38.
Run: uv run python examples/multilabel_multitask.py [--quick]
"""

import argparse

import numpy as np

import shendu
from shendu import layers as L

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true")
args = parser.parse_args()
shendu.set_random_seed(0)
rng = np.random.default_rng(0)
epochs = 15 if args.quick else 60

# multi-label: 3 independent labels, each a different linear rule of 6 features
x = rng.standard_normal((1200, 6)).astype("float32")
w = rng.standard_normal((6, 3))
labels = (x @ w > 0).astype("float32")
xtr, xte, ytr, yte = shendu.datasets.train_test_split(x, labels, seed=0)
ml = shendu.Sequential(
    [L.Input((6,)), L.Dense(32, activation="relu"), L.Dense(3, activation="sigmoid")]
)
ml.compile("adam", "binary_crossentropy", metrics=["binary_accuracy"])
ml.fit(xtr, ytr, epochs=epochs, batch_size=32, verbose=0)
per_label = ((ml.predict(xte, verbose=0) > 0.5) == (yte > 0.5)).mean(axis=0)
print("per-label accuracy:", np.round(per_label, 3).tolist())

# multi-task: one trunk, a regression head and a classification head
inp = L.Input((6,), name="features")
h = L.Dense(32, activation="relu")(inp)
value = L.Dense(1, name="value")(h)
kind = L.Dense(2, activation="softmax", name="kind")(h)
mt = shendu.Model(inp, [value, kind])
mt.compile(
    "adam",
    loss={"value": "mse", "kind": "sparse_categorical_crossentropy"},
    loss_weights={"value": 1.0, "kind": 0.5},
    metrics={"kind": ["accuracy"], "value": ["mae"]},
)
target_value = (x[:, :2].sum(1, keepdims=True) + 0.1 * rng.standard_normal((1200, 1))).astype(
    "float32"
)
target_kind = (x[:, 2] > 0).astype(int)
mt.fit(x, {"value": target_value, "kind": target_kind}, epochs=epochs, batch_size=32, verbose=0)
logs = mt.evaluate(x, {"value": target_value, "kind": target_kind}, verbose=0, return_dict=True)
print(
    f"multi-task: value mae={logs['value_mae']:.3f} (target std {target_value.std():.3f}), "
    f"kind accuracy={logs['kind_accuracy']:.3f}"
)
print(f"mean_label_accuracy={per_label.mean():.4f}")
