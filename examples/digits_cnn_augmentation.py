"""Images: a CNN on the 8x8 digits shipped with shendu, with data augmentation
(RandomRotation, RandomTranslation active only in training) and a learning-curve plot.

Full run: test accuracy 0.978. Run: uv run python examples/digits_cnn_augmentation.py
[--quick] [--plot curves.png] (the plot needs matplotlib: pip install 'shendu[plot]').
"""

import argparse

import shendu
from shendu import layers as L

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true")
parser.add_argument("--plot")
args = parser.parse_args()
shendu.set_random_seed(0)

x, y = shendu.datasets.load_digits()
x = (x / 16.0)[..., None].astype("float32")
x_train, x_test, y_train, y_test = shendu.datasets.train_test_split(x, y, test_size=0.2, seed=0)

model = shendu.Sequential(
    [
        L.Input((8, 8, 1)),
        L.RandomRotation(0.04, fill_mode="constant", seed=1),
        L.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=2),
        L.Conv2D(32, 3, padding="same", activation="relu"),
        L.MaxPooling2D(),
        L.Conv2D(64, 3, padding="same", activation="relu"),
        L.MaxPooling2D(),
        L.Flatten(),
        L.Dropout(0.3),
        L.Dense(10, activation="softmax"),
    ]
)
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(
    x_train,
    y_train,
    epochs=8 if args.quick else 30,
    batch_size=32,
    validation_split=0.1,
    verbose=0 if args.quick else 2,
)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
if args.plot:
    shendu.utils.plot_history(history, args.plot)
print(f"test_accuracy={accuracy:.4f}")
