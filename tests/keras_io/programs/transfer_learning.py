"""After the keras.io guide transfer_learning: weights and trainable_weights of Dense and
BatchNormalization, ``trainable = False`` (recursive, and frozen weights not updated by
fit), the transfer workflow (a frozen base called with training=False, a new head), then
fine-tuning with the base unfrozen, recompiled at a low learning rate. Data: the 8x8
digits; the base is pretrained on digits 2-9, the new task is 0 against 1."""

import keras
import numpy as np
from corpus_data import digits

keras.utils.set_random_seed(0)
checks = []

layer = keras.layers.Dense(3)
layer.build((None, 4))  # Create the weights
print("weights:", len(layer.weights))
print("trainable_weights:", len(layer.trainable_weights))
print("non_trainable_weights:", len(layer.non_trainable_weights))
checks.append((len(layer.weights), len(layer.trainable_weights)) == (2, 2))

layer = keras.layers.BatchNormalization()
layer.build((None, 4))  # Create the weights
checks.append((len(layer.trainable_weights), len(layer.non_trainable_weights)) == (2, 2))

layer = keras.layers.Dense(3)
layer.build((None, 4))  # Create the weights
layer.trainable = False  # Freeze the layer
checks.append((len(layer.trainable_weights), len(layer.non_trainable_weights)) == (0, 2))

# Make a model with 2 layers
layer1 = keras.layers.Dense(3, activation="relu")
layer2 = keras.layers.Dense(3, activation="sigmoid")
model = keras.Sequential([keras.Input(shape=(3,)), layer1, layer2])

# Freeze the first layer
layer1.trainable = False

# Keep a copy of the weights of layer1 for later reference
initial_layer1_weights_values = layer1.get_weights()

# Train the model
model.compile(optimizer="adam", loss="mse")
model.fit(np.random.random((2, 3)), np.random.random((2, 3)), verbose=0)

# Check that the weights of layer1 have not changed during training
final_layer1_weights_values = layer1.get_weights()
checks.append(
    all(
        np.array_equal(a, b)
        for a, b in zip(initial_layer1_weights_values, final_layer1_weights_values)
    )
)

inner_model = keras.Sequential(
    [
        keras.Input(shape=(3,)),
        keras.layers.Dense(3, activation="relu"),
        keras.layers.Dense(3, activation="relu"),
    ]
)

model = keras.Sequential(
    [
        keras.Input(shape=(3,)),
        inner_model,
        keras.layers.Dense(3, activation="sigmoid"),
    ]
)

model.trainable = False  # Freeze the outer model

assert inner_model.trainable == False  # noqa: E712  All layers in `model` are now frozen
assert inner_model.layers[0].trainable == False  # noqa: E712  `trainable` is propagated
checks.append(inner_model.trainable_weights == [])

# The base model: a small convnet pretrained on digits 2-9.
(x_all, y_all), (x_held, y_held) = digits()
pretrain = y_all >= 2
base_model = keras.Sequential(
    [
        keras.Input(shape=(8, 8, 1)),
        keras.layers.Conv2D(16, 3, activation="relu", padding="same"),
        keras.layers.BatchNormalization(),
        keras.layers.Conv2D(16, 3, activation="relu", padding="same"),
    ],
    name="base",
)
pretraining = keras.Sequential(
    [base_model, keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10)]
)
pretraining.compile(
    optimizer="adam",
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
)
pretraining.fit(x_all[pretrain], y_all[pretrain], epochs=10, batch_size=16, verbose=0)

# Freeze the base_model
base_model.trainable = False

# Create new model on top
inputs = keras.Input(shape=(8, 8, 1))
# The base model contains batchnorm layers. We want to keep them in inference mode
# when we unfreeze the base model for fine-tuning, so we make sure that the
# base_model is running in inference mode here.
x = base_model(inputs, training=False)
x = keras.layers.GlobalAveragePooling2D()(x)
x = keras.layers.Dropout(0.2)(x)  # Regularize with dropout
outputs = keras.layers.Dense(1)(x)
model = keras.Model(inputs, outputs)

model.summary(show_trainable=True)

task = y_all < 2
held = y_held < 2
train_ds = (x_all[task], y_all[task].astype("float32"))
validation_ds = (x_held[held], y_held[held].astype("float32"))

model.compile(
    optimizer=keras.optimizers.Adam(),
    loss=keras.losses.BinaryCrossentropy(from_logits=True),
    metrics=[keras.metrics.BinaryAccuracy()],
)

epochs = 20
print("Fitting the top layer of the model")
model.fit(*train_ds, epochs=epochs, batch_size=8, validation_data=validation_ds, verbose=2)

# Unfreeze the base_model. Note that it keeps running in inference mode
# since we passed `training=False` when calling it. This means that
# the batchnorm layers will not update their batch statistics.
# This prevents the batchnorm layers from undoing all the training
# we've done so far.
base_model.trainable = True
model.summary(show_trainable=True)

model.compile(
    optimizer=keras.optimizers.Adam(1e-5),  # Low learning rate
    loss=keras.losses.BinaryCrossentropy(from_logits=True),
    metrics=[keras.metrics.BinaryAccuracy()],
)

epochs = 1
print("Fitting the end-to-end model")
history = model.fit(
    *train_ds, epochs=epochs, batch_size=8, validation_data=validation_ds, verbose=2
)
print(checks)
print("RESULT checks_passed", sum(bool(c) for c in checks))
print("RESULT val_binary_accuracy", history.history["val_binary_accuracy"][-1])
