"""Losses and metrics added from Keras's catalogue (Dice, Tversky, categorical focal and
generalized cross-entropy, F-beta, Pearson and concordance correlation), Keras's function
forms under keras.metrics, and serialize / deserialize: NumPy references, float64
gradient checks, round trips; an optional oracle comparison where Keras is installed."""

import os
import warnings

import numpy as np
import pytest

import shendu
from shendu import layers, losses, metrics, optimizers
from shendu.testing import gradcheck

RNG = np.random.default_rng(0)
T = (RNG.random((4, 5)) > 0.5).astype("float64")
P = RNG.uniform(0.05, 0.95, (4, 5))
ONE_HOT = np.eye(5)[RNG.integers(0, 5, 4)]
SOFT = np.exp(P) / np.exp(P).sum(-1, keepdims=True)
LABELS = RNG.integers(0, 5, 4)
EPS = 1e-7


def _np(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def test_dice_and_tversky_match_numpy():
    dice_all = 1 - 2 * (T * P).sum() / (T.sum() + P.sum() + EPS)
    np.testing.assert_allclose(_np(losses.dice(T, P)), dice_all, rtol=1e-6)
    rows = 1 - 2 * (T * P).sum(-1) / (T.sum(-1) + P.sum(-1) + EPS)
    np.testing.assert_allclose(_np(losses.dice(T, P, axis=-1)), rows, rtol=1e-6)
    np.testing.assert_allclose(_np(losses.Dice(axis=-1)(T, P)), rows.mean(), rtol=1e-6)
    tp, fp, fn = (T * P).sum(-1), ((1 - P) * T).sum(-1), (P * (1 - T)).sum(-1)
    expected = 1 - tp / (tp + 0.3 * fp + 0.7 * fn + EPS)
    got = losses.tversky(T, P, alpha=0.3, beta=0.7, axis=-1)
    np.testing.assert_allclose(_np(got), expected, rtol=1e-6)


def test_categorical_focal_and_generalized_cross_entropy_match_numpy():
    p = np.clip(SOFT / SOFT.sum(-1, keepdims=True), EPS, 1 - EPS)
    focal = (0.25 * (1 - p) ** 2.0 * -ONE_HOT * np.log(p)).sum(-1)
    np.testing.assert_allclose(
        _np(losses.categorical_focal_crossentropy(ONE_HOT, SOFT)), focal, rtol=1e-6
    )
    p_label = SOFT[np.arange(4), LABELS]
    np.testing.assert_allclose(
        _np(losses.categorical_generalized_cross_entropy(LABELS, SOFT, q=0.5)),
        (1 - p_label**0.5) / 0.5,
        rtol=1e-6,
    )
    loss = losses.CategoricalGeneralizedCrossEntropy(q=0.7)
    np.testing.assert_allclose(_np(loss(LABELS, SOFT)), ((1 - p_label**0.7) / 0.7).mean())


@pytest.mark.parametrize(
    "fn",
    [
        lambda p: losses.dice(T, p, axis=-1),
        lambda p: losses.tversky(T, p, alpha=0.2, beta=0.8),
        lambda p: losses.categorical_focal_crossentropy(ONE_HOT, p, from_logits=True),
        lambda p: losses.categorical_generalized_cross_entropy(LABELS, p, q=0.5),
        lambda p: metrics.pearson_correlation(T + np.arange(5) * 0.1, p),
        lambda p: metrics.concordance_correlation(T, p),
    ],
)
def test_new_functions_have_exact_gradients(fn):
    x = shendu.tensor(P.copy(), requires_grad=True)
    assert gradcheck(lambda t: fn(t), [x])


def test_correlations_match_numpy():
    t, p = T + np.arange(5) * 0.1, P
    tz = (t - t.mean(-1, keepdims=True)) / (t - t.mean(-1, keepdims=True)).std(-1, keepdims=True)
    pz = (p - p.mean(-1, keepdims=True)) / (p - p.mean(-1, keepdims=True)).std(-1, keepdims=True)
    np.testing.assert_allclose(_np(metrics.pearson_correlation(t, p)), (tz * pz).mean(-1))
    m = metrics.PearsonCorrelation()
    m.update_state(t, p)
    np.testing.assert_allclose(float(m.result()), (tz * pz).mean(-1).mean(), rtol=1e-6)
    tm, pm = t.mean(-1, keepdims=True), p.mean(-1, keepdims=True)
    norm = t.var(-1, keepdims=True) + p.var(-1, keepdims=True) + (tm - pm) ** 2
    expected = (2 * (t - pm) * (p - pm) / (norm + EPS)).mean(-1)
    np.testing.assert_allclose(_np(metrics.concordance_correlation(t, p)), expected, rtol=1e-6)


def test_fbeta_weights_recall_by_beta():
    y_true = np.array([[1, 0], [1, 0], [0, 1], [1, 0]], "float32")
    y_pred = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]], "float32")
    m = metrics.FBetaScore(average=None, beta=2.0)
    m.update_state(y_true, y_pred)
    precision, recall = np.array([1.0, 0.5]), np.array([2 / 3, 1.0])
    expected = 5 * precision * recall / (4 * precision + recall)
    np.testing.assert_allclose(m.result(), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="`beta` must be a positive number"):
        metrics.FBetaScore(beta=0)
    assert isinstance(metrics.F1Score(), metrics.FBetaScore)


