"""After the keras.io guides "Making new layers and models via subclassing" and "Save, serialize
and export models": sublayers held in a list and a dict (appended after assignment), a
sequence model whose output carries a mask (Embedding with mask_zero) trained with a
compiled loss that must skip the padding, a layer whose extra state and vocabulary are
kept by save_own_variables / save_assets, and a registered subclassed model saved to and
reloaded from a .keras file."""

import os

import keras
import numpy as np
from keras import layers, ops

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
checks = []


# --- sublayers in a list and a dict --------------------------------------------------
@keras.saving.register_keras_serializable(package="corpus")
class TokenTagger(keras.Model):
    """Per-token regression: embedding, a stack of Dense blocks kept in a list (appended
    one by one), and heads kept in a dict."""

    def __init__(self, vocab_size=20, width=16, depth=2, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.width, self.depth = vocab_size, width, depth
        self.embed = layers.Embedding(vocab_size, width, mask_zero=True)
        self.blocks = []
        for _ in range(depth):
            self.blocks.append(layers.Dense(width, activation="relu"))
        self.heads = {"value": layers.Dense(1)}

    def call(self, tokens):
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x)
        return self.heads["value"](x)

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "width": self.width,
            "depth": self.depth,
        }


# A token's target is its id / 10; padding (id 0) carries a huge target that a loss which
# ignored the mask would chase.
lengths = rng.integers(3, 9, size=512)
tokens = np.zeros((512, 8), dtype="int32")
for i, n in enumerate(lengths):
    tokens[i, :n] = rng.integers(1, 20, size=n)
targets = (tokens / 10.0).astype("float32")[..., None]
targets[tokens == 0] = 1000.0

model = TokenTagger()
model(tokens[:2])
weights = len(model.trainable_weights)
print("trainable weights:", weights)
checks.append(weights == 1 + 2 * 2 + 2)  # the embedding, two blocks, one head
model.compile(keras.optimizers.Adam(0.01), "mse")
history = model.fit(
    tokens[:448],
    targets[:448],
    validation_data=(tokens[448:], targets[448:]),
    epochs=15,
    batch_size=32,
    verbose=0,
)
val_loss = history.history["val_loss"][-1]
print("masked val_loss:", val_loss)


# --- state kept by the saving hooks --------------------------------------------------
@keras.saving.register_keras_serializable(package="corpus")
class ScaledLookup(layers.Layer):
    """Scales its input by a factor that is not a variable, and keeps a vocabulary."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.factor = 1.0
        self.vocabulary = []

    def call(self, x):
        return x * self.factor

    def save_own_variables(self, store):
        store["factor"] = np.array(self.factor)

    def load_own_variables(self, store):
        self.factor = float(store["factor"][()])

    def save_assets(self, dir_path):
        with open(os.path.join(dir_path, "vocabulary.txt"), "w") as f:
            f.write("\n".join(self.vocabulary))

    def load_assets(self, dir_path):
        with open(os.path.join(dir_path, "vocabulary.txt")) as f:
            self.vocabulary = f.read().split("\n")


inputs = keras.Input((4,))
lookup = ScaledLookup()
outputs = layers.Dense(2)(lookup(inputs))
hooked = keras.Model(inputs, outputs)
lookup.factor = 2.5
lookup.vocabulary = ["red", "green", "blue"]
x = rng.random((3, 4)).astype("float32")
hooked.save("hooked.keras")
reloaded = keras.saving.load_model("hooked.keras")
checks.append(reloaded.layers[1].factor == 2.5)
checks.append(reloaded.layers[1].vocabulary == ["red", "green", "blue"])
checks.append(
    np.allclose(ops.convert_to_numpy(reloaded(x)), ops.convert_to_numpy(hooked(x)), atol=1e-6)
)

# --- a registered subclassed model in a .keras file ----------------------------------
model.save("tagger.keras")
again = keras.saving.load_model("tagger.keras")
checks.append(type(again).__name__ == "TokenTagger")
checks.append(
    np.allclose(
        again.predict(tokens[448:], verbose=0), model.predict(tokens[448:], verbose=0), atol=1e-5
    )
)
reloaded_val_loss = again.evaluate(tokens[448:], targets[448:], verbose=0)
print("reloaded val_loss:", reloaded_val_loss)

print("RESULT checks_passed", sum(bool(c) for c in checks))
print("RESULT val_loss", val_loss)
print("RESULT reloaded_val_loss", reloaded_val_loss)
