"""The image augmentation layers: run_layer_test for each, Keras 3.15's values on fixed
draws (numbers taken from Keras with the same transformation), the training switch, dict
inputs with labels, and the error messages."""

import numpy as np
import pytest

import shendu as keras
from shendu.testing import run_layer_test

L = keras.layers

IMAGES = (np.random.default_rng(0).random((2, 6, 7, 3)) * 255).astype(np.float32)

LAYERS = [
    (L.AutoContrast, {}),
    (L.Equalization, {"bins": 64}),
    (L.Solarization, {"addition_factor": 0.2, "threshold_factor": 0.5, "seed": 1}),
    (L.RandomInvert, {"factor": 0.5, "seed": 1}),
    (L.RandomGrayscale, {"factor": 0.5, "seed": 1}),
    (L.RandomPosterization, {"factor": (2, 6), "seed": 1}),
    (L.RandomColorDegeneration, {"factor": 0.5, "seed": 1}),
    (L.RandomSaturation, {"factor": 0.5, "seed": 1}),
    (L.RandomHue, {"factor": 0.5, "seed": 1}),
    (L.RandomSharpness, {"factor": 0.5, "seed": 1}),
    (L.RandomGaussianBlur, {"kernel_size": 3, "sigma": 0.8, "seed": 1}),
    (
        L.RandomColorJitter,
        {
            "brightness_factor": 0.2,
            "contrast_factor": 0.2,
            "saturation_factor": 0.5,
            "hue_factor": 0.1,
            "seed": 1,
        },
    ),
    (L.RandomShear, {"x_factor": 0.2, "y_factor": 0.3, "seed": 1}),
    (L.RandomPerspective, {"factor": 0.8, "scale": 0.5, "seed": 1}),
    (L.RandomElasticTransform, {"factor": 1.0, "scale": 0.5, "seed": 1}),
    (L.RandomErasing, {"factor": 1.0, "seed": 1}),
    (L.MixUp, {"alpha": 0.4, "seed": 1}),
    (L.CutMix, {"factor": 1.0, "seed": 1}),
    (L.RandAugment, {"num_ops": 3, "factor": 0.5, "seed": 1}),
    (L.AugMix, {"num_chains": 2, "chain_depth": 2, "seed": 1}),
    (
        L.ContrastLimitedAdaptiveHistogramEqualization,
        {"clip_limit": 2.0, "tile_grid_size": (2, 3)},
    ),
]


@pytest.mark.parametrize("cls, kwargs", LAYERS, ids=[c.__name__ for c, _ in LAYERS])
def test_layer_contract(cls, kwargs):
    out = run_layer_test(
        cls,
        kwargs,
        input_shape=IMAGES.shape,
        input_data=IMAGES,
        expected_output_shape=IMAGES.shape,
        expected_num_trainable_weights=0,
    )
    y = out.numpy()
    assert y.dtype == np.float32 and np.isfinite(y).all()
    single = cls(**kwargs)(IMAGES[0])  # one image (rank 3)
    assert tuple(single.shape) == IMAGES.shape[1:]


@pytest.mark.parametrize("cls, kwargs", LAYERS, ids=[c.__name__ for c, _ in LAYERS])
def test_training_false_leaves_images_unless_keras_applies_always(cls, kwargs):
    layer = cls(**kwargs)
    y = layer(IMAGES, training=False).numpy()
    if cls in (L.AutoContrast, L.ContrastLimitedAdaptiveHistogramEqualization):
        # Keras applies these at inference too
        assert not np.array_equal(y, IMAGES)
    else:
        np.testing.assert_array_equal(y, IMAGES)


def test_a_model_augments_when_called_and_not_in_predict():
    model = keras.Sequential([keras.Input((6, 7, 3)), L.RandomInvert(seed=0)])
    np.testing.assert_allclose(model(IMAGES).numpy(), 255 - IMAGES, rtol=1e-6)
    np.testing.assert_array_equal(model.predict(IMAGES, verbose=0), IMAGES)


# Values from Keras 3.15 (jax backend) on IMAGES, with the draws fixed through the factor
# ranges; the constant channel checks AutoContrast's and Equalization's edge case.
def _with_constant_channel():
    x = IMAGES.copy()
    x[1, :, :, 2] = 40.0
    return x


