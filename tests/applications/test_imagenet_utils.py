"""imagenet_utils: preprocess_input's modes, decode_predictions with the shipped class
index, obtain_input_shape's checks, and the applications' weights argument."""

import os

import numpy as np
import pytest

import shendu as keras
from shendu.applications import imagenet_utils

A = keras.applications


def test_preprocess_input_modes():
    x = np.arange(2 * 2 * 2 * 3, dtype=np.float32).reshape(2, 2, 2, 3) * 10
    tf = imagenet_utils.preprocess_input(x.copy(), mode="tf")
    np.testing.assert_allclose(tf, x / 127.5 - 1, rtol=1e-6)
    torch = imagenet_utils.preprocess_input(x.copy(), mode="torch")
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(torch, (x / 255 - mean) / std, rtol=1e-5)
    caffe = imagenet_utils.preprocess_input(x.copy(), mode="caffe")
    np.testing.assert_allclose(caffe, x[..., ::-1] - [103.939, 116.779, 123.68], rtol=1e-5)
    first = imagenet_utils.preprocess_input(
        np.moveaxis(x, -1, 1).copy(), data_format="channels_first", mode="caffe"
    )
    np.testing.assert_allclose(np.moveaxis(first, 1, -1), caffe, rtol=1e-5)
    ints = imagenet_utils.preprocess_input(x.astype(np.uint8), mode="tf")
    assert ints.dtype == np.float32  # integers become floats (not changed in place)
    tensor = A.resnet.preprocess_input(keras.ops.convert_to_tensor(x))
    np.testing.assert_allclose(tensor.numpy(), caffe, rtol=1e-5)
    np.testing.assert_array_equal(A.efficientnet.preprocess_input(x), x)  # inside the model
    with pytest.raises(ValueError, match="mode to be one of"):
        imagenet_utils.preprocess_input(x, mode="keras")
    with pytest.raises(ValueError, match="data_format"):
        imagenet_utils.preprocess_input(x, data_format="nhwc")


def test_decode_predictions_uses_the_shipped_index():
    index = imagenet_utils.class_index()
    assert len(index) == 1000 and len({wnid for wnid, _ in index}) == 1000
    assert index[0] == ("n01440764", "tench") and index[2] == ("n01484850", "great_white_shark")
    assert index[999] == ("n15075141", "toilet_tissue")
    preds = np.zeros((2, 1000), np.float32)
    preds[0, [2, 7, 9]] = [0.5, 0.3, 0.2]
    preds[1, 999] = 1.0
    decoded = A.vgg16.decode_predictions(preds, top=3)
    assert [name for _, name, _ in decoded[0]] == ["great_white_shark", "cock", "ostrich"]
    assert decoded[1][0][:2] == ("n15075141", "toilet_tissue")
    with pytest.raises(ValueError, match=r"shape \(samples, 1000\)"):
        imagenet_utils.decode_predictions(np.zeros((2, 10)))


def test_obtain_input_shape_checks():
    shape = imagenet_utils.obtain_input_shape(None, 224, 32, "channels_last", True)
    assert shape == (224, 224, 3)
    assert imagenet_utils.obtain_input_shape(None, 224, 32, "channels_last", False) == (
        None,
        None,
        3,
    )
    with pytest.raises(ValueError, match="at least 32x32"):
        imagenet_utils.obtain_input_shape((16, 16, 3), 224, 32, "channels_last", False)
    with pytest.raises(ValueError, match="should be \\(224, 224, 3\\)"):
        imagenet_utils.obtain_input_shape((96, 96, 3), 224, 32, "channels_last", True, "imagenet")
    with pytest.raises(ValueError, match="static `input_shape`"):
        imagenet_utils.obtain_input_shape((None, None, 3), 224, 32, "channels_last", True)
    with pytest.warns(UserWarning, match="1 or 3 input channels"):
        imagenet_utils.obtain_input_shape((64, 64, 5), 224, 32, "channels_last", False)


def test_weights_argument(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as err:
        A.MobileNetV3Small(input_shape=(32, 32, 3))
    message = str(err.value)
    assert "weights_mobilenet_v3_small_224_1.0_float.h5" in message
    assert os.path.join(str(tmp_path), "models") in message and "never downloads" in message
    with pytest.raises(ValueError, match="path to the weights file"):
        A.ResNet50(weights="no/such/file.h5")
    with pytest.raises(ValueError, match="`classes` should be 1000"):
        A.ResNet50(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="classifier_activation"):
        imagenet_utils.validate_activation("relu", "imagenet")
    with pytest.raises(ValueError, match="symbolic tensor"):
        A.ResNet50(weights=None, input_tensor=np.zeros((1, 32, 32, 3)), include_top=False)
