"""Losses (Keras 3 names, arguments and defaults), as classes and as functions.

A loss function maps (y_true, y_pred) to one value per sample (the mean over the
last axis for elementwise losses). A ``Loss`` object multiplies by
``sample_weight`` and reduces: "sum_over_batch_size" (default: the sum divided by
the number of per-sample values), "sum", "mean" (weighted mean) or None.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from . import backend, ops
from .autograd.tensor import Tensor
from .naming import resolve, snake_case, unknown_name_error

EPSILON = 1e-7


def prepare_targets(y_true, y_pred, align=True, integer_labels=False):
    """Targets as an array of the prediction's dtype (integer targets stay integers with
    ``integer_labels``); with ``align``, a trailing axis of size 1 is added to or removed
    from the targets to match the prediction's rank (Keras's squeeze_or_expand_to_same_rank:
    labels (N,) against predictions (N, 1))."""
    y_pred = ops.convert_to_tensor(y_pred) if not isinstance(y_pred, Tensor) else y_pred
    if isinstance(y_true, Tensor) and y_true.requires_grad:
        if y_true.dtype != y_pred.dtype and y_pred.dtype.kind == "f":
            return ops.cast(y_true, y_pred.dtype), y_pred
        return y_true, y_pred
    xp = backend.array_module(y_pred.data)
    t = y_true.data if isinstance(y_true, Tensor) else xp.asarray(y_true)
    # conversions are ops, not array code: a recorded training step then replays them on
    # each new batch (shendu.models.step_replay); without a conversion t stays the array
    keep = integer_labels and t.dtype.kind in "iu"
    if t.dtype != y_pred.dtype and y_pred.dtype.kind == "f" and not keep:
        t = ops.cast(t, y_pred.dtype)
    if align:
        if t.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
            t = ops.expand_dims(t, -1)
        elif t.ndim == y_pred.ndim + 1 and t.shape[-1] == 1:
            t = ops.squeeze(t, -1)
    return t, y_pred


def _check_shapes(name, y_true, y_pred):
    ts, ps = tuple(np.shape(y_true.data if isinstance(y_true, Tensor) else y_true)), y_pred.shape
    try:
        np.broadcast_shapes(ts, ps)
    except ValueError:
        raise ValueError(
            f"{name}: y_true and y_pred shapes do not match. Received: y_true.shape={ts}, "
            f"y_pred.shape={ps}"
        ) from None


def _elementwise(name):
    def decorator(fn):
        def loss(y_true, y_pred):
            t, p = prepare_targets(y_true, y_pred)
            _check_shapes(name, t, p)
            return ops.mean(fn(t, p), axis=-1)

        loss.__name__ = name
        loss.__doc__ = fn.__doc__
        return loss

    return decorator


@_elementwise("mean_squared_error")
def mean_squared_error(t, p):
    """mean((y_true - y_pred)**2) over the last axis."""
    return ops.square(p - t)


@_elementwise("mean_absolute_error")
def mean_absolute_error(t, p):
    """mean(|y_true - y_pred|) over the last axis."""
    return ops.abs(p - t)


@_elementwise("mean_absolute_percentage_error")
def mean_absolute_percentage_error(t, p):
    """100 * mean(|y_true - y_pred| / max(|y_true|, eps))."""
    denom = np.maximum(np.abs(t.data if isinstance(t, Tensor) else t), EPSILON)
    return 100.0 * ops.abs(p - t) / denom


@_elementwise("mean_squared_logarithmic_error")
def mean_squared_logarithmic_error(t, p):
    """mean((log(1 + y_pred) - log(1 + y_true))**2), inputs clipped at eps."""
    a = ops.log(ops.maximum(p, EPSILON) + 1.0)
    b = ops.log(ops.maximum(t, EPSILON) + 1.0)
    return ops.square(a - b)


@_elementwise("log_cosh")
def log_cosh(t, p):
    """mean(log(cosh(y_pred - y_true))), computed as x + softplus(-2x) - log 2."""
    x = p - t
    return x + ops.softplus(-2.0 * x) - np.log(2.0)


@_elementwise("poisson")
def poisson(t, p):
    """mean(y_pred - y_true * log(y_pred + eps))."""
    return p - t * ops.log(p + EPSILON)


@_elementwise("hinge")
def hinge(t, p):
    """mean(max(1 - y_true * y_pred, 0)); labels in {0, 1} are mapped to {-1, 1}."""
    return ops.relu(1.0 - _signed(t) * p)


@_elementwise("squared_hinge")
def squared_hinge(t, p):
    """mean(max(1 - y_true * y_pred, 0)**2); labels in {0, 1} are mapped to {-1, 1}."""
    return ops.square(ops.relu(1.0 - _signed(t) * p))


def _signed(t):
    a = t.data if isinstance(t, Tensor) else t
    if np.all((a == 0) | (a == 1)):
        return 2.0 * a - 1.0
    return t


# they branch on the targets' values (_signed): a recorded training step would keep the
# branch of the step it recorded, so shendu.models.step_replay leaves them eager
hinge.branches_on_values = squared_hinge.branches_on_values = True


def huber(y_true, y_pred, delta=1.0):
    """0.5 x**2 where |x| <= delta, else delta (|x| - delta / 2); x = y_pred - y_true."""
    t, p = prepare_targets(y_true, y_pred)
    _check_shapes("huber", t, p)
    x = ops.abs(p - t)
    quad = ops.minimum(x, delta)
    return ops.mean(0.5 * ops.square(quad) + delta * (x - quad), axis=-1)


def categorical_hinge(y_true, y_pred):
    """max(neg - pos + 1, 0), pos = sum(y_true * y_pred), neg = max((1 - y_true) * y_pred)."""
    t, p = prepare_targets(y_true, y_pred)
    pos = ops.sum(p * t, axis=-1)
    neg = ops.max((1.0 - t) * p, axis=-1)
    return ops.relu(neg - pos + 1.0)


def kl_divergence(y_true, y_pred):
    """sum(y_true * log(y_true / y_pred)), both clipped to [eps, 1]."""
    t, p = prepare_targets(y_true, y_pred)
    _check_shapes("kl_divergence", t, p)
    t = ops.clip(t, EPSILON, 1.0)
    p = ops.clip(p, EPSILON, 1.0)
    return ops.sum(t * ops.log(t / p), axis=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred)) (Keras's sign: lower is better)."""
    t, p = prepare_targets(y_true, y_pred)
    tn = t / ops.maximum(ops.norm(t, axis=axis, keepdims=True), 1e-12)
    pn = p / ops.maximum(ops.norm(p, axis=axis, keepdims=True), 1e-12)
    return -ops.sum(tn * pn, axis=axis)


