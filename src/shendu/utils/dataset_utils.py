"""Datasets from arrays and folders (Keras's ``keras.utils`` helpers): time-series windows,
splitting, ``PyDataset``, and image / text datasets read from a directory tree.

Results are ``shendu.data`` datasets (batches of NumPy arrays) that ``fit``, ``evaluate`` and
``predict`` accept, and that support the tf.data calls Keras programs make on them
(``prefetch``, ``cache``, ``take``).
"""

from __future__ import annotations

import os

import numpy as np

from .. import backend
from ..data import Dataset, WindowDataset


def timeseries_dataset_from_array(
    data,
    targets,
    sequence_length,
    sequence_stride=1,
    sampling_rate=1,
    batch_size=128,
    shuffle=False,
    seed=None,
    start_index=None,
    end_index=None,
    format=None,
):  # noqa: A002
    """Sliding windows over ``data``: window i holds data[s + p_i + k * sampling_rate] for
    k < sequence_length, s = start_index, p_i = i * sequence_stride, with target
    targets[s + p_i] (Keras's alignment: targets[i] belongs to the window starting at i)."""
    data = np.asarray(data)
    n = len(data)
    if start_index is not None and not 0 <= start_index < n:
        raise ValueError(
            "`start_index` must be 0 or greater and lower than the length of the data. "
            f"Received: start_index={start_index}, for data of length {n}"
        )
    if end_index is not None:
        if start_index and end_index <= start_index:
            raise ValueError(
                "`end_index` must be higher than `start_index`. Received: "
                f"start_index={start_index}, and end_index={end_index}"
            )
        if not 0 < end_index < n:
            raise ValueError(
                "`end_index` must be higher than 0 and lower than the length of the data. "
                f"Received: end_index={end_index}, for data of length {n}"
            )
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value <= 0:
            raise ValueError(f"`{name}` must be higher than 0. Received: {name}={value}")
        if value >= n:
            raise ValueError(
                f"`{name}` must be lower than the length of the data. Received: "
                f"{name}={value}, for data of length {n}"
            )
    start = start_index or 0
    end = end_index if end_index is not None else n
    count = end - start - (sequence_length - 1) * sampling_rate
    target_array = None
    if targets is not None:
        target_array = np.asarray(targets)
        count = min(count, len(target_array) - start)
    positions = np.arange(0, max(count, 0), sequence_stride)
    if shuffle:
        rng = np.random.RandomState(seed if seed is not None else np.random.randint(1_000_000))
        rng.shuffle(positions)
    return WindowDataset(
        data,
        target_array,
        positions + start,
        sequence_length,
        sampling_rate,
        batch_size,
        shuffle,
        seed,
    )


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Split arrays (or a tuple of them, or a Dataset) into two ``Dataset``s by count or
    fraction (the other side takes the rest)."""
    arrays = dataset.arrays if isinstance(dataset, Dataset) else dataset
    leaves = arrays if isinstance(arrays, (tuple, list)) else (arrays,)
    n = len(leaves[0])

    def count(size):
        if size is None:
            return None
        if isinstance(size, float):
            if not 0 < size < 1:
                raise ValueError(f"A fractional size must be in (0, 1). Received: {size}")
            return int(round(size * n))
        if not 0 < size <= n:
            raise ValueError(f"A size must be in (0, {n}]. Received: {size}")
        return int(size)

    left, right = count(left_size), count(right_size)
    if left is None and right is None:
        raise ValueError("split_dataset: pass `left_size` or `right_size`")
    left = n - right if left is None else left
    right = n - left if right is None else right
    if left + right > n:
        raise ValueError(f"The sizes {left} and {right} exceed the {n} samples")
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)

    def part(idx):
        taken = tuple(np.asarray(a)[idx] for a in leaves)
        return Dataset(taken if isinstance(arrays, (tuple, list)) else taken[0])

    return part(order[:left]), part(order[left : left + right])


class PyDataset:
    """A dataset defined by indexing: subclass with ``__getitem__(index)`` (a batch) and
    ``__len__`` (the number of batches); ``on_epoch_end`` runs after each epoch. ``workers``,
    ``use_multiprocessing`` and ``max_queue_size`` are accepted and ignored: shendu reads
    batches in the training thread, in order."""

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers, self.use_multiprocessing = workers, use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    @property
    def num_batches(self):
        return len(self)

    def on_epoch_begin(self):
        """Called before each epoch."""

    def on_epoch_end(self):
        """Called after each epoch."""

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


Sequence = PyDataset


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The batch ``train_step`` receives, as Keras packs it: ``x`` itself (one input, no
    targets), ``(x,)`` (several inputs in a list or tuple, no targets), ``(x, y)`` or
    ``(x, y, sample_weight)``."""
    from ..models.data import pack

    return pack(x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """(x, y, sample_weight) of a batch given as x, (x,), (x, y) or (x, y, sample_weight);
    a list counts as a tuple, as in Keras."""
    from ..models.data import unpack

    return unpack(tuple(data) if isinstance(data, list) else data)


# ----------------------------------------------------------------- from a directory tree

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def _files_by_class(directory, extensions, labels, class_names):
    if not os.path.isdir(directory):
        raise ValueError(f"`directory` {directory!r} is not a directory")
    if labels == "inferred":
        found = sorted(
            d for d in os.listdir(directory) if os.path.isdir(os.path.join(directory, d))
        )
        names = list(class_names) if class_names is not None else found
        if class_names is not None and set(class_names) - set(found):
            raise ValueError(
                f"`class_names` {sorted(set(class_names) - set(found))} are not sub-folders of "
                f"{directory!r} (found: {found})"
            )
        files, index = [], []
        for i, name in enumerate(names):
            for root, _, fs in sorted(os.walk(os.path.join(directory, name))):
                for f in sorted(fs):
                    if f.lower().endswith(extensions):
                        files.append(os.path.join(root, f))
                        index.append(i)
        return files, np.array(index, np.int64), names
    files = [
        os.path.join(root, f)
        for root, _, fs in sorted(os.walk(directory))
        for f in sorted(fs)
        if f.lower().endswith(extensions)
    ]
    if labels is None:
        return files, None, None
    labels = np.asarray(labels)
    if len(labels) != len(files):
        raise ValueError(
            f"Expected as many labels as files ({len(files)} found in {directory!r}). "
            f"Received: {len(labels)} labels"
        )
    return files, labels, None


def _encode(index, names, label_mode):
    if index is None or label_mode is None:
        return None
    if label_mode == "int":
        return index.astype(np.int32)
    if label_mode == "categorical":
        return np.eye(len(names), dtype=backend.floatx())[index]
    if label_mode == "binary":
        if len(names) != 2:
            raise ValueError(
                f"label_mode='binary' needs exactly 2 classes. Found {len(names)}: {names}"
            )
        return index.astype(backend.floatx())[:, None]
    raise ValueError(
        "`label_mode` must be one of 'int', 'categorical', 'binary' or None. "
        f"Received: label_mode={label_mode!r}"
    )


def _subset(n, validation_split, subset, seed, shuffle):
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    if not validation_split:
        if subset is not None:
            raise ValueError("`subset` needs `validation_split`")
        return order, None
    if subset not in ("training", "validation", "both"):
        raise ValueError(
            "`subset` must be 'training', 'validation' or 'both' with `validation_split`. "
            f"Received: subset={subset!r}"
        )
    if shuffle and seed is None:
        raise ValueError("A `seed` is needed to split shuffled files consistently")
    k = int(validation_split * n)
    return order[: n - k], order[n - k :]


def _dataset(arrays, batch_size, shuffle, seed):
    ds = Dataset(arrays)
    if shuffle:
        ds = ds.shuffle(seed=seed)
    return ds.batch(batch_size) if batch_size else ds


def image_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    color_mode="rgb",
    batch_size=32,
    image_size=(256, 256),
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    interpolation="bilinear",
    follow_links=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    data_format=None,
    verbose=True,
):
    """Images in class sub-folders as a dataset of (images, labels) batches, resized to
    ``image_size`` (needs the ``[image]`` extra, Pillow). The class names are set on the
    dataset as ``class_names``."""
    from .image_utils import img_to_array, load_img

    files, index, names = _files_by_class(directory, IMAGE_EXTENSIONS, labels, class_names)
    if verbose:
        print(
            f"Found {len(files)} files"
            + (f" belonging to {len(names)} classes." if names else ".")
        )
    channels = {"rgb": 3, "rgba": 4, "grayscale": 1}.get(color_mode)
    if channels is None:
        raise ValueError(
            f"`color_mode` must be 'rgb', 'rgba' or 'grayscale'. Received: {color_mode!r}"
        )

    def load(paths):
        return (
            np.stack(
                [
                    img_to_array(
                        load_img(
                            p,
                            color_mode=color_mode,
                            target_size=tuple(image_size),
                            interpolation=interpolation,
                        ),
                        data_format=data_format,
                    )
                    for p in paths
                ]
            )
            if paths
            else np.zeros((0, *image_size, channels), backend.floatx())
        )

    encoded = _encode(index, names, label_mode)
    train, val = _subset(len(files), validation_split, subset, seed, shuffle)

    def build(order):
        images = load([files[i] for i in order])
        arrays = images if encoded is None else (images, encoded[order])
        ds = _dataset(arrays, batch_size, shuffle, seed)
        ds.class_names, ds.file_paths = names, [files[i] for i in order]
        return ds

    if subset == "both":
        return build(train), build(val)
    return build(val if subset == "validation" else train)


