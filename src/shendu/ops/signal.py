"""Fourier transforms and framing under ``keras.ops`` names.

As in Keras, complex values are (real, imaginary) pairs of real Tensors. Each transform is
linear, so its gradient is its adjoint applied to the output's gradient g = gr + i gi:

- fft over the last k axes (N points): dx = N * ifft(g); ifft: dx = fft(g) / N.
- rfft (N real points, N // 2 + 1 bins): dx = Re(N * ifft(g padded with zeros to N)).
- irfft (to N real points): d bin_k = (c_k / N) * rfft(g)_k, c_k = 1 for the zero (and, for
  even N, the last) bin and 2 for the others, whose mirror images the inverse also reads.

``stft`` and ``istft`` are compositions (reflect padding, framing, windowing, rfft / irfft,
overlap-add), differentiable through each piece; their results equal Keras's (SciPy's
``stft`` with the window-sum scaling Keras applies).
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function
from ._util import as_tensor, data_of


def _pair(x, name):
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(
            f"{name}: expected a tuple (real, imag) of two tensors. Received: {type(x).__name__}"
        )
    real, imag = as_tensor(x[0]), as_tensor(x[1])
    if real.shape != imag.shape:
        raise ValueError(
            f"{name}: the real and imaginary parts have different shapes: {real.shape} and "
            f"{imag.shape}"
        )
    if real.dtype.kind != "f":
        from .arithmetic import cast

        real, imag = cast(real, backend.floatx()), cast(imag, backend.floatx())
    return real, imag


class FFT(Function):
    """(re, im) -> the FFT over the last ``k`` axes (inverse with ``inverse=True``)."""

    def __init__(self, k, inverse):
        self.k, self.inverse = k, inverse

    def _transform(self, z, inverse):
        axes = tuple(range(-self.k, 0))
        return np.fft.ifftn(z, axes=axes) if inverse else np.fft.fftn(z, axes=axes)

    def forward(self, re, im):
        self.dtype = re.dtype
        y = self._transform(re + 1j * im, self.inverse)
        return y.real.astype(re.dtype), y.imag.astype(re.dtype)

    def backward(self, gr, gi):
        gr = np.zeros(1, self.dtype) if gr is None else gr
        gi = np.zeros(1, self.dtype) if gi is None else gi
        g = gr + 1j * gi
        n = int(np.prod(g.shape[-self.k :]))
        gx = self._transform(g, not self.inverse) * (1.0 / n if self.inverse else n)
        return gx.real.astype(self.dtype), gx.imag.astype(self.dtype)


class RFFT(Function):
    """x (real, N points) -> (re, im) of its N // 2 + 1 first bins.  dx = Re(N ifft(g))."""

    def __init__(self, n):
        self.n = n

    def forward(self, x):
        self.dtype = x.dtype
        y = np.fft.rfft(x, n=self.n, axis=-1)
        return y.real.astype(x.dtype), y.imag.astype(x.dtype)

    def backward(self, gr, gi):
        n = self.n
        bins = n // 2 + 1
        g = np.zeros(gr.shape if gr is not None else gi.shape, np.complex128)
        if gr is not None:
            g = g + gr
        if gi is not None:
            g = g + 1j * gi
        full = np.zeros(g.shape[:-1] + (n,), np.complex128)
        full[..., :bins] = g
        return (np.fft.ifft(full, axis=-1) * n).real.astype(self.dtype)


class IRFFT(Function):
    """(re, im) of N // 2 + 1 bins -> N real points.  d bin_k = (c_k / N) rfft(g)_k."""

    def __init__(self, n):
        self.n = n

    def forward(self, re, im):
        self.dtype, self.bins = re.dtype, re.shape[-1]
        return np.fft.irfft(re + 1j * im, n=self.n, axis=-1).astype(re.dtype)

    def backward(self, g):
        n = self.n
        spectrum = np.fft.rfft(g, n=n, axis=-1)
        c = np.full(spectrum.shape[-1], 2.0)
        c[0] = 1.0
        if n % 2 == 0:
            c[-1] = 1.0
        spectrum = spectrum * c / n
        out = np.zeros(g.shape[:-1] + (self.bins,), np.complex128)
        m = min(self.bins, spectrum.shape[-1])
        out[..., :m] = spectrum[..., :m]
        return out.real.astype(self.dtype), out.imag.astype(self.dtype)


def fft(x):
    """The 1-D FFT of (real, imag) over the last axis; returns (real, imag)."""
    return FFT(1, False).apply(*_pair(x, "fft"))


def fft2(x):
    """The 2-D FFT of (real, imag) over the last two axes; returns (real, imag)."""
    return FFT(2, False).apply(*_pair(x, "fft2"))


