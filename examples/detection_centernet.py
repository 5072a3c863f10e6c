"""Object detection, several classes and several objects per image: a small single-stage
detector in the CenterNet style (a heatmap of object centres per class, and each centre's
box size and sub-cell offset), written as Keras code (``import shendu as keras``).

Data: generated microscopy-like fields (made here, nothing downloaded): 48x48 grey images of
a textured, noisy background holding one to four cells of three kinds, round cells (disks),
rods (elongated ellipses) and rings (hollow disks), at random places, sizes and
orientations; the boxes are the cells' extents. The detector (three Conv2D +
BatchNormalization blocks down to a 12x12 grid, then a 1x1 head) is trained with the
penalty-reduced focal loss on the heatmaps and L1 losses on sizes and offsets. Training
batches are augmented with their boxes (``RandomFlip`` and ``RandomTranslation`` given
``{"images", "bounding_boxes"}``: the boxes move with the pixels). Detections are the
heatmaps' local maxima, then class-wise non-max suppression (``keras.utils.bounding_boxes.
compute_iou``); the score is the mean average precision at IoU 0.5 over the three classes
(VOC's all-point interpolation) on held-out fields. Baseline: a classical blob detector
(threshold, connected components, each blob's box labelled with the most common class).
Full run (80 s on 2 cores): mAP@0.5 0.990 (round cells 0.994, rods 0.982, rings 0.995);
blob baseline 0.254; the same script on Keras 3.15 (JAX) reaches 0.987.

Run: uv run python examples/detection_centernet.py [--quick] [--plot detections.png]
(--plot draws the detections scored 0.3 or more (solid) and the true boxes (dashed) on
test fields; needs matplotlib)
"""

import argparse
import collections

import numpy as np

import shendu as keras
from shendu import layers, ops
from shendu.utils import bounding_boxes

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true")
parser.add_argument("--plot", default=None)
args = parser.parse_args()
keras.utils.set_random_seed(0)

SIZE, STRIDE, CLASSES, MAX_OBJECTS = 48, 4, 3, 4
GRID = SIZE // STRIDE
NAMES = ["round cell", "rod", "ring"]


