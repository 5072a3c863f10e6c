"""keras.utils.bounding_boxes and boxes carried through the geometric augmentation layers,
against Keras 3.15's figures (tests/fixtures/keras_bounding_boxes.json, recorded by
tools/record_keras_bounding_boxes.py from tests/bounding_box_cases.py)."""

import json
import os

import numpy as np
import pytest

import shendu
from shendu import layers, ops
from shendu.utils import bounding_boxes as bb

from .bounding_box_cases import LAYER_LABELS, function_cases, layer_cases

HERE = os.path.dirname(__file__)
with open(os.path.join(HERE, "fixtures", "keras_bounding_boxes.json")) as f:
    KERAS = json.load(f)


def _arrays(value):
    if isinstance(value, dict):
        return {k: _arrays(v) for k, v in value.items()}
    if isinstance(value, list):
        array = np.asarray(value)
        return array.astype("float32") if array.dtype.kind == "f" else array
    return value


def _numpy(value):
    if isinstance(value, dict):
        return {k: _numpy(v) for k, v in value.items()}
    return np.asarray(value.data if hasattr(value, "data") else value)


@pytest.mark.parametrize(
    "name, function, kwargs", function_cases(), ids=[c[0] for c in function_cases()]
)
def test_functions_give_keras_figures(name, function, kwargs):
    got = _numpy(getattr(bb, function)(**_arrays(kwargs)))
    expected = KERAS["functions"][name]
    if isinstance(expected, dict):
        for key, value in expected.items():
            np.testing.assert_allclose(got[key], value, rtol=1e-5, atol=1e-4, err_msg=key)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)


def test_keras_utils_names_the_module():
    assert shendu.utils.bounding_boxes is bb
    assert callable(shendu.utils.bounding_boxes.compute_iou)


def test_errors_name_what_was_expected():
    with pytest.raises(ValueError, match="last dimension of 4"):
        bb.convert_format(np.zeros((2, 3)), "xyxy", "yxyx")
    with pytest.raises(ValueError, match="Invalid source or target format"):
        bb.convert_format(np.zeros((2, 4)), "xyxy", "corners")
    with pytest.raises(ValueError, match="must receive `height` and `width`"):
        bb.convert_format(np.zeros((2, 4)), "xyxy", "rel_xyxy")
    with pytest.raises(ValueError, match="`height` and `width` must be set"):
        bb.clip_to_image_size({"boxes": np.zeros((1, 4))})
    with pytest.raises(ValueError, match="expects boxes1 to be batched"):
        bb.compute_iou(np.zeros(4), np.zeros((2, 4)), "xyxy")
    with pytest.raises(ValueError, match="`variance` must be length 4"):
        bb.encode_box_to_deltas(np.ones((1, 4)), np.ones((1, 4)), "xyxy", "xyxy", variance=[1])


def test_encode_then_decode_gives_the_boxes_back():
    rng = np.random.default_rng(0)
    corner = rng.uniform(0, 50, (6, 2))
    boxes = np.concatenate([corner, corner + rng.uniform(1, 30, (6, 2))], -1).astype("float32")
    anchors = np.concatenate([corner + 3, corner + 20], -1).astype("float32")
    deltas = bb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", variance=[0.1, 0.1, 0.2, 0.2])
    back = bb.decode_deltas_to_boxes(
        anchors, deltas, "xyxy", "xyxy", variance=[0.1, 0.1, 0.2, 0.2]
    )
    np.testing.assert_allclose(_numpy(back), boxes, rtol=1e-5, atol=1e-3)


def test_ciou_is_differentiable():
    a = shendu.Variable(np.array([[10.0, 10.0, 30.0, 40.0]]))
    b = np.array([[12.0, 8.0, 35.0, 38.0]])
    loss = 1.0 - ops.mean(bb.compute_ciou(a, b, "xyxy"))
    loss.backward()
    assert a.grad is not None and np.all(np.isfinite(a.grad.data)) and np.any(a.grad.data != 0)


# ------------------------------------------------------------------ the augmentation layers
def _layer_input(boxes, box_format="xyxy"):
    return {
        "images": np.zeros((2, 60, 80, 3), "float32"),
        "bounding_boxes": {
            "boxes": np.asarray(boxes, "float32"),
            "labels": np.asarray(LAYER_LABELS, "int32"),
        },
    }


@pytest.mark.parametrize(
    "name, layer_name, kwargs, box_format, boxes",
    layer_cases(),
    ids=[c[0] for c in layer_cases()],
)
def test_layers_move_boxes_as_keras(name, layer_name, kwargs, box_format, boxes):
    layer = getattr(layers, layer_name)(bounding_box_format=box_format, **kwargs)
    out = layer(_layer_input(boxes), training=True)
    expected = KERAS["layers"][name]
    assert list(np.shape(out["images"])) == expected["image_shape"]
    np.testing.assert_allclose(
        _numpy(out["bounding_boxes"]["boxes"]), expected["boxes"], atol=1e-4
    )
    assert _numpy(out["bounding_boxes"]["labels"]).tolist() == expected["labels"]


