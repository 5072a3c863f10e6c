"""After keras.io examples/timeseries/timeseries_weather_forecasting: windows made by
timeseries_dataset_from_array, an LSTM(32) regressor, EarlyStopping and a weights-only
ModelCheckpoint (.weights.h5). Data: a noisy sum of sines with two features."""

import keras
import numpy as np
from corpus_data import sine_series

keras.utils.set_random_seed(0)
series = sine_series(1200)
features = np.stack([series, np.roll(series, 3)], axis=1)
mean, std = features[:900].mean(axis=0), features[:900].std(axis=0)
features = (features - mean) / std

split_fraction = 0.75
train_split = int(split_fraction * int(features.shape[0]))
step = 1
past = 36
future = 6
learning_rate = 0.001
batch_size = 64
epochs = 6

train_data = features[0 : train_split - 1]
val_data = features[train_split:]

start = past + future
end = start + train_split
x_train = train_data
y_train = features[start:end][:, 0][:, None]
sequence_length = int(past / step)

dataset_train = keras.preprocessing.timeseries_dataset_from_array(
    x_train,
    y_train,
    sequence_length=sequence_length,
    sampling_rate=step,
    batch_size=batch_size,
)

x_end = len(val_data) - past - future
label_start = train_split + past + future
x_val = val_data[:x_end]
y_val = features[label_start:][:, 0][:, None]

dataset_val = keras.preprocessing.timeseries_dataset_from_array(
    x_val,
    y_val,
    sequence_length=sequence_length,
    sampling_rate=step,
    batch_size=batch_size,
)

inputs = keras.layers.Input(shape=(sequence_length, features.shape[1]))
lstm_out = keras.layers.LSTM(32)(inputs)
outputs = keras.layers.Dense(1)(lstm_out)

model = keras.Model(inputs=inputs, outputs=outputs)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse")
model.summary()

path_checkpoint = "model_checkpoint.weights.h5"
es_callback = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0, patience=5)
modelckpt_callback = keras.callbacks.ModelCheckpoint(
    monitor="val_loss",
    filepath=path_checkpoint,
    verbose=1,
    save_weights_only=True,
    save_best_only=True,
)
history = model.fit(
    dataset_train,
    epochs=epochs,
    validation_data=dataset_val,
    callbacks=[es_callback, modelckpt_callback],
    verbose=2,
)
model.load_weights(path_checkpoint)
print("RESULT best_val_loss", min(history.history["val_loss"]))
