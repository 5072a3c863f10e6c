"""Drawing on images and image galleries (Keras's ``keras.visualization``).

``draw_segmentation_masks`` and ``draw_bounding_boxes`` return annotated NumPy images
(box labels need the ``[image]`` extra, Pillow); the ``plot_*_gallery`` functions lay a
batch out on a matplotlib grid (the ``[plot]`` extra), shown or saved to ``path``."""

from .drawing import draw_bounding_boxes, draw_segmentation_masks
from .galleries import (
    plot_bounding_box_gallery,
    plot_image_gallery,
    plot_segmentation_mask_gallery,
)

__all__ = [
    "draw_bounding_boxes",
    "draw_segmentation_masks",
    "plot_bounding_box_gallery",
    "plot_image_gallery",
    "plot_segmentation_mask_gallery",
]