def _rectangle_images(n=4, height=40, width=50):
    """Images with one bright rectangle each, and that rectangle as an xyxy box."""
    rng = np.random.default_rng(1)
    images = np.zeros((n, height, width, 1), "float32")
    boxes = np.zeros((n, 1, 4), "float32")
    for i in range(n):
        top, left = rng.integers(4, height // 2), rng.integers(4, width // 2)
        bottom, right = top + rng.integers(6, height // 3), left + rng.integers(6, width // 3)
        images[i, top:bottom, left:right] = 1.0
        boxes[i, 0] = [left, top, right, bottom]
    return images, boxes


def _pixel_box(image):
    rows, cols = np.nonzero(image[..., 0] > 0.5)
    return [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]


@pytest.mark.parametrize(
    "layer",
    [
        layers.RandomFlip(seed=3, bounding_box_format="xyxy"),
        layers.RandomTranslation(
            0.2, 0.2, fill_mode="constant", seed=3, bounding_box_format="xyxy"
        ),
        layers.RandomZoom((-0.3, 0.3), fill_mode="constant", seed=3, bounding_box_format="xyxy"),
        layers.RandomRotation(
            (0.25, 0.25), fill_mode="constant", seed=3, bounding_box_format="xyxy"
        ),
        layers.RandomCrop(30, 36, seed=3, bounding_box_format="xyxy"),
        layers.Resizing(20, 60, interpolation="nearest", bounding_box_format="xyxy"),
        layers.CenterCrop(30, 30, bounding_box_format="xyxy"),
        layers.RandomShear(0.3, 0.2, fill_mode="constant", seed=3, bounding_box_format="xyxy"),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_boxes_and_masks_follow_the_pixels(layer):
    # the moved box is the box of the moved rectangle's pixels (to a pixel), and the moved
    # segmentation mask is the moved image (nearest sampling keeps it binary)
    images, boxes = _rectangle_images()
    out = layer(
        {
            "images": images,
            "bounding_boxes": {"boxes": boxes, "labels": np.ones((4, 1), "int32")},
            "segmentation_masks": (images > 0.5).astype("int32"),
        },
        training=True,
    )
    moved_images = _numpy(out["images"])
    moved_boxes = _numpy(out["bounding_boxes"]["boxes"])
    masks = _numpy(out["segmentation_masks"])
    assert masks.dtype == np.int32 and set(np.unique(masks)) <= {0, 1}
    for i in range(len(images)):
        if (moved_images[i] > 0.5).any():
            np.testing.assert_allclose(moved_boxes[i, 0], _pixel_box(moved_images[i]), atol=1.01)
            agree = np.mean((masks[i, ..., 0] > 0) == (moved_images[i, ..., 0] > 0.5))
            assert agree > 0.97


def test_one_image_with_its_boxes():
    images, boxes = _rectangle_images(1)
    layer = layers.RandomFlip("horizontal", seed=0, bounding_box_format="rel_xyxy")
    left, top, right, bottom = boxes[0, 0]
    rel = np.array([[50 - right, top, 50 - left, bottom]]) / [50, 40, 50, 40]
    flipped = {"images": images[0][:, ::-1], "bounding_boxes": {"boxes": rel, "labels": [7]}}
    for _ in range(8):  # either flipped or not: the box matches its image either way
        out = layer(flipped, training=True)
        box = _numpy(out["bounding_boxes"]["boxes"])
        assert box.shape == (1, 4)
        np.testing.assert_allclose(box[0] * [50, 40, 50, 40], _pixel_box(_numpy(out["images"])))
        assert _numpy(out["bounding_boxes"]["labels"]).tolist() == [7]


def test_a_box_moved_out_of_the_image_gets_label_minus_one():
    layer = layers.RandomTranslation((0.5, 0.5), (0.0, 0.0), bounding_box_format="xyxy")
    data = {
        "images": np.zeros((1, 20, 20, 3), "float32"),
        "bounding_boxes": {
            "boxes": [[[2.0, 12.0, 6.0, 18.0], [2.0, 1.0, 6.0, 4.0]]],
            "labels": [[3, 4]],
        },
    }
    out = layer(data, training=True)
    assert _numpy(out["bounding_boxes"]["labels"]).tolist() == [[-1, 4]]
    np.testing.assert_allclose(_numpy(out["bounding_boxes"]["boxes"])[0, 1], [2, 11, 6, 14])


def test_boxes_without_a_format_are_refused_with_keras_message():
    data = {"images": np.zeros((1, 8, 8, 3)), "bounding_boxes": {"boxes": np.zeros((1, 1, 4))}}
    with pytest.raises(ValueError, match="didn't specify a bounding box format"):
        layers.RandomFlip(seed=0)(data, training=True)
    with pytest.raises(ValueError, match="must be one of"):
        layers.RandomFlip(bounding_box_format="corners")
    with pytest.raises(ValueError, match=r"must have shape \(batch, k, 4\)"):
        layers.RandomFlip(bounding_box_format="xyxy")(
            {"images": np.zeros((1, 8, 8, 3)), "bounding_boxes": {"boxes": np.zeros((1, 4))}}
        )


@pytest.mark.parametrize(
    "layer",
    [
        layers.RandomFlip(bounding_box_format="xywh"),
        layers.RandomZoom(0.2, bounding_box_format="center_xywh"),
        layers.Resizing(8, 8, bounding_box_format="yxyx"),
        layers.CenterCrop(4, 4, bounding_box_format="rel_xyxy"),
        layers.RandomCrop(4, 4, bounding_box_format="xyxy"),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_the_format_survives_serialization(layer):
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.bounding_box_format == layer.bounding_box_format
    assert again.get_config() == config


def test_inference_leaves_boxes_of_augmentations_in_place_and_resizes_move_them():
    images, boxes = _rectangle_images(2)
    data = {"images": images, "bounding_boxes": {"boxes": boxes, "labels": np.ones((2, 1))}}
    kept = layers.RandomRotation(0.3, bounding_box_format="xyxy")(data, training=False)
    np.testing.assert_array_equal(_numpy(kept["bounding_boxes"]["boxes"]), boxes)
    resized = layers.RandomCrop(20, 25, bounding_box_format="xyxy")(data, training=False)
    np.testing.assert_allclose(_numpy(resized["bounding_boxes"]["boxes"]), boxes / 2, atol=1e-5)