def test_metric_function_forms_are_the_loss_functions():
    for name in ("mean_squared_error", "binary_crossentropy", "hinge", "kl_divergence"):
        assert getattr(metrics, name) is getattr(losses, name)


def test_serialize_round_trips():
    assert isinstance(
        losses.deserialize(losses.serialize(losses.Tversky(alpha=0.1))), losses.Tversky
    )
    assert (
        losses.deserialize(losses.serialize(losses.Tversky(alpha=0.1))).fn_kwargs["alpha"] == 0.1
    )
    assert metrics.deserialize(metrics.serialize(metrics.FBetaScore(beta=2.0))).beta == 2.0
    assert (
        optimizers.deserialize(optimizers.serialize(optimizers.Adam(0.01))).learning_rate == 0.01
    )
    schedule = optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    back = optimizers.schedules.deserialize(optimizers.schedules.serialize(schedule))
    assert float(back(10)) == pytest.approx(0.05)
    dense = layers.Dense(3, activation="relu")
    assert layers.deserialize(layers.serialize(dense)).get_config() == dense.get_config()
    with pytest.raises(ValueError, match="Expected a loss name or config dict"):
        losses.deserialize(3)


def test_layer_aliases_are_keras_names():
    assert layers.GlobalAvgPool2D is layers.GlobalAveragePooling2D
    assert layers.GlobalMaxPool1D is layers.GlobalMaxPooling1D
    assert layers.Convolution2DTranspose is layers.Conv2DTranspose
    assert layers.SeparableConvolution2D is layers.SeparableConv2D


