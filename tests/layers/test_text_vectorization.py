"""TextVectorization: the figures below were read from Keras 3.15 (TensorFlow backend) on
the same texts: vocabulary order, ids, padding, multi_hot / count / tf_idf vectors,
n-grams, character split; then errors, a config round trip, saving inside a model, and
training a text classifier."""

import json

import numpy as np
import pytest

import shendu as keras
from shendu import layers

TEXTS = np.array(
    ["The cat sat on the mat.", "The dog ate my homework!", "cat, dog & bird?", "b a a c c"]
)


def _ids(x):
    return np.asarray(x.numpy()).tolist()


def test_int_mode_vocabulary_and_ids_as_keras():
    tv = layers.TextVectorization(max_tokens=10, output_sequence_length=6)
    tv.adapt(TEXTS)
    assert tv.get_vocabulary() == ["", "[UNK]", "the", "dog", "cat", "c", "a", "sat", "on", "my"]
    assert _ids(tv(TEXTS)) == [
        [2, 4, 7, 8, 2, 1],
        [2, 3, 1, 9, 1, 0],
        [4, 3, 1, 0, 0, 0],
        [1, 6, 6, 5, 5, 0],
    ]
    unpadded = layers.TextVectorization()
    unpadded.adapt(TEXTS)
    assert _ids(unpadded(np.array(["dog", "the cat sat"]))) == [[3, 0, 0], [2, 4, 7]]


def test_vector_modes_as_keras():
    mh = layers.TextVectorization(output_mode="multi_hot", max_tokens=8)
    mh.adapt(TEXTS)
    assert mh.get_vocabulary() == ["[UNK]", "the", "dog", "cat", "c", "a", "sat", "on"]
    assert _ids(mh(TEXTS[:2])) == [[1, 1, 0, 1, 0, 0, 1, 1], [1, 1, 1, 0, 0, 0, 0, 0]]
    counts = layers.TextVectorization(output_mode="count", ngrams=2)
    counts.adapt(TEXTS[:2])
    assert counts.get_vocabulary()[:8] == [
        "[UNK]", "the", "the mat", "the dog", "the cat", "sat on", "sat", "on the",
    ]  # fmt: skip
    assert _ids(counts(TEXTS[:1])) == [[0, 2, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0]]
    tfidf = layers.TextVectorization(output_mode="tf_idf")
    tfidf.adapt(TEXTS)
    got = np.round(tfidf(np.array(["the cat zebra dog dog"])).numpy(), 4)
    idf_the, idf_two = np.log(1 + 4 / 3), np.log(1 + 4 / 3)
    assert got[0, 1] == pytest.approx(round(idf_the, 4))
    assert got[0, 2] == pytest.approx(round(2 * idf_two, 4), abs=1e-4)
    wide = layers.TextVectorization(output_mode="multi_hot", max_tokens=12, pad_to_max_tokens=True)
    wide.adapt(TEXTS[:1])
    assert wide(TEXTS[:1]).shape == (1, 12)


def test_given_vocabulary_and_character_split():
    tv = layers.TextVectorization(vocabulary=["cat", "dog"])
    assert tv.get_vocabulary() == ["", "[UNK]", "cat", "dog"]
    assert _ids(tv(np.array(["dog cat fish"]))) == [[3, 2, 1]]
    chars = layers.TextVectorization(split="character", standardize="lower")
    chars.adapt(np.array(["abca", "bb"]))
    assert chars.get_vocabulary() == ["", "[UNK]", "b", "a", "c"]


def test_errors_name_what_was_expected():
    with pytest.raises(ValueError, match="Unknown `output_mode`"):
        layers.TextVectorization(output_mode="binary_tree")
    with pytest.raises(ValueError, match="`output_sequence_length` must be None unless"):
        layers.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="set a vocabulary or call adapt"):
        layers.TextVectorization()(TEXTS)
    with pytest.raises(ValueError, match="needs one idf weight per vocabulary entry"):
        layers.TextVectorization(output_mode="tf_idf", vocabulary=["a"])
    with pytest.raises(ValueError, match="no sparse or ragged"):
        layers.TextVectorization(ragged=True)


def test_config_round_trip_keeps_the_vocabulary():
    tv = layers.TextVectorization(output_mode="tf_idf", max_tokens=6)
    tv.adapt(TEXTS)
    config = json.loads(json.dumps(tv.get_config()))
    back = layers.TextVectorization.from_config(config)
    assert back.get_vocabulary() == tv.get_vocabulary()
    np.testing.assert_allclose(back(TEXTS).numpy(), tv(TEXTS).numpy())


def test_text_classifier_trains_and_saves(tmp_path):
    pytest.importorskip("safetensors")
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    good, bad = ["great", "fine", "good"], ["awful", "bad", "poor"]
    labels = rng.integers(0, 2, 64)
    texts = np.array(
        [" ".join(rng.choice(good if y else bad, 3)) + " movie" for y in labels], dtype=object
    )
    vectorize = layers.TextVectorization(max_tokens=20, output_sequence_length=4)
    vectorize.adapt(texts)
    inputs = keras.Input((1,), dtype="string")
    x = vectorize(inputs)
    x = layers.Embedding(20, 8)(x)
    x = layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x))
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(texts[:, None], labels, epochs=30, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    model.save(tmp_path / "text.shendu")
    back = keras.saving.load_model(tmp_path / "text.shendu")
    np.testing.assert_allclose(
        back.predict(texts[:5, None], verbose=0), model.predict(texts[:5, None], verbose=0)
    )
