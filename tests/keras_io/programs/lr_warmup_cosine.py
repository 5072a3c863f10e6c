"""After the keras.io example on learning-rate warmup with cosine decay: a
LearningRateSchedule subclass computing its rate with ops (cos, where on the step),
with get_config, given to AdamW with weight decay. Data: the 8x8 digits flattened."""

import math

import keras
import numpy as np
from corpus_data import digits
from keras import layers, ops

keras.utils.set_random_seed(0)


class WarmUpCosine(keras.optimizers.schedules.LearningRateSchedule):
    def __init__(self, learning_rate_base, total_steps, warmup_learning_rate, warmup_steps):
        super().__init__()
        self.learning_rate_base = learning_rate_base
        self.total_steps = total_steps
        self.warmup_learning_rate = warmup_learning_rate
        self.warmup_steps = warmup_steps
        self.pi = math.pi

    def __call__(self, step):
        if self.total_steps < self.warmup_steps:
            raise ValueError("Total_steps must be larger or equal to warmup_steps.")

        cos_annealed_lr = ops.cos(
            self.pi
            * (ops.cast(step, "float32") - self.warmup_steps)
            / float(self.total_steps - self.warmup_steps)
        )
        learning_rate = 0.5 * self.learning_rate_base * (1 + cos_annealed_lr)

        if self.warmup_steps > 0:
            if self.learning_rate_base < self.warmup_learning_rate:
                raise ValueError(
                    "Learning_rate_base must be larger or equal to warmup_learning_rate."
                )
            slope = (self.learning_rate_base - self.warmup_learning_rate) / self.warmup_steps
            warmup_rate = slope * ops.cast(step, "float32") + self.warmup_learning_rate
            learning_rate = ops.where(step < self.warmup_steps, warmup_rate, learning_rate)
        return ops.where(step > self.total_steps, 0.0, learning_rate)

    def get_config(self):
        return {
            "learning_rate_base": self.learning_rate_base,
            "total_steps": self.total_steps,
            "warmup_learning_rate": self.warmup_learning_rate,
            "warmup_steps": self.warmup_steps,
        }


(x_train, y_train), (x_test, y_test) = digits(channels_last=False)
x_train, x_test = x_train.reshape(-1, 64), x_test.reshape(-1, 64)
batch_size = 64
epochs = 10
total_steps = int(np.ceil(len(x_train) / batch_size)) * epochs
warmup_steps = int(total_steps * 0.15)
scheduled_lrs = WarmUpCosine(
    learning_rate_base=3e-3,
    total_steps=total_steps,
    warmup_learning_rate=0.0,
    warmup_steps=warmup_steps,
)
rates = [float(scheduled_lrs(step)) for step in range(0, total_steps + 2, 10)]
print("peak rate", max(rates), "at step", 10 * int(np.argmax(rates)))

model = keras.Sequential(
    [
        keras.Input((64,)),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ]
)
optimizer = keras.optimizers.AdamW(learning_rate=scheduled_lrs, weight_decay=1e-4)
model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(
    x_train,
    y_train,
    batch_size=batch_size,
    epochs=epochs,
    validation_data=(x_test, y_test),
    verbose=2,
)
print("RESULT peak_rate", max(rates))
print("RESULT final_rate", float(scheduled_lrs(total_steps)))
print("RESULT val_accuracy", history.history["val_accuracy"][-1])
