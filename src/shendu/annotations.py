"""Names for the kinds of values in shendu's signatures (for readers and the type checker).

shendu's functions take NumPy or CuPy arrays, Tensors, Python numbers and nested structures of
them, so most of these are documentation over ``Any``: the type checker checks how they are
passed around, the names say what is expected.
"""

from __future__ import annotations

from typing import Any, TypeAlias

#: a NumPy array, or a CuPy array on the GPU
Array: TypeAlias = Any
#: what ops accept: a Tensor, an array, a Python number or a nested list of numbers
TensorLike: TypeAlias = Any
#: a model's inputs or targets: an array or Tensor, or a list, tuple or dict of them
Structure: TypeAlias = Any
#: a dtype: a NumPy dtype, a name ("float32") or a type
DTypeLike: TypeAlias = Any
#: a shape with None for unknown sizes
Shape: TypeAlias = tuple[int | None, ...]
#: an axis, several axes, or None for all of them
Axis: TypeAlias = int | tuple[int, ...] | None

__all__ = ["Array", "Axis", "DTypeLike", "Shape", "Structure", "TensorLike"]
