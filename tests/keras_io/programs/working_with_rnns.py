"""After the keras.io guide working_with_rnns: Sequential LSTM / GRU / SimpleRNN models,
return_sequences and return_state, an encoder-decoder passing its states as
``initial_state``, stacked Bidirectional layers, ``layers.RNN(LSTMCell)``, a stateful LSTM
fed sub-sequences with ``reset_states``, and an LSTM classifier of digit rows (the
guide's MNIST model on the 8x8 digits)."""

import keras
import numpy as np
from corpus_data import digits
from keras import layers

keras.utils.set_random_seed(0)
shapes = []

model = keras.Sequential()
model.add(keras.Input(shape=(None,), dtype="int32"))
model.add(layers.Embedding(input_dim=1000, output_dim=64))
model.add(layers.LSTM(128))
model.add(layers.Dense(10))
model.summary()
shapes.append(model.output_shape == (None, 10))

model = keras.Sequential()
model.add(keras.Input(shape=(None,), dtype="int32"))
model.add(layers.Embedding(input_dim=1000, output_dim=64))
model.add(layers.GRU(256, return_sequences=True))
model.add(layers.SimpleRNN(128))
model.add(layers.Dense(10))
shapes.append(model.output_shape == (None, 10))

encoder_vocab = 1000
decoder_vocab = 2000

encoder_input = layers.Input(shape=(None,))
encoder_embedded = layers.Embedding(input_dim=encoder_vocab, output_dim=64)(encoder_input)

# Return states in addition to output
output, state_h, state_c = layers.LSTM(64, return_state=True, name="encoder")(encoder_embedded)
encoder_state = [state_h, state_c]

decoder_input = layers.Input(shape=(None,))
decoder_embedded = layers.Embedding(input_dim=decoder_vocab, output_dim=64)(decoder_input)

# Pass the 2 states to a new LSTM layer, as initial state
decoder_output = layers.LSTM(64, name="decoder")(decoder_embedded, initial_state=encoder_state)
output = layers.Dense(10)(decoder_output)

model = keras.Model([encoder_input, decoder_input], output)
model.summary()
prediction = model.predict([np.ones((2, 5)), np.ones((2, 7))], verbose=0)
shapes.append(prediction.shape == (2, 10))

paragraph1 = np.random.random((20, 10, 50)).astype(np.float32)
paragraph2 = np.random.random((20, 10, 50)).astype(np.float32)
paragraph3 = np.random.random((20, 10, 50)).astype(np.float32)

lstm_layer = layers.LSTM(64, stateful=True)
output = lstm_layer(paragraph1)
output = lstm_layer(paragraph2)
output = lstm_layer(paragraph3)

# reset_states() will reset the cached state to the original initial_state.
# If no initial_state was provided, zero-states will be used by default.
lstm_layer.reset_states()
shapes.append(tuple(output.shape) == (20, 64))

model = keras.Sequential()
model.add(keras.Input(shape=(5, 10)))
model.add(layers.Bidirectional(layers.LSTM(64, return_sequences=True)))
model.add(layers.Bidirectional(layers.LSTM(32)))
model.add(layers.Dense(10))
model.summary()
shapes.append(model.output_shape == (None, 10))

batch_size = 64
# Each digit image batch is a tensor of shape (batch_size, 8, 8).
# Each input sequence will be of size (8, 8).
input_dim = 8

units = 64
output_size = 10  # labels are from 0 to 9


# Build the RNN model
def build_model(allow_cudnn_kernel=True):
    if allow_cudnn_kernel:
        # The LSTM layer with default options uses CuDNN.
        lstm_layer = keras.layers.LSTM(units, input_shape=(None, input_dim))
    else:
        # Wrapping a LSTMCell in an RNN layer will not use CuDNN.
        lstm_layer = keras.layers.RNN(keras.layers.LSTMCell(units), input_shape=(None, input_dim))
    model = keras.models.Sequential(
        [
            lstm_layer,
            keras.layers.BatchNormalization(),
            keras.layers.Dense(output_size),
        ]
    )
    return model


(x_train, y_train), (x_test, y_test) = digits(channels_last=False)
model = build_model(allow_cudnn_kernel=True)
model.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer="sgd",
    metrics=["accuracy"],
)
history = model.fit(
    x_train, y_train, validation_data=(x_test, y_test), batch_size=batch_size, epochs=8, verbose=2
)

slow_model = build_model(allow_cudnn_kernel=False)
slow_model.set_weights(model.get_weights())
slow_model.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer="sgd",
    metrics=["accuracy"],
)
same = np.allclose(
    slow_model.predict(x_test, verbose=0), model.predict(x_test, verbose=0), atol=1e-4
)
shapes.append(same)
print(shapes)
print("RESULT checks_passed", sum(bool(s) for s in shapes))
print("RESULT val_accuracy", history.history["val_accuracy"][-1])
