"""Metrics: stateful accumulators with ``update_state`` / ``result`` / ``reset_state``.

They run on plain NumPy arrays (no graph), so tracking them costs no autodiff.
Names and defaults follow Keras 3; the string "accuracy" resolves by the loss and
the label shape as Keras does.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import backend, ops
from . import losses as losses_mod
from .autograd.tensor import Tensor
from .naming import snake_case, unknown_name_error


def _np(x):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return backend.to_numpy(x.data)
    return np.asarray(x)


def _weights(sample_weight, values):
    if sample_weight is None:
        return None
    sw = _np(sample_weight).astype(np.float64)
    while sw.ndim > values.ndim and sw.shape[-1] == 1:
        sw = sw[..., 0]
    while sw.ndim < values.ndim:
        sw = sw[..., None]
    return np.broadcast_to(sw, values.shape)


class Metric:
    """Base class: subclasses implement ``update_state`` and ``result``. A result is a
    Tensor, as Keras's (a 0-d one for one number: ``float(m.result())``,
    ``m.result().numpy()`` and ``f"{m.result():.3f}"`` all work)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "result" in cls.__dict__:
            cls.result = _tensor_result(cls.__dict__["result"])  # type: ignore[method-assign]

    def __init__(self, dtype=None, name=None):
        self.name = name or snake_case(type(self).__name__)
        self.dtype = dtype or backend.floatx()
        self._state_variables: list = []  # state made by add_variable
        self._initial_values: list = []
        if type(self).reset_state.__module__ == __name__:
            # shendu's metrics keep their state in attributes set here; a user's
            # reset_state may name variables its __init__ has yet to add (Keras never
            # calls it from __init__)
            self.reset_state()

    def add_variable(
        self, shape=(), initializer="zeros", dtype=None, aggregation="sum", name=None
    ):
        """A state variable of the metric (not trained), reset to its initial value by the
        default ``reset_state``. ``aggregation`` (how Keras's replicas combine it) is
        kept on the variable for Keras's API."""
        from . import initializers
        from .layers.base import Variable

        value = initializers.get(initializer)(tuple(shape), dtype=dtype or self.dtype)
        value = np.asarray(getattr(value, "data", value), dtype=dtype or self.dtype)
        variable = Variable(value.copy(), trainable=False, name=name, aggregation=aggregation)
        self._state_variables.append(variable)
        self._initial_values.append(value)
        return variable

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        """Keras's documented name for ``add_variable`` (a state variable, zeros unless
        ``initializer`` says otherwise)."""
        return self.add_variable(shape, initializer or "zeros", dtype=dtype, name=name)

    def reset_state(self):
        for variable, value in zip(self._state_variables, self._initial_values):
            variable.assign(value)

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @property
    def variables(self) -> list:
        """The metric's state: the variables ``add_variable`` made, else (shendu's own
        metrics, which keep their state as numbers and arrays) copies of those values in
        a fixed order (Mean: total, count, as Keras's). The stateless functions take and
        give lists of this form."""
        if self._state_variables:
            return list(self._state_variables)
        return [np.array(v, copy=True) for v in self.get_state().values()]

    def _state_values(self) -> list:
        return [
            np.array(backend.to_numpy(getattr(v, "data", v)), copy=True) for v in self.variables
        ]

    def _load_state_values(self, values) -> None:
        values = list(values)
        if self._state_variables:
            targets = self._state_variables
            if len(values) != len(targets):
                raise ValueError(
                    f"Metric {self.name!r}: expected {len(targets)} metric variables. "
                    f"Received: {len(values)}"
                )
            for variable, value in zip(targets, values):
                variable.assign(getattr(value, "data", value))
            return
        names = list(self.get_state())
        if len(values) != len(names):
            raise ValueError(
                f"Metric {self.name!r}: expected {len(names)} metric variables. "
                f"Received: {len(values)}"
            )
        current = self.get_state()
        state = {}
        for name, value in zip(names, values):
            value = backend.to_numpy(getattr(value, "data", value))
            was = current[name]
            state[name] = float(value) if isinstance(was, float) else np.array(value, copy=True)
        self.set_state(state)

    def _stateless(self, metric_variables, run):
        """``run()`` on the state ``metric_variables`` (None: a fresh state); returns its
        result and the state after it. The metric itself is left as it was."""
        saved = self._state_values()
        try:
            if metric_variables is None:
                self.reset_state()
            else:
                self._load_state_values(metric_variables)
            result = run()
            return result, self._state_values()
        finally:
            self._load_state_values(saved)

    def stateless_update_state(self, metric_variables, *args, **kwargs):
        """The state after ``update_state(*args, **kwargs)`` from ``metric_variables``
        (Keras's functional form); the metric's own state does not change."""
        return self._stateless(metric_variables, lambda: self.update_state(*args, **kwargs))[1]

    def stateless_result(self, metric_variables):
        """``result()`` of the state ``metric_variables``, the metric left unchanged."""
        return self._stateless(metric_variables, self.result)[0]

    def stateless_reset_state(self):
        """The state ``reset_state()`` gives, the metric left unchanged."""
        return self._stateless(None, lambda: None)[1]

    def get_state(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.startswith("_s_")}

    def set_state(self, state):
        for k, v in state.items():
            setattr(self, k, v)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _tensor_result(result):
    """``result`` returning its numbers as a Tensor (in the metric's dtype when float)."""

    @functools.wraps(result)
    def as_tensor(self):
        out = result(self)
        if isinstance(out, Tensor) or not isinstance(
            out, (int, float, np.integer, np.floating, np.bool_, np.ndarray)
        ):
            return out
        array = np.asarray(out)
        if array.dtype.kind == "f" or isinstance(out, (int, float)):
            array = array.astype(self.dtype)
        return Tensor.wrap(array)

    as_tensor.__tensor_result__ = True  # type: ignore[attr-defined]  # a marker
    return as_tensor


