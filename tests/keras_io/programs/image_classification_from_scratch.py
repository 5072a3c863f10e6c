"""After keras.io examples/vision/image_classification_from_scratch: data augmentation
layers in a Sequential, an Xception-like network (Rescaling, strided Conv2D,
SeparableConv2D blocks with residual 1x1 projections added by layers.add), a binary
logits head, BinaryCrossentropy(from_logits=True) and a checkpoint per epoch. Data: the
8x8 digits upscaled to 32x32 RGB, zeros against ones; widths reduced."""

import keras
import numpy as np
from corpus_data import digits
from keras import layers

keras.utils.set_random_seed(0)
image_size = (32, 32)
(x_all, y_all), (x_held, y_held) = digits(channels_last=True)


def as_images(x, y):
    keep = y < 2
    x = np.kron(x[keep], np.ones((1, 4, 4, 3), "float32")) * 255.0
    return x, y[keep].astype("float32")


x_train, y_train = as_images(x_all, y_all)
x_val, y_val = as_images(x_held, y_held)

data_augmentation_layers = [
    layers.RandomFlip("horizontal"),
    layers.RandomRotation(0.1),
]


def data_augmentation(images):
    for layer in data_augmentation_layers:
        images = layer(images)
    return images


def make_model(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)

    # Entry block
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Conv2D(16, 3, strides=2, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)

    previous_block_activation = x  # Set aside residual

    for size in [32, 64]:
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)

        # Project residual
        residual = layers.Conv2D(size, 1, strides=2, padding="same")(previous_block_activation)
        x = layers.add([x, residual])  # Add back residual
        previous_block_activation = x  # Set aside next residual

    x = layers.SeparableConv2D(128, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)

    x = layers.GlobalAveragePooling2D()(x)
    if num_classes == 2:
        units = 1
    else:
        units = num_classes

    x = layers.Dropout(0.25)(x)
    # We specify activation=None so as to return logits
    outputs = layers.Dense(units, activation=None)(x)
    return keras.Model(inputs, outputs)


model = make_model(input_shape=image_size + (3,), num_classes=2)
augmented = data_augmentation(x_train[:4])
print("augmented batch", tuple(augmented.shape))

epochs = 6

callbacks = [
    keras.callbacks.ModelCheckpoint("save_at_{epoch}.keras"),
]
model.compile(
    optimizer=keras.optimizers.Adam(3e-4),
    loss=keras.losses.BinaryCrossentropy(from_logits=True),
    metrics=[keras.metrics.BinaryAccuracy(name="acc")],
)
history = model.fit(
    x_train,
    y_train,
    epochs=epochs,
    callbacks=callbacks,
    validation_data=(x_val, y_val),
    verbose=2,
)
img_array = keras.ops.expand_dims(x_val[0], 0)  # Create batch axis
predictions = model.predict(img_array)
score = float(keras.ops.sigmoid(predictions[0][0]))
print(f"This image is {100 * (1 - score):.2f}% zero and {100 * score:.2f}% one.")
print("RESULT train_acc", history.history["acc"][-1])
