"""Settings changed after a fit take effect: the model then trains exactly as a fresh copy
(the same weights and optimizer state, loaded from a file) given those settings before its
first fit. Fused optimizer storage and recorded steps must not keep the old settings."""

import numpy as np
import pytest

import shendu
from shendu import layers


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((48, 5)).astype(np.float32)
    y = (x[:, :3] @ rng.standard_normal((3, 3))).astype(np.float32)
    return x, y


def _model(optimizer):
    shendu.utils.set_random_seed(4)
    model = shendu.Sequential(
        [
            layers.Input((5,)),
            layers.Dense(8, activation="tanh", name="hidden"),
            layers.Dense(3, name="out"),
        ]
    )
    model.compile(optimizer=optimizer, loss="mse")
    return model


def _fit(model, x, y, epochs=2):
    model.fit(x, y, epochs=epochs, batch_size=8, shuffle=False, verbose=0)


def _exclude_biases(model):
    model.optimizer.exclude_from_weight_decay(var_names=["bias"])


def _freeze_hidden(model):
    model.get_layer("hidden").trainable = False


def _clip(model):
    model.optimizer.global_clipnorm = 0.05


def _add_layer(model):
    model.add(layers.Dense(3, name="extra", kernel_initializer="identity"))


SETTINGS = {
    "weight-decay exclusion": (lambda: shendu.optimizers.AdamW(0.01, 0.5), _exclude_biases),
    "freezing": (lambda: shendu.optimizers.Adam(0.01), _freeze_hidden),
    "clipping": (lambda: shendu.optimizers.SGD(0.05, momentum=0.9), _clip),
    "a new layer": (lambda: shendu.optimizers.Adam(0.01), _add_layer),
}


@pytest.mark.parametrize("run_eagerly", [False, True], ids=["replayed", "eager"])
@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_a_setting_changed_after_fit_trains_as_a_fresh_copy(name, run_eagerly, tmp_path):
    make_optimizer, change = SETTINGS[name]
    x, y = _data()
    trained = _model(make_optimizer())
    trained.run_eagerly = run_eagerly
    _fit(trained, x, y)
    trained.save(tmp_path / "m.shendu")
    fresh = shendu.models.load_model(tmp_path / "m.shendu")
    fresh.run_eagerly = run_eagerly
    change(fresh)  # before the copy's first fit
    change(trained)  # after the original's fit built its fused storage and recorded steps
    _fit(fresh, x, y)
    _fit(trained, x, y)
    assert fresh.optimizer.iterations == trained.optimizer.iterations == 24
    for a, b in zip(trained.get_weights(), fresh.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    if name == "weight-decay exclusion":  # and it did change something
        reference = _model(make_optimizer())
        reference.run_eagerly = run_eagerly
        _fit(reference, x, y, epochs=4)
        assert not np.allclose(reference.get_weights()[1], trained.get_weights()[1])


def test_unfreezing_after_fit_trains_as_a_fresh_copy(tmp_path):
    x, y = _data()
    trained = _model(shendu.optimizers.Adam(0.01))
    _freeze_hidden(trained)
    _fit(trained, x, y)
    trained.save(tmp_path / "m.shendu")
    fresh = shendu.models.load_model(tmp_path / "m.shendu")
    frozen_kernel = trained.get_layer("hidden").kernel.numpy().copy()
    for model in (fresh, trained):
        model.get_layer("hidden").trainable = True
        _fit(model, x, y)
    assert not np.array_equal(trained.get_layer("hidden").kernel.numpy(), frozen_kernel)
    for a, b in zip(trained.get_weights(), fresh.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_excluded_variables_are_not_decayed_after_fit():
    """The case that once trained wrongly without a word: with a zero gradient, AdamW only
    decays; an excluded bias must stay where it is."""
    model = _model(shendu.optimizers.AdamW(0.1, weight_decay=0.5))
    x = np.zeros((8, 5), np.float32)
    _fit(model, x, model.predict(x, verbose=0), epochs=1)
    model.get_layer("out").bias.assign(np.ones(3, np.float32))
    model.optimizer.exclude_from_weight_decay(var_names=["bias"])
    kernel = model.get_layer("out").kernel.numpy().copy()
    model.fit(x, model.predict(x, verbose=0), epochs=1, batch_size=8, verbose=0)
    np.testing.assert_allclose(model.get_layer("out").bias.numpy(), 1.0, atol=1e-6)
    assert np.all(np.abs(model.get_layer("out").kernel.numpy()) < np.abs(kernel) + 1e-7)
