"""``Tensor``: an array, its gradient, and the node that made it.

Python operators map to the functions of ``shendu.ops``; nothing else here
builds graph nodes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from ..annotations import Array, Axis, DTypeLike, TensorLike


class _OpsNotRegistered:
    """Stands for the ops package until it registers itself (``register_operators``):
    the ops are a floor above this module and import it, so it never imports them."""

    def __getattr__(self, name):
        raise RuntimeError(
            f"Tensor operators need shendu.ops (for {name!r}); import shendu, which "
            "registers them, before using them"
        )


_ops: Any = _OpsNotRegistered()


def register_operators(ops_module: Any) -> None:
    """Called once by ``shendu.ops`` when it is imported: the functions Tensor's operators
    and methods (``+``, ``@``, ``.sum()``, ...) call."""
    global _ops
    _ops = ops_module


_INT32 = np.iinfo(np.int32)


def _float_default(arr):
    """Python numbers and lists as Keras's ``convert_to_tensor`` makes them: floats in
    floatx, ints in int32 (int64 only when a value needs it)."""
    if arr.dtype == np.float64:
        return arr.astype(backend.floatx())
    if arr.dtype == np.int64 and (
        arr.size == 0 or (_INT32.min <= arr.min() and arr.max() <= _INT32.max)
    ):
        return arr.astype(np.int32)
    return arr


class Tensor:
    """An n-dimensional array that records the ops applied to it for reverse-mode autodiff.

    Attributes:
        data: the NumPy (or CuPy) array.
        grad: the gradient (a Tensor) after ``backward()``, else None.
        requires_grad: whether ops on it are recorded.
        creator: the ``Function`` that produced it (None for leaves).
        _keras_mask: the mask a layer attached (Keras's attribute for it, read by the next
            layers' ``mask`` argument), or None.
        _keras_logits: on a softmax output, the logits it was made from (Keras's attribute
            too: a cross-entropy then uses them), or None.
    """

    __slots__ = (
        "data",
        "grad",
        "requires_grad",
        "creator",
        "output_index",
        "name",
        "_keras_mask",
        "_keras_logits",
        "__weakref__",
    )
    data: Array
    grad: Tensor | None
    requires_grad: bool
    creator: Any  # the Function that made it, or None
    output_index: int
    name: str | None
    _keras_mask: Any
    _keras_logits: Any
    __array_ufunc__ = None  # make numpy defer to our reflected operators
    __array_priority__ = 1000

    def __init__(
        self,
        data: TensorLike,
        requires_grad: bool = False,
        dtype: DTypeLike = None,
        name: str | None = None,
    ):
        if isinstance(data, Tensor):
            data = data.data
        xp = backend.array_module(data) if not isinstance(data, (list, tuple)) else np
        if dtype is not None:
            data = xp.asarray(data, dtype=dtype)
        elif (
            isinstance(data, (int, float, complex, list, tuple))
            and not isinstance(data, np.generic)
        ) or data is None:
            data = _float_default(np.asarray(data))
        else:
            data = xp.asarray(data)
        if requires_grad and data.dtype.kind not in "fc":
            raise TypeError(
                f"Only floating point tensors can require gradients. Received: dtype={data.dtype}"
            )
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.creator = None
        self.output_index = 0
        self.name = name
        self._keras_mask = None
        self._keras_logits = None

    @property
    def grad_buffer(self) -> Array | None:
        """Where backward writes this leaf's gradient: None for a Tensor (a new array). A
        ``Variable`` whose optimizer keeps fused storage has a view of it here
        (``Variable.bind_storage``), so gradients land in one contiguous buffer."""
        return None

    # --- construction shortcuts (they skip __init__'s conversions and checks) ---
    @classmethod
    def wrap(cls, array: Array) -> Tensor:
        """A leaf Tensor around ``array`` as it is (a NumPy or CuPy array: no conversion, no
        copy, no checks): the fast way for code that already holds an array of the right
        dtype, as every op does with its results."""
        t = object.__new__(cls)
        t.data = array
        t.grad = None
        t.requires_grad = False
        t.creator = None
        t.output_index = 0
        t.name = None
        t._keras_mask = None
        t._keras_logits = None
        return t

    @classmethod
    def _from_op(cls, array, creator, index):
        t = object.__new__(cls)
        t.data = array
        t.grad = None
        t.requires_grad = True
        t.creator = creator
        t.output_index = index
        t.name = None
        t._keras_mask = None
        t._keras_logits = None
        return t

    # --- array facts ---
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        return self.creator is None

    @property
    def device(self) -> str:
        return "cpu" if isinstance(self.data, np.ndarray) else "gpu"

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __repr__(self) -> str:
        body = np.array2string(backend.to_numpy(self.data), separator=", ", prefix="tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        return f"tensor({body}, dtype={self.data.dtype}{extra})"

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (a copy from the GPU; the array itself on the CPU)."""
        return backend.to_numpy(self.data)

    def __array__(self, dtype=None, copy=None):
        a = backend.to_numpy(self.data)
        return a.astype(dtype) if dtype is not None else a

    def item(self) -> Any:
        if self.data.size != 1:
            raise ValueError(
                f"item() expects a tensor with one element. Received: shape={self.shape}"
            )
        return self.data.item()

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __format__(self, spec: str) -> str:
        """A one-element tensor formats as its number (``f"{loss:.4f}"``), others as text."""
        if spec and self.data.size == 1:
            return format(self.item(), spec)
        return format(str(self), spec)

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                "The truth value of a tensor with more than one element is ambiguous. "
                f"Received: shape={self.shape}"
            )
        return bool(self.data)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def detach(self) -> Tensor:
        """A new leaf sharing the data, cut from the graph."""
        return Tensor.wrap(self.data)

    def requires_grad_(self, flag: bool = True) -> Tensor:
        if flag and self.data.dtype.kind not in "fc":
            raise TypeError(
                f"Only floating point tensors can require gradients. Received: dtype={self.dtype}"
            )
        self.requires_grad = bool(flag)
        return self

    def zero_grad(self) -> None:
        self.grad = None

    def backward(
        self, grad: TensorLike = None, retain_graph: bool = False, create_graph: bool = False
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        ``grad`` is the gradient flowing in (required unless the tensor has one element).
        """
        _engine.backward([self], [grad], retain_graph=retain_graph, create_graph=create_graph)

    def to(self, device: str) -> Tensor:
        """A copy on ``"cpu"`` or ``"gpu"`` (the same tensor when already there)."""
        return _ops.to_device(self, device)

    def astype(self, dtype: DTypeLike) -> Tensor:
        return _ops.cast(self, dtype)

    # --- operators (all through shendu.ops) ---
    def __neg__(self):
        return _ops.negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.subtract(self, other)

    def __rsub__(self, other):
        return _ops.subtract(other, self)

    def __mul__(self, other):
        return _ops.multiply(self, other)

    def __rmul__(self, other):
        return _ops.multiply(other, self)

    def __truediv__(self, other):
        return _ops.divide(self, other)

    def __rtruediv__(self, other):
        return _ops.divide(other, self)

    def __pow__(self, other):
        return _ops.power(self, other)

    def __rpow__(self, other):
        return _ops.power(other, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    def __lt__(self, other):
        return _ops.less(self, other)

    def __le__(self, other):
        return _ops.less_equal(self, other)

    def __gt__(self, other):
        return _ops.greater(self, other)

    def __ge__(self, other):
        return _ops.greater_equal(self, other)

    def __eq__(self, other):
        if not _array_like(other):  # e.g. pytest.approx: its own __eq__ decides
            return NotImplemented
        return _ops.equal(self, other)

    def __ne__(self, other):
        if not _array_like(other):
            return NotImplemented
        return _ops.not_equal(self, other)

    __hash__ = object.__hash__

    # --- a few NumPy-style methods ---
    @property
    def T(self) -> Tensor:  # noqa: N802 - the NumPy name
        return _ops.transpose(self)

    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.min(self, axis=axis, keepdims=keepdims)

    def var(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.var(self, axis=axis, keepdims=keepdims)

    def std(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.std(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis: int | None = None) -> Tensor:
        return _ops.argmax(self, axis=axis)

    def reshape(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.reshape(self, shape)

    def transpose(self, *axes: Any) -> Tensor:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _ops.transpose(self, axes or None)

    def flatten(self) -> Tensor:
        return _ops.reshape(self, (-1,))

    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def sqrt(self) -> Tensor:
        return _ops.sqrt(self)

    def tanh(self) -> Tensor:
        return _ops.tanh(self)

    def relu(self) -> Tensor:
        return _ops.relu(self)

    def sigmoid(self) -> Tensor:
        return _ops.sigmoid(self)

    def clip(self, x_min: TensorLike, x_max: TensorLike) -> Tensor:
        return _ops.clip(self, x_min, x_max)

    # --- PyTorch's names, for the custom loops keras.io and its book write for Keras's
    # torch backend (``image.clone().detach().requires_grad_(True)``); each is the op above
    # or in ``shendu.ops`` with the same result (docs/guides/custom.md lists the set) ---
    def clone(self) -> Tensor:
        """A copy that stays in the graph (its gradient flows back to this tensor)."""
        return _ops.copy(self)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        return _ops.diagonal(self, offset=offset, axis1=dim1, axis2=dim2)

    def abs(self) -> Tensor:
        return _ops.abs(self)

    def dim(self) -> int:
        return self.ndim

    def squeeze(self, dim: int | None = None) -> Tensor:
        return _ops.squeeze(self, axis=dim)

    def unsqueeze(self, dim: int) -> Tensor:
        return _ops.expand_dims(self, dim)

    def permute(self, *dims: int) -> Tensor:
        return _ops.transpose(self, dims[0] if len(dims) == 1 else dims)

    def view(self, *shape: Any) -> Tensor:
        return self.reshape(*shape)

    def clamp(self, min: TensorLike = None, max: TensorLike = None) -> Tensor:  # noqa: A002
        return _ops.clip(self, min, max)

    def norm(self, p: float = 2, dim: Axis = None, keepdim: bool = False) -> Tensor:
        """The ``p``-norm over ``dim`` (all elements, flattened, when None: PyTorch's)."""
        if dim is None:
            flat = _ops.reshape(self, (-1,))
            return _ops.norm(flat, ord=p, axis=0)
        return _ops.norm(self, ord=p, axis=dim, keepdims=keepdim)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def float(self) -> Tensor:
        return _ops.cast(self, "float32")

    def double(self) -> Tensor:
        return _ops.cast(self, "float64")

    def long(self) -> Tensor:
        return _ops.cast(self, "int64")

    def int(self) -> Tensor:
        return _ops.cast(self, "int32")


def _array_like(x) -> bool:
    """Whether ``x`` is something an elementwise comparison takes (a tensor, an array, a
    number, a sequence, a string, None); other objects compare themselves."""
    return (
        x is None
        or isinstance(x, (Tensor, np.ndarray, np.generic, int, float, complex, str, list, tuple))
        or hasattr(x, "__array__")
        or hasattr(x, "__cuda_array_interface__")
    )


def tensor(data: TensorLike, dtype: DTypeLike = None, requires_grad: bool = False) -> Tensor:
    """Make a leaf Tensor from an array, a nested list or a scalar.

    Python floats and lists of floats take the default float dtype (float32);
    NumPy arrays keep their dtype unless ``dtype`` is given.

    Example:
    >>> import shendu
    >>> x = shendu.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad.numpy()
    array([2., 4., 6.], dtype=float32)
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


from . import engine as _engine  # noqa: E402  (engine imports this module)
