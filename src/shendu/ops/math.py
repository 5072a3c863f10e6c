"""``keras.src.ops.math``: segment reductions, ranking, Fourier transforms and a few
special functions, the same objects as in ``shendu.ops``."""

from .arithmetic import erf
from .decompositions import logdet, solve
from .elementwise import erfinv, rsqrt
from .reduction import logsumexp, norm
from .segments import segment_max, segment_min, segment_prod, segment_sum
from .signal import extract_sequences, fft, fft2, ifft2, irfft, istft, rfft, stft
from .sorting import in_top_k, top_k

__all__ = [
    "erf",
    "erfinv",
    "extract_sequences",
    "fft",
    "fft2",
    "ifft2",
    "in_top_k",
    "irfft",
    "istft",
    "logdet",
    "logsumexp",
    "norm",
    "rfft",
    "rsqrt",
    "segment_max",
    "segment_min",
    "segment_prod",
    "segment_sum",
    "solve",
    "stft",
    "top_k",
]