class Mean(Metric):
    """Weighted mean of the values seen: sum(w v) / sum(w)."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(dtype=dtype, name=name)

    def reset_state(self):
        self._s_total = 0.0
        self._s_count = 0.0

    def update_state(self, values, sample_weight=None):
        if isinstance(values, float) and (
            sample_weight is None or isinstance(sample_weight, (int, float))
        ):
            w = 1.0 if sample_weight is None else float(sample_weight)  # the per-step loss
            self._s_total += values * w
            self._s_count += w
            return
        v = _np(values).astype(np.float64)
        w = _weights(sample_weight, v)
        if w is None:
            self._s_total += float(v.sum())
            self._s_count += v.size
        else:
            self._s_total += float((v * w).sum())
            self._s_count += float(w.sum())

    def result(self):
        return self._s_total / self._s_count if self._s_count else 0.0


class Sum(Metric):
    """Weighted sum of the values seen."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(dtype=dtype, name=name)

    def reset_state(self):
        self._s_total = 0.0

    def update_state(self, values, sample_weight=None):
        v = _np(values).astype(np.float64)
        w = _weights(sample_weight, v)
        self._s_total += float(v.sum() if w is None else (v * w).sum())

    def result(self):
        return self._s_total


# Keras's metrics of (y_true, y_pred) subclass Mean, whose update_state takes (values): the
# overrides below are narrower than Mean's by design (mypy's override check is silenced there)


class MeanMetricWrapper(Mean):
    """Mean over samples of ``fn(y_true, y_pred)`` (one value per sample)."""

    fn: Any = None  # a subclass's function of (y_true, y_pred), or None

    def __init__(self, fn=None, name=None, dtype=None, **kwargs):
        self._fn: Callable[..., Any] = fn or type(self).fn
        self._fn_kwargs = kwargs
        super().__init__(name=name, dtype=dtype)

    def __init_subclass__(cls, **kwargs):
        """A subclass with its own ``fn`` and no ``__init__`` takes Keras's (name, dtype),
        named after the class: ``Accuracy("acc")`` is a metric named "acc"."""
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__ or cls.__dict__.get("fn") is None:
            return
        default_name = snake_case(cls.__name__)

        def __init__(self, name=default_name, dtype=None):
            MeanMetricWrapper.__init__(self, name=name, dtype=dtype)

        __init__.__qualname__ = f"{cls.__name__}.__init__"
        cls.__init__ = __init__  # type: ignore[method-assign, assignment]

    def update_state(self, y_true, y_pred, sample_weight=None):  # type: ignore[override]
        t, p = _np(y_true), _np(y_pred)
        if (
            type(self) is not SparseCategoricalAccuracy
            and type(self) is not SparseTopKCategoricalAccuracy
        ):
            if t.ndim == p.ndim - 1 and p.shape[-1] == 1:
                t = t[..., None]
            elif t.ndim == p.ndim + 1 and t.shape[-1] == 1:
                t = t[..., 0]
        values = self._fn(t, p, **self._fn_kwargs)
        keep = losses_mod.output_mask(y_pred, np.shape(values))
        if keep is not None:  # a masked output counts its kept steps only, as in Keras
            sample_weight = losses_mod.times_sample_weight(keep, sample_weight)
        super().update_state(values, sample_weight)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


def _last_axis_labels(t, p):
    if t.ndim == p.ndim and t.shape[-1] == 1 and p.shape[-1] > 1:
        t = t[..., 0]
    return t


def accuracy(y_true, y_pred):
    return (y_true == y_pred).astype(np.float64)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    return ((y_pred > threshold) == (y_true > 0.5)).astype(np.float64).mean(axis=-1)