def _smooth(t, label_smoothing, num_classes=None):
    if not label_smoothing:
        return t
    if num_classes is None:  # binary
        return t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return t * (1.0 - label_smoothing) + label_smoothing / num_classes


def _check_categorical_labels(name, t, p):
    a = t.data if isinstance(t, Tensor) else t
    if a.ndim == p.ndim - 1 or (a.ndim == p.ndim and a.shape[-1] == 1 and p.shape[-1] > 1):
        raise ValueError(
            f"{name}: expected one-hot labels of shape {(None,) + tuple(p.shape[1:])}. Received "
            f"integer labels of shape {(None,) + tuple(a.shape[1:])}; use "
            "sparse_categorical_crossentropy for integer labels (or one-hot encode them with "
            "shendu.utils.to_categorical)."
        )


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum(y_true * log(p)) per sample; stable for softmax outputs (uses their logits)."""
    t, p = prepare_targets(y_true, y_pred)
    _check_categorical_labels("categorical_crossentropy", t, p)
    t = _smooth(t, label_smoothing, p.shape[-1])
    return ops.categorical_crossentropy(t, p, from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """-log(p[label]) per sample for integer labels."""
    t, p = prepare_targets(y_true, y_pred, align=False, integer_labels=True)
    a = t.data if isinstance(t, Tensor) else t
    if a.ndim == p.ndim and a.shape[-1] == p.shape[-1] and p.shape[-1] > 1:
        raise ValueError(
            "sparse_categorical_crossentropy: expected integer labels of shape "
            f"{(None,) + tuple(p.shape[1:-1])}. Received labels of shape "
            f"{(None,) + tuple(a.shape[1:])}, which look one-hot encoded; use "
            "categorical_crossentropy for one-hot labels."
        )
    labels = np.asarray(a)
    if ignore_class is not None:
        keep = labels != ignore_class
        labels = np.where(keep, labels, 0)
        out = ops.sparse_categorical_crossentropy(labels, p, from_logits=from_logits, axis=axis)
        return out * keep.reshape(out.shape).astype(p.dtype)
    return ops.sparse_categorical_crossentropy(labels, p, from_logits=from_logits, axis=axis)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """mean over the last axis of -(t log p + (1 - t) log(1 - p))."""
    t, p = prepare_targets(y_true, y_pred)
    _check_shapes("binary_crossentropy", t, p)
    t = _smooth(t, label_smoothing)
    return ops.mean(ops.binary_crossentropy(t, p, from_logits=from_logits), axis=axis)


def binary_focal_crossentropy(
    y_true,
    y_pred,
    apply_class_balancing=False,
    alpha=0.25,
    gamma=2.0,
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
):
    """Binary cross-entropy scaled by (1 - p_t)**gamma (and alpha_t when balancing)."""
    t, p = prepare_targets(y_true, y_pred)
    _check_shapes("binary_focal_crossentropy", t, p)
    t = _smooth(t, label_smoothing)
    bce = ops.binary_crossentropy(t, p, from_logits=from_logits)
    prob = ops.sigmoid(p) if from_logits else p
    p_t = t * prob + (1.0 - t) * (1.0 - prob)
    focal = ops.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (t * alpha + (1.0 - t) * (1.0 - alpha)) * focal
    return ops.mean(focal, axis=axis)


def categorical_focal_crossentropy(
    y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1
):
    """sum over classes of -alpha (1 - p)**gamma t log(p), with p the prediction normalised
    to sum to 1 and clipped to [eps, 1 - eps] (softmax first with ``from_logits``)."""
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis}")
    t, p = prepare_targets(y_true, y_pred)
    t = _smooth(t, label_smoothing, p.shape[-1])
    if from_logits:
        p = ops.softmax(p, axis=axis)
    p = ops.clip(p / ops.sum(p, axis=axis, keepdims=True), EPSILON, 1.0 - EPSILON)
    focal = alpha * ops.power(1.0 - p, gamma) * (-t * ops.log(p))
    return ops.sum(focal, axis=axis)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """(1 - p_y**q) / q for integer labels y, p_y the predicted probability of the label
    (q -> 0 is cross-entropy, q = 1 the mean absolute error; robust to noisy labels)."""
    p = ops.convert_to_tensor(y_pred) if not isinstance(y_pred, Tensor) else y_pred
    labels = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true).astype(np.int64)
    labels = labels.reshape(labels.shape[: p.ndim - 1])
    one_hot = ops.one_hot(labels, p.shape[-1], dtype=p.dtype)
    p_label = ops.sum(p * one_hot, axis=-1)
    return (1.0 - ops.power(p_label, q)) / q


def _overlap_terms(y_true, y_pred, axis):
    t, p = prepare_targets(y_true, y_pred, align=False)
    intersection = ops.sum(t * p, axis=axis)
    return t, p, intersection


def dice(y_true, y_pred, axis=None):
    """1 - 2 sum(t p) / (sum(t) + sum(p) + eps), over ``axis`` (all axes by default)."""
    t, p, intersection = _overlap_terms(y_true, y_pred, axis)
    total = ops.sum(t, axis=axis) + ops.sum(p, axis=axis) + EPSILON
    return 1.0 - 2.0 * intersection / total


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """1 - TP / (TP + alpha FP + beta FN + eps), TP = sum(t p), FP = sum((1 - p) t) and
    FN = sum(p (1 - t)) as Keras counts them; alpha = beta = 0.5 is the Dice loss."""
    t, p, intersection = _overlap_terms(y_true, y_pred, axis)
    fp = ops.sum((1.0 - p) * t, axis=axis)
    fn = ops.sum(p * (1.0 - t), axis=axis)
    return 1.0 - intersection / (intersection + alpha * fp + beta * fn + EPSILON)


def ctc(y_true, y_pred):
    """Connectionist temporal classification loss per sample: labels (batch, max_length)
    padded with 0 (the blank, id 0, as Keras), logits (batch, steps, classes); every
    sample uses all its steps and its nonzero labels (``ops.ctc_loss``)."""
    labels = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true)
    p = ops.convert_to_tensor(y_pred) if not isinstance(y_pred, Tensor) else y_pred
    if labels.ndim != 2:
        raise ValueError(
            "Targets `y_true` are expected to be a tensor of shape `(batch_size, max_length)` "
            f"in integer format. Received: y_true.shape={labels.shape}"
        )
    if p.ndim != 3:
        raise ValueError(
            "Logits `y_pred` are expected to be a tensor of shape "
            f"`(batch_size, max_length, num_classes)`. Received: y_pred.shape={p.shape}"
        )
    labels = labels.astype(np.int64)
    label_length = (labels != 0).sum(axis=-1).astype(np.int64)
    input_length = np.full((p.shape[0],), p.shape[1], dtype=np.int64)
    return ops.ctc_loss(labels, p, label_length, input_length, mask_index=0)


def circle(
    y_true,
    y_pred,
    ref_labels=None,
    ref_embeddings=None,
    remove_diagonal=True,
    gamma=80,
    margin=0.4,
):
    """Circle loss of L2-normalised embeddings ``y_pred`` with integer labels (against
    themselves, or ``ref_embeddings`` / ``ref_labels``): with cosine distances d,
    p = logsumexp over positives of -gamma max(margin + d, 0) (margin - d),
    n = logsumexp over negatives of gamma max(1 + margin - d, 0) (1 - margin - d),
    loss = softplus(p + n) per sample (a sample without positives or negatives gives 0)."""
    p = ops.convert_to_tensor(y_pred) if not isinstance(y_pred, Tensor) else y_pred
    labels = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true).reshape(-1, 1)
    ref = p if ref_embeddings is None else ops.convert_to_tensor(ref_embeddings)
    ref_l = labels if ref_labels is None else np.asarray(ref_labels).reshape(-1, 1)
    positive = labels.astype(np.int64) == ref_l.astype(np.int64).T
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~np.eye(len(labels), len(ref_l), dtype=bool)
    dist = ops.maximum(1.0 - ops.matmul(p, ops.transpose(ref)), 0.0)
    pos_w = ops.maximum((margin + dist) * positive.astype(p.dtype), 0.0)
    neg_w = ops.maximum((1 + margin - dist) * negative.astype(p.dtype), 0.0)
    pos_terms = -gamma * pos_w * (margin - dist)
    neg_terms = gamma * neg_w * (1 - margin - dist)
    # a very negative finite value stands for Keras's -inf: softplus gives the same 0 for a
    # sample without positives or negatives, and the gradient stays finite
    floor = float(np.finfo(p.dtype).min) / 4
    p_loss = ops.logsumexp(ops.where(positive, pos_terms, floor), axis=1)
    n_loss = ops.logsumexp(ops.where(negative, neg_terms, floor), axis=1)
    return ops.softplus(p_loss + n_loss)


REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def reduce_weighted(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Apply ``sample_weight`` (broadcast over trailing axes) and reduce."""
    if sample_weight is not None:
        # with ops, not array code: a recorded training step replays them on each batch
        sw = ops.cast(
            sample_weight if isinstance(sample_weight, Tensor) else np.asarray(sample_weight),
            values.dtype,
        )
        while sw.ndim > values.ndim and sw.shape[-1] == 1:
            sw = ops.squeeze(sw, -1)
        while sw.ndim < values.ndim:
            sw = ops.expand_dims(sw, -1)
        values = values * sw
    if reduction in (None, "none"):
        return values
    if sample_weight is None and reduction == "sum_over_batch_size" and values.size:
        return ops.mean(values)  # one node: sum / number of values
    total = ops.sum(values)
    if reduction == "sum":
        return total
    if reduction in ("mean_with_sample_weight",) and sample_weight is not None:
        return total / ops.maximum(ops.sum(sw), EPSILON)
    return total / max(values.size, 1)


