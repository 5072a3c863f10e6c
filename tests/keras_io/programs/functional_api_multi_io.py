"""After the keras.io guide functional_api (models with multiple inputs and outputs):
the ticket model (title and body token sequences, tag flags) predicting a priority and a
department, compiled with losses and loss weights given by output name, fit on dicts.
Then the toy ResNet of the guide (layers.add residual connections). Data: synthetic
tickets whose priority and department follow the tags; the 8x8 digits upscaled to 16x16 for the ResNet."""

import keras
import numpy as np
from corpus_data import digits
from keras import layers

keras.utils.set_random_seed(0)
num_tags = 12  # Number of unique issue tags
num_words = 1000  # Size of vocabulary obtained when preprocessing text data
num_departments = 4  # Number of departments for predictions

title_input = keras.Input(shape=(None,), name="title")  # Variable-length sequence of ints
body_input = keras.Input(shape=(None,), name="body")  # Variable-length sequence of ints
tags_input = keras.Input(shape=(num_tags,), name="tags")  # Binary vectors of size `num_tags`

# Embed each word in the title into a 64-dimensional vector
title_features = layers.Embedding(num_words, 64)(title_input)
# Embed each word in the text into a 64-dimensional vector
body_features = layers.Embedding(num_words, 64)(body_input)

# Reduce sequence of embedded words in the title into a single 128-dimensional vector
title_features = layers.LSTM(32)(title_features)
# Reduce sequence of embedded words in the body into a single 32-dimensional vector
body_features = layers.LSTM(16)(body_features)

# Merge all available features into a single large vector via concatenation
x = layers.concatenate([title_features, body_features, tags_input])

# Stick a logistic regression for priority prediction on top of the features
priority_pred = layers.Dense(1, name="priority")(x)
# Stick a department classifier on top of the features
department_pred = layers.Dense(num_departments, name="department")(x)

# Instantiate an end-to-end model predicting both priority and department
model = keras.Model(
    inputs=[title_input, body_input, tags_input],
    outputs={"priority": priority_pred, "department": department_pred},
)
model.summary()

model.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss={
        "priority": keras.losses.BinaryCrossentropy(from_logits=True),
        "department": keras.losses.CategoricalCrossentropy(from_logits=True),
    },
    loss_weights={"priority": 1.0, "department": 0.2},
)

# Dummy input data
rng = np.random.default_rng(0)
title_data = rng.integers(0, num_words, size=(640, 10))
body_data = rng.integers(0, num_words, size=(640, 20))
tags_data = rng.integers(0, 2, size=(640, num_tags)).astype("float32")

# Targets that follow the tags
priority_targets = tags_data[:, :1].copy()
department_targets = np.eye(num_departments, dtype="float32")[
    np.argmax(tags_data[:, 1:5] + 0.01 * np.arange(4), axis=1)
]

history = model.fit(
    {"title": title_data, "body": body_data, "tags": tags_data},
    {"priority": priority_targets, "department": department_targets},
    epochs=6,
    batch_size=32,
    verbose=2,
)
predictions = model.predict({"title": title_data, "body": body_data, "tags": tags_data}, verbose=0)
priority_accuracy = float(np.mean((predictions["priority"] > 0) == (priority_targets > 0.5)))

inputs = keras.Input(shape=(16, 16, 1), name="img")
x = layers.Conv2D(32, 3, activation="relu")(inputs)
x = layers.Conv2D(64, 3, activation="relu")(x)
block_1_output = layers.MaxPooling2D(2)(x)

x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
block_2_output = layers.add([x, block_1_output])

x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
block_3_output = layers.add([x, block_2_output])

x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dense(64, activation="relu")(x)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(10)(x)

model = keras.Model(inputs, outputs, name="toy_resnet")
model.summary()

(x_train, y_train), (x_test, y_test) = digits()
x_train = np.kron(x_train, np.ones((1, 2, 2, 1), "float32"))
y_train = keras.utils.to_categorical(y_train, 10)
y_test = keras.utils.to_categorical(y_test, 10)

model.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss=keras.losses.CategoricalCrossentropy(from_logits=True),
    metrics=["acc"],
)
resnet_history = model.fit(
    x_train, y_train, batch_size=64, epochs=6, validation_split=0.2, verbose=2
)
print("RESULT priority_accuracy", priority_accuracy)
print("RESULT final_loss", history.history["loss"][-1])
print("RESULT resnet_val_acc", resnet_history.history["val_acc"][-1])
