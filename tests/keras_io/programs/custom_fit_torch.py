"""After the keras.io guide custom_train_step_in_torch: a train_step written in the
PyTorch idiom (zero_grad, backward, v.value.grad, optimizer.apply under no_grad) that
updates self.metrics itself; then a custom test_step, and the step reading sample
weights. Runs on Keras's torch backend."""

import keras
import numpy as np
import torch
from keras import layers

keras.utils.set_random_seed(0)


class CustomModel(keras.Model):
    def train_step(self, data):
        x, y = data

        # Call torch.nn.Module.zero_grad() to clear the leftover gradients
        # for the weights from the previous train step.
        self.zero_grad()

        # Compute loss
        y_pred = self(x, training=True)  # Forward pass
        loss = self.compute_loss(y=y, y_pred=y_pred)

        # Call torch.Tensor.backward() on the loss to compute gradients
        # for the weights.
        loss.backward()

        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]

        # Update weights
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)

        # Update metrics (includes the metric that tracks the loss)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)

        # Return a dict mapping metric names to current value
        # Note that it will include the loss (tracked in self.metrics).
        return {m.name: m.result() for m in self.metrics}


inputs = keras.Input(shape=(32,))
outputs = keras.layers.Dense(1)(inputs)
model = CustomModel(inputs, outputs)
model.compile(optimizer="adam", loss="mse", metrics=["mae"])

rng = np.random.default_rng(0)
x = rng.random((1000, 32)).astype("float32")
w = rng.standard_normal((32, 1)).astype("float32")
y = (x @ w).astype("float32")
history = model.fit(x, y, epochs=10, verbose=2)
print("RESULT final_loss", history.history["loss"][-1])


class CustomTestModel(keras.Model):
    def test_step(self, data):
        # Unpack the data
        x, y = data
        # Compute predictions
        y_pred = self(x, training=False)
        # Updates the metrics tracking the loss
        loss = self.compute_loss(y=y, y_pred=y_pred)  # noqa: F841
        # Update the metrics.
        for metric in self.metrics:
            if metric.name != "loss":
                metric.update_state(y, y_pred)
        # Return a dict mapping metric names to current value.
        # Note that it will include the loss (tracked in self.metrics).
        return {m.name: m.result() for m in self.metrics}


inputs = keras.Input(shape=(32,))
outputs = layers.Dense(1)(inputs)
model = CustomTestModel(inputs, outputs)
model.compile(loss="mse", metrics=["mae"])
logs = model.evaluate(x, y, return_dict=True, verbose=0)
print("RESULT untrained_mae", logs["mae"])