class Loss:
    """Base class: ``__call__(y_true, y_pred, sample_weight=None)`` returns the reduced loss."""

    fn: Any = None  # a subclass's function of (y_true, y_pred), or None

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None, **fn_kwargs):
        if reduction not in REDUCTIONS:
            raise ValueError(
                f"Invalid value for argument `reduction`. Expected one of {REDUCTIONS}. "
                f"Received: reduction={reduction!r}"
            )
        self.name = name or snake_case(type(self).__name__)
        self.reduction = reduction
        self.dtype = dtype
        self.fn_kwargs = fn_kwargs

    def call(self, y_true, y_pred):
        return type(self).fn(y_true, y_pred, **self.fn_kwargs)

    def __call__(self, y_true, y_pred, sample_weight=None):
        values = self.call(y_true, y_pred)
        keep = output_mask(y_pred, values.shape)
        if keep is not None:  # a masked output (Embedding(mask_zero=True) upstream): Keras's
            return _masked_reduce(values, keep, sample_weight, self.reduction)
        return reduce_weighted(values, sample_weight, self.reduction)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, **self.fn_kwargs}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def output_mask(y_pred, shape):
    """The mask ``y_pred`` carries (``_keras_mask``: one flag per step), as a bool array of
    the per-sample losses' ``shape``, or None when it carries none (or one of another
    shape, which no loss value lines up with)."""
    mask = getattr(y_pred, "_keras_mask", None)
    if mask is None:
        return None
    keep = np.asarray(backend.to_numpy(mask.data if isinstance(mask, Tensor) else mask))
    while keep.ndim > len(shape) and keep.shape[-1] == 1:
        keep = keep[..., 0]
    if keep.shape != tuple(shape):
        return None
    return keep.astype(bool)


