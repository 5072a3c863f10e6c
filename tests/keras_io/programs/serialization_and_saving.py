"""After the keras.io guide serialization_and_saving: a model with a registered custom
layer (get_config) and a registered custom activation saved as .keras and reloaded,
get_config / from_config, to_json / model_from_json, save_weights / load_weights under
Keras's .weights.h5 name, and custom_objects at load time."""

import keras
import numpy as np

keras.utils.set_random_seed(0)
checks = []


@keras.saving.register_keras_serializable(package="my_package", name="custom_fn")
def custom_fn(x):
    return x**2


@keras.saving.register_keras_serializable(package="MyLayers")
class CustomLayer(keras.layers.Layer):
    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor})
        return config


def get_model():
    inputs = keras.Input(shape=(32,))
    x = CustomLayer(0.5)(inputs)
    outputs = keras.layers.Dense(1, activation=custom_fn)(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mean_squared_error")
    return model


model = get_model()
test_input = np.random.random((128, 32)).astype("float32")
test_target = np.random.random((128, 1)).astype("float32")
model.fit(test_input, test_target, verbose=0)

model.save("custom_model.keras")
reconstructed_model = keras.models.load_model("custom_model.keras")
np.testing.assert_allclose(
    model.predict(test_input, verbose=0), reconstructed_model.predict(test_input, verbose=0)
)
checks.append(True)

# The reconstructed model is already compiled and has retained the optimizer
# state, so training can resume:
reconstructed_model.fit(test_input, test_target, verbose=0)
checks.append(reconstructed_model.optimizer is not None)

layer = keras.layers.Dense(3, activation="relu")
layer_config = layer.get_config()
new_layer = keras.layers.Dense.from_config(layer_config)
checks.append(new_layer.get_config()["units"] == 3)

model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(1)])
config = model.get_config()
new_model = keras.Sequential.from_config(config)
checks.append(len(new_model.layers) == 1)

model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(1)])
json_config = model.to_json()
new_model = keras.models.model_from_json(json_config)
checks.append(new_model.output_shape == (None, 1))


def create_layer():
    layer = keras.layers.Dense(64, activation="relu", name="dense_2")
    layer.build((None, 784))
    return layer


layer_1 = create_layer()
layer_2 = create_layer()

# Copy weights from layer 1 to layer 2
layer_2.set_weights(layer_1.get_weights())
checks.append(
    all(np.array_equal(a, b) for a, b in zip(layer_1.get_weights(), layer_2.get_weights()))
)

sequential_model = keras.Sequential(
    [
        keras.Input(shape=(784,), name="digits"),
        keras.layers.Dense(64, activation="relu", name="dense_1"),
        keras.layers.Dense(64, activation="relu", name="dense_2"),
        keras.layers.Dense(10, name="predictions"),
    ]
)
sequential_model.save_weights("my_model.weights.h5")

other = keras.Sequential(
    [
        keras.Input(shape=(784,), name="digits"),
        keras.layers.Dense(64, activation="relu", name="dense_1"),
        keras.layers.Dense(64, activation="relu", name="dense_2"),
        keras.layers.Dense(10, name="predictions"),
    ]
)
other.load_weights("my_model.weights.h5")
sample = np.random.random((4, 784)).astype("float32")
checks.append(
    np.allclose(other.predict(sample, verbose=0), sequential_model.predict(sample, verbose=0))
)


class MyDense(keras.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True
        )
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

    def call(self, inputs):
        return keras.ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


inputs = keras.Input((4,))
outputs = MyDense(2)(inputs)
model = keras.Model(inputs, outputs)
model.save("my_dense.keras")
loaded = keras.models.load_model("my_dense.keras", custom_objects={"MyDense": MyDense})
x = np.random.random((3, 4)).astype("float32")
checks.append(np.allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0)))
print(checks)
print("RESULT checks_passed", sum(bool(c) for c in checks))