def categorical_accuracy(y_true, y_pred):
    return (y_true.argmax(-1) == y_pred.argmax(-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred):
    t = _last_axis_labels(y_true, y_pred)
    return (t.astype(np.int64) == y_pred.argmax(-1)).astype(np.float64)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    return sparse_top_k_categorical_accuracy(y_true.argmax(-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1 where the label is among the k largest scores; with ``from_sorted_ids``,
    ``y_pred`` holds class ids sorted best first, and the first k are looked at."""
    t = _last_axis_labels(y_true, y_pred).astype(np.int64)
    if from_sorted_ids:
        ids = np.asarray(y_pred)[..., :k]
        return (ids == t[..., None]).any(axis=-1).astype(np.float64)
    top = np.argsort(-y_pred, axis=-1, kind="stable")[..., :k]
    return (top == t[..., None]).any(axis=-1).astype(np.float64)


def _mse(t, p):
    return ((t - p) ** 2).mean(axis=-1)


def _mae(t, p):
    return np.abs(t - p).mean(axis=-1)


class Accuracy(MeanMetricWrapper):
    """Fraction of predictions equal to the labels."""

    fn = staticmethod(accuracy)


class BinaryAccuracy(MeanMetricWrapper):
    """Fraction of (y_pred > threshold) equal to y_true."""

    fn = staticmethod(binary_accuracy)

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """Fraction of argmax(y_pred) equal to argmax(y_true) (one-hot labels)."""

    fn = staticmethod(categorical_accuracy)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """Fraction of argmax(y_pred) equal to the integer label."""

    fn = staticmethod(sparse_categorical_accuracy)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """Fraction of samples whose one-hot label is among the k largest predictions."""

    fn = staticmethod(top_k_categorical_accuracy)

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """Fraction of samples whose integer label is among the k largest predictions."""

    fn = staticmethod(sparse_top_k_categorical_accuracy)

    def __init__(
        self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False
    ):
        super().__init__(name=name, dtype=dtype, k=k, from_sorted_ids=from_sorted_ids)


class MeanSquaredError(MeanMetricWrapper):
    """Mean of (y_true - y_pred)**2."""

    fn = staticmethod(_mse)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of |y_true - y_pred|."""

    fn = staticmethod(_mae)


class RootMeanSquaredError(Mean):
    """sqrt of the weighted mean of (y_true - y_pred)**2."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(dtype=dtype, name=name)

    def update_state(self, y_true, y_pred, sample_weight=None):  # type: ignore[override]
        super().update_state((_np(y_true) - _np(y_pred)) ** 2, sample_weight)

    def result(self):
        return float(np.sqrt(float(super().result())))


class LossMetric(MeanMetricWrapper):
    """Mean of a loss function per sample (the loss-like metrics)."""

    def update_state(self, y_true, y_pred, sample_weight=None):  # type: ignore[override]
        from .autograd.mode import no_grad

        with no_grad():
            values = self._fn(
                _np(y_true), Tensor.wrap(_np(y_pred).astype(np.float64)), **self._fn_kwargs
            )
        Mean.update_state(self, values.numpy(), sample_weight)


class _Confusion(Metric):
    """Counts of true/false positives/negatives at ``thresholds`` (default 0.5)."""

    def __init__(self, thresholds=None, name=None, dtype=None):
        self.thresholds = 0.5 if thresholds is None else thresholds
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        n = np.size(self.thresholds)
        self._s_tp = np.zeros(n)
        self._s_fp = np.zeros(n)
        self._s_tn = np.zeros(n)
        self._s_fn = np.zeros(n)

    top_k: int | None = None
    class_id: int | None = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = _np(y_true), _np(y_pred).astype(np.float64)
        w = None if sample_weight is None else _weights(sample_weight, p)
        if self.top_k is not None:  # Keras: scores outside a row's top k count as -inf
            order = np.argsort(-p, axis=-1, kind="stable")[..., : self.top_k]
            kept = np.full(p.shape, -np.inf)
            np.put_along_axis(kept, order, np.take_along_axis(p, order, -1), -1)
            p = kept
        if self.class_id is not None:  # one class's column
            t, p = t[..., self.class_id], p[..., self.class_id]
            if w is not None and np.ndim(w) == np.ndim(_np(y_pred)):
                w = w[..., self.class_id]
        t = t.astype(bool).reshape(-1)
        w = np.ones(p.size) if w is None else np.broadcast_to(w, p.shape).reshape(-1)
        p = p.reshape(-1)
        th = np.atleast_1d(self.thresholds)[:, None]
        pred = p[None, :] > th
        self._s_tp += (w * (pred & t)).sum(1)
        self._s_fp += (w * (pred & ~t)).sum(1)
        self._s_tn += (w * (~pred & ~t)).sum(1)
        self._s_fn += (w * (~pred & t)).sum(1)

    def _out(self, v):
        return float(v[0]) if np.ndim(self.thresholds) == 0 else v.copy()

    def get_config(self):
        return {**super().get_config(), "thresholds": self.thresholds}


class TruePositives(_Confusion):
    def result(self):
        return self._out(self._s_tp)


class FalsePositives(_Confusion):
    def result(self):
        return self._out(self._s_fp)


class TrueNegatives(_Confusion):
    def result(self):
        return self._out(self._s_tn)


class FalseNegatives(_Confusion):
    def result(self):
        return self._out(self._s_fn)


class _TopKConfusion(_Confusion):
    """Counts of one class (``class_id``) or of each row's ``top_k`` scores, as Keras's
    Precision and Recall: with ``top_k`` and no thresholds, the top k are the positives."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        if thresholds is None and top_k is not None:
            thresholds = -np.inf
        self.top_k = None if top_k is None else int(top_k)
        self.class_id = None if class_id is None else int(class_id)
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)

    def get_config(self):
        config = {**super().get_config(), "top_k": self.top_k, "class_id": self.class_id}
        if self.top_k is not None and np.ndim(self.thresholds) == 0:
            if np.isneginf(self.thresholds):
                config["thresholds"] = None
        return config


class Precision(_TopKConfusion):
    """tp / (tp + fp) at the threshold."""

    def result(self):
        d = self._s_tp + self._s_fp
        return self._out(np.divide(self._s_tp, d, out=np.zeros_like(d), where=d > 0))


class Recall(_TopKConfusion):
    """tp / (tp + fn) at the threshold."""

    def result(self):
        d = self._s_tp + self._s_fn
        return self._out(np.divide(self._s_tp, d, out=np.zeros_like(d), where=d > 0))


class AUC(_Confusion):
    """Area under the ROC, PR or PR-gain curve, from confusion counts at thresholds
    (``num_thresholds`` evenly spaced in [0, 1], or ``thresholds``), as Keras.

    Riemann sums over the thresholds: ``summation_method`` "interpolation" (trapezoids;
    for PR, Davis and Goadrich's interpolation of precision between the points),
    "minoring" or "majoring" (the lower or the upper of each pair). ``multi_label``:
    one curve per label (column), averaged (weighted by ``label_weights`` when given);
    else every label counts as one more example (``label_weights`` then weigh them).
    """

    _CURVES = ("ROC", "PR", "PRGAIN")
    _SUMMATIONS = ("interpolation", "minoring", "majoring")

    def __init__(
        self,
        num_thresholds=200,
        curve="ROC",
        summation_method="interpolation",
        name=None,
        dtype=None,
        thresholds=None,
        multi_label=False,
        num_labels=None,
        label_weights=None,
        from_logits=False,
    ):
        curve = str(getattr(curve, "value", curve)).upper()
        if curve not in self._CURVES:
            raise ValueError(
                f"AUC: `curve` must be one of {self._CURVES}. Received: curve={curve!r}"
            )
        summation = str(getattr(summation_method, "value", summation_method)).lower()
        if summation not in self._SUMMATIONS:
            raise ValueError(
                f"AUC: `summation_method` must be one of {self._SUMMATIONS}. Received: "
                f"summation_method={summation_method!r}"
            )
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            num_thresholds = len(inner) + 2
        else:
            if num_thresholds <= 1:
                raise ValueError(
                    "Argument `num_thresholds` must be an integer > 1. "
                    f"Received: num_thresholds={num_thresholds}"
                )
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        if num_labels and not multi_label:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        self.num_thresholds, self.curve, self.summation_method = num_thresholds, curve, summation
        self.multi_label, self.num_labels = bool(multi_label), num_labels
        self.label_weights = None if label_weights is None else np.asarray(label_weights, float)
        self.from_logits = from_logits
        self._given_thresholds = None if thresholds is None else inner
        eps = backend.epsilon()
        super().__init__(thresholds=[-eps] + inner + [1 + eps], name=name or "auc", dtype=dtype)

    def reset_state(self):
        shape: tuple[int, ...] = (np.size(self.thresholds),)
        if getattr(self, "multi_label", False):
            shape += (self.num_labels or 1,)  # one column broadcasts to the labels seen
        self._s_tp, self._s_fp = np.zeros(shape), np.zeros(shape)
        self._s_tn, self._s_fn = np.zeros(shape), np.zeros(shape)

    def update_state(self, y_true, y_pred, sample_weight=None):
        p = _np(y_pred).astype(np.float64)
        if self.from_logits:
            p = 1 / (1 + np.exp(-p))
        t = np.broadcast_to(_np(y_true).astype(np.float64).reshape(p.shape), p.shape)
        w = np.ones_like(p)
        if sample_weight is not None:
            w = w * _weights(sample_weight, p)
        if self.multi_label:
            if p.ndim != 2:
                raise ValueError(
                    "`y_pred` must have rank 2 when `multi_label=True`. Found rank "
                    f"{p.ndim}. Full shape received for `y_pred`: {p.shape}"
                )
        elif self.label_weights is not None:
            w = w * self.label_weights
        positive = t > 0.5
        above = p[None] > np.asarray(self.thresholds).reshape((-1,) + (1,) * p.ndim)
        axes = (1,) if self.multi_label else tuple(range(1, p.ndim + 1))
        self._s_tp = self._s_tp + (w * (above & positive)).sum(axes)
        self._s_fp = self._s_fp + (w * (above & ~positive)).sum(axes)
        self._s_tn = self._s_tn + (w * (~above & ~positive)).sum(axes)
        self._s_fn = self._s_fn + (w * (~above & positive)).sum(axes)

    def _by_label(self, terms):
        if not self.multi_label:
            return float(np.sum(terms))
        per_label = np.sum(terms, axis=0)
        if self.label_weights is None:
            return float(np.mean(per_label))
        total = np.sum(self.label_weights)
        return float(np.sum(per_label * self.label_weights) / total) if total else 0.0

    def result(self):
        tp, fp, tn, fn = self._s_tp, self._s_fp, self._s_tn, self._s_fn
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.curve == "PR" and self.summation_method == "interpolation":
                return self._by_label(_interpolated_pr_terms(tp, fp, fn))
            recall = _divide_no_nan(tp, tp + fn)
            if self.curve == "ROC":
                x, y = _divide_no_nan(fp, fp + tn), recall
            elif self.curve == "PR":
                x, y = recall, _divide_no_nan(tp, tp + fp)
            else:  # PR gain
                scale = _divide_no_nan(tp + fn, tn + fp)
                x = np.maximum(np.where(tp == 0, 0.0, 1 - scale * _divide_no_nan(fn, tp)), 0)
                y = np.where(tp == 0, 1.0, 1 - scale * _divide_no_nan(fp, tp))
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._by_label((x[:-1] - x[1:]) * heights)

    def get_config(self):
        return {
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "name": self.name,
            "dtype": self.dtype,
            "thresholds": self._given_thresholds,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
            "from_logits": self.from_logits,
        }


def _divide_no_nan(a, b):
    """a / b, 0 where b is 0 (Keras's divide_no_nan)."""
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


def _interpolated_pr_terms(tp, fp, fn):
    """Davis and Goadrich's PR-AUC pieces between consecutive thresholds: precision
    interpolated along the straight line in (tp, tp + fp) between the two points."""
    dtp = tp[:-1] - tp[1:]
    predicted = tp + fp
    dp = predicted[:-1] - predicted[1:]
    slope = _divide_no_nan(dtp, np.maximum(dp, 0))
    intercept = tp[1:] - slope * predicted[1:]
    both = (predicted[:-1] > 0) & (predicted[1:] > 0)
    ratio = np.where(both, _divide_no_nan(predicted[:-1], np.maximum(predicted[1:], 0)), 1.0)
    with np.errstate(divide="ignore"):
        log_ratio = np.log(np.where(ratio > 0, ratio, 1.0))
    return _divide_no_nan(slope * (dtp + intercept * log_ratio), np.maximum(tp[1:] + fn[1:], 0))


class _AtConstraint(_Confusion):
    """The best of one rate among the thresholds where another rate is at least ``value``
    (Keras's sensitivity/specificity family: ``num_thresholds`` thresholds as AUC's;
    ``class_id`` picks one column of multi-class labels and scores)."""

    constrained: str
    dependent: str
    argument: str

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        if not 0 <= value <= 1:
            raise ValueError(
                f"{type(self).__name__}: `{self.argument}` must be in [0, 1]. "
                f"Received: {self.argument}={value}"
            )
        if not isinstance(num_thresholds, (int, np.integer)) or num_thresholds <= 0:
            raise ValueError(
                f"{type(self).__name__}: `num_thresholds` must be > 0. "
                f"Received: num_thresholds={num_thresholds}"
            )
        self.value, self.num_thresholds, self.class_id = float(value), num_thresholds, class_id
        eps = 1e-7
        inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        thresholds = [0.0 - eps] + inner + [1.0 + eps] if num_thresholds > 1 else [0.5]
        super().__init__(thresholds=thresholds, name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.class_id is not None:
            y_true = _np(y_true)[..., self.class_id]
            y_pred = _np(y_pred)[..., self.class_id]
        super().update_state(y_true, y_pred, sample_weight)

    def _rates(self):
        tp, fp, tn, fn = self._s_tp, self._s_fp, self._s_tn, self._s_fn

        def ratio(a, b):
            return np.divide(a, a + b, out=np.zeros_like(a), where=(a + b) > 0)

        return {
            "sensitivity": ratio(tp, fn),
            "recall": ratio(tp, fn),
            "specificity": ratio(tn, fp),
            "precision": ratio(tp, fp),
        }

    def result(self):
        rates = self._rates()
        feasible = rates[self.constrained] >= self.value
        if not feasible.any():
            return 0.0
        return float(np.max(np.where(feasible, rates[self.dependent], 0.0)))

    def get_config(self):
        return {
            self.argument: self.value,
            "num_thresholds": self.num_thresholds,
            "class_id": self.class_id,
            "name": self.name,
        }


class SensitivityAtSpecificity(_AtConstraint):
    """The best sensitivity (recall) where specificity >= ``specificity``."""

    constrained, dependent, argument = "specificity", "sensitivity", "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)


class SpecificityAtSensitivity(_AtConstraint):
    """The best specificity where sensitivity (recall) >= ``sensitivity``."""

    constrained, dependent, argument = "sensitivity", "specificity", "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)


class PrecisionAtRecall(_AtConstraint):
    """The best precision where recall >= ``recall``."""

    constrained, dependent, argument = "recall", "precision", "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)


class RecallAtPrecision(_AtConstraint):
    """The best recall where precision >= ``precision``."""

    constrained, dependent, argument = "precision", "recall", "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)


class FBetaScore(Metric):
    """F-beta = (1 + b^2) precision recall / (b^2 precision + recall) per class, averaged
    by ``average`` (None: one score per class; "micro", "macro", "weighted")."""

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                f"{type(self).__name__}: `average` must be None, 'micro', 'macro' or "
                f"'weighted'. Received: average={average!r}"
            )
        if not isinstance(beta, (int, float)) or isinstance(beta, bool) or beta <= 0:
            raise ValueError(
                f"{type(self).__name__}: `beta` must be a positive number. Received: beta={beta!r}"
            )
        self.average, self.threshold, self.beta = average, threshold, float(beta)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        # the counts per class, None until the first update (arrays then)
        self._s_tp: Any = None
        self._s_fp: Any = None
        self._s_fn: Any = None
        self._s_support: Any = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        t = _np(y_true).astype(np.float64)
        p = _np(y_pred).astype(np.float64)
        if self.threshold is None:
            pred = (p == p.max(axis=-1, keepdims=True)).astype(np.float64)
        else:
            pred = (p > self.threshold).astype(np.float64)
        w = np.ones(t.shape[0]) if sample_weight is None else _np(sample_weight).reshape(-1)
        w = w[:, None]
        stats = [
            (w * pred * t).sum(0),
            (w * pred * (1 - t)).sum(0),
            (w * (1 - pred) * t).sum(0),
            (w * t).sum(0),
        ]
        if self._s_tp is None:
            self._s_tp, self._s_fp, self._s_fn, self._s_support = stats
        else:
            self._s_tp = self._s_tp + stats[0]
            self._s_fp = self._s_fp + stats[1]
            self._s_fn = self._s_fn + stats[2]
            self._s_support = self._s_support + stats[3]

    def result(self):
        if self._s_tp is None:
            return 0.0
        tp, fp, fn = self._s_tp, self._s_fp, self._s_fn
        if self.average == "micro":
            tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
        prec = np.divide(tp, tp + fp, out=np.zeros_like(tp, dtype=float), where=(tp + fp) > 0)
        rec = np.divide(tp, tp + fn, out=np.zeros_like(tp, dtype=float), where=(tp + fn) > 0)
        b2 = self.beta**2
        den = b2 * prec + rec
        f1 = np.divide((1 + b2) * prec * rec, den, out=np.zeros_like(prec), where=den > 0)
        if self.average == "macro":
            return float(f1.mean())
        if self.average == "weighted":
            return float((f1 * self._s_support).sum() / max(self._s_support.sum(), 1e-12))
        return float(f1) if np.ndim(f1) == 0 else f1

    def get_config(self):
        return {
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
            "name": self.name,
        }


class F1Score(FBetaScore):
    """F1 = 2 precision recall / (precision + recall) per class; averaged by ``average``."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson's r along ``axis``: mean(z_t z_p) of the standardised values."""
    t, p = losses_mod.prepare_targets(y_true, y_pred)
    t = t - ops.mean(t, axis=axis, keepdims=True)
    p = p - ops.mean(p, axis=axis, keepdims=True)
    t = t / ops.std(t, axis=axis, keepdims=True)
    p = p / ops.std(p, axis=axis, keepdims=True)
    return ops.mean(t * p, axis=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance 2 cov(t, p) / (var t + var p + (mean t - mean p)^2) along
    ``axis``, with Keras's covariance term (t - mean p)(p - mean p)."""
    t, p = losses_mod.prepare_targets(y_true, y_pred)
    t_mean = ops.mean(t, axis=axis, keepdims=True)
    p_mean = ops.mean(p, axis=axis, keepdims=True)
    t_var = ops.var(t - t_mean, axis=axis, keepdims=True)
    p_var = ops.var(p - p_mean, axis=axis, keepdims=True)
    covar = (t - p_mean) * (p - p_mean)
    norm = t_var + p_var + ops.square(t_mean - p_mean)
    return ops.mean(2.0 * covar / (norm + losses_mod.EPSILON), axis=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """Mean over samples of Pearson's r along ``axis``."""

    fn = staticmethod(pearson_correlation)

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(name=name, dtype=dtype, axis=axis)


class ConcordanceCorrelation(MeanMetricWrapper):
    """Mean over samples of Lin's concordance correlation along ``axis``."""

    fn = staticmethod(concordance_correlation)

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(name=name, dtype=dtype, axis=axis)


class IoU(Metric):
    """Intersection over union per class from an accumulated confusion matrix C (rows:
    true class, columns: predicted): IoU_c = C_cc / (sum_j C_cj + sum_i C_ic - C_cc),
    averaged over ``target_class_ids`` that occurred (Keras's rule: a class with an empty
    union is left out of the mean). Labels are class ids (``sparse_y_true``) or one-hot /
    scores reduced by argmax over ``axis``; ``ignore_class`` is left out."""

    def __init__(
        self,
        num_classes,
        target_class_ids,
        name=None,
        dtype=None,
        ignore_class=None,
        sparse_y_true=True,
        sparse_y_pred=True,
        axis=-1,
    ):
        if not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
            raise ValueError(
                f"{type(self).__name__}: `num_classes` must be a positive integer. "
                f"Received: num_classes={num_classes!r}"
            )
        target_class_ids = list(target_class_ids)
        if max(target_class_ids, default=0) >= num_classes or min(target_class_ids, default=0) < 0:
            raise ValueError(
                f"{type(self).__name__}: `target_class_ids` must be in [0, {num_classes}). "
                f"Received: target_class_ids={target_class_ids}"
            )
        self.num_classes, self.target_class_ids = int(num_classes), target_class_ids
        self.ignore_class, self.axis = ignore_class, axis
        self.sparse_y_true, self.sparse_y_pred = sparse_y_true, sparse_y_pred
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self._s_matrix = np.zeros((self.num_classes, self.num_classes), dtype=np.float64)

    def _ids(self, y_true, y_pred):
        t, p = _np(y_true), _np(y_pred)
        if not self.sparse_y_true:
            t = np.argmax(t, axis=self.axis)
        if not self.sparse_y_pred:
            p = np.argmax(p, axis=self.axis)
        return t.reshape(-1).astype(np.int64), p.reshape(-1).astype(np.int64)

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = self._ids(y_true, y_pred)
        w = (
            np.ones(t.shape)
            if sample_weight is None
            else np.broadcast_to(_np(sample_weight).astype(np.float64).reshape(-1), t.shape)
        )
        keep = (t >= 0) & (t < self.num_classes) & (p >= 0) & (p < self.num_classes)
        if self.ignore_class is not None:
            keep &= t != self.ignore_class
        np.add.at(self._s_matrix, (t[keep], p[keep]), w[keep])

    def result(self):
        m = self._s_matrix
        tp = np.diag(m)
        union = m.sum(axis=0) + m.sum(axis=1) - tp
        ids = self.target_class_ids
        tp, union = tp[ids], union[ids]
        valid = float(np.sum(union > 1e-9))
        iou = tp / (union + backend.epsilon())
        return float(iou.sum() / (valid + backend.epsilon()))

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "target_class_ids": self.target_class_ids,
            "name": self.name,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class MeanIoU(IoU):
    """IoU averaged over all ``num_classes`` classes."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):  # fmt: skip
        super().__init__(num_classes, list(range(num_classes)), name, dtype, ignore_class,
                         sparse_y_true, sparse_y_pred, axis)  # fmt: skip

    def get_config(self):
        config = super().get_config()
        del config["target_class_ids"]
        return config


class BinaryIoU(IoU):
    """IoU of binary labels against scores thresholded at ``threshold`` (class 1 when
    score > threshold)."""

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        self.threshold = float(threshold)
        super().__init__(2, target_class_ids, name=name, dtype=dtype)

    def _ids(self, y_true, y_pred):
        t = _np(y_true).reshape(-1).astype(np.int64)
        p = (_np(y_pred) > self.threshold).reshape(-1).astype(np.int64)
        return t, p

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name}  # fmt: skip


class OneHotIoU(IoU):
    """IoU of one-hot labels and class scores (both reduced by argmax)."""

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None,
                 ignore_class=None, sparse_y_pred=False, axis=-1):  # fmt: skip
        super().__init__(num_classes, target_class_ids, name, dtype, ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)  # fmt: skip


class OneHotMeanIoU(MeanIoU):
    """Mean IoU of one-hot labels and class scores (both reduced by argmax)."""

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):  # fmt: skip
        super().__init__(num_classes, name, dtype, ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)  # fmt: skip


class R2Score(Metric):
    """Coefficient of determination per output, 1 - SS_res / SS_tot, with sample weights:
    SS_res = sum(w (t - p)**2), SS_tot = sum(w t**2) - sum(w t)**2 / sum(w); an infinite
    score (SS_tot 0) counts 0, as Keras. ``class_aggregation``: "uniform_average" (the
    mean over outputs), "variance_weighted_average" (weighted by SS_tot) or None (one
    score per output). ``num_regressors`` p > 0 gives the adjusted score
    1 - (1 - R2)(n - 1)/(n - p - 1), n counting every target value, as Keras counts."""

    _AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")

    def __init__(
        self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None
    ):
        if class_aggregation not in self._AGGREGATIONS:
            raise ValueError(
                "Invalid value for argument `class_aggregation`. Expected one of "
                f"{self._AGGREGATIONS}. Received: class_aggregation={class_aggregation}"
            )
        if num_regressors < 0:
            raise ValueError(
                "Invalid value for argument `num_regressors`. Expected a value >= 0. "
                f"Received: num_regressors={num_regressors}"
            )
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        super().__init__(dtype=dtype, name=name)

    def reset_state(self):
        self._s_n = 0.0
        # sums per output column: 0.0 until the first update (arrays then)
        self._s_sum: Any = 0.0
        self._s_sumsq: Any = 0.0
        self._s_res: Any = 0.0
        self._s_count: Any = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        t = _np(y_true).astype(np.float64)
        p = _np(y_pred).astype(np.float64)
        t = t.reshape(t.shape[0], -1)
        p = p.reshape(p.shape[0], -1)
        w = np.ones_like(t) if sample_weight is None else _np(sample_weight).astype(np.float64)
        if w.ndim == 1:
            w = w[:, None]
        w = np.broadcast_to(w, t.shape)
        self._s_n += t.size
        self._s_sum = self._s_sum + (w * t).sum(0)
        self._s_sumsq = self._s_sumsq + (w * t * t).sum(0)
        self._s_res = self._s_res + (w * (t - p) ** 2).sum(0)
        self._s_count = self._s_count + w.sum(0)

    def result(self):
        if not self._s_n:
            return 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = self._s_sum / self._s_count
            total = self._s_sumsq - self._s_sum * mean
            raw = 1 - self._s_res / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        score: Any
        if self.class_aggregation == "uniform_average":
            score = np.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = np.sum(total * raw) / np.sum(total)
        else:
            score = raw
        n, regressors = self._s_n, self.num_regressors
        if regressors and regressors >= n - 1:
            warnings.warn(
                "More independent predictors than datapoints in adjusted R2 score. "
                "Falling back to standard R2 score."
                if regressors > n - 1
                else "Division by zero in Adjusted R2 score. Falling back to standard R2 score.",
                stacklevel=2,
            )
        elif regressors:
            score = 1 - (1 - score) * (n - 1) / (n - regressors - 1)
        return score

    def get_config(self):
        return {
            **super().get_config(),
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }


def _loss_metric(name, fn, **options):
    """A LossMetric class of ``fn`` with Keras's signature: (name, dtype, then ``fn``'s
    ``options`` with their defaults), by keyword or position."""
    either = inspect.Parameter.POSITIONAL_OR_KEYWORD
    signature = inspect.Signature(
        [inspect.Parameter("self", either)]
        + [
            inspect.Parameter(key, either, default=value)
            for key, value in {"name": name, "dtype": None, **options}.items()
        ]
    )

    def __init__(self, *args, **kwargs):
        try:
            bound = signature.bind(self, *args, **kwargs).arguments
        except TypeError as error:
            raise TypeError(f"{type(self).__name__}: {error}") from None
        given = {**options, **{k: v for k, v in bound.items() if k != "self"}}
        metric_name, dtype = given.pop("name", name), given.pop("dtype", None)
        LossMetric.__init__(self, fn, name=metric_name, dtype=dtype, **given)

    __init__.__signature__ = signature  # type: ignore[attr-defined]
    return type("".join(p.title() for p in name.split("_")), (LossMetric,), {"__init__": __init__})


BinaryCrossentropy = _loss_metric(
    "binary_crossentropy",
    losses_mod.binary_crossentropy,
    from_logits=False,
    label_smoothing=0,
)
CategoricalCrossentropy = _loss_metric(
    "categorical_crossentropy",
    losses_mod.categorical_crossentropy,
    from_logits=False,
    label_smoothing=0,
    axis=-1,
)
SparseCategoricalCrossentropy = _loss_metric(
    "sparse_categorical_crossentropy",
    losses_mod.sparse_categorical_crossentropy,
    from_logits=False,
    ignore_class=None,
    axis=-1,
)
KLDivergence = _loss_metric("kl_divergence", losses_mod.kl_divergence)
Poisson = _loss_metric("poisson", losses_mod.poisson)
LogCoshError = _loss_metric("logcosh", losses_mod.log_cosh)
MeanAbsolutePercentageError = _loss_metric(
    "mean_absolute_percentage_error", losses_mod.mean_absolute_percentage_error
)
MeanSquaredLogarithmicError = _loss_metric(
    "mean_squared_logarithmic_error", losses_mod.mean_squared_logarithmic_error
)
Hinge = _loss_metric("hinge", losses_mod.hinge)
SquaredHinge = _loss_metric("squared_hinge", losses_mod.squared_hinge)
CategoricalHinge = _loss_metric("categorical_hinge", losses_mod.categorical_hinge)


def _cosine_similarity(y_true, y_pred, axis=-1):
    """sum(l2_normalize(y_true) * l2_normalize(y_pred)): the metric is the similarity (1
    for the same direction), the loss of the same name its negative."""
    return -losses_mod.cosine_similarity(y_true, y_pred, axis=axis)


CosineSimilarity = _loss_metric("cosine_similarity", _cosine_similarity, axis=-1)

_CLASSES = [
    Mean,
    Sum,
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    MeanSquaredError,
    MeanAbsoluteError,
    RootMeanSquaredError,
    TruePositives,
    FalsePositives,
    TrueNegatives,
    FalseNegatives,
    Precision,
    Recall,
    AUC,
    F1Score,
    R2Score,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    KLDivergence,
    Poisson,
    LogCoshError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    CosineSimilarity,
    FBetaScore,
    PearsonCorrelation,
    ConcordanceCorrelation,
    IoU,
    MeanIoU,
    BinaryIoU,
    OneHotIoU,
    OneHotMeanIoU,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    PrecisionAtRecall,
    RecallAtPrecision,
]
_TABLE = {c.__name__: c for c in _CLASSES}
_NAMES = {
    "accuracy": Accuracy,
    "acc": Accuracy,
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "root_mean_squared_error": RootMeanSquaredError,
    "precision": Precision,
    "recall": Recall,
    "auc": AUC,
    "f1_score": F1Score,
    "r2_score": R2Score,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "kl_divergence": KLDivergence,
    "poisson": Poisson,
    "logcosh": LogCoshError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mape": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "msle": MeanSquaredLogarithmicError,
    "hinge": Hinge,
    "squared_hinge": SquaredHinge,
    "categorical_hinge": CategoricalHinge,
    "cosine_similarity": CosineSimilarity,
}


def resolve_accuracy(name, loss, y_true, y_pred):
    """Keras's choice for 'accuracy': by the loss, then by the label and prediction shapes."""
    loss_name = getattr(loss, "name", "") if loss is not None else ""
    fn = getattr(loss, "_fn", None) or getattr(type(loss), "fn", None)
    if "sparse_categorical" in loss_name or fn is losses_mod.sparse_categorical_crossentropy:
        return SparseCategoricalAccuracy(name=name)
    if "binary" in loss_name or fn in (
        losses_mod.binary_crossentropy,
        losses_mod.binary_focal_crossentropy,
    ):
        return BinaryAccuracy(name=name)
    if "categorical" in loss_name or fn is losses_mod.categorical_crossentropy:
        return CategoricalAccuracy(name=name)
    t_shape, p_shape = np.shape(_np(y_true)), tuple(y_pred.shape)
    if p_shape[-1:] == (1,) or len(p_shape) == 1:
        return BinaryAccuracy(name=name)
    if len(t_shape) == len(p_shape) and t_shape[-1] == p_shape[-1]:
        return CategoricalAccuracy(name=name)
    return SparseCategoricalAccuracy(name=name)


class AutoAccuracy(Metric):
    """``metrics=["accuracy"]``: the accuracy Keras would choose (``resolve_accuracy``),
    settled at the first update, when the labels and predictions are seen. It exists from
    ``compile`` on, so a custom step can update every metric of ``model.metrics``."""

    def __init__(self, name="accuracy", loss=None, dtype=None):
        self.loss = loss
        self.resolved = None
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        if self.resolved is not None:
            self.resolved.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.resolved is None:
            self.resolved = resolve_accuracy(self.name, self.loss, y_true, y_pred)
        self.resolved.update_state(y_true, y_pred, sample_weight)

    def result(self):
        return 0.0 if self.resolved is None else self.resolved.result()

    def get_state(self) -> dict:
        return {} if self.resolved is None else self.resolved.get_state()

    def set_state(self, state):
        if self.resolved is not None:
            self.resolved.set_state(state)


def get(identifier):
    """A Metric from a name ('mae', 'precision', 'AUC'), a config, a class, an instance or a
    function ``fn(y_true, y_pred)``."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        cls = _NAMES.get(identifier) or _TABLE.get(identifier)
        if cls is None:
            raise unknown_name_error("metric", identifier, list(_NAMES) + list(_TABLE))
        return cls(name=identifier) if identifier in _NAMES and cls is not Accuracy else cls()
    if isinstance(identifier, dict):
        cls = _TABLE.get(identifier.get("class_name"))
        if cls is None:
            raise unknown_name_error("metric", identifier.get("class_name"), _TABLE)
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", "metric"))
    raise TypeError(f"Could not interpret metric identifier: {identifier!r}")


def serialize(metric) -> dict:
    """``{"class_name", "config"}`` of a Metric (``deserialize`` reads it back)."""
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config, custom_objects=None):
    """A Metric from a name or ``serialize``'s output (closed table plus custom_objects)."""
    if isinstance(config, dict) and custom_objects and config.get("class_name") in custom_objects:
        return custom_objects[config["class_name"]].from_config(config.get("config") or {})
    return get(config)


# Keras exposes the loss functions under keras.metrics too (the same functions)
binary_crossentropy = losses_mod.binary_crossentropy
binary_focal_crossentropy = losses_mod.binary_focal_crossentropy
categorical_crossentropy = losses_mod.categorical_crossentropy
categorical_focal_crossentropy = losses_mod.categorical_focal_crossentropy
sparse_categorical_crossentropy = losses_mod.sparse_categorical_crossentropy
categorical_hinge = losses_mod.categorical_hinge
hinge = losses_mod.hinge
squared_hinge = losses_mod.squared_hinge
huber = losses_mod.huber
kl_divergence = losses_mod.kl_divergence
log_cosh = losses_mod.log_cosh
poisson = losses_mod.poisson
mean_squared_error = losses_mod.mean_squared_error
mean_absolute_error = losses_mod.mean_absolute_error
mean_absolute_percentage_error = losses_mod.mean_absolute_percentage_error
mean_squared_logarithmic_error = losses_mod.mean_squared_logarithmic_error