def ifft2(x):
    """The 2-D inverse FFT of (real, imag) over the last two axes."""
    return FFT(2, True).apply(*_pair(x, "ifft2"))


def rfft(x, fft_length=None):
    """The FFT of a real signal (last axis, ``fft_length`` points): (real, imag) of the
    ``fft_length // 2 + 1`` non-negative frequencies."""
    x = as_tensor(x)
    if x.dtype.kind != "f":
        from .arithmetic import cast

        x = cast(x, backend.floatx())
    return RFFT(fft_length or x.shape[-1]).apply(x)


def irfft(x, fft_length=None):
    """The inverse of ``rfft``: a real signal of ``fft_length`` points from (real, imag)."""
    re, im = _pair(x, "irfft")
    return IRFFT(fft_length or 2 * (re.shape[-1] - 1)).apply(re, im)


# ----------------------------------------------------------------------- framing, STFT


def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of the last axis: (..., num_sequences, sequence_length), frame i starting at
    i * sequence_stride; differentiable (overlapping frames sum their gradients)."""
    from .selection import index_map

    x = as_tensor(x)
    n = x.shape[-1]
    count = (n - (sequence_length - sequence_stride)) // sequence_stride
    if count <= 0:
        raise ValueError(
            f"extract_sequences: a last axis of {n} holds no sequence of {sequence_length}"
        )
    starts = np.arange(count) * sequence_stride
    offsets = starts[:, None] + np.arange(sequence_length)[None, :]
    return index_map(x, lambda p: p[..., offsets])


def _window(window, sequence_length, fft_length, dtype):
    if window is None:
        win = np.ones(sequence_length)
    elif isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(
                'If a string is passed to `window`, it must be one of "hann", "hamming". '
                f"Received: window={window}"
            )
        fn = np.hanning if window == "hann" else np.hamming
        win = fn(sequence_length + 1)[:-1]  # the periodic window (SciPy's get_window)
    else:
        win = np.asarray(data_of(window), np.float64)
        if win.shape != (sequence_length,):
            raise ValueError(
                f"The shape of `window` must be equal to [sequence_length]. "
                f"Received: window shape={win.shape}"
            )
    left = (fft_length - sequence_length) // 2
    return np.pad(win, (left, fft_length - sequence_length - left)).astype(dtype)


def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """The short-time Fourier transform of the last axis: (real, imag), each of shape
    (..., frames, fft_length // 2 + 1)."""
    from .selection import index_map

    x = as_tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(
            f"Invalid input type. Expected `float32` or `float64`. Received: {x.dtype}"
        )
    if fft_length < sequence_length:
        raise ValueError(
            "`fft_length` must equal or larger than `sequence_length`. "
            f"Received: sequence_length={sequence_length}, fft_length={fft_length}"
        )
    if center:
        half = fft_length // 2
        width = [(0, 0)] * (x.ndim - 1) + [(half, half)]
        x = index_map(x, lambda p: np.pad(p, width, mode="reflect"))
    win = _window(window, sequence_length, fft_length, x.dtype)
    frames = extract_sequences(x, fft_length, sequence_stride)
    return rfft(frames * win, fft_length)


def istft(
    x, sequence_length, sequence_stride, fft_length, length=None, window="hann", center=True
):
    """The inverse of ``stft``: overlap-add of the windowed inverse transforms, divided by
    the overlap-added squared window."""
    from .selection import IndexMapAdjoint

    re, im = _pair(x, "istft")
    frames_count = re.shape[-2]
    win = _window(window, sequence_length, fft_length, re.dtype)
    frames = irfft((re, im), fft_length) * win  # (..., frames, fft_length)
    total = fft_length + sequence_stride * (frames_count - 1)
    batch = frames.shape[:-2]
    positions = np.arange(frames_count)[:, None] * sequence_stride + np.arange(fft_length)[None, :]
    index = np.broadcast_to(positions, batch + positions.shape)
    flat_batch = np.arange(int(np.prod(batch, dtype=np.int64))).reshape(batch + (1, 1))
    index = flat_batch * total + index
    signal = IndexMapAdjoint(index, batch + (total,)).apply(frames)
    norm = np.zeros(total)
    for i in range(frames_count):
        norm[i * sequence_stride : i * sequence_stride + fft_length] += win.astype(np.float64) ** 2
    norm = np.where(norm > 1e-10, norm, 1.0).astype(re.dtype)
    frames = signal / norm
    start = fft_length // 2 if center else 0
    if length is not None:
        end = start + length
    elif center:
        end = total - fft_length // 2
    else:
        end = total
    return frames[..., start:end]


__all__ = ["extract_sequences", "fft", "fft2", "ifft2", "irfft", "istft", "rfft", "stft"]


from ._util import export_ops  # noqa: E402

export_ops(globals())
