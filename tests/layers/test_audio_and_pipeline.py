"""STFTSpectrogram and MelSpectrogram (against NumPy's FFT, the layer contract and Keras's
shapes), Pipeline and MaxNumBoundingBoxes."""

import numpy as np
import pytest

import shendu as keras
from shendu.layers.spectrogram import linear_to_mel_weight_matrix
from shendu.testing import run_layer_test

L = keras.layers
RNG = np.random.default_rng(0)
SIGNALS = RNG.standard_normal((2, 300, 2)).astype(np.float32)


def _reference_stft(x, frame_length, step, fft_length):
    """Hann-windowed (symmetric), density-scaled one-sided DFT per channel, valid frames:
    (batch, frames, channels, bins) complex."""
    window = np.hanning(frame_length)
    scale = np.sqrt(np.sum(window**2))
    starts = range(0, x.shape[1] - frame_length + 1, step)
    frames = np.stack([x[:, s : s + frame_length] for s in starts], axis=1)
    spectrum = np.fft.rfft(frames * window[:, None] / scale, n=fft_length, axis=2)
    return np.swapaxes(np.conj(spectrum), 2, 3)  # kernel cos(-...) + i sin(-...)


@pytest.mark.parametrize("mode", ["real", "imag", "magnitude", "log", "psd", "stft"])
def test_stft_spectrogram_equals_the_windowed_dft(mode):
    layer = L.STFTSpectrogram(mode=mode, frame_length=64, frame_step=32)
    y = layer(SIGNALS).numpy()
    ref = _reference_stft(SIGNALS.astype(np.float64), 64, 32, 64)
    real, imag = ref.real, -ref.imag
    power = real**2 + imag**2
    expected = {
        "real": real,
        "imag": imag,
        "magnitude": np.sqrt(np.maximum(power, 1e-7)),
        "log": np.log(np.maximum(np.sqrt(np.maximum(power, 1e-7)), 1e-7)),
        "psd": power + np.pad(power[..., 1:-1], [(0, 0)] * 3 + [(1, 1)]),
        "stft": np.concatenate([real, imag], axis=-1),
    }[mode]
    batch, frames = expected.shape[:2]
    np.testing.assert_allclose(y, expected.reshape(batch, frames, -1), rtol=2e-4, atol=2e-4)
    assert tuple(y.shape) == layer.compute_output_shape(SIGNALS.shape)


def test_stft_spectrogram_layouts_and_contract():
    run_layer_test(
        L.STFTSpectrogram,
        {"mode": "magnitude", "frame_length": 32, "padding": "same", "expand_dims": True},
        input_shape=(2, 100, 3),
        expected_output_shape=(2, 7, 17, 3),  # ceil(100 / 16) frames, 17 bins, 3 channels
        expected_weight_shapes=[(32, 1, 17), (32, 1, 17)],
    )
    last = L.STFTSpectrogram(frame_length=32, frame_step=8)(SIGNALS)
    first = L.STFTSpectrogram(frame_length=32, frame_step=8, data_format="channels_first")(
        np.swapaxes(SIGNALS, 1, 2)
    )
    np.testing.assert_allclose(np.swapaxes(first.numpy(), 1, 2), last.numpy(), rtol=1e-5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"mode": "phase"}, "Output mode is invalid"),
        ({"frame_length": 16, "frame_step": 20}, "frame_step"),
        ({"frame_length": 16, "fft_length": 8}, "fft_length"),
        ({"padding": "causal"}, "Padding is invalid"),
        ({"scaling": "energy"}, "Scaling is invalid"),
    ],
)
def test_stft_spectrogram_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        L.STFTSpectrogram(**kwargs)


def test_mel_filter_bank_peaks_at_one_and_covers_the_band():
    m = linear_to_mel_weight_matrix(16, 129, 8000, 20.0, 4000.0)
    assert m.shape == (129, 16) and (m[0] == 0).all()  # the DC bin takes no filter
    assert np.all(m.max(axis=0) <= 1.0) and np.all(m.max(axis=0) > 0.5)


