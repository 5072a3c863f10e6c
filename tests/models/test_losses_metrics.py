"""Losses against NumPy formulas and torch; metrics against direct computation."""

import numpy as np
import pytest

import shendu
from shendu import losses, metrics
from shendu.testing import gradcheck

RNG = np.random.default_rng(0)
T = RNG.random((4, 3))
P = RNG.random((4, 3)) * 0.9 + 0.05


def np_ce(t, p):
    p = p / p.sum(-1, keepdims=True)
    return -(t * np.log(np.clip(p, 1e-7, 1 - 1e-7))).sum(-1)


REFS = {
    "MeanSquaredError": lambda t, p: ((t - p) ** 2).mean(-1),
    "MeanAbsoluteError": lambda t, p: np.abs(t - p).mean(-1),
    "MeanAbsolutePercentageError": lambda t, p: 100 * (np.abs(t - p) / np.abs(t)).mean(-1),
    "MeanSquaredLogarithmicError": lambda t, p: ((np.log1p(p) - np.log1p(t)) ** 2).mean(-1),
    "Huber": lambda t, p: np.where(
        np.abs(p - t) <= 1, 0.5 * (p - t) ** 2, np.abs(p - t) - 0.5
    ).mean(-1),
    "LogCosh": lambda t, p: np.log(np.cosh(p - t)).mean(-1),
    "Poisson": lambda t, p: (p - t * np.log(p + 1e-7)).mean(-1),
    "KLDivergence": lambda t, p: (t * np.log(t / p)).sum(-1),
    "CosineSimilarity": lambda t, p: (
        -(t * p).sum(-1) / np.linalg.norm(t, axis=-1) / np.linalg.norm(p, axis=-1)
    ),
    "Hinge": lambda t, p: np.maximum(1 - t * p, 0).mean(-1),
    "SquaredHinge": lambda t, p: (np.maximum(1 - t * p, 0) ** 2).mean(-1),
    "CategoricalHinge": lambda t, p: np.maximum((((1 - t) * p).max(-1)) - (t * p).sum(-1) + 1, 0),
    "BinaryCrossentropy": lambda t, p: -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(-1),
    "BinaryFocalCrossentropy": lambda t, p: (
        ((1 - (t * p + (1 - t) * (1 - p))) ** 2) * -(t * np.log(p) + (1 - t) * np.log(1 - p))
    ).mean(-1),
    "CategoricalCrossentropy": np_ce,
}


@pytest.mark.parametrize("name", sorted(REFS))
def test_loss_classes_against_formulas_and_gradients(name):
    cls = getattr(losses, name)
    ref = REFS[name](T, P).mean()
    got = cls()(T, P).item()
    assert got == pytest.approx(ref, rel=1e-5)
    assert cls(reduction="sum")(T, P).item() == pytest.approx(REFS[name](T, P).sum(), rel=1e-5)
    assert cls(reduction=None)(T, P).shape == (4,)
    sw = np.array([1.0, 0.0, 2.0, 1.0])
    assert cls()(T, P, sample_weight=sw).item() == pytest.approx(
        (REFS[name](T, P) * sw).mean(), rel=1e-5
    )
    assert gradcheck(lambda p: cls()(T, p), (P,), atol=1e-4)
    clone = cls.from_config(cls().get_config())
    assert clone.get_config() == cls().get_config()


def test_sparse_categorical_and_string_names():
    labels = np.array([0, 2, 1, 1])
    ref = -np.log((P / P.sum(-1, keepdims=True))[np.arange(4), labels]).mean()
    assert losses.get("sparse_categorical_crossentropy")(labels, P).item() == pytest.approx(
        ref, rel=1e-5
    )
    assert losses.get("mse")(T, P).item() == pytest.approx(((T - P) ** 2).mean(), rel=1e-5)
    with pytest.raises(
        ValueError,
        match="Unknown loss: 'categorical_crossentropyy'. Did you mean 'categorical_crossentropy'",
    ):
        losses.get("categorical_crossentropyy")


def test_label_smoothing_and_from_logits():
    t = np.eye(3)[[0, 1, 2, 0]]
    z = RNG.standard_normal((4, 3))
    ls = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)(t, z).item()
    ts = t * 0.9 + 0.1 / 3
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    assert ls == pytest.approx(-(ts * logp).sum(-1).mean(), rel=1e-5)


def test_torch_oracle_losses():
    torch = pytest.importorskip("torch")
    z = RNG.standard_normal((5, 4))
    labels = RNG.integers(0, 4, 5)
    ours = losses.SparseCategoricalCrossentropy(from_logits=True)(labels, z).item()
    ref = torch.nn.functional.cross_entropy(torch.tensor(z), torch.tensor(labels)).item()
    assert ours == pytest.approx(ref, rel=1e-6)
    t = (RNG.random((5, 4)) > 0.5).astype(float)
    ours = losses.BinaryCrossentropy(from_logits=True)(t, z).item()
    ref = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(z), torch.tensor(t)
    ).item()
    assert ours == pytest.approx(ref, rel=1e-6)
    ours = losses.Huber(delta=0.5)(t, z).item()
    ref = torch.nn.functional.huber_loss(torch.tensor(z), torch.tensor(t), delta=0.5).item()
    assert ours == pytest.approx(ref, rel=1e-6)