def text_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=32,
    max_length=None,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    follow_links=False,
    verbose=True,
):
    """Text files in class sub-folders as a dataset of (texts, labels) batches (texts as
    arrays of Python strings, cut to ``max_length`` characters)."""
    files, index, names = _files_by_class(directory, (".txt",), labels, class_names)
    if verbose:
        print(
            f"Found {len(files)} files"
            + (f" belonging to {len(names)} classes." if names else ".")
        )

    def read(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return text[:max_length] if max_length else text

    texts = np.array([read(p) for p in files], dtype=object)
    encoded = _encode(index, names, label_mode)
    train, val = _subset(len(files), validation_split, subset, seed, shuffle)

    def build(order):
        arrays = texts[order] if encoded is None else (texts[order], encoded[order])
        ds = _dataset(arrays, batch_size, shuffle, seed)
        ds.class_names, ds.file_paths = names, [files[i] for i in order]
        return ds

    if subset == "both":
        return build(train), build(val)
    return build(val if subset == "validation" else train)


def audio_dataset_from_directory(*args, **kwargs):
    """Not provided: shendu reads no audio formats (NumPy only). Load the audio with a
    library of your choice and pass arrays (or ``timeseries_dataset_from_array``)."""
    raise NotImplementedError(str(audio_dataset_from_directory.__doc__).strip())


__all__ = [
    "PyDataset",
    "Sequence",
    "audio_dataset_from_directory",
    "image_dataset_from_directory",
    "pack_x_y_sample_weight",
    "split_dataset",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
    "unpack_x_y_sample_weight",
]
