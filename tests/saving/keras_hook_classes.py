"""User classes with Keras's saving hooks, written against a Keras-like module ``k`` so
that the fixture maker (``keras_files/make_hook_fixtures.py``, on Keras) and the tests (on
shendu) define the same classes. Nothing here imports Keras or shendu."""

import os

import numpy as np


def define(k, package="hooks_test"):
    """The classes, registered under ``package``: {name: class}."""
    register = k.saving.register_keras_serializable(package=package)

    @register
    class Extra(k.layers.Layer):
        """State that is not a variable, kept by save_own_variables/load_own_variables."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.extra = 7.0

        def call(self, x):
            return x * self.extra

        def save_own_variables(self, store):
            store["extra"] = np.array(self.extra)

        def load_own_variables(self, store):
            self.extra = float(store["extra"][()])

    @register
    class Vocab(k.layers.Layer):
        """A vocabulary kept as an asset file."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.vocab = None

        def call(self, x):
            return x

        def save_assets(self, dir_path):
            with open(os.path.join(dir_path, "vocab.txt"), "w") as f:
                f.write("\n".join(self.vocab))

        def load_assets(self, dir_path):
            with open(os.path.join(dir_path, "vocab.txt")) as f:
                self.vocab = f.read().split("\n")

    @register
    class Built(k.layers.Layer):
        """A build config of its own (the default rebuild would not know "shape")."""

        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1] * 2, self.units))

        def call(self, x):
            return k.ops.matmul(k.ops.concatenate([x, x], -1), self.w)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

        def get_build_config(self):
            return {"shape": [None, 4], "extra": 2}

        def build_from_config(self, config):
            self.build(config["shape"])

    @register
    class Blocks(k.Model):
        """A subclassed model with a layer attribute and a list of layers."""

        def __init__(self, units=2, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.head = k.layers.Dense(units)
            self.blocks = [k.layers.Dense(3), k.layers.Dense(units)]

        def call(self, x):
            return self.head(x) + self.blocks[1](self.blocks[0](x))

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return {"Extra": Extra, "Vocab": Vocab, "Built": Built, "Blocks": Blocks}


def hooks_model(k, classes):
    """A functional model of the three hook layers, its state set after building."""
    inputs = k.Input((4,))
    extra, vocab = classes["Extra"](), classes["Vocab"]()
    outputs = classes["Built"]()(vocab(extra(inputs)))
    model = k.Model(inputs, outputs)
    extra.extra = 3.0
    vocab.vocab = ["a", "b", "c"]
    return model


def subclassed_model(k, classes, x):
    model = classes["Blocks"]()
    model(x)
    model.compile("adam", "mse")
    model.fit(x, np.ones((len(x), 2)), epochs=2, verbose=0)
    return model