# ----------------------------------------------------------------------------- the data
def fields(n, rng):
    """n images (n, 48, 48, 1) in [0, 1], boxes (n, 4, 4) xyxy and labels (n, 4) (-1 and
    a zero box where an image has fewer than 4 cells)."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype("float32") + 0.5
    images = np.empty((n, SIZE, SIZE, 1), "float32")
    boxes = np.zeros((n, MAX_OBJECTS, 4), "float32")
    labels = np.full((n, MAX_OBJECTS), -1, "int32")
    for i in range(n):
        image = 0.3 + 0.05 * np.sin(xx / rng.uniform(2, 4) + rng.uniform(0, 6))
        image += 0.05 * np.sin(yy / rng.uniform(2, 4) + rng.uniform(0, 6))
        taken = np.zeros((SIZE, SIZE), bool)
        k = 0
        for _ in range(rng.integers(1, MAX_OBJECTS + 1)):
            for _attempt in range(20):  # a place that does not touch another cell
                kind = rng.integers(CLASSES)
                cy, cx = rng.uniform(7, SIZE - 7, 2)
                if kind == 1:  # rod: an elongated ellipse, any orientation
                    ry, rx, angle = rng.uniform(1.8, 2.6), rng.uniform(5, 7), rng.uniform(0, np.pi)
                else:
                    ry = rx = rng.uniform(3.5, 6.0)
                    angle = 0.0
                dy, dx = yy - cy, xx - cx
                u = (dx * np.cos(angle) + dy * np.sin(angle)) / rx
                v = (-dx * np.sin(angle) + dy * np.cos(angle)) / ry
                r2 = u * u + v * v
                cell = r2 <= 1.0
                if kind == 2:  # ring: the rim of a disk
                    cell &= r2 >= 0.45
                if (
                    not cell.any()
                    or (taken & np.pad(cell, 1)[2:, 1:-1]).any()
                    or (taken & cell).any()
                ):
                    continue
                taken |= cell
                image = np.where(cell, rng.uniform(0.75, 0.9), image)
                rows, cols = np.nonzero(cell)
                boxes[i, k] = [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]
                labels[i, k] = kind
                k += 1
                break
        image += rng.normal(0, 0.06, image.shape)
        images[i, ..., 0] = np.clip(image, 0, 1)
    return images, boxes, labels


def encode(boxes, labels):
    """CenterNet targets on the 12x12 grid: per class a heatmap of Gaussian peaks (1 at
    each centre's cell), and at the centre cells the box size (in cells), the centre's
    offset within its cell, and a mask. Shape (n, 12, 12, 3 + 2 + 2 + 1)."""
    n = len(boxes)
    target = np.zeros((n, GRID, GRID, CLASSES + 5), "float32")
    gy, gx = np.mgrid[0:GRID, 0:GRID].astype("float32")
    for i in range(n):
        for box, label in zip(boxes[i], labels[i]):
            if label < 0:
                continue
            x1, y1, x2, y2 = np.asarray(box) / STRIDE
            cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
            col, row = min(int(cx), GRID - 1), min(int(cy), GRID - 1)
            sigma = max(0.5, min(x2 - x1, y2 - y1) / 4)
            peak = np.exp(-((gx - col) ** 2 + (gy - row) ** 2) / (2 * sigma**2))
            heat = target[i, ..., label]
            target[i, ..., label] = np.maximum(heat, peak)
            target[i, row, col, CLASSES : CLASSES + 5] = [x2 - x1, y2 - y1, cx - col, cy - row, 1]
    return target


# ----------------------------------------------------------------------------- the model
def block(x, filters):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=0.9)(x)
    return layers.Activation("relu")(x)


def detector():
    inputs = keras.Input((SIZE, SIZE, 1))
    x = block(block(inputs, 16), 16)
    x = block(layers.MaxPooling2D()(x), 32)  # 24x24
    x = block(layers.MaxPooling2D()(x), 64)  # 12x12
    x = block(x, 64)
    heat = layers.Conv2D(
        CLASSES, 1, bias_initializer=keras.initializers.Constant(-2.19), name="heatmap"
    )(x)  # starts at p = 0.1, as CenterNet
    geometry = layers.Conv2D(4, 1, name="size_offset")(x)
    return keras.Model(inputs, layers.Concatenate()([heat, geometry]), name="centernet")


def centernet_loss(y_true, y_pred):
    """Penalty-reduced focal loss on the heatmaps (alpha 2, beta 4), normalised by the
    number of objects, plus L1 on the sizes (weight 0.1) and offsets at the centres."""
    heat_true, mask = y_true[..., :CLASSES], y_true[..., -1:]
    p = ops.clip(ops.sigmoid(y_pred[..., :CLASSES]), 1e-4, 1 - 1e-4)
    centre = ops.cast(heat_true > 0.999, "float32")
    positive = -centre * (1 - p) ** 2 * ops.log(p)
    negative = -(1 - centre) * (1 - heat_true) ** 4 * p**2 * ops.log(1 - p)
    count = ops.maximum(ops.sum(mask, axis=(1, 2, 3)), 1.0)
    focal = ops.sum(positive + negative, axis=(1, 2, 3)) / count
    error = ops.abs(y_pred[..., CLASSES:] - y_true[..., CLASSES : CLASSES + 4]) * mask
    size_l1 = ops.sum(error[..., :2], axis=(1, 2, 3)) / count
    offset_l1 = ops.sum(error[..., 2:], axis=(1, 2, 3)) / count
    return focal + 0.1 * size_l1 + offset_l1


# ----------------------------------------------------------------------------- decoding
def decode(outputs, top_k=12, threshold=0.1, iou_threshold=0.5):
    """Per image, (boxes xyxy, classes, scores): the heatmaps' local maxima (a cell equal
    to the 3x3 max around it) above ``threshold``, then non-max suppression per class."""
    heat = 1 / (1 + np.exp(-outputs[..., :CLASSES]))
    padded = np.pad(heat, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=0)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))
    peaks = heat * (heat >= windows.max(axis=(-2, -1)))
    detections = []
    for i in range(len(outputs)):
        flat = peaks[i].reshape(-1)
        order = np.argsort(-flat)[:top_k]
        order = order[flat[order] > threshold]
        rows, cols, classes = np.unravel_index(order, (GRID, GRID, CLASSES))
        w, h, ox, oy = outputs[i, rows, cols, CLASSES:].T
        cx, cy = (cols + ox) * STRIDE, (rows + oy) * STRIDE
        w, h = np.maximum(w, 0) * STRIDE, np.maximum(h, 0) * STRIDE
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1)
        keep = non_max_suppression(boxes, flat[order], classes, iou_threshold)
        detections.append((boxes[keep], classes[keep], flat[order][keep]))
    return detections


def non_max_suppression(boxes, scores, classes, iou_threshold):
    """Indices kept: in score order, a box is dropped when a kept box of its class
    overlaps it by more than ``iou_threshold``."""
    if len(boxes) == 0:
        return np.zeros(0, int)
    iou = ops.convert_to_numpy(bounding_boxes.compute_iou(boxes, boxes, "xyxy"))
    kept = []
    for j in np.argsort(-scores):
        if all(classes[k] != classes[j] or iou[j, k] <= iou_threshold for k in kept):
            kept.append(j)
    return np.asarray(kept, int)


def mean_average_precision(detections, boxes, labels, iou_threshold=0.5):
    """The mean over classes of VOC's all-point average precision: detections in score
    order, each a true positive when it overlaps an unmatched true box of its class by
    IoU >= ``iou_threshold``; AP is the area under the precision envelope."""
    aps = []
    for c in range(CLASSES):
        found = []  # (score, image, box)
        for i, (pred_boxes, pred_classes, scores) in enumerate(detections):
            found += [(s, i, b) for b, k, s in zip(pred_boxes, pred_classes, scores) if k == c]
        found.sort(key=lambda item: -item[0])
        truth = {i: boxes[i][labels[i] == c] for i in range(len(boxes))}
        matched = {i: np.zeros(len(t), bool) for i, t in truth.items()}
        total = sum(len(t) for t in truth.values())
        hits = []
        for _, i, box in found:
            if len(truth[i]) == 0:
                hits.append(0)
                continue
            iou = ops.convert_to_numpy(bounding_boxes.compute_iou(box[None], truth[i], "xyxy"))[0]
            j = int(np.argmax(iou))
            hit = iou[j] >= iou_threshold and not matched[i][j]
            matched[i][j] |= hit
            hits.append(int(hit))
        tp = np.cumsum(hits)
        recall = tp / max(total, 1)
        precision = tp / np.arange(1, len(hits) + 1)
        envelope = np.maximum.accumulate(np.concatenate([precision, [0]])[::-1])[::-1]
        steps = np.diff(np.concatenate([[0], recall]))
        aps.append(float(np.sum(steps * envelope[:-1])))
    return float(np.mean(aps)), aps


def blob_baseline(images, most_common):
    """Connected components of the bright pixels, each a box of the most common class."""
    detections = []
    for image in images[..., 0] > 0.6:
        seen = np.zeros_like(image)
        found = []
        for start in zip(*np.nonzero(image)):
            if seen[start]:
                continue
            stack, pixels = [start], []
            seen[start] = True
            while stack:
                r, c = stack.pop()
                pixels.append((r, c))
                for rr, cc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                    if 0 <= rr < SIZE and 0 <= cc < SIZE and image[rr, cc] and not seen[rr, cc]:
                        seen[rr, cc] = True
                        stack.append((rr, cc))
            if len(pixels) >= 6:
                rows, cols = np.asarray(pixels).T
                found.append(
                    ([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1], len(pixels))
                )
        boxes = np.asarray([b for b, _ in found], "float32").reshape(-1, 4)
        scores = np.asarray([a for _, a in found], "float32")
        detections.append((boxes, np.full(len(found), most_common), scores))
    return detections


# ----------------------------------------------------------------------------- training
rng = np.random.default_rng(0)
n_train = 600 if args.quick else 1200
x_train, boxes_train, labels_train = fields(n_train, rng)
x_test, boxes_test, labels_test = fields(200, rng)

augment = layers.Pipeline(
    [
        layers.RandomFlip(bounding_box_format="xyxy", seed=1),
        layers.RandomTranslation(
            0.1, 0.1, fill_mode="constant", fill_value=0.3, bounding_box_format="xyxy", seed=2
        ),
    ]
)


def training_batches(batch_size=32):
    """Batches of augmented images and the targets of their moved boxes, forever."""
    order_rng = np.random.default_rng(1)
    while True:
        order = order_rng.permutation(n_train)
        for start in range(0, n_train - batch_size + 1, batch_size):
            batch = order[start : start + batch_size]
            data = augment(
                {
                    "images": x_train[batch],
                    "bounding_boxes": {"boxes": boxes_train[batch], "labels": labels_train[batch]},
                },
                training=True,
            )
            moved = data["bounding_boxes"]
            yield (
                ops.convert_to_numpy(data["images"]),
                encode(
                    ops.convert_to_numpy(moved["boxes"]), ops.convert_to_numpy(moved["labels"])
                ),
            )


model = detector()
model.compile(optimizer=keras.optimizers.Adam(2e-3), loss=centernet_loss)
model.fit(
    training_batches(),
    steps_per_epoch=n_train // 32,
    epochs=8 if args.quick else 14,
    verbose=0,
)
detections = decode(model.predict(x_test, verbose=0))
score, per_class = mean_average_precision(detections, boxes_test, labels_test)
counts = collections.Counter(labels_train[labels_train >= 0].tolist())
baseline, _ = mean_average_precision(
    blob_baseline(x_test, counts.most_common(1)[0][0]), boxes_test, labels_test
)

if args.plot:
    from matplotlib import patches

    from shendu.utils.plotting import _pyplot

    plt = _pyplot()
    colours = ["tab:orange", "tab:green", "tab:purple"]
    fig, axes = plt.subplots(2, 4, figsize=(9, 4.8))
    for ax, i in zip(axes.flat, range(8)):
        ax.imshow(x_test[i, ..., 0], cmap="gray", vmin=0, vmax=1)
        for box, label in zip(boxes_test[i], labels_test[i]):
            if label >= 0:
                x1, y1, x2, y2 = box - 0.5
                ax.add_patch(
                    patches.Rectangle(
                        (x1, y1), x2 - x1, y2 - y1, fill=False, ls="--", ec=colours[label], lw=1
                    )
                )
        for box, label, s in zip(*detections[i]):
            if s < 0.3:  # the figure shows the confident detections; mAP counts them all
                continue
            x1, y1, x2, y2 = box - 0.5
            ax.add_patch(
                patches.Rectangle(
                    (x1, y1), x2 - x1, y2 - y1, fill=False, ec=colours[label], lw=1.5
                )
            )
            ax.text(x1, y1 - 1, f"{s:.2f}", color=colours[label], fontsize=6)
        ax.set_axis_off()
    handles = [patches.Patch(color=c, label=n) for c, n in zip(colours, NAMES)]
    fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(args.plot, dpi=80)

print(f"blob_baseline_map={baseline:.4f}")
print("per_class_ap=" + ",".join(f"{name}:{ap:.3f}" for name, ap in zip(NAMES, per_class)))
print(f"map_50={score:.4f}")