def test_metrics_against_direct_computation():
    y_true = np.array([0, 1, 1, 0, 1, 1])
    y_prob = np.array([0.2, 0.8, 0.4, 0.6, 0.9, 0.55])
    tp, fp, fn, tn = 3, 1, 1, 1
    for cls, value in [
        (metrics.Precision, tp / (tp + fp)),
        (metrics.Recall, tp / (tp + fn)),
        (metrics.TruePositives, tp),
        (metrics.FalsePositives, fp),
        (metrics.TrueNegatives, tn),
        (metrics.FalseNegatives, fn),
    ]:
        m = cls()
        m.update_state(y_true[:3], y_prob[:3])
        m.update_state(y_true[3:], y_prob[3:])
        assert m.result() == pytest.approx(value)
        m.reset_state()
        assert m.result() == 0
    auc = metrics.AUC(num_thresholds=1000)
    auc.update_state(y_true, y_prob)
    pos, neg = y_prob[y_true == 1], y_prob[y_true == 0]
    exact = np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg])
    assert auc.result() == pytest.approx(exact, abs=0.01)
    acc = metrics.BinaryAccuracy()
    acc.update_state(y_true, y_prob)
    assert acc.result() == pytest.approx(4 / 6)
    onehot = np.eye(3)[[0, 1, 2, 1]]
    pred = np.array([[0.8, 0.1, 0.1], [0.3, 0.4, 0.3], [0.5, 0.2, 0.3], [0.1, 0.8, 0.1]])
    assert metrics.CategoricalAccuracy()(onehot, pred) == pytest.approx(0.75)
    assert metrics.SparseCategoricalAccuracy()(np.array([0, 1, 2, 1]), pred) == pytest.approx(0.75)
    assert metrics.TopKCategoricalAccuracy(k=2)(onehot, pred) == pytest.approx(1.0)
    assert metrics.SparseTopKCategoricalAccuracy(k=1)(
        np.array([0, 1, 2, 1]), pred
    ) == pytest.approx(0.75)
    f1 = metrics.F1Score(average="macro")
    f1.update_state(onehot, pred)
    per_class = [2 * 1 * 1 / 2, 2 * 1 * 1 / 2, 0.0]  # class 0: p=0.5,r=1; 1: p=1,r=1; 2: 0
    per_class = [2 / 3, 1.0, 0.0]
    assert f1.result() == pytest.approx(np.mean(per_class))
    r2 = metrics.R2Score()
    yt, yp = np.array([[1.0], [2.0], [3.0]]), np.array([[1.1], [1.9], [3.2]])
    r2.update_state(yt, yp)
    assert r2.result() == pytest.approx(1 - 0.06 / 2.0)
    rmse = metrics.RootMeanSquaredError()
    rmse.update_state(yt, yp)
    assert rmse.result() == pytest.approx(np.sqrt(0.06 / 3))
    mean = metrics.Mean()
    mean.update_state([1.0, 3.0], sample_weight=[1.0, 3.0])
    assert mean.result() == pytest.approx(2.5)
    assert metrics.get("mae").name == "mae"
    with pytest.raises(ValueError, match="Unknown metric: 'accuracyy'"):
        metrics.get("accuracyy")


def test_accuracy_string_resolves_by_loss_and_shape():
    from shendu.metrics import resolve_accuracy

    z = np.zeros((2, 3))
    assert (
        type(resolve_accuracy("accuracy", losses.get("categorical_crossentropy"), z, z)).__name__
        == "CategoricalAccuracy"
    )
    assert (
        type(
            resolve_accuracy(
                "accuracy", losses.get("sparse_categorical_crossentropy"), np.zeros(2), z
            )
        ).__name__
        == "SparseCategoricalAccuracy"
    )
    assert (
        type(resolve_accuracy("accuracy", losses.get("binary_crossentropy"), z, z)).__name__
        == "BinaryAccuracy"
    )
    assert (
        type(resolve_accuracy("accuracy", losses.get("mse"), np.zeros(2), z)).__name__
        == "SparseCategoricalAccuracy"
    )
    assert shendu.metrics.Accuracy()(np.array([1, 2]), np.array([1, 3])) == pytest.approx(0.5)


def test_labels_of_rank_one_are_aligned_with_predictions_of_shape_n_by_1():
    y = np.array([0.0, 1.0, 1.0])
    p = np.array([[0.2], [0.7], [0.4]])
    for name in ("binary_crossentropy", "mse", "mae", "hinge"):
        loss = losses.get(name)
        assert loss(y, p).item() == pytest.approx(loss(y[:, None], p).item())
    acc = metrics.BinaryAccuracy()
    acc.update_state(y, p)
    assert acc.result() == pytest.approx(2 / 3)


def test_sigmoid_and_softmax_output_layers_train_stably_on_huge_logits():
    from shendu import layers as L

    for act, loss, y in (
        ("sigmoid", "binary_crossentropy", np.array([[0.0], [1.0]])),
        ("softmax", "categorical_crossentropy", np.eye(2)),
    ):
        units = 1 if act == "sigmoid" else 2
        m = shendu.Sequential([L.Input((2,)), L.Dense(units, activation=act)])
        m.compile("sgd", loss)
        m.layers[0].kernel.assign(
            np.full((2, units), 500.0, np.float32) * np.array([1, -1][:units])
        )
        x = np.array([[1.0, 1.0], [1.0, 1.0]], np.float32)
        logs = m.train_on_batch(x, y, return_dict=True)
        assert np.isfinite(logs["loss"]) and logs["loss"] > 100  # exact, not clipped at 16.1
        assert all(np.isfinite(w).all() for w in m.get_weights())