def _masked_reduce(values, keep, sample_weight, reduction):
    """Reduce ``values`` counting only where ``keep`` holds, as Keras applies a mask: with
    ``sum_over_batch_size`` the kept entries are averaged (the weights rescaled by
    size / kept), other reductions just drop the rest."""
    if reduction == "sum_over_batch_size":
        weights = keep * (keep.size / (keep.sum() + EPSILON))
    else:
        weights = keep.astype(values.dtype)
    return reduce_weighted(values, times_sample_weight(weights, sample_weight), reduction)


def times_sample_weight(weights, sample_weight):
    """``weights`` (per step, a mask's) times ``sample_weight`` (per sample or per step:
    trailing axes of size 1 dropped, missing ones broadcast), as an array."""
    weights = np.asarray(weights, dtype=np.float64 if weights.dtype == bool else weights.dtype)
    if sample_weight is None:
        return weights
    sw = np.asarray(backend.to_numpy(_data(sample_weight)), dtype=weights.dtype)
    while sw.ndim > weights.ndim and sw.shape[-1] == 1:
        sw = sw[..., 0]
    return weights * sw.reshape(sw.shape + (1,) * (weights.ndim - sw.ndim))


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _loss_class(name, fn, doc, loss_name=None, order=None, **defaults):
    """A Loss class around ``fn`` whose signature is Keras's: ``fn``'s options (``defaults``,
    in order) first, then reduction, name, dtype (or the names in ``order``, where Keras
    orders them otherwise), by keyword or by position. Its objects are named
    ``loss_name`` (else the class name in snake case), as Keras names them."""
    either = inspect.Parameter.POSITIONAL_OR_KEYWORD
    options = {**defaults, "reduction": "sum_over_batch_size", "name": None, "dtype": None}
    if order is not None:
        options = {key: options[key] for key in order}
    signature = inspect.Signature(
        [inspect.Parameter("self", either)]
        + [inspect.Parameter(key, either, default=value) for key, value in options.items()]
    )

    def __init__(self, *args, **kwargs):
        try:
            bound = signature.bind(self, *args, **kwargs).arguments
        except TypeError as error:
            raise TypeError(f"{type(self).__name__}: {error}") from None
        given = {key: value for key, value in bound.items() if key != "self"}
        reduction = given.pop("reduction", "sum_over_batch_size")
        given_name, dtype = given.pop("name", None), given.pop("dtype", None)
        Loss.__init__(
            self,
            name=given_name or loss_name or snake_case(type(self).__name__),
            reduction=reduction,
            dtype=dtype,
            **{**defaults, **given},
        )

    __init__.__signature__ = signature  # type: ignore[attr-defined]
    return type(name, (Loss,), {"__init__": __init__, "fn": staticmethod(fn), "__doc__": doc})


