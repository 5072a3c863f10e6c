"""Writes the Keras 3 fixtures these tests read (run by hand with Keras installed:
KERAS_BACKEND=jax python make_fixtures.py). The outputs are committed so that the
tests run without Keras."""

import keras
import numpy as np
from keras import layers

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)


def save(name, model, x):
    model.save(f"{name}.keras")
    model.save_weights(f"{name}.weights.h5")
    np.savez(f"{name}.npz", x=x, y=model.predict(x, verbose=0))


m = keras.Sequential(
    [
        layers.Input((4,)),
        layers.Dense(5, activation="relu"),
        layers.BatchNormalization(),
        layers.Dense(3, activation="softmax"),
    ]
)
m.compile("adam", "categorical_crossentropy")
m.fit(rng.random((32, 4)), np.eye(3)[rng.integers(0, 3, 32)], epochs=2, verbose=0)
save("mlp", m, rng.random((3, 4)).astype("float32"))

inp = keras.Input((4,), name="a")
h = layers.Dense(6, activation="tanh")(inp)
out = layers.Add()([layers.Dense(2)(h), layers.Dense(2)(h)])
save("functional", keras.Model(inp, out), rng.random((3, 4)).astype("float32"))

cnn = keras.Sequential(
    [
        layers.Input((8, 8, 1)),
        layers.Conv2D(4, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(3),
    ]
)
save("cnn", cnn, rng.random((2, 8, 8, 1)).astype("float32"))

rnn = keras.Sequential(
    [layers.Input((5, 3)), layers.LSTM(4, return_sequences=True), layers.GRU(3), layers.Dense(1)]
)
save("rnn", rnn, rng.random((2, 5, 3)).astype("float32"))
