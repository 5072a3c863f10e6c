"""``keras.preprocessing.image``: the image file helpers of ``shendu.utils`` and
``smart_resize``."""

import numpy as np

from ..utils import array_to_img, img_to_array, load_img, save_img


def smart_resize(x, size, interpolation="bilinear", data_format="channels_last"):
    """Resize an image (or a batch) to ``size`` without distorting it: the largest centred
    crop with the target's aspect ratio is taken first, then resized (Keras's rule)."""
    from ..ops import image as image_ops

    out = image_ops.resize(
        np.asarray(x, dtype="float32"),
        tuple(size),
        interpolation=interpolation,
        crop_to_aspect_ratio=True,
        data_format=data_format,
    )
    return np.asarray(out.numpy() if hasattr(out, "numpy") else out)


__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]
