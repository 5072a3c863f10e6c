"""After keras.io examples/structured_data/imbalanced_classification: a dense network on
a rare positive class with class_weight, the confusion-count metrics, Precision and
Recall, and a ModelCheckpoint per epoch. Data: synthetic records, 5% positives."""

import keras
import numpy as np

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
n = 4000
features = rng.standard_normal((n, 12)).astype("float32")
signal = features[:, 0] + 0.8 * features[:, 1] - 0.6 * features[:, 2]
targets = (signal + 0.4 * rng.standard_normal(n) > np.quantile(signal, 0.95)).astype("int64")

num_val_samples = int(len(features) * 0.2)
train_features = features[:-num_val_samples]
train_targets = targets[:-num_val_samples]
val_features = features[-num_val_samples:]
val_targets = targets[-num_val_samples:]

counts = np.bincount(train_targets)
print(
    f"Number of positive samples in training data: {counts[1]} "
    f"({100 * float(counts[1]) / len(train_targets):.2f}% of total)"
)
weight_for_0 = 1.0 / counts[0]
weight_for_1 = 1.0 / counts[1]

mean = np.mean(train_features, axis=0)
train_features -= mean
val_features -= mean
std = np.std(train_features, axis=0)
train_features /= std
val_features /= std

model = keras.Sequential(
    [
        keras.Input(shape=train_features.shape[1:]),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(1, activation="sigmoid"),
    ]
)
model.summary()

metrics = [
    keras.metrics.FalseNegatives(name="fn"),
    keras.metrics.FalsePositives(name="fp"),
    keras.metrics.TrueNegatives(name="tn"),
    keras.metrics.TruePositives(name="tp"),
    keras.metrics.Precision(name="precision"),
    keras.metrics.Recall(name="recall"),
]

model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=metrics)

callbacks = [keras.callbacks.ModelCheckpoint("fraud_model_at_epoch_{epoch}.keras")]
class_weight = {0: weight_for_0, 1: weight_for_1}

history = model.fit(
    train_features,
    train_targets,
    batch_size=2048,
    epochs=30,
    verbose=2,
    callbacks=callbacks,
    validation_data=(val_features, val_targets),
    class_weight=class_weight,
)
reloaded = keras.models.load_model("fraud_model_at_epoch_30.keras")
print("RESULT val_recall", history.history["val_recall"][-1])
print("RESULT val_precision", history.history["val_precision"][-1])
print("RESULT reloaded_val_loss", reloaded.evaluate(val_features, val_targets, verbose=0)[0])
