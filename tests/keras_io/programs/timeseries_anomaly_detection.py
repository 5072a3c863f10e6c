"""After keras.io examples/timeseries/timeseries_anomaly_detection: a Conv1D /
Conv1DTranspose reconstruction autoencoder; the largest training MAE is the anomaly
threshold. Data: a periodic signal, and a copy with a spike added."""

import keras
import numpy as np
from corpus_data import sine_series
from keras import layers

keras.utils.set_random_seed(0)
TIME_STEPS = 64
normal = sine_series(1600, seed=1)
mean, std = normal.mean(), normal.std()
normal = (normal - mean) / std


def create_sequences(values, time_steps=TIME_STEPS):
    output = []
    for i in range(len(values) - time_steps + 1):
        output.append(values[i : (i + time_steps)])
    return np.stack(output)


x_train = create_sequences(normal[:1200])[:, :, None]
print("Training input shape: ", x_train.shape)

model = keras.Sequential(
    [
        layers.Input(shape=(x_train.shape[1], x_train.shape[2])),
        layers.Conv1D(filters=32, kernel_size=7, padding="same", strides=2, activation="relu"),
        layers.Dropout(rate=0.2),
        layers.Conv1D(filters=16, kernel_size=7, padding="same", strides=2, activation="relu"),
        layers.Conv1DTranspose(
            filters=16, kernel_size=7, padding="same", strides=2, activation="relu"
        ),
        layers.Dropout(rate=0.2),
        layers.Conv1DTranspose(
            filters=32, kernel_size=7, padding="same", strides=2, activation="relu"
        ),
        layers.Conv1DTranspose(filters=1, kernel_size=7, padding="same"),
    ]
)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="mse")
model.summary()
history = model.fit(
    x_train,
    x_train,
    epochs=15,
    batch_size=128,
    validation_split=0.1,
    callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, mode="min")],
    verbose=2,
)

x_train_pred = model.predict(x_train)
train_mae_loss = np.mean(np.abs(x_train_pred - x_train), axis=1)
threshold = np.max(train_mae_loss)
print("Reconstruction error threshold: ", threshold)

test_values = normal[1200:].copy()
test_values[200:210] += 4.0  # the anomaly
x_test = create_sequences(test_values)[:, :, None]
x_test_pred = model.predict(x_test)
test_mae_loss = np.mean(np.abs(x_test_pred - x_test), axis=1).reshape(-1)
anomalies = test_mae_loss > threshold
covering = np.array([i <= 209 and i + TIME_STEPS - 1 >= 200 for i in range(len(x_test))])
print("Number of anomaly samples: ", np.sum(anomalies))
print("RESULT anomaly_recall", float(np.mean(anomalies[covering])))
print("RESULT false_alarm_rate", float(np.mean(anomalies[~covering])))
print("RESULT final_loss", history.history["loss"][-1])
