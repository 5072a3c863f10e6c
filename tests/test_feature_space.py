"""utils.FeatureSpace: encodings equal to Keras 3.15's on the same columns (crossing
included), a model built from get_inputs / get_encoded_features trained on raw columns,
iterable data for adapt, and the error messages."""

import numpy as np
import pytest

import shendu as keras
from shendu.utils import FeatureSpace

RNG = np.random.default_rng(0)
N = 64
DATA = {
    "chol": RNG.normal(200, 30, N).astype(np.float32),
    "sex": RNG.integers(0, 2, N).astype(np.int32),
    "thal": RNG.choice(np.array(["fixed", "normal", "reversible"]), N),
    "cp": RNG.integers(0, 4, N).astype(np.int32),
}
TARGET = ((DATA["sex"] == 1) & (DATA["thal"] != "normal")).astype(np.float32)


def _space(output_mode="concat"):
    return FeatureSpace(
        features={
            "sex": FeatureSpace.integer_categorical(num_oov_indices=0),
            "thal": FeatureSpace.string_categorical(num_oov_indices=0),
            "cp": "integer_categorical",
            "chol": "float_normalized",
        },
        crosses=[FeatureSpace.cross(feature_names=("sex", "cp"), crossing_dim=8)],
        output_mode=output_mode,
    )


def test_encodings_follow_keras_layout():
    fs = _space()
    fs.adapt(DATA)
    out = fs({k: v[:5] for k, v in DATA.items()}).numpy()
    # sorted features (chol 1, cp 5, sex 2, thal 3) then the cross (8): 19 columns
    assert out.shape == (5, 19) and fs.get_encoded_features().shape == (None, 19)
    chol = (DATA["chol"][:5] - DATA["chol"].mean()) / DATA["chol"].std()
    np.testing.assert_allclose(out[:, 0], chol, rtol=1e-4)
    assert (out[:, 1:6].sum(1) == 1).all() and (out[:, -8:].sum(1) == 1).all()
    # the cross hashes the lookups' indices with Keras's HashedCrossing (the whole encoding
    # equals Keras 3.15's on 40 rows but for one quantile bin of Discretization)
    sex, cp = (fs.preprocessors[k](DATA[k][:5, None]).numpy()[:, 0] for k in ("sex", "cp"))
    bins = keras.layers.HashedCrossing(8)((sex, cp)).numpy()
    np.testing.assert_array_equal(out[:, -8:].argmax(1), bins)
    one = fs({k: v[0] for k, v in DATA.items()}).numpy()
    np.testing.assert_allclose(one, out[0], rtol=1e-6)  # a single sample (scalars)
    as_dict = _space("dict")
    as_dict.adapt(DATA)
    parts = as_dict({k: v[:5] for k, v in DATA.items()})
    assert set(parts) == {"chol", "cp", "sex", "thal", "sex_X_cp"}


def test_a_model_on_raw_columns_trains():
    keras.utils.set_random_seed(0)
    fs = _space()
    batches = [
        ({k: v[i : i + 16] for k, v in DATA.items()}, TARGET[i : i + 16]) for i in (0, 16, 32, 48)
    ]
    fs.adapt(batches)  # (features, target) batches: the targets are ignored
    encoded = fs.get_encoded_features()
    x = keras.layers.Dense(16, activation="relu")(encoded)
    output = keras.layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(fs.get_inputs(), output)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    columns = {k: v[:, None] for k, v in DATA.items()}
    history = model.fit(columns, TARGET, epochs=40, batch_size=16, verbose=0)
    assert history.history["accuracy"][-1] > 0.9


def test_errors_name_what_was_expected():
    with pytest.raises(ValueError, match="cannot be None or empty"):
        FeatureSpace({})
    with pytest.raises(ValueError, match="Invalid feature type"):
        FeatureSpace({"a": "float_squared"})
    with pytest.raises(ValueError, match="unknown features"):
        FeatureSpace({"a": "float"}, crosses=[("a", "b")])
    with pytest.raises(ValueError, match="'dict', 'concat'"):
        FeatureSpace({"a": "float"}, output_mode="list")
    fs = _space()
    with pytest.raises(ValueError, match=r"call `.adapt\(dataset\)`"):
        fs.get_encoded_features()
    with pytest.raises(ValueError, match="only be called with a dict"):
        fs([1, 2])
    with pytest.raises(ValueError, match="no column for features"):
        fs.adapt({"sex": DATA["sex"]})
    plain = FeatureSpace({"x": "float", "y": FeatureSpace.float_rescaled(scale=2.0)})
    np.testing.assert_allclose(
        plain({"x": np.array([1.0]), "y": np.array([3.0])}).numpy(), [[1.0, 6.0]]
    )
    config = _space().get_config()
    again = FeatureSpace.from_config(config)
    assert sorted(again.features) == sorted(config["features"])


def test_concat_of_a_single_feature_is_its_encoding():
    """Keras concatenates one feature too; shendu refused (Concatenate needs 2 inputs)."""
    fs = keras.utils.FeatureSpace(
        features={"a": keras.utils.FeatureSpace.float_normalized()}, output_mode="concat"
    )
    fs.adapt({"a": np.arange(10.0)})
    out = np.asarray(fs({"a": np.array([0.0, 4.5, 9.0])}))
    assert out.shape == (3, 1)
    np.testing.assert_allclose(out[:, 0], [-1.5666989, 0.0, 1.5666989], rtol=1e-5)
    assert fs.get_encoded_features().shape == (None, 1)
