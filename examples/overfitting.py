"""Overfitting: the same over-sized network on a small training set, plain and with
Dropout + L2 + early stopping; the validation curves show the gap (--plot curves.png).

Full run (measured): the plain model's validation loss climbs 0.15 above its best
(overfitting) by epoch 200; the regularised one stops early (epoch 71) near its best, with the
same validation accuracy (0.86-0.87; its val_loss includes the L2 penalty, as in Keras).
Run: uv run python examples/overfitting.py [--quick] [--plot curves.png]
"""

import argparse

import shendu
from shendu import layers as L

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true")
parser.add_argument("--plot")
args = parser.parse_args()

x, y = shendu.datasets.load_digits()
x = (x / 16.0).reshape(len(x), 64).astype("float32")
x_train, y_train, x_val, y_val = x[:200], y[:200], x[1000:], y[1000:]
epochs = 60 if args.quick else 200


def build(regularised):
    shendu.set_random_seed(0)
    reg = shendu.regularizers.L2(1e-3) if regularised else None
    rate = 0.5 if regularised else 0.0
    model = shendu.Sequential(
        [
            L.Input((64,)),
            L.Dense(256, activation="relu", kernel_regularizer=reg),
            L.Dropout(rate),
            L.Dense(256, activation="relu", kernel_regularizer=reg),
            L.Dropout(rate),
            L.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


results = {}
for name, regularised in (("plain", False), ("regularised", True)):
    cbs = (
        [shendu.callbacks.EarlyStopping(patience=10, restore_best_weights=True)]
        if regularised
        else []
    )
    h = build(regularised).fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        epochs=epochs,
        batch_size=32,
        verbose=0,
        callbacks=cbs,
    )
    results[name] = h
    print(
        f"{name}: final val_loss {h.history['val_loss'][-1]:.3f} (best "
        f"{min(h.history['val_loss']):.3f}), val_accuracy {h.history['val_accuracy'][-1]:.3f}, "
        f"epochs run {len(h.history['loss'])}"
    )
if args.plot:
    shendu.utils.plot_history(results["plain"], args.plot)
plain = results["plain"].history
overfit = plain["val_loss"][-1] - min(plain["val_loss"])
print(f"plain_overfit={overfit:.4f}")