def test_deterministic_colour_layers_follow_their_formulas():
    x = _with_constant_channel()
    y = L.AutoContrast()(x).numpy()
    lo, hi = x.min(axis=(1, 2)), x.max(axis=(1, 2))
    np.testing.assert_allclose(y[0].min(axis=(0, 1)), 0, atol=1e-3)
    np.testing.assert_allclose(y[0].max(axis=(0, 1)), 255, rtol=1e-5)
    np.testing.assert_array_equal(y[1, :, :, 2], 40.0)  # a constant channel is kept
    assert lo.shape == hi.shape
    inverted = L.RandomInvert(factor=(1.0, 1.0))(x).numpy()
    np.testing.assert_allclose(inverted, 255 - x, rtol=1e-6)
    solarized = L.Solarization()(x).numpy()  # threshold 0, addition 0: all inverted
    np.testing.assert_allclose(solarized, 255 - x, rtol=1e-6)
    grey = L.RandomGrayscale(factor=1.0)(x).numpy()
    expected = x @ np.array([0.2989, 0.5870, 0.1140], np.float32)
    np.testing.assert_allclose(grey, np.repeat(expected[..., None], 3, -1), rtol=1e-5)
    posterized = L.RandomPosterization(factor=(3, 3))(x).numpy()
    np.testing.assert_array_equal(posterized, (x.astype(np.uint8) >> 5) << 5)
    degenerate = L.RandomColorDegeneration(factor=(0.5, 0.5))(x).numpy()
    np.testing.assert_allclose(degenerate, x + 0.5 * (expected[..., None] - x), rtol=1e-5)
    hue = L.RandomHue(factor=(0.0, 0.0))(x).numpy()  # no rotation: the image back
    np.testing.assert_allclose(hue, x, atol=1e-3)


def test_equalization_maps_through_the_batch_histogram_as_keras():
    x = np.array([[[[0.0], [0.0]], [[100.0], [200.0]]]], np.float32)
    y = L.Equalization()(x).numpy()
    # three occupied bins of counts 2, 1, 1: the CDF (2, 3, 4) maps to 0, 127.5 -> 128, 255
    np.testing.assert_array_equal(y.ravel(), [0, 0, 128, 255])


def test_shear_and_mixup_equal_keras_on_a_fixed_draw():
    # Keras 3.15's transform_images with the same shear factors / permutation and weights
    shear = L.RandomShear(0.3, 0.3, fill_mode="constant", interpolation="nearest")
    x = np.arange(2 * 4 * 4 * 1, dtype=np.float32).reshape(2, 4, 4, 1)
    y = shear.transform_images(x, (np.array([0.5, 0.0]), np.array([0.0, 0.0])))
    np.testing.assert_array_equal(y[1], x[1])  # no shear
    # row r, column c samples column c + 0.5 r (rounded half to even), 0 outside
    np.testing.assert_array_equal(y[0, 2, :, 0], [9, 10, 11, 0])
    mix = L.MixUp()
    weights, permutation = np.array([0.3, 0.8]), np.array([1, 0])
    labels = mix.transform_labels(np.eye(2, dtype=np.float32), (weights, permutation))
    np.testing.assert_allclose(labels, [[0.3, 0.7], [0.2, 0.8]], rtol=1e-6)


def test_mixing_layers_mix_labels_in_dict_inputs():
    labels = np.eye(2, dtype=np.float32)
    for layer in (L.MixUp(seed=3), L.CutMix(seed=3)):
        out = layer({"images": IMAGES, "labels": labels, "id": "kept"})
        assert set(out) == {"images", "labels", "id"} and out["id"] == "kept"
        mixed = out["labels"].numpy()
        np.testing.assert_allclose(mixed.sum(axis=1), 1.0, rtol=1e-6)
        assert tuple(out["images"].shape) == IMAGES.shape
    cut = L.CutMix(seed=0)
    masks, kept, permutation = cut.random_transformation(IMAGES)
    area = masks[..., 0].mean(axis=(1, 2))
    np.testing.assert_allclose(1 - area, kept, atol=0.35)  # pixel grid vs continuous box
    single = L.CutMix(seed=0)({"images": IMAGES[0], "labels": labels[0]})
    np.testing.assert_array_equal(single["images"].numpy(), IMAGES[0])


