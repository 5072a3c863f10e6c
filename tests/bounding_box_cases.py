"""The bounding-box cases run on Keras 3 (tools/record_keras_bounding_boxes.py) and on
shendu (tests/test_bounding_boxes.py): the functions of ``keras.utils.bounding_boxes`` and
the geometric augmentation layers given ``{"images", "bounding_boxes"}`` with settings that
draw nothing at random (fixed factors), so that both libraries must give the same boxes."""

BOXES = [[[10.0, 20.0, 30.0, 40.0], [50.0, 60.0, 70.0, 80.0], [0.0, 0.0, 5.0, 90.0]]]
LABELS = [[1, 2, 3]]
FORMATS = [
    "xyxy",
    "yxyx",
    "xywh",
    "center_xywh",
    "center_yxhw",
    "rel_xyxy",
    "rel_yxyx",
    "rel_xywh",
    "rel_center_xywh",
]


def function_cases():
    """(name, function, kwargs) with plain lists for arrays."""
    cases = []
    for source in FORMATS:
        for target in ("xyxy", "center_yxhw", "rel_xywh", "rel_center_xywh"):
            cases.append(
                (
                    f"convert {source}->{target}",
                    "convert_format",
                    {
                        "boxes": BOXES,
                        "source": source,
                        "target": target,
                        "height": 100,
                        "width": 200,
                    },
                )
            )
    cases.append(
        (
            "clip xyxy",
            "clip_to_image_size",
            {
                "bounding_boxes": {
                    "boxes": [[[-5.0, 10.0, 50.0, 120.0], [110.0, 0.0, 130.0, 10.0]]],
                    "labels": [[4, 5]],
                },
                "height": 100,
                "width": 100,
            },
        )
    )
    cases.append(
        (
            "clip rel_xyxy",
            "clip_to_image_size",
            {
                "bounding_boxes": {
                    "boxes": [[[-0.1, 0.2, 0.5, 1.3], [1.2, 0.0, 1.4, 0.5]]],
                    "labels": [[4, 5]],
                },
                "bounding_box_format": "rel_xyxy",
            },
        )
    )
    for angle, tx, ty, scale, shx, shy in (
        (90.0, 0.0, 0.0, 1.0, 0.0, 0.0),
        (30.0, 0.1, -0.2, 1.0, 0.0, 0.0),
        (0.0, 0.0, 0.0, 1.5, 10.0, -5.0),
    ):
        cases.append(
            (
                f"affine angle={angle} t=({tx},{ty}) scale={scale} shear=({shx},{shy})",
                "affine_transform",
                {
                    "boxes": BOXES,
                    "angle": [angle],
                    "translate_x": [tx],
                    "translate_y": [ty],
                    "scale": [scale],
                    "shear_x": [shx],
                    "shear_y": [shy],
                    "height": 100,
                    "width": 120,
                },
            )
        )
    cases.append(
        (
            "crop",
            "crop",
            {"boxes": BOXES, "top": 15, "left": 25, "height": 50, "width": 40},
        )
    )
    cases.append(("pad", "pad", {"boxes": BOXES, "top": 15, "left": 25}))
    second = [[[12.0, 18.0, 32.0, 45.0], [0.0, 0.0, 20.0, 20.0]]]
    for fmt in ("xyxy", "xywh", "center_yxhw"):
        cases.append(
            (
                f"iou {fmt}",
                "compute_iou",
                {"boxes1": BOXES[0], "boxes2": second[0], "bounding_box_format": fmt},
            )
        )
    cases.append(
        (
            "iou batched, masked",
            "compute_iou",
            {
                "boxes1": BOXES,
                "boxes2": [[[12.0, 18.0, 32.0, 45.0], [-1.0, -1.0, -1.0, -1.0]]],
                "bounding_box_format": "xyxy",
                "use_masking": True,
            },
        )
    )
    cases.append(
        (
            "iou rel",
            "compute_iou",
            {
                "boxes1": [[0.1, 0.2, 0.3, 0.4]],
                "boxes2": [[0.15, 0.25, 0.35, 0.5]],
                "bounding_box_format": "rel_xyxy",
                "image_shape": [100, 200, 3],
            },
        )
    )
    cases.append(
        (
            "ciou",
            "compute_ciou",
            {
                "boxes1": BOXES[0],
                "boxes2": [[12.0, 18.0, 32.0, 45.0], [40.0, 60.0, 90.0, 70.0], [0, 0, 5, 90]],
                "bounding_box_format": "xyxy",
            },
        )
    )
    anchors = [[0.0, 0.0, 20.0, 20.0], [40.0, 50.0, 80.0, 90.0], [0.0, 0.0, 10.0, 80.0]]
    for fmt in ("center_yxhw", "center_xywh"):
        cases.append(
            (
                f"encode {fmt}",
                "encode_box_to_deltas",
                {
                    "anchors": anchors,
                    "boxes": BOXES[0],
                    "anchor_format": "xyxy",
                    "box_format": "xyxy",
                    "encoding_format": fmt,
                    "variance": [0.1, 0.1, 0.2, 0.2],
                },
            )
        )
        cases.append(
            (
                f"decode {fmt}",
                "decode_deltas_to_boxes",
                {
                    "anchors": anchors,
                    "boxes_delta": [[0.5, -0.2, 0.1, 0.3], [0.0, 0.0, 0.0, 0.0], [1, 2, -1, 0]],
                    "anchor_format": "xyxy",
                    "box_format": "xywh",
                    "encoded_format": fmt,
                    "variance": [0.1, 0.1, 0.2, 0.2],
                },
            )
        )
    return cases