MeanSquaredError = _loss_class("MeanSquaredError", mean_squared_error, "mean((t - p)**2).")
MeanAbsoluteError = _loss_class("MeanAbsoluteError", mean_absolute_error, "mean(|t - p|).")
MeanAbsolutePercentageError = _loss_class(
    "MeanAbsolutePercentageError", mean_absolute_percentage_error, "100 mean(|t - p| / |t|)."
)
MeanSquaredLogarithmicError = _loss_class(
    "MeanSquaredLogarithmicError",
    mean_squared_logarithmic_error,
    "mean((log(1 + p) - log(1 + t))**2).",
)
Huber = _loss_class(
    "Huber", huber, "Quadratic within delta, linear outside.", loss_name="huber_loss", delta=1.0
)
LogCosh = _loss_class("LogCosh", log_cosh, "mean(log(cosh(p - t))).")
Poisson = _loss_class("Poisson", poisson, "mean(p - t log p).")
KLDivergence = _loss_class("KLDivergence", kl_divergence, "sum(t log(t / p)).")
CosineSimilarity = _loss_class(
    "CosineSimilarity", cosine_similarity, "-cosine similarity along axis.", axis=-1
)
Hinge = _loss_class("Hinge", hinge, "mean(max(1 - t p, 0)).")
SquaredHinge = _loss_class("SquaredHinge", squared_hinge, "mean(max(1 - t p, 0)**2).")
CategoricalHinge = _loss_class("CategoricalHinge", categorical_hinge, "max(neg - pos + 1, 0).")
BinaryCrossentropy = _loss_class(
    "BinaryCrossentropy",
    binary_crossentropy,
    "Binary cross-entropy.",
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
)
BinaryFocalCrossentropy = _loss_class(
    "BinaryFocalCrossentropy",
    binary_focal_crossentropy,
    "Focal binary cross-entropy.",
    apply_class_balancing=False,
    alpha=0.25,
    gamma=2.0,
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
)
CategoricalCrossentropy = _loss_class(
    "CategoricalCrossentropy",
    categorical_crossentropy,
    "Categorical cross-entropy.",
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
)
_SparseCategoricalCrossentropy = _loss_class(
    "SparseCategoricalCrossentropy",
    sparse_categorical_crossentropy,
    "Sparse categorical cross-entropy.",
    order=("from_logits", "ignore_class", "reduction", "axis", "name", "dtype"),
    from_logits=False,
    ignore_class=None,
    axis=-1,
)


