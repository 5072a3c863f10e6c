"""keras.visualization: masks and boxes drawn (Keras 3.15's colours and blend), galleries
written to files, and the error messages."""

import numpy as np
import pytest

import shendu as keras

V = keras.visualization
IMAGES = (np.random.default_rng(0).random((4, 16, 16, 3)) * 255).astype(np.float32)
MASKS = np.random.default_rng(1).integers(-1, 3, (4, 16, 16, 1)).astype(np.int32)


def test_segmentation_masks_blend_keras_palette():
    out = V.draw_segmentation_masks(IMAGES, MASKS, num_classes=3)
    assert out.dtype == np.uint8 and out.shape == IMAGES.shape
    palette = V.drawing.color_palette(3)
    assert palette == [[0, 0, 0], [1, 127, 31], [2, 254, 62]]  # Keras's formula
    labels = MASKS[..., 0]
    k = labels == 2
    expected = (IMAGES[k] * 0.2 + np.array(palette[2], np.float32) * 0.8).astype(np.uint8)
    np.testing.assert_array_equal(out[k], expected)
    ignored = labels == -1
    np.testing.assert_array_equal(out[ignored], IMAGES[ignored].astype(np.uint8))
    raw = V.draw_segmentation_masks(IMAGES, MASKS[..., 0], num_classes=3, blend=False)
    np.testing.assert_array_equal(raw[k], np.broadcast_to(palette[2], raw[k].shape))
    with pytest.raises(TypeError, match="integer dtype"):
        V.draw_segmentation_masks(IMAGES, MASKS.astype(np.float32))
    with pytest.raises(ValueError, match="batched 4D"):
        V.draw_segmentation_masks(IMAGES[0], MASKS[0])


@pytest.mark.parametrize(
    "fmt, box",
    [
        ("xyxy", [2, 3, 10, 12]),
        ("yxyx", [3, 2, 12, 10]),
        ("xywh", [2, 3, 8, 9]),
        ("center_xywh", [6, 7.5, 8, 9]),
        ("rel_xyxy", [2 / 16, 3 / 16, 10 / 16, 12 / 16]),
    ],
)
def test_bounding_boxes_in_every_format_draw_the_same_rectangle(fmt, box):
    boxes = {"boxes": np.array([[box]], float), "labels": np.array([[0]])}
    out = V.draw_bounding_boxes(IMAGES[:1], boxes, fmt, color=(255, 0, 0), line_thickness=1)
    red = np.all(out[0] == [255, 0, 0], axis=-1)
    assert (
        red[3, 2:11].all() and red[12, 2:11].all() and red[3:13, 2].all() and red[3:13, 10].all()
    )
    assert not red[7, 6]  # inside is left as it was


def test_bounding_box_labels_padding_and_errors():
    boxes = {
        "boxes": np.array([[[2, 2, 12, 12], [0, 0, 5, 5]]], float),
        "labels": np.array([[1, -1]]),  # -1: padding, not drawn
        "confidences": np.array([[0.9, 0.1]]),
    }
    plain = V.draw_bounding_boxes(IMAGES[:1], boxes, "xyxy", color=(0, 255, 0))
    assert not np.all(plain[0, 0, 0] == [0, 255, 0])
    labelled = V.draw_bounding_boxes(
        IMAGES[:1] / 255.0, boxes, "xyxy", class_mapping={1: "cat"}, color=(0, 255, 0)
    )
    assert labelled.dtype == np.uint8 and labelled.max() > 1  # [0, 1] images scaled up
    with pytest.raises(TypeError, match="should be a dict"):
        V.draw_bounding_boxes(IMAGES, [1, 2], "xyxy")
    with pytest.raises(ValueError, match="'boxes' and 'labels'"):
        V.draw_bounding_boxes(IMAGES, {"boxes": boxes["boxes"]}, "xyxy")
    with pytest.raises(ValueError, match="bounding_box_format"):
        V.draw_bounding_boxes(IMAGES[:1], boxes, "xyz")


def test_galleries_write_images(tmp_path):
    pytest.importorskip("matplotlib")
    labels = np.array([0, 1, 0, 1])
    V.plot_image_gallery(
        IMAGES, y_true=labels, y_pred=labels, label_map={0: "a", 1: "b"}, path=tmp_path / "g.png"
    )
    V.plot_segmentation_mask_gallery(
        IMAGES, num_classes=3, y_true=MASKS, y_pred=MASKS, path=tmp_path / "s.png"
    )
    boxes = {"boxes": np.array([[[2, 2, 12, 12]]] * 4, float), "labels": np.array([[1]] * 4)}
    fig = V.plot_bounding_box_gallery(
        IMAGES, "xyxy", y_true=boxes, y_pred=boxes, legend=True, path=tmp_path / "b.png"
    )
    assert len(fig.axes) == 4
    for name in ("g.png", "s.png", "b.png"):
        assert (tmp_path / name).stat().st_size > 1000
    with pytest.raises(ValueError, match="label_map"):
        V.plot_image_gallery(IMAGES, y_true=labels, path=tmp_path / "x.png")
    with pytest.raises(ValueError, match="either `path`"):
        V.plot_image_gallery(IMAGES, path=tmp_path / "x.png", show=True)