#: layers with settings that draw nothing at random, on 2 images of 60 x 80
LAYER_BOXES = [
    [[10.0, 5.0, 30.0, 25.0], [50.0, 30.0, 75.0, 55.0]],
    [[0.0, 0.0, 80.0, 60.0], [20.0, 20.0, 21.0, 21.0]],
]
LAYER_LABELS = [[1, 2], [3, 4]]


def layer_cases():
    """(name, layer class, constructor kwargs, bounding_box_format, boxes in that format)."""
    cases = [
        ("rotation 90", "RandomRotation", {"factor": (0.25, 0.25)}),
        ("rotation -30", "RandomRotation", {"factor": (-1 / 12, -1 / 12)}),
        (
            "translation",
            "RandomTranslation",
            {"height_factor": (0.1, 0.1), "width_factor": (-0.2, -0.2)},
        ),
        ("zoom in", "RandomZoom", {"height_factor": (-0.25, -0.25)}),
        (
            "zoom out, wider",
            "RandomZoom",
            {"height_factor": (0.5, 0.5), "width_factor": (0.2, 0.2)},
        ),
        ("resizing", "Resizing", {"height": 30, "width": 120}),
        (
            "resizing, crop to aspect",
            "Resizing",
            {"height": 40, "width": 40, "crop_to_aspect_ratio": True},
        ),
        (
            "resizing, pad to aspect",
            "Resizing",
            {"height": 40, "width": 40, "pad_to_aspect_ratio": True},
        ),
        ("center crop", "CenterCrop", {"height": 40, "width": 50}),
        ("center crop, upscale", "CenterCrop", {"height": 90, "width": 90}),
    ]
    out = []
    for name, layer, kwargs in cases:
        out.append((name, layer, kwargs, "xyxy", LAYER_BOXES))
    rel_xywh = [
        [[x1 / 80, y1 / 60, (x2 - x1) / 80, (y2 - y1) / 60] for x1, y1, x2, y2 in image]
        for image in LAYER_BOXES
    ]
    shift = {"height_factor": (0.1, 0.1), "width_factor": (-0.2, -0.2)}
    out.append(("translation, rel_xywh", "RandomTranslation", shift, "rel_xywh", rel_xywh))
    return out
