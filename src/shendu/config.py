"""Library-wide settings under Keras's ``keras.config`` names.

Each setting is owned here (or by ``shendu.backend`` for the array-level ones) and read
through these functions: the float dtype and epsilon, the image data format that image
layers and ops take when ``data_format`` is None, interactive logging (progress bars),
caps on epochs and steps (``fit`` obeys them, as Keras's do, for quick runs of long
scripts), unsafe deserialization (Lambda functions from configs) and the dtype policy; and
shendu's own ``set_kernels`` / ``kernels`` (the fused kernels' path, ``shendu.kernels``).
"""

from __future__ import annotations

import warnings
from typing import Any

from .backend import (
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from .kernels.dispatch import kernels, set_kernels

_STATE: dict[str, Any] = {
    "interactive_logging": True,
    "max_epochs": None,
    "max_steps_per_epoch": None,
    "unsafe_deserialization": False,
    "traceback_filtering": True,
    "flash_attention": None,
    "dtype_policy": None,
}


# ------------------------------------------------------------------------ logging


def enable_interactive_logging():
    """Progress bars redraw in place (the default)."""
    _STATE["interactive_logging"] = True


def disable_interactive_logging():
    """Progress bars print one line per epoch instead of redrawing (logs, CI)."""
    _STATE["interactive_logging"] = False


def is_interactive_logging_enabled() -> bool:
    return _STATE["interactive_logging"]


# --------------------------------------------------------------------- fit's limits


def _check_limit(value, name):
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise ValueError(f"`{name}` must be a positive integer or None. Received: {value!r}")
    return value


def set_max_epochs(max_epochs):
    """Cap the epochs of every ``fit`` (None: no cap)."""
    _STATE["max_epochs"] = _check_limit(max_epochs, "max_epochs")


def max_epochs():
    return _STATE["max_epochs"]


def set_max_steps_per_epoch(max_steps_per_epoch):
    """Cap the steps of every epoch of ``fit``, ``evaluate`` and ``predict`` (None: no cap)."""
    _STATE["max_steps_per_epoch"] = _check_limit(max_steps_per_epoch, "max_steps_per_epoch")


def max_steps_per_epoch():
    return _STATE["max_steps_per_epoch"]


# ------------------------------------------------------------------ deserialization


def enable_unsafe_deserialization():
    """Let configs rebuild Lambda layers from functions passed in ``custom_objects``
    (``load_model``'s ``safe_mode`` then defaults to False)."""
    _STATE["unsafe_deserialization"] = True


def is_unsafe_deserialization_enabled() -> bool:
    return _STATE["unsafe_deserialization"]


# ------------------------------------------------------------------- dtype policies


class DTypePolicy:
    """A dtype policy by name: 'float32', 'float64', 'float16', or the mixed policies
    'mixed_float16' / 'mixed_bfloat16' (variables float32; shendu computes them in
    float32 too: NumPy has no fast half precision on the CPU)."""

    def __init__(self, name=None):
        name = name or floatx()
        if name not in (
            "float16",
            "float32",
            "float64",
            "bfloat16",
            "mixed_float16",
            "mixed_bfloat16",
        ):
            raise ValueError(
                "Invalid dtype policy name. Expected one of 'float16', 'float32', 'float64', "
                f"'mixed_float16', 'mixed_bfloat16'. Received: name={name!r}"
            )
        self.name = name

    @property
    def compute_dtype(self):
        return (
            "float32" if self.name.startswith("mixed_") or self.name == "bfloat16" else self.name
        )

    @property
    def variable_dtype(self):
        return (
            "float32" if self.name.startswith("mixed_") or self.name == "bfloat16" else self.name
        )

    @classmethod
    def of_dtype(cls, dtype):
        """The policy of a layer whose dtype is ``dtype`` (any dtype name, integer and
        string layers included: Keras's layers all have a policy)."""
        if dtype in ("float16", "float32", "float64", "bfloat16"):
            return cls(dtype)
        policy = cls.__new__(cls)
        policy.name = str(dtype)
        return policy

    def get_config(self):
        return {"name": self.name}

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return f'<DTypePolicy "{self.name}">'


def set_dtype_policy(policy):
    """Set the global dtype policy: a float dtype name sets floatx; a mixed policy keeps
    float32 (with a warning that shendu computes in float32)."""
    p = policy if isinstance(policy, DTypePolicy) else DTypePolicy(policy)
    if p.name.startswith("mixed_") or p.name == "bfloat16":
        warnings.warn(
            f"dtype policy {p.name!r}: shendu keeps variables and computation in float32 "
            "(NumPy has no fast half precision on the CPU)",
            stacklevel=2,
        )
        set_floatx("float32")
    else:
        set_floatx(p.name)
    _STATE["dtype_policy"] = p


def dtype_policy():
    return _STATE["dtype_policy"] or DTypePolicy(floatx())


# ------------------------------------------------------------- accepted for Keras code


def enable_traceback_filtering():
    """Accepted for Keras code; shendu's tracebacks are never filtered."""
    _STATE["traceback_filtering"] = True


def disable_traceback_filtering():
    _STATE["traceback_filtering"] = False


def is_traceback_filtering_enabled() -> bool:
    return _STATE["traceback_filtering"]


def enable_flash_attention():
    """Accepted for Keras code: shendu's attention is one fused node already."""
    _STATE["flash_attention"] = True


def disable_flash_attention():
    _STATE["flash_attention"] = False


def is_flash_attention_enabled():
    return _STATE["flash_attention"]


def is_nnx_enabled() -> bool:
    """False: Flax NNX is a JAX integration."""
    return False


def set_backend(backend):
    """shendu has one backend (NumPy, CuPy on a GPU): 'numpy' is accepted, others refused."""
    if backend != "numpy":
        raise ValueError(
            f"shendu runs on NumPy (CuPy on a GPU); it has no {backend!r} backend. "
            "Received: backend=" + repr(backend)
        )


__all__ = [
    "DTypePolicy",
    "backend",
    "disable_flash_attention",
    "disable_interactive_logging",
    "disable_traceback_filtering",
    "dtype_policy",
    "enable_flash_attention",
    "enable_interactive_logging",
    "enable_traceback_filtering",
    "enable_unsafe_deserialization",
    "epsilon",
    "floatx",
    "image_data_format",
    "is_flash_attention_enabled",
    "is_interactive_logging_enabled",
    "is_nnx_enabled",
    "is_traceback_filtering_enabled",
    "is_unsafe_deserialization_enabled",
    "kernels",
    "max_epochs",
    "max_steps_per_epoch",
    "set_backend",
    "set_dtype_policy",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "set_kernels",
    "set_max_epochs",
    "set_max_steps_per_epoch",
]