class SparseCategoricalCrossentropy(_SparseCategoricalCrossentropy):  # type: ignore[valid-type, misc]  # a class made by _loss_class
    """Sparse categorical cross-entropy, -log p[label]. With ``ignore_class``, the entries
    of that label count for nothing, and ``sum_over_batch_size`` averages over the others
    (Keras masks them: 4 tokens, 2 ignored, average over 2)."""

    def __call__(self, y_true, y_pred, sample_weight=None):
        ignore = self.fn_kwargs.get("ignore_class")
        if ignore is None:
            return super().__call__(y_true, y_pred, sample_weight)
        values = self.call(y_true, y_pred)
        labels = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true)
        keep = (labels != ignore).reshape(values.shape)
        return _masked_reduce(values, keep, sample_weight, self.reduction)


CategoricalFocalCrossentropy = _loss_class(
    "CategoricalFocalCrossentropy",
    categorical_focal_crossentropy,
    "Focal categorical cross-entropy: -alpha (1 - p)**gamma t log p summed over classes.",
    alpha=0.25,
    gamma=2.0,
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
)
CategoricalGeneralizedCrossEntropy = _loss_class(
    "CategoricalGeneralizedCrossEntropy",
    categorical_generalized_cross_entropy,
    "Generalized cross-entropy (1 - p_y**q) / q of integer labels.",
    q=0.5,
)
Dice = _loss_class(
    "Dice",
    dice,
    "1 - 2 sum(t p) / (sum(t) + sum(p)).",
    order=("reduction", "name", "axis", "dtype"),
    axis=None,
)
CTC = _loss_class("CTC", ctc, "Connectionist temporal classification (labels padded with 0).")


class Circle(Loss):
    """Circle loss (``circle``); as in Keras, the mean is over the samples whose loss is
    positive (samples without positives or negatives do not dilute it)."""

    def __init__(
        self,
        gamma=80.0,
        margin=0.4,
        remove_diagonal=True,
        reduction="sum_over_batch_size",
        name="circle",
        dtype=None,
    ):
        super().__init__(
            name=name,
            reduction=reduction,
            dtype=dtype,
            gamma=gamma,
            margin=margin,
            remove_diagonal=remove_diagonal,
        )

    fn = staticmethod(circle)

    def __call__(self, y_true, y_pred, sample_weight=None):
        values = self.call(y_true, y_pred)
        return _masked_reduce(values, values.data > 0, sample_weight, self.reduction)


Tversky = _loss_class(
    "Tversky",
    tversky,
    "1 - TP / (TP + alpha FP + beta FN).",
    order=("alpha", "beta", "reduction", "name", "axis", "dtype"),
    alpha=0.5,
    beta=0.5,
    axis=None,
)

