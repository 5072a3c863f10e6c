"""Audio front ends: STFTSpectrogram (a short-time Fourier transform as a strided
convolution with a windowed DFT basis, trainable as Keras's) and MelSpectrogram (a power
spectrogram mapped onto the mel scale, in decibels).
"""

from __future__ import annotations

import math

import numpy as np

from .. import ops
from ..autograd.tensor import Tensor
from ..initializers import STFT
from .base import Layer
from .input_spec import InputSpec

_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")
_EPSILON = 1e-7  # backend.epsilon(), as Keras


class STFTSpectrogram(Layer):
    """The STFT of each channel of signals (batch, time, channels) as a Conv1D whose
    kernels are the window times cos / sin of the DFT (``initializers.STFT``), strided by
    ``frame_step`` (default ``frame_length // 2``), ``fft_length`` bins (default the next
    power of two). With ``re``/``im`` the two convolutions:

    - "real" / "imag": re / im; "stft": both, stacked on the frequency axis;
    - "magnitude": ``sqrt(max(re^2 + im^2, eps))``; "log": the log of that;
    - "psd": ``p + p`` on the inner bins (``p = re^2 + im^2``): the one-sided density;
    - "angle": ``atan2(im, re)``.

    Output (batch, frames, channels * bins), or with ``expand_dims`` (batch, frames, bins,
    channels); ``channels_first`` swaps as Keras. The kernels are weights (trainable)."""

    def __init__(
        self,
        mode="log",
        frame_length=256,
        frame_step=None,
        fft_length=None,
        window="hann",
        periodic=False,
        scaling="density",
        padding="valid",
        expand_dims=False,
        data_format=None,
        **kwargs,
    ):
        if frame_step is not None and (frame_step > frame_length or frame_step < 1):
            raise ValueError(
                "`frame_step` should be a positive integer not greater than `frame_length`. "
                f"Received frame_step={frame_step}, frame_length={frame_length}"
            )
        if fft_length is not None and fft_length < frame_length:
            raise ValueError(
                "`fft_length` should be not less than `frame_length`. "
                f"Received fft_length={fft_length}, frame_length={frame_length}"
            )
        if mode not in _MODES:
            raise ValueError(
                f"Output mode is invalid, it must be one of {', '.join(_MODES)}. "
                f"Received: mode={mode}"
            )
        if padding not in ("valid", "same"):
            raise ValueError(
                f"Padding is invalid, it should be 'valid', 'same'. Received: padding={padding}"
            )
        STFT("real", window, scaling, periodic)  # checks window and scaling
        super().__init__(**kwargs)
        self.mode, self.frame_length, self.frame_step = mode, frame_length, frame_step
        self._frame_step = frame_step or frame_length // 2
        self.fft_length = fft_length
        self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(frame_length)))
        self.window, self.periodic, self.scaling = window, periodic, scaling
        self.padding, self.expand_dims = padding, expand_dims
        self.data_format = data_format or "channels_last"
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape):
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        if self.mode != "imag":
            self.real_kernel = self.add_weight(
                name="real_kernel",
                shape=shape,
                initializer=STFT("real", self.window, self.scaling, self.periodic),
            )
        if self.mode != "real":
            self.imag_kernel = self.add_weight(
                name="imag_kernel",
                shape=shape,
                initializer=STFT("imag", self.window, self.scaling, self.periodic),
            )

    def _convolve(self, x, kernel):
        """(batch, time, channels) -> (batch, channels, bins, frames)."""
        if self.data_format == "channels_first":
            x = ops.transpose(x, (0, 2, 1))
        batch, time, channels = x.shape
        signals = ops.reshape(ops.transpose(x, (0, 2, 1)), (-1, time, 1))
        out = ops.conv(signals, kernel, strides=self._frame_step, padding=self.padding)
        frames, bins = out.shape[1], out.shape[2]
        return ops.transpose(ops.reshape(out, (-1, channels, frames, bins)), (0, 1, 3, 2))

    def _arrange(self, out):
        """(batch, channels, bins, frames) -> Keras's output layout."""
        _, channels, bins, frames = out.shape
        if self.data_format == "channels_last":
            if self.expand_dims:
                return ops.transpose(out, (0, 3, 2, 1))
            return ops.transpose(ops.reshape(out, (-1, channels * bins, frames)), (0, 2, 1))
        if self.expand_dims:
            return ops.transpose(out, (0, 1, 3, 2))
        return ops.reshape(out, (-1, channels * bins, frames))

    def call(self, inputs):
        if inputs.dtype.kind != "f":
            raise TypeError(
                "Invalid input type. Expected `float16`, `float32` or `float64`. "
                f"Received: input type={inputs.dtype}"
            )
        real = self._convolve(inputs, self.real_kernel) if self.mode != "imag" else None
        imag = self._convolve(inputs, self.imag_kernel) if self.mode != "real" else None
        if self.mode == "real":
            return self._arrange(real)
        if self.mode == "imag":
            return self._arrange(imag)
        if self.mode == "angle":
            return self._arrange(ops.arctan2(imag, real))
        if self.mode == "stft":
            return self._arrange(ops.concatenate([real, imag], axis=2))
        power = ops.square(real) + ops.square(imag)
        if self.mode == "psd":
            inner = ops.pad(power[:, :, 1:-1, :], ((0, 0), (0, 0), (1, 1), (0, 0)))
            return self._arrange(power + inner)
        magnitude = self._arrange(ops.sqrt(ops.maximum(power, _EPSILON)))
        if self.mode == "magnitude":
            return magnitude
        return ops.log(ops.maximum(magnitude, _EPSILON))

    def compute_output_shape(self, input_shape):
        batch = input_shape[0]
        if self.data_format == "channels_last":
            time, channels = input_shape[1], input_shape[2]
        else:
            channels, time = input_shape[1], input_shape[2]
        bins = self._fft_length // 2 + 1
        if self.mode == "stft":
            bins *= 2
        if time is None:
            frames = None
        elif self.padding == "same":
            frames = -(-time // self._frame_step)
        else:
            frames = (time - self.frame_length) // self._frame_step + 1
        if self.data_format == "channels_last":
            if self.expand_dims:
                return (batch, frames, bins, channels)
            return (batch, frames, None if channels is None else channels * bins)
        if self.expand_dims:
            return (batch, channels, frames, bins)
        return (batch, None if channels is None else channels * bins, frames)

    def get_config(self):
        return {
            **super().get_config(),
            "mode": self.mode,
            "frame_length": self.frame_length,
            "frame_step": self.frame_step,
            "fft_length": self.fft_length,
            "window": self.window,
            "periodic": self.periodic,
            "scaling": self.scaling,
            "padding": self.padding,
            "expand_dims": self.expand_dims,
            "data_format": self.data_format,
        }


def hertz_to_mel(frequencies):
    """HTK's mel scale, ``1127 ln(1 + f / 700)``."""
    return 1127.0 * np.log(1.0 + np.asarray(frequencies, np.float64) / 700.0)


def linear_to_mel_weight_matrix(
    num_mel_bins=20,
    num_spectrogram_bins=129,
    sampling_rate=8000,
    lower_edge_hertz=125.0,
    upper_edge_hertz=3800.0,
    dtype="float32",
):
    """(num_spectrogram_bins, num_mel_bins) triangular filters of peak 1 on the mel scale,
    edges equally spaced in mel between the two edge frequencies; the DC bin gets none."""
    linear = np.linspace(0.0, sampling_rate / 2.0, num_spectrogram_bins)[1:]
    bins_mel = hertz_to_mel(linear)[:, None]
    edges = np.linspace(
        hertz_to_mel(lower_edge_hertz), hertz_to_mel(upper_edge_hertz), num_mel_bins + 2
    )
    lower, center, upper = edges[:-2][None], edges[1:-1][None], edges[2:][None]
    lower_slopes = (bins_mel - lower) / (center - lower)
    upper_slopes = (upper - bins_mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(lower_slopes, upper_slopes))
    return np.pad(weights, ((1, 0), (0, 0))).astype(dtype)


class MelSpectrogram(Layer):
    """Signals (batch, time) or (time,) -> mel spectrograms (batch, num_mel_bins, frames):
    ``|STFT|^mag_exp`` (centred frames of ``sequence_length`` every ``sequence_stride``,
    ``fft_length`` bins) times the mel filter bank; with ``power_to_db``,
    ``10 log10(max(S, min_power)) - 10 log10(max(|ref_power|, min_power))`` floored at
    the batch's maximum less ``top_db``. Not trainable (no weights)."""

    def __init__(
        self,
        fft_length=2048,
        sequence_stride=512,
        sequence_length=None,
        window="hann",
        sampling_rate=16000,
        num_mel_bins=128,
        min_freq=20.0,
        max_freq=None,
        power_to_db=True,
        top_db=80.0,
        mag_exp=2.0,
        min_power=1e-10,
        ref_power=1.0,
        **kwargs,
    ):
        self.fft_length, self.sequence_stride = fft_length, sequence_stride
        self.sequence_length = sequence_length or fft_length
        if self.fft_length < self.sequence_length:
            raise ValueError(
                "`fft_length` must be greater than or equal to `sequence_length`. Received: "
                f"`sequence_length`={self.sequence_length}, `fft_length`={self.fft_length}."
            )
        self.window, self.sampling_rate, self.num_mel_bins = window, sampling_rate, num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db, self.top_db, self.mag_exp = power_to_db, top_db, mag_exp
        self.min_power, self.ref_power = min_power, ref_power
        super().__init__(**kwargs)

    def _frames(self, time):
        return None if time is None else 1 + time // self.sequence_stride

    def compute_output_shape(self, input_shape):
        if len(input_shape) == 1:
            return (self.num_mel_bins, self._frames(input_shape[0]))
        return (input_shape[0], self.num_mel_bins, self._frames(input_shape[1]))

    def call(self, inputs):
        x = np.asarray(inputs.data if isinstance(inputs, Tensor) else inputs)
        x = x.astype(np.float64 if x.dtype == np.float64 else np.float32)
        real, imag = ops.stft(
            x, self.sequence_length, self.sequence_stride, self.fft_length, self.window, True
        )
        real, imag = np.asarray(real.data), np.asarray(imag.data)
        spectrum = np.sqrt(real**2 + imag**2) ** self.mag_exp
        matrix = linear_to_mel_weight_matrix(
            self.num_mel_bins,
            spectrum.shape[-1],
            self.sampling_rate,
            self.min_freq,
            self.max_freq,
            spectrum.dtype,
        )
        out = np.tensordot(spectrum, matrix, axes=1)
        if self.power_to_db:
            out = 10.0 * np.log10(np.maximum(out, self.min_power))
            out -= 10.0 * np.log10(max(abs(self.ref_power), self.min_power))
            out = np.maximum(out, out.max() - self.top_db)
        return Tensor.wrap(np.swapaxes(out, -1, -2).astype(self.dtype))

    def get_config(self):
        return {
            **super().get_config(),
            "fft_length": self.fft_length,
            "sequence_stride": self.sequence_stride,
            "sequence_length": self.sequence_length,
            "window": self.window,
            "sampling_rate": self.sampling_rate,
            "num_mel_bins": self.num_mel_bins,
            "min_freq": self.min_freq,
            "max_freq": self.max_freq,
            "power_to_db": self.power_to_db,
            "top_db": self.top_db,
            "mag_exp": self.mag_exp,
            "min_power": self.min_power,
            "ref_power": self.ref_power,
        }
