"""After the keras.io guide intro_to_keras_for_engineers: a convnet with
GlobalAveragePooling2D, SparseCategoricalCrossentropy and a named metric, checkpoints per
epoch (.keras) and EarlyStopping, validation_split, evaluate, save / load_model and
predict; a custom layer with add_weight; a subclassed model. Data: the 8x8 digits
upscaled to 16x16; widths reduced."""

import keras
import numpy as np
from corpus_data import digits
from keras import layers, ops

keras.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = digits()
x_train = np.kron(x_train, np.ones((1, 2, 2, 1), "float32"))
x_test = np.kron(x_test, np.ones((1, 2, 2, 1), "float32"))
print("x_train shape:", x_train.shape)

# Model parameters
num_classes = 10
input_shape = (16, 16, 1)

model = keras.Sequential(
    [
        keras.layers.Input(shape=input_shape),
        keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        keras.layers.MaxPooling2D(pool_size=(2, 2)),
        keras.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        keras.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(num_classes, activation="softmax"),
    ]
)
model.summary()

model.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(),
    optimizer=keras.optimizers.Adam(learning_rate=1e-3),
    metrics=[
        keras.metrics.SparseCategoricalAccuracy(name="acc"),
    ],
)

batch_size = 128
epochs = 12

callbacks = [
    keras.callbacks.ModelCheckpoint(filepath="model_at_epoch_{epoch}.keras"),
    keras.callbacks.EarlyStopping(monitor="val_loss", patience=2),
]

model.fit(
    x_train,
    y_train,
    batch_size=batch_size,
    epochs=epochs,
    validation_split=0.15,
    callbacks=callbacks,
    verbose=2,
)
score = model.evaluate(x_test, y_test, verbose=0)

model.save("final_model.keras")
model = keras.saving.load_model("final_model.keras")
predictions = model.predict(x_test)
reloaded_accuracy = float(np.mean(np.argmax(predictions, axis=1) == y_test))


class MyDense(keras.layers.Layer):
    def __init__(self, units, activation=None, name=None):
        super().__init__(name=name)
        self.units = units
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self.w = self.add_weight(
            shape=(input_dim, self.units),
            initializer=keras.initializers.GlorotNormal(),
            name="kernel",
            trainable=True,
        )

        self.b = self.add_weight(
            shape=(self.units,),
            initializer=keras.initializers.Zeros(),
            name="bias",
            trainable=True,
        )

    def call(self, inputs):
        # Use Keras ops to create backend-agnostic layers/metrics/etc.
        x = keras.ops.matmul(inputs, self.w) + self.b
        return self.activation(x)


class MyModel(keras.Model):
    def __init__(self, num_classes):
        super().__init__()
        self.conv_base = keras.Sequential(
            [
                layers.Conv2D(16, kernel_size=(3, 3), activation="relu"),
                layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
                layers.GlobalAveragePooling2D(),
            ]
        )
        self.dp = layers.Dropout(0.5)
        self.dense = MyDense(num_classes, activation="softmax")

    def call(self, x):
        x = self.conv_base(x)
        x = self.dp(x)
        return self.dense(x)


sub = MyModel(num_classes)
sub.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(),
    optimizer=keras.optimizers.Adam(learning_rate=1e-3),
    metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")],
)
sub_history = sub.fit(x_train, y_train, batch_size=64, epochs=3, verbose=2)
print("RESULT test_acc", score[1])
print("RESULT reloaded_acc", reloaded_accuracy)
print("RESULT subclassed_acc", sub_history.history["acc"][-1])
print("RESULT ops_ok", float(ops.sum(ops.ones((2, 2)))))
