"""Keras 3 idioms from keras.io and Keras's own docstrings, together: a layer called with
its tensor by keyword only (``call(self, source, source_mask=None)``), models cut from
intermediate tensors of a graph (Keras's ``Model`` docstring: backbone and head of one
network), bilinear upsampling, metric trackers held by a subclassed model and updated in
``compute_loss``, and the stateless API: an evaluation loop of ``stateless_call`` and
``stateless_update_state``, and a linear head fine-tuned with ``stateless_apply`` on
gradients written out by hand (softmax cross-entropy: dL/dlogits = p - y). Data: the
8x8 digits."""

import keras
import numpy as np
from corpus_data import digits
from keras import layers, ops

keras.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = digits()
checks = 0


class Encoder(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv = layers.Conv2D(16, 3, padding="same", activation="relu")

    def call(self, source, source_mask=None):
        return self.conv(source)


class Classifier(keras.Model):
    def __init__(self, network, **kwargs):
        super().__init__(**kwargs)
        self.network = network
        self.ce_tracker = keras.metrics.Mean(name="ce")
        self.entropy_tracker = keras.metrics.Mean(name="entropy")

    def call(self, x, training=False):
        return self.network(x, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        ce = ops.mean(keras.losses.sparse_categorical_crossentropy(y, y_pred, from_logits=True))
        p = ops.softmax(y_pred)
        entropy = -ops.mean(ops.sum(p * ops.log(p + 1e-7), axis=-1))
        self.ce_tracker.update_state(ce)
        self.entropy_tracker.update_state(entropy)
        return ce


inputs = keras.Input((8, 8, 1))
features = Encoder()(source=inputs)  # keyword only
pooled = layers.MaxPooling2D(2)(features)
upsampled = layers.UpSampling2D(2, interpolation="bilinear")(pooled)
merged = layers.Concatenate()([features, upsampled])
embedding = layers.Dense(64, activation="relu")(layers.Flatten()(merged))
logits = layers.Dense(10, name="head")(embedding)
network = keras.Model(inputs, logits)
backbone = keras.Model(inputs, embedding)
head = keras.Model(embedding, logits)  # from an intermediate tensor
checks += int(upsampled.shape == (None, 8, 8, 16))
checks += int(tuple(head.inputs[0].shape) == (None, 64))

model = Classifier(network)
model.compile(optimizer=keras.optimizers.Adam(3e-3), metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=64, epochs=8, validation_split=0.1, verbose=0)
checks += int({"ce", "entropy", "val_ce", "accuracy"} <= set(history.history))
_, test_accuracy = model.evaluate(x_test, y_test, verbose=0)[:2]

# the two halves make the whole network's predictions
whole = network.predict(x_test, verbose=0)
halves = head.predict(backbone.predict(x_test, verbose=0), verbose=0)
checks += int(np.allclose(whole, halves, atol=1e-4))

# a stateless evaluation loop gives evaluate's accuracy
metric = keras.metrics.SparseCategoricalAccuracy()
metric_variables = metric.variables
trainable = [v.value for v in network.trainable_variables]
non_trainable = [v.value for v in network.non_trainable_variables]
for start in range(0, len(x_test), 100):
    batch = x_test[start : start + 100]
    y_pred, non_trainable = network.stateless_call(trainable, non_trainable, batch)
    metric_variables = metric.stateless_update_state(
        metric_variables, y_test[start : start + 100], y_pred
    )
stateless_accuracy = float(metric.stateless_result(metric_variables))
checks += int(abs(stateless_accuracy - float(test_accuracy)) < 1e-6)

# fine-tune the head alone, functionally, with gradients written out
head_layer = network.get_layer("head")
h_train = ops.convert_to_numpy(backbone.predict(x_train, verbose=0))
optimizer = keras.optimizers.SGD(learning_rate=0.5)
optimizer.build(head_layer.trainable_variables)
values = [ops.convert_to_numpy(v) for v in head_layer.trainable_variables]
kernel_before = values[0].copy()
optimizer_variables = optimizer.variables
one_hot = np.eye(10, dtype="float32")[y_train]
for _ in range(20):
    z = h_train @ values[0] + values[1]
    p = ops.convert_to_numpy(ops.softmax(z))
    d_logits = (p - one_hot) / len(h_train)
    grads = [h_train.T @ d_logits, d_logits.sum(axis=0)]
    values, optimizer_variables = optimizer.stateless_apply(optimizer_variables, grads, values)
    values = [ops.convert_to_numpy(v) for v in values]
checks += int(np.array_equal(ops.convert_to_numpy(head_layer.kernel), kernel_before))
h_test = ops.convert_to_numpy(backbone.predict(x_test, verbose=0))
tuned_accuracy = float(np.mean(np.argmax(h_test @ values[0] + values[1], axis=-1) == y_test))

print("RESULT checks_passed", checks)
print("RESULT test_accuracy", float(test_accuracy))
print("RESULT stateless_accuracy", stateless_accuracy)
print("RESULT tuned_accuracy", tuned_accuracy)
