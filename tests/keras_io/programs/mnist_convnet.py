"""After keras.io examples/vision/mnist_convnet: a small convnet trained with
validation_split and evaluated. Data: the 8x8 digits, upscaled to 16x16."""

import keras
import numpy as np
from corpus_data import digits
from keras import layers

keras.utils.set_random_seed(0)
num_classes = 10
input_shape = (16, 16, 1)
(x_train, y_train), (x_test, y_test) = digits()
x_train = np.kron(x_train, np.ones((1, 2, 2, 1), "float32"))
x_test = np.kron(x_test, np.ones((1, 2, 2, 1), "float32"))
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

model = keras.Sequential(
    [
        keras.Input(shape=input_shape),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ]
)
model.summary()
model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=128, epochs=12, validation_split=0.1, verbose=2)
score = model.evaluate(x_test, y_test, verbose=0)
print("Test loss:", score[0])
print("Test accuracy:", score[1])
print("RESULT test_accuracy", score[1])
