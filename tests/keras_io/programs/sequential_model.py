"""After the keras.io guide sequential_model: building a Sequential by list and by add(),
pop(), weights created on first call, summary(), an Input first, feature extraction
with Model(inputs=initial_model.inputs, outputs=[layer.output ...]) and get_layer(name),
and transfer learning by freezing all layers but the last. Image sizes reduced."""

import keras
import numpy as np
from corpus_data import digits
from keras import layers, ops

keras.utils.set_random_seed(0)
checks = []

# Define Sequential model with 3 layers
model = keras.Sequential(
    [
        layers.Dense(2, activation="relu", name="layer1"),
        layers.Dense(3, activation="relu", name="layer2"),
        layers.Dense(4, name="layer3"),
    ]
)
# Call model on a test input
x = ops.ones((3, 3))
y = model(x)
checks.append(tuple(y.shape) == (3, 4))
checks.append(len(model.layers) == 3)

model = keras.Sequential()
model.add(layers.Dense(2, activation="relu"))
model.add(layers.Dense(3, activation="relu"))
model.add(layers.Dense(4))
model.pop()
print(len(model.layers))  # 2
checks.append(len(model.layers) == 2)

model = keras.Sequential(name="my_sequential")
model.add(layers.Dense(2, activation="relu", name="layer1"))
model.add(layers.Dense(3, activation="relu", name="layer2"))
model.add(layers.Dense(4, name="layer3"))

layer = layers.Dense(3)
checks.append(layer.weights == [])  # Empty
x = ops.ones((1, 4))
y = layer(x)
checks.append(len(layer.weights) == 2)

model = keras.Sequential()
model.add(keras.Input(shape=(4,)))
model.add(layers.Dense(2, activation="relu"))
model.summary()
checks.append(len(model.layers) == 1)

model = keras.Sequential()
model.add(keras.Input(shape=(64, 64, 3)))  # 64x64 RGB images
model.add(layers.Conv2D(32, 5, strides=2, activation="relu"))
model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.MaxPooling2D(3))
model.summary()
checks.append(model.output_shape == (None, 9, 9, 32))
model.add(layers.Conv2D(32, 3, activation="relu"))
model.add(layers.GlobalMaxPooling2D())
model.add(layers.Dense(10))
checks.append(model.output_shape == (None, 10))

initial_model = keras.Sequential(
    [
        keras.Input(shape=(64, 64, 3)),
        layers.Conv2D(32, 5, strides=2, activation="relu"),
        layers.Conv2D(32, 3, activation="relu"),
        layers.Conv2D(32, 3, activation="relu"),
    ]
)
feature_extractor = keras.Model(
    inputs=initial_model.inputs,
    outputs=[layer.output for layer in initial_model.layers],
)

# Call feature extractor on test input.
x = ops.ones((1, 64, 64, 3))
features = feature_extractor(x)
checks.append(
    [tuple(f.shape) for f in features] == [(1, 30, 30, 32), (1, 28, 28, 32), (1, 26, 26, 32)]
)

initial_model = keras.Sequential(
    [
        keras.Input(shape=(64, 64, 3)),
        layers.Conv2D(32, 5, strides=2, activation="relu"),
        layers.Conv2D(32, 3, activation="relu", name="my_intermediate_layer"),
        layers.Conv2D(32, 3, activation="relu"),
    ]
)
feature_extractor = keras.Model(
    inputs=initial_model.inputs,
    outputs=initial_model.get_layer(name="my_intermediate_layer").output,
)
# Call feature extractor on test input.
x = ops.ones((1, 64, 64, 3))
features = feature_extractor(x)
checks.append(tuple(features.shape) == (1, 28, 28, 32))

model = keras.Sequential(
    [
        keras.Input(shape=(64,)),
        layers.Dense(32, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(10),
    ]
)
(x_train, y_train), (x_test, y_test) = digits(channels_last=False)
x_train, x_test = x_train.reshape(-1, 64), x_test.reshape(-1, 64)
pre = keras.models.clone_model(model)
pre.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
pre.fit(x_train, y_train, epochs=5, verbose=0)
# Presumably you would want to first load pre-trained weights.
model.set_weights(pre.get_weights())

# Freeze all layers except the last one.
for layer in model.layers[:-1]:
    layer.trainable = False

# Recompile and train (this will only update the weights of the last layer).
model.compile(
    optimizer="adam",
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
frozen_before = model.layers[0].get_weights()[0].copy()
history = model.fit(x_train, y_train, epochs=5, validation_data=(x_test, y_test), verbose=2)
checks.append(np.array_equal(frozen_before, model.layers[0].get_weights()[0]))
print(checks)
print("RESULT checks_passed", sum(bool(c) for c in checks))
print("RESULT val_accuracy", history.history["val_accuracy"][-1])
