"""After keras.io examples/structured_data/structured_data_classification_from_scratch
(the version with preprocessing layers): Normalization adapted per numeric column,
IntegerLookup / StringLookup with output_mode="binary" for categories, one Input per
column, fit on a dict of columns. Data: synthetic records (corpus_data.tabular), the
string column coded as integers (Keras's fit takes no string arrays without tf.data)."""

import keras
import numpy as np
from corpus_data import tabular
from keras import layers
from keras.layers import IntegerLookup, Normalization, StringLookup

keras.utils.set_random_seed(0)
columns, target = tabular(n=800)
columns["thal"] = np.unique(columns["thal"], return_inverse=True)[1].astype("int64") + 1
split = 640
train = {k: v[:split] for k, v in columns.items()}
val = {k: v[split:] for k, v in columns.items()}
y_train, y_val = target[:split], target[split:]


def encode_numerical_feature(feature, name, data):
    normalizer = Normalization()
    normalizer.adapt(data[name][:, None])
    return normalizer(feature)


def encode_categorical_feature(feature, name, data, is_string):
    lookup_class = StringLookup if is_string else IntegerLookup
    lookup = lookup_class(output_mode="binary")
    lookup.adapt(data[name][:, None])
    return lookup(feature)


sex = keras.Input(shape=(1,), name="sex", dtype="int64")
thal = keras.Input(shape=(1,), name="thal", dtype="int64")
age = keras.Input(shape=(1,), name="age")
chol = keras.Input(shape=(1,), name="chol")
all_inputs = [sex, thal, age, chol]

sex_encoded = encode_categorical_feature(sex, "sex", train, False)
thal_encoded = encode_categorical_feature(thal, "thal", train, False)
age_encoded = encode_numerical_feature(age, "age", train)
chol_encoded = encode_numerical_feature(chol, "chol", train)

all_features = layers.concatenate([sex_encoded, thal_encoded, age_encoded, chol_encoded])
x = layers.Dense(32, activation="relu")(all_features)
x = layers.Dropout(0.5)(x)
output = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(all_inputs, output)
model.compile("adam", "binary_crossentropy", metrics=["accuracy"])

as_inputs = lambda data: {k: np.asarray(v)[:, None] for k, v in data.items()}  # noqa: E731
history = model.fit(
    as_inputs(train),
    y_train,
    epochs=15,
    batch_size=32,
    validation_data=(as_inputs(val), y_val),
    verbose=2,
)
sample = {"age": 60.0, "sex": 1, "chol": 260.0, "thal": 3}
input_dict = {name: np.array([[value]]) for name, value in sample.items()}
predictions = model.predict(input_dict)
print(f"This particular patient had a {100 * predictions[0][0]:.1f} percent probability")
print("RESULT val_accuracy", history.history["val_accuracy"][-1])
