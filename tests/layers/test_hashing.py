"""Keras's string hashes (FarmHash Fingerprint64, SipHash-2-4, TensorFlow's fingerprint
concatenation) and the layers built on them: Hashing, HashedCrossing and the lookups' OOV
buckets. Expected values are TensorFlow 2 / Keras 3.15's outputs on the same inputs."""

import numpy as np
import pytest

import shendu as keras
from shendu.testing import run_layer_test
from shendu.utils.string_hashing import fingerprint64, siphash64

L = keras.layers

STRINGS = ["", "a", "abc", "hello", "hello world!", "x" * 20, "y" * 50, "z" * 100, "keras" * 60]
# tf.strings.to_hash_bucket_fast(STRINGS, 2**63 - 1): every length branch of FarmHash
FAST = [
    1936946117179621456,
    3694432073954588132,
    2640714258260161385,
    3786372426573024489,
    4577883861590986596,
    8233088228747857348,
    1536034821532487699,
    9220849947163966073,
    7578367477075798017,
]
# tf.strings.to_hash_bucket_strong(STRINGS, 2**63 - 1, key=[133, 137])
STRONG = [
    4928313950774450900,
    7077939996121841354,
    6899845086433867945,
    1067426241479190957,
    7909019459837088452,
    6991495151463526071,
    3698815438694538434,
    4010890046376279846,
    1586039976245139823,
]


def test_fingerprint64_and_siphash_equal_tensorflow():
    big = 2**63 - 1
    assert [fingerprint64(s.encode()) % big for s in STRINGS] == FAST
    assert [siphash64(s.encode(), (133, 137)) % big for s in STRINGS] == STRONG


WORDS = np.array(
    ["cat", "dog", "", "a much longer token than sixteen bytes, over sixty-four bytes"]
)


def test_hashing_bins_equal_keras():
    assert L.Hashing(7)(WORDS[:3]).numpy().tolist() == [0, 5, 6]
    assert L.Hashing(7, mask_value="")(WORDS[:3]).numpy().tolist() == [3, 3, 0]
    assert L.Hashing(7, salt=133)(WORDS[:3]).numpy().tolist() == [4, 1, 6]
    assert L.Hashing(7, salt=[133, 137])(WORDS[:3]).numpy().tolist() == [4, 2, 6]
    assert L.Hashing(11)(np.array([1, 22, -3, 123456789])).numpy().tolist() == [8, 2, 5, 9]
    assert L.Hashing(11)(np.array([1.5, -2.0])).numpy().tolist() == [8, 1]  # cast to int
    assert L.Hashing(7, salt=133).get_config()["salt"] == [133, 133]
    counts = L.Hashing(7, output_mode="count")(np.array([["cat", "cat", "dog"]])).numpy()
    np.testing.assert_array_equal(counts, [[2, 0, 0, 0, 0, 1, 0]])


def test_hashed_crossing_equals_keras():
    ints = np.array([1, 22, -3, 123456789])
    words = np.array(
        [
            "cat",
            "dog",
            "",
            "a much longer token than sixteen bytes, over sixty-four bytes long......",
        ]
    )
    crossed = L.HashedCrossing(5)((words, ints)).numpy()
    assert crossed.tolist() == [2, 0, 1, 2] and crossed.dtype == np.int64
    column = words[:, None]
    assert L.HashedCrossing(5)((column, column)).numpy().tolist() == [[4], [2], [3], [1]]
    one_hot = L.HashedCrossing(5, output_mode="one_hot")((ints, ints)).numpy()
    np.testing.assert_array_equal(one_hot.argmax(-1), [1, 1, 4, 2])
    assert one_hot.shape == (4, 5)


def test_hashed_crossing_contract_and_errors():
    layer = L.HashedCrossing(4)
    assert layer.compute_output_shape([(None, 1), (None, 1)]) == (None, 1)
    one_hot = L.HashedCrossing(4, output_mode="one_hot")
    assert one_hot.compute_output_shape([(None, 1), (None, 1)]) == (None, 4)
    clone = L.HashedCrossing.from_config(layer.get_config())
    x = (np.array([3, 4]), np.array(["a", "b"]))
    np.testing.assert_array_equal(clone(x).numpy(), layer(x).numpy())
    with pytest.raises(ValueError, match="list or tuple of inputs"):
        layer(np.array([1, 2]))
    with pytest.raises(ValueError, match="at least two inputs"):
        layer([np.array([1, 2])])
    with pytest.raises(ValueError, match="equal shape"):
        layer([np.array([1, 2]), np.array([1, 2, 3])])
    with pytest.raises(ValueError, match=r"\(batch_size, 1\)"):
        layer([np.zeros((2, 3), int), np.zeros((2, 3), int)])
    with pytest.raises(ValueError, match="'int' or 'one_hot'"):
        L.HashedCrossing(4, output_mode="count")


def test_lookup_oov_buckets_equal_keras():
    look = L.StringLookup(vocabulary=["a", "b"], num_oov_indices=3)
    assert look(np.array(["zz", "q", "a", "xyz"])).numpy().tolist() == [1, 2, 3, 1]
    ilook = L.IntegerLookup(vocabulary=[10, 20], num_oov_indices=3)
    assert ilook(np.array([7, 8, 10, -5])).numpy().tolist() == [1, 2, 3, 1]


def test_hashing_layer_contract_and_errors():
    run_layer_test(
        L.Hashing,
        {"num_bins": 5, "output_mode": "one_hot"},
        input_shape=(4, 1),
        input_dtype="int64",
        expected_output_shape=(4, 5),
        expected_output_dtype="float32",
    )
    with pytest.raises(ValueError, match="salt"):
        L.Hashing(3, salt="pepper")
    with pytest.raises(ValueError, match="output_mode"):
        L.Hashing(3, output_mode="tf_idf")