def test_new_losses_train_a_model():
    model = shendu.Sequential([layers.Input((5,)), layers.Dense(5, activation="softmax")])
    model.compile("adam", losses.CategoricalFocalCrossentropy())
    history = model.fit(ONE_HOT.astype("float32"), ONE_HOT.astype("float32"), epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_match_keras_where_installed():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    pairs = [
        (losses.dice(T, P, axis=-1), keras.losses.dice(T, P, axis=-1)),
        (losses.tversky(T, P, 0.3, 0.7), keras.losses.tversky(T, P, 0.3, 0.7)),
        (
            losses.categorical_focal_crossentropy(ONE_HOT, P, from_logits=True),
            keras.losses.categorical_focal_crossentropy(ONE_HOT, P, from_logits=True),
        ),
        (metrics.concordance_correlation(T, P), keras.metrics.concordance_correlation(T, P)),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(_np(ours), np.asarray(theirs), rtol=1e-4, atol=1e-6)


def _confusion_iou(t, p, classes, n, w=None):
    m = np.zeros((n, n))
    np.add.at(m, (t.ravel(), p.ravel()), np.ones(t.size) if w is None else w.ravel())
    tp = np.diag(m)
    union = m.sum(0) + m.sum(1) - tp
    vals = [tp[c] / union[c] for c in classes if union[c] > 0]
    return float(np.mean(vals))


def test_iou_family_matches_the_confusion_matrix():
    rng = np.random.default_rng(1)
    t, p = rng.integers(0, 3, (6, 4)), rng.integers(0, 3, (6, 4))
    w = rng.random((6, 4))
    m = metrics.IoU(3, [0, 2])
    m.update_state(t, p)
    assert m.result() == pytest.approx(_confusion_iou(t, p, [0, 2], 3), rel=1e-6)
    m = metrics.MeanIoU(3)
    m.update_state(t, p, sample_weight=w)  # fractional weights count as weights
    assert m.result() == pytest.approx(_confusion_iou(t, p, [0, 1, 2], 3, w), rel=1e-6)
    m = metrics.OneHotMeanIoU(3)
    scores = rng.random((6, 4, 3))
    m.update_state(np.eye(3)[t], scores)
    expected = _confusion_iou(t, scores.argmax(-1), [0, 1, 2], 3)
    assert m.result() == pytest.approx(expected, rel=1e-6)
    m = metrics.BinaryIoU(threshold=0.3)
    s = rng.random((6, 4))
    m.update_state((t > 0).astype("float32"), s)
    expected = _confusion_iou((t > 0).astype(int), (s > 0.3).astype(int), [0, 1], 2)
    assert m.result() == pytest.approx(expected, rel=1e-6)
    m = metrics.IoU(3, [1], ignore_class=2)
    m.update_state(t, p)
    keep = t != 2
    assert m.result() == pytest.approx(_confusion_iou(t[keep], p[keep], [1], 3), rel=1e-6)
    with pytest.raises(ValueError, match=r"`target_class_ids` must be in \[0, 3\)"):
        metrics.IoU(3, [3])
    back = metrics.deserialize(metrics.serialize(metrics.OneHotIoU(3, [0, 1])))
    assert back.target_class_ids == [0, 1] and not back.sparse_y_true


def test_iou_matches_keras_where_installed():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(2)
    t, p = rng.integers(0, 4, (5, 7)).astype("int32"), rng.integers(0, 4, (5, 7)).astype("int32")
    w = rng.integers(1, 4, (5, 7)).astype("int32")  # Keras casts weights to int
    for ours, theirs in (
        (metrics.MeanIoU(4), keras.metrics.MeanIoU(4)),
        (metrics.IoU(4, [1, 3], ignore_class=0), keras.metrics.IoU(4, [1, 3], ignore_class=0)),
    ):
        ours.update_state(t, p, sample_weight=w)
        with warnings.catch_warnings():  # JAX warns that Keras's int64 request is int32
            warnings.simplefilter("ignore")
            theirs.update_state(t, p, sample_weight=w)
            expected = float(theirs.result())
        assert ours.result() == pytest.approx(expected, rel=1e-5)


def _rates_at(t, p, threshold):
    pred = p > threshold
    tp, fp = np.sum(pred & t), np.sum(pred & ~t)
    fn, tn = np.sum(~pred & t), np.sum(~pred & ~t)
    return tp / max(tp + fn, 1), tn / max(tn + fp, 1), tp / max(tp + fp, 1)


@pytest.mark.parametrize(
    "cls, value, constrained, dependent",
    [
        (metrics.SensitivityAtSpecificity, 0.8, 1, 0),
        (metrics.SpecificityAtSensitivity, 0.7, 0, 1),
        (metrics.PrecisionAtRecall, 0.9, 0, 2),
        (metrics.RecallAtPrecision, 0.8, 2, 0),
    ],
)
def test_rate_at_constraint_is_the_best_over_the_threshold_grid(
    cls, value, constrained, dependent
):
    rng = np.random.default_rng(3)
    t = rng.random(300) > 0.6
    p = np.clip(t * 0.3 + rng.random(300) * 0.7, 0, 1)
    m = cls(value, num_thresholds=50)
    m.update_state(t, p)
    grid = [-1e-7] + [(i + 1) / 49 for i in range(48)] + [1 + 1e-7]
    rates = [_rates_at(t, p, th) for th in grid]
    feasible = [r[dependent] for r in rates if r[constrained] >= value]
    # the result is a float32 tensor, as Keras's: exactly the best rate, rounded to float32
    assert float(m.result()) == float(np.float32(max(feasible) if feasible else 0.0))
    assert type(metrics.deserialize(metrics.serialize(m))) is cls


def test_rate_at_constraint_checks_its_value():
    with pytest.raises(ValueError, match=r"`recall` must be in \[0, 1\]"):
        metrics.PrecisionAtRecall(1.5)
    with pytest.raises(ValueError, match="`num_thresholds` must be > 0"):
        metrics.RecallAtPrecision(0.5, num_thresholds=0)


def test_ctc_loss_as_keras():
    y = np.array([[1, 2, 2, 0], [3, 1, 0, 0], [2, 3, 1, 2]], "int32")
    logits = np.random.default_rng(0).standard_normal((3, 7, 4)).astype("float32")
    # Keras 3.15 on the same arrays: 7.877732, 4.966459, 5.401589 (mean 6.081926)
    np.testing.assert_allclose(
        _np(losses.ctc(y, logits)), [7.877732, 4.966459, 5.401589], rtol=1e-5
    )
    assert float(losses.CTC()(y, logits).numpy()) == pytest.approx(6.081926, rel=1e-5)
    x = shendu.tensor(logits.astype("float64"), requires_grad=True)
    assert gradcheck(lambda t: losses.ctc(y, t), [x])
    with pytest.raises(ValueError, match=r"shape `\(batch_size, max_length\)`"):
        losses.ctc(y[0], logits)


def test_ctc_model_learns_a_sequence():
    shendu.utils.set_random_seed(0)
    x = np.random.default_rng(1).standard_normal((16, 6, 3)).astype("float32")
    y = np.tile(np.array([[1, 2, 0]], "int32"), (16, 1))
    model = shendu.Sequential([layers.Input((6, 3)), layers.GRU(8, return_sequences=True),
                               layers.Dense(4)])  # fmt: skip
    model.compile(optimizers.Adam(0.01), losses.CTC())
    history = model.fit(x, y, epochs=30, batch_size=4, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def _unit_embeddings():
    e = np.random.default_rng(0).standard_normal((6, 4)).astype("float32")
    return e / np.linalg.norm(e, axis=1, keepdims=True)


def test_circle_loss_as_keras():
    e, y = _unit_embeddings(), np.array([0, 1, 0, 2, 1, 3])
    # Keras 3.15 on the same arrays
    np.testing.assert_allclose(
        _np(losses.circle(y, e)), [148.259018, 18.124468, 139.225830, 0.0, 0.00024978, 0.0],
        rtol=1e-5, atol=1e-6,
    )  # fmt: skip
    assert float(losses.Circle()(y, e).numpy()) == pytest.approx(76.402390, rel=1e-5)
    weights = np.array([1, 2, 1, 1, 0.5, 1])
    weighted = float(losses.Circle()(y, e, sample_weight=weights).numpy())
    assert weighted == pytest.approx(80.933479, rel=1e-5)
    assert float(losses.Circle(reduction="sum")(y, e).numpy()) == pytest.approx(
        305.609558, rel=1e-5
    )


def test_circle_gradients_are_exact_and_finite_for_lone_labels():
    e = _unit_embeddings().astype("float64")
    x = shendu.tensor(e.copy(), requires_grad=True)
    assert gradcheck(lambda t: losses.circle(np.array([0, 1, 0, 1, 1, 0]), t, gamma=5.0), [x])
    lone = shendu.tensor(e.copy(), requires_grad=True)
    losses.Circle(gamma=10.0)(np.array([0, 1, 0, 2, 1, 3]), lone).backward()  # no warning
    assert np.isfinite(lone.grad.numpy()).all()
