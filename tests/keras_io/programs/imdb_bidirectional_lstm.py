"""After keras.io examples/nlp/bidirectional_lstm_imdb: two stacked Bidirectional LSTMs
over padded token sequences. Data: synthetic reviews (corpus_data.token_reviews)."""

import keras
from corpus_data import token_reviews
from keras import layers

keras.utils.set_random_seed(0)
max_features = 500  # only consider the top 500 words
maxlen = 40  # only consider the first 40 words of each review

inputs = keras.Input(shape=(None,), dtype="int32")
x = layers.Embedding(max_features, 32)(inputs)
x = layers.Bidirectional(layers.LSTM(16, return_sequences=True))(x)
x = layers.Bidirectional(layers.LSTM(16))(x)
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs)
model.summary()

sequences, labels = token_reviews(n=600, length=maxlen, vocab=max_features)
x_train, y_train = sequences[:480], labels[:480]
x_val, y_val = sequences[480:], labels[480:]
print(len(x_train), "Training sequences")
x_train = keras.utils.pad_sequences(x_train, maxlen=maxlen)
x_val = keras.utils.pad_sequences(x_val, maxlen=maxlen)

model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(
    x_train, y_train, batch_size=32, epochs=4, validation_data=(x_val, y_val), verbose=2
)
print("RESULT val_accuracy", history.history["val_accuracy"][-1])
