"""Fused CPU kernels behind the ``[fast]`` extra (numba), with NumPy as the reference.

Each family module holds, side by side, the NumPy function an op used to run and the loop
numba compiles in its place (``dispatch.Kernel``); ``SHENDU_KERNELS`` / ``set_kernels``
choose the path (``dispatch``). NumPy stays the only hard dependency and the fallback.
"""

from .dispatch import Kernel, kernels, set_kernels, using_numba

__all__ = ["Kernel", "kernels", "set_kernels", "using_numba"]