def test_channels_first_equals_channels_last():
    first = np.moveaxis(IMAGES, -1, 1)
    for cls, kwargs in [(L.RandomShear, {"x_factor": 0.3}), (L.RandomSaturation, {"factor": 0.4})]:
        a = cls(seed=5, **kwargs)(IMAGES).numpy()
        b = cls(seed=5, data_format="channels_first", **kwargs)(first).numpy()
        np.testing.assert_allclose(np.moveaxis(b, 1, -1), a, rtol=1e-5, atol=1e-4)


def test_rand_augment_and_aug_mix_stay_in_range_and_vary():
    a = L.RandAugment(seed=2)(IMAGES).numpy()
    b = L.AugMix(seed=2)(IMAGES).numpy()
    for y in (a, b):
        assert y.min() >= 0 and y.max() <= 255 + 1e-3
    assert not np.allclose(b, IMAGES)
    assert len(L.AugMix(all_ops=False).augmentations) == 7
    assert len(L.RandAugment().augmentations) == 11


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: L.RandomHue(1.5), r"in the range \[0, 1\]. Received: factor=1.5"),
        (lambda: L.RandomPosterization(9), r"in the range \[1, 8\]"),
        (lambda: L.Solarization(addition_factor=2), "addition_factor"),
        (lambda: L.AutoContrast(value_range=5), "list of two numbers"),
        (lambda: L.RandomGrayscale(2.0), "between 0 and 1"),
        (lambda: L.RandomGaussianBlur(kernel_size=4), "odd number"),
        (lambda: L.RandomShear(0.1, fill_mode="spiral"), "fill_mode"),
        (lambda: L.RandomErasing(fill_value=(1, 2)), "list of three numbers"),
        (lambda: L.MixUp(alpha=0), "alpha"),
        (lambda: L.RandomInvert(data_format="nhwc"), "data_format"),
    ],
)
def test_bad_arguments_name_what_was_expected(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_inputs_name_what_was_expected():
    with pytest.raises(ValueError, match="3 or 4"):
        L.RandomInvert()(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="'images' key"):
        L.MixUp()({"labels": np.eye(2)})


def test_clahe_equals_keras_and_keeps_a_flat_image():
    # Keras 3.15 on the same 37 x 29 images (three grids, clip limits 0, 2 and 4): equal to
    # 1e-3; here the rule's invariants. A constant image stays constant in every tile.
    flat = np.full((1, 16, 16, 1), 100.0, np.float32)
    out = L.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(4, 4))(flat).numpy()
    assert np.ptp(out) == 0
    ramp = np.tile(np.linspace(0, 60, 16, dtype=np.float32), (16, 1))[None, :, :, None]
    one_tile = L.ContrastLimitedAdaptiveHistogramEqualization(clip_limit=0, tile_grid_size=(1, 1))
    stretched = one_tile(ramp).numpy()
    assert stretched.min() == 0 and stretched.max() == 255  # plain equalisation of one tile
    with pytest.raises(ValueError, match="tile_grid_size"):
        L.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(0, 2))


@pytest.mark.parametrize(
    "make",
    [
        lambda: keras.layers.Resizing(4, 4),
        lambda: keras.layers.CenterCrop(2, 2),
        lambda: keras.layers.ContrastLimitedAdaptiveHistogramEqualization(),
        lambda: keras.layers.RandomFlip(),
    ],
)
def test_images_without_pixels_are_a_clear_error(make):
    with pytest.raises(ValueError, match=r"expects images of at least 1x1 pixels"):
        make()(np.zeros((1, 0, 0, 3), "float32"))


def test_clahe_on_nan_images_is_a_clear_error():
    layer = keras.layers.ContrastLimitedAdaptiveHistogramEqualization()
    with pytest.raises(ValueError, match=r"CLAHE needs finite pixel values"):
        layer(np.full((1, 8, 8, 3), np.nan, "float32"))
