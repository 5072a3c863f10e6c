"""FeatureSpace: one object that preprocesses a dict of structured-data columns, Keras's
``keras.utils.FeatureSpace``.

Each feature names its preprocessing (a preprocessing layer: Normalization, Rescaling,
Discretization, IntegerLookup, StringLookup, Hashing, or none) and its output mode
("float", "int", "one_hot"); ``crosses`` hash pairs (or more) of categorical features
together (HashedCrossing). ``adapt(data)`` learns the statistics and vocabularies;
``fs(data)`` encodes a dict of columns; ``get_inputs()`` / ``get_encoded_features()`` give
the symbolic inputs and outputs to build a model that takes raw columns. Features are
encoded in sorted name order, then the crosses in sorted name order; "one_hot" is
CategoryEncoding's multi_hot over the preprocessor's output space; "concat" joins
everything on the last axis.
"""

from __future__ import annotations

import numpy as np

from .. import layers
from ..autograd.tensor import Tensor

_COUNTER = {"n": 0}


def _auto_name(prefix):
    _COUNTER["n"] += 1
    return f"{prefix}_{_COUNTER['n']}"


class Cross:
    """A crossing of ``feature_names`` hashed into ``crossing_dim`` bins."""

    def __init__(self, feature_names, crossing_dim, output_mode="one_hot"):
        if output_mode not in ("int", "one_hot"):
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of {'int', 'one_hot'}. "
                f"Received: output_mode={output_mode}"
            )
        self.feature_names = tuple(feature_names)
        self.crossing_dim, self.output_mode = crossing_dim, output_mode

    @property
    def name(self):
        return "_X_".join(self.feature_names)

    def get_config(self):
        return {
            "feature_names": list(self.feature_names),
            "crossing_dim": self.crossing_dim,
            "output_mode": self.output_mode,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Feature:
    """A column's input dtype, its preprocessing layer and its output mode."""

    def __init__(self, dtype, preprocessor, output_mode):
        if output_mode not in ("int", "one_hot", "float"):
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of "
                f"{{'int', 'one_hot', 'float'}}. Received: output_mode={output_mode}"
            )
        if isinstance(preprocessor, dict):
            preprocessor = layers.deserialize(preprocessor)
        self.dtype, self.preprocessor, self.output_mode = dtype, preprocessor, output_mode

    def get_config(self):
        return {
            "dtype": self.dtype,
            "preprocessor": layers.serialize(self.preprocessor),
            "output_mode": self.output_mode,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _column(values):
    """A column as a (samples, 1) array (a scalar becomes one sample)."""
    x = np.asarray(values.data if isinstance(values, Tensor) else values)
    if x.dtype.kind == "U":
        x = x.astype(object)
    return x.reshape(-1, 1) if x.ndim <= 1 else x


def _columns(data):
    """dict name -> (samples, 1) array from a dict of columns, or from an iterable of dict
    batches (or (dict, target) pairs), such as a shendu data pipeline."""
    if isinstance(data, dict):
        return {k: _column(v) for k, v in data.items()}
    parts: dict = {}
    for batch in data:
        if isinstance(batch, tuple):
            batch = batch[0]
        if not isinstance(batch, dict):
            raise ValueError(
                "`adapt()` takes a dict of arrays or an iterable of dict batches. Received "
                f"a batch of type {type(batch).__name__}"
            )
        for k, v in batch.items():
            parts.setdefault(k, []).append(_column(v))
    if not parts:
        raise ValueError("`adapt()` received no data")
    return {k: np.concatenate(v) for k, v in parts.items()}


class FeatureSpace(layers.Layer):
    """Preprocess and encode structured data (see the module docstring)."""

    @classmethod
    def cross(cls, feature_names, crossing_dim, output_mode="one_hot"):
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype, preprocessor, output_mode):
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name=None):
        name = name or _auto_name("float")
        return Feature("float32", layers.Identity(name=f"{name}_preprocessor"), "float")

    @classmethod
    def float_rescaled(cls, scale=1.0, offset=0.0, name=None):
        name = name or _auto_name("float_rescaled")
        rescaling = layers.Rescaling(scale=scale, offset=offset, name=f"{name}_preprocessor")
        return Feature("float32", rescaling, "float")

    @classmethod
    def float_normalized(cls, name=None):
        name = name or _auto_name("float_normalized")
        return Feature(
            "float32", layers.Normalization(axis=-1, name=f"{name}_preprocessor"), "float"
        )

    @classmethod
    def float_discretized(cls, num_bins, bin_boundaries=None, output_mode="one_hot", name=None):
        name = name or _auto_name("float_discretized")
        discretization = layers.Discretization(
            num_bins=num_bins, bin_boundaries=bin_boundaries, name=f"{name}_preprocessor"
        )
        return Feature("float32", discretization, output_mode)

    @classmethod
    def integer_categorical(
        cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None
    ):
        name = name or _auto_name("integer_categorical")
        lookup = layers.IntegerLookup(
            name=f"{name}_preprocessor", max_tokens=max_tokens, num_oov_indices=num_oov_indices
        )
        return Feature("int32", lookup, output_mode)

    @classmethod
    def string_categorical(
        cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None
    ):
        name = name or _auto_name("string_categorical")
        lookup = layers.StringLookup(
            name=f"{name}_preprocessor", max_tokens=max_tokens, num_oov_indices=num_oov_indices
        )
        return Feature("string", lookup, output_mode)

    @classmethod
    def string_hashed(cls, num_bins, output_mode="one_hot", name=None):
        name = name or _auto_name("string_hashed")
        return Feature(
            "string", layers.Hashing(name=f"{name}_preprocessor", num_bins=num_bins), output_mode
        )

    @classmethod
    def integer_hashed(cls, num_bins, output_mode="one_hot", name=None):
        name = name or _auto_name("integer_hashed")
        return Feature(
            "int32", layers.Hashing(name=f"{name}_preprocessor", num_bins=num_bins), output_mode
        )

    _SHORTHANDS = (
        "float", "float_normalized", "float_rescaled", "float_discretized",
        "integer_categorical", "string_categorical", "integer_hashed", "string_hashed",
    )  # fmt: skip

    def __init__(
        self,
        features,
        output_mode="concat",
        crosses=None,
        crossing_dim=32,
        hashing_dim=32,
        num_discretization_bins=32,
        name=None,
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        if not features:
            raise ValueError("The `features` argument cannot be None or empty.")
        if output_mode not in ("dict", "concat"):
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of {'dict', 'concat'}. "
                f"Received: output_mode={output_mode}"
            )
        self.crossing_dim, self.hashing_dim = crossing_dim, hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.output_mode = output_mode
        self.features = {n: self._standardize_feature(n, f) for n, f in features.items()}
        self.crosses = []
        for cross in crosses or []:
            if isinstance(cross, dict):
                cross = Cross.from_config(cross)
            if not isinstance(cross, Cross):
                unknown = [k for k in cross if k not in self.features]
                if unknown:
                    raise ValueError(
                        "All features referenced in the `crosses` argument should be present "
                        f"in the `features` dict. Received unknown features: {unknown}"
                    )
                cross = Cross(cross, crossing_dim=crossing_dim)
            self.crosses.append(cross)
        self.crosses_by_name = {c.name: c for c in self.crosses}
        self.preprocessors = {n: f.preprocessor for n, f in self.features.items()}
        self.crossers = {
            c.name: layers.HashedCrossing(c.crossing_dim, name=c.name) for c in self.crosses
        }
        self.inputs = {
            n: layers.Input(shape=(1,), dtype=f.dtype, name=n) for n, f in self.features.items()
        }
        self.one_hot_encoders: dict = {}
        self.encoded_features = None
        self._is_adapted = False

    def _standardize_feature(self, name, feature):
        if isinstance(feature, Feature):
            return feature
        if isinstance(feature, dict):
            return Feature.from_config(feature.get("config", feature))
        if feature not in self._SHORTHANDS:
            raise ValueError(f"Invalid feature type: {feature}")
        if feature == "float_discretized":
            return self.float_discretized(self.num_discretization_bins, name=name)
        if feature in ("integer_hashed", "string_hashed"):
            return getattr(self, feature)(self.hashing_dim, name=name)
        return getattr(self, feature)(name=name)

    def _adaptable(self):
        names = []
        for name, preprocessor in self.preprocessors.items():
            if (
                isinstance(preprocessor, layers.Normalization)
                and preprocessor.input_mean is not None
            ):
                continue
            if isinstance(preprocessor, layers.Discretization) and preprocessor.bin_boundaries:
                continue
            if hasattr(preprocessor, "adapt"):
                names.append(name)
        return names

    def adapt(self, dataset):
        """Learn every adaptable preprocessor's state from ``dataset``: a dict of columns,
        or an iterable of dict batches (a target beside each batch is ignored)."""
        columns = _columns(dataset)
        missing = [n for n in self._adaptable() if n not in columns]
        if missing:
            raise ValueError(f"`adapt()` data has no column for features {missing}")
        for name in self._adaptable():
            self.preprocessors[name].adapt(columns[name])
        self._is_adapted = True
        self.encoded_features = None
        self.get_encoded_features()
        self.built = True

    def _check_if_adapted(self):
        if not self._is_adapted:
            if self._adaptable():
                raise ValueError(
                    "You need to call `.adapt(dataset)` on the FeatureSpace before you can "
                    "start using it."
                )
            self._is_adapted = True

    def _cardinality(self, name, preprocessor):
        if isinstance(preprocessor, (layers.IntegerLookup, layers.StringLookup)):
            return preprocessor.vocabulary_size()
        if isinstance(preprocessor, layers.CategoryEncoding):
            return preprocessor.num_tokens
        if isinstance(preprocessor, layers.Discretization):
            return len(preprocessor.bin_boundaries or ()) + 1
        if isinstance(preprocessor, (layers.HashedCrossing, layers.Hashing)):
            return preprocessor.num_bins
        raise ValueError(
            f"Feature '{name}' has `output_mode='one_hot'`. However it isn't a standard feature "
            "and the dimensionality of its output space is not known, thus it cannot be one-hot "
            "encoded. Try using `output_mode='int'`."
        )

    def _encode(self, inputs):
        """Preprocess, cross and merge ``inputs`` (symbolic or arrays): Keras's order."""
        preprocessed = {n: self.preprocessors[n](inputs[n]) for n in sorted(self.features)}
        crossed = {
            c.name: self.crossers[c.name]([preprocessed[f] for f in c.feature_names])
            for c in sorted(self.crosses, key=lambda c: c.name)
        }
        outputs = {}
        for name, value in [*preprocessed.items(), *crossed.items()]:
            spec = self.features.get(name) or self.crosses_by_name[name]
            if spec.output_mode == "one_hot":
                encoder = self.one_hot_encoders.get(name)
                if encoder is None:
                    preprocessor = self.preprocessors.get(name) or self.crossers[name]
                    encoder = layers.CategoryEncoding(
                        num_tokens=self._cardinality(name, preprocessor), output_mode="multi_hot"
                    )
                    self.one_hot_encoders[name] = encoder
                value = encoder(value)
            outputs[name] = value
        if self.output_mode == "dict":
            return outputs
        for name, value in outputs.items():
            if np.dtype(value.dtype).kind not in "f":
                raise ValueError(
                    f"Cannot concatenate features because feature '{name}' has not been "
                    f"encoded (it has dtype {value.dtype}). Consider using `output_mode='dict'`."
                )
        values = list(outputs.values())
        if len(values) == 1:  # Keras concatenates one feature too: it is the encoding
            return values[0]
        return layers.concatenate(values, axis=-1)

    def get_inputs(self):
        self._check_if_adapted()
        return self.inputs

    def get_encoded_features(self):
        self._check_if_adapted()
        if self.encoded_features is None:
            self.encoded_features = self._encode(self.inputs)
        return self.encoded_features

    def __call__(self, data):
        if not isinstance(data, dict):
            raise ValueError(
                f"A FeatureSpace can only be called with a dict. Received: data of type "
                f"{type(data).__name__}"
            )
        self._check_if_adapted()
        self.get_encoded_features()
        single = all(np.ndim(v.data if isinstance(v, Tensor) else v) == 0 for v in data.values())
        out = self._encode({n: _column(data[n]) for n in self.features})
        if not single:
            return out
        if isinstance(out, dict):
            return {k: v[0] for k, v in out.items()}
        return out[0]

    def get_config(self):
        return {
            "name": self.name,
            "features": {n: f.get_config() for n, f in self.features.items()},
            "output_mode": self.output_mode,
            "crosses": [c.get_config() for c in self.crosses],
            "crossing_dim": self.crossing_dim,
            "hashing_dim": self.hashing_dim,
            "num_discretization_bins": self.num_discretization_bins,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