_CLASSES = [
    MeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    Huber,
    LogCosh,
    Poisson,
    KLDivergence,
    CosineSimilarity,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy,
    Dice,
    Tversky,
    CTC,
    Circle,
]
_FUNCTIONS = {
    "mean_squared_error": mean_squared_error,
    "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error,
    "mae": mean_absolute_error,
    "mean_absolute_percentage_error": mean_absolute_percentage_error,
    "mape": mean_absolute_percentage_error,
    "mean_squared_logarithmic_error": mean_squared_logarithmic_error,
    "msle": mean_squared_logarithmic_error,
    "huber": huber,
    "log_cosh": log_cosh,
    "logcosh": log_cosh,
    "poisson": poisson,
    "kl_divergence": kl_divergence,
    "kld": kl_divergence,
    "kullback_leibler_divergence": kl_divergence,
    "cosine_similarity": cosine_similarity,
    "hinge": hinge,
    "squared_hinge": squared_hinge,
    "categorical_hinge": categorical_hinge,
    "binary_crossentropy": binary_crossentropy,
    "binary_focal_crossentropy": binary_focal_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "categorical_focal_crossentropy": categorical_focal_crossentropy,
    "categorical_generalized_cross_entropy": categorical_generalized_cross_entropy,
    "dice": dice,
    "tversky": tversky,
    "ctc": ctc,
    "circle": circle,
}
_FUNCTION_TO_CLASS = {
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
    huber: Huber,
    log_cosh: LogCosh,
    poisson: Poisson,
    kl_divergence: KLDivergence,
    cosine_similarity: CosineSimilarity,
    hinge: Hinge,
    squared_hinge: SquaredHinge,
    categorical_hinge: CategoricalHinge,
    binary_crossentropy: BinaryCrossentropy,
    binary_focal_crossentropy: BinaryFocalCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    categorical_focal_crossentropy: CategoricalFocalCrossentropy,
    categorical_generalized_cross_entropy: CategoricalGeneralizedCrossEntropy,
    dice: Dice,
    tversky: Tversky,
    ctc: CTC,
    circle: Circle,
}
_TABLE = {c.__name__: c for c in _CLASSES}
_TABLE.update(_FUNCTIONS)


class LossFunctionWrapper(Loss):
    """A plain function ``fn(y_true, y_pred)`` used as a Loss."""

    def __init__(self, fn, name=None, reduction="sum_over_batch_size"):
        super().__init__(name=name or getattr(fn, "__name__", "loss"), reduction=reduction)
        self.fn = fn  # the wrapped function

    def call(self, y_true, y_pred):
        """``fn`` on the targets as Keras hands them to a loss function: in the prediction's
        float dtype, with a trailing axis of size 1 added or removed to match its rank
        (labels (N,) against predictions (N, 1) would otherwise broadcast to (N, N))."""
        if isinstance(y_pred, (Tensor, np.ndarray)) and not isinstance(y_true, (dict, list)):
            y_true, y_pred = prepare_targets(y_true, y_pred)
        return self.fn(y_true, y_pred)


def get(identifier):
    """A Loss object from a name ('mse', 'categorical_crossentropy', 'Huber'), a config,
    a Loss instance or a function."""
    if identifier is None:
        return None
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _TABLE:
            raise unknown_name_error("loss", identifier, _TABLE)
        obj = _TABLE[identifier]
        if isinstance(obj, type):
            return obj()
        return _FUNCTION_TO_CLASS[obj](name=identifier)
    if isinstance(identifier, dict):
        return resolve(identifier, _TABLE, "loss")
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        cls = _FUNCTION_TO_CLASS.get(identifier)
        return cls() if cls else LossFunctionWrapper(identifier)
    raise TypeError(f"Could not interpret loss identifier: {identifier!r}")


def deserialize(name, custom_objects=None):
    """A Loss from ``serialize``'s output (a name or ``{"class_name", "config"}``)."""
    config = name
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Expected a loss name or config dict. Received: {config!r}")
    cls = (custom_objects or {}).get(config["class_name"])
    if cls is not None:
        return cls.from_config(config.get("config") or {})
    return resolve(config, _TABLE, "loss", custom_objects)


def serialize(loss):
    if isinstance(loss, LossFunctionWrapper):
        return getattr(loss.fn, "__name__", "loss")
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