def test_mel_spectrogram_equals_filter_bank_times_power():
    sig = RNG.standard_normal((2, 1000)).astype(np.float32)
    layer = L.MelSpectrogram(
        fft_length=256, sequence_stride=100, sampling_rate=8000, num_mel_bins=16, power_to_db=False
    )
    y = layer(sig).numpy()
    assert y.shape == (2, 16, 11) == layer.compute_output_shape(sig.shape)
    real, imag = keras.ops.stft(sig.astype(np.float64), 256, 100, 256, "hann", True)
    power = real.numpy() ** 2 + imag.numpy() ** 2
    expected = power @ linear_to_mel_weight_matrix(16, 129, 8000, 20.0, 4000.0, "float64")
    np.testing.assert_allclose(y, np.swapaxes(expected, 1, 2), rtol=1e-4, atol=1e-4)
    db = L.MelSpectrogram(
        fft_length=256, sequence_stride=100, sampling_rate=8000, num_mel_bins=16, top_db=20.0
    )(sig).numpy()
    assert db.max() - db.min() <= 20.0 + 1e-4
    config = layer.get_config()
    assert L.MelSpectrogram.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="greater than or equal to `sequence_length`"):
        L.MelSpectrogram(fft_length=128, sequence_length=256)


def test_pipeline_applies_layers_in_turn_and_round_trips():
    images = np.full((2, 4, 4, 3), 51.0, np.float32)
    pipe = L.Pipeline([L.RandomInvert(factor=(1.0, 1.0)), L.Rescaling(1 / 255.0)])
    np.testing.assert_allclose(pipe(images).numpy(), 0.8, rtol=1e-6)
    np.testing.assert_allclose(pipe(images, training=False).numpy(), 0.2, rtol=1e-6)
    clone = L.Pipeline.from_config(pipe.get_config())
    assert [type(layer).__name__ for layer in clone.layers] == ["RandomInvert", "Rescaling"]
    np.testing.assert_allclose(clone(images).numpy(), 0.8, rtol=1e-6)
    mixed = L.Pipeline([L.RandomInvert(factor=(1.0, 1.0)), L.MixUp(seed=0)])(
        {"images": images, "labels": np.eye(2, dtype=np.float32)}
    )
    np.testing.assert_allclose(mixed["images"].numpy(), 204.0, rtol=1e-6)
    np.testing.assert_allclose(mixed["labels"].numpy().sum(axis=1), 1.0, rtol=1e-6)
    with pytest.raises(TypeError, match="Pipeline takes layers"):
        L.Pipeline([lambda x: x])
    with pytest.raises(ValueError, match="`layers` key"):
        L.Pipeline.from_config({"layers": None})


def test_max_num_bounding_boxes_pads_and_cuts():
    images = np.zeros((2, 4, 4, 3), np.float32)
    boxes = {"boxes": np.ones((2, 5, 4)), "labels": np.ones((2, 5))}
    cut = L.MaxNumBoundingBoxes(3)({"images": images, "bounding_boxes": boxes})
    assert cut["bounding_boxes"]["boxes"].shape == (2, 3, 4)
    padded = L.MaxNumBoundingBoxes(7)({"images": images, "bounding_boxes": boxes})
    np.testing.assert_array_equal(
        padded["bounding_boxes"]["labels"].numpy()[0], [1] * 5 + [-1] * 2
    )
    shape = L.MaxNumBoundingBoxes(7).compute_output_shape(
        {"images": (2, 4, 4, 3), "bounding_boxes": {"boxes": (2, 5, 4), "labels": (2, 5)}}
    )
    assert shape["bounding_boxes"] == {"boxes": (2, 7, 4), "labels": (2, 7)}
    with pytest.raises(KeyError, match="unsupported keys"):
        L.MaxNumBoundingBoxes(2)({"images": images, "bounding_boxes": {**boxes, "scores": 1}})
    assert L.MaxNumBoundingBoxes(2).get_config()["max_number"] == 2
