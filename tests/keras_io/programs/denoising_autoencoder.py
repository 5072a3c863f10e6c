"""After keras.io examples/vision/autoencoder: a convolutional autoencoder (Conv2D,
MaxPooling2D, Conv2DTranspose with strides) trained first to reconstruct images, then to
remove noise, with binary_crossentropy. Data: the 8x8 digits upscaled to 16x16."""

import keras
import numpy as np
from corpus_data import digits
from keras import layers
from keras.models import Model

keras.utils.set_random_seed(0)


def noise(array):
    """Adds random noise to each image in the supplied array."""
    noise_factor = 0.4
    noisy_array = array + noise_factor * np.random.normal(loc=0.0, scale=1.0, size=array.shape)
    return np.clip(noisy_array, 0.0, 1.0)


(train_data, _), (test_data, _) = digits()
train_data = np.kron(train_data, np.ones((1, 2, 2, 1), "float32"))
test_data = np.kron(test_data, np.ones((1, 2, 2, 1), "float32"))
noisy_train_data = noise(train_data).astype("float32")
noisy_test_data = noise(test_data).astype("float32")

input = layers.Input(shape=(16, 16, 1))

# Encoder
x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(input)
x = layers.MaxPooling2D((2, 2), padding="same")(x)
x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
x = layers.MaxPooling2D((2, 2), padding="same")(x)

# Decoder
x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
x = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)

# Autoencoder
autoencoder = Model(input, x)
autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
autoencoder.summary()

autoencoder.fit(
    x=train_data,
    y=train_data,
    epochs=3,
    batch_size=128,
    shuffle=True,
    validation_data=(test_data, test_data),
    verbose=2,
)
history = autoencoder.fit(
    x=noisy_train_data,
    y=train_data,
    epochs=6,
    batch_size=128,
    shuffle=True,
    validation_data=(noisy_test_data, test_data),
    verbose=2,
)
predictions = autoencoder.predict(noisy_test_data)
print("RESULT val_loss", history.history["val_loss"][-1])
print("RESULT denoised_mse", float(np.mean((predictions - test_data) ** 2)))
print("RESULT noisy_mse", float(np.mean((noisy_test_data - test_data) ** 2)))
