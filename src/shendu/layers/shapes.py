"""Output-shape arithmetic shared by the layers' ``compute_output_shape`` rules.

Shapes are tuples whose entries are ints or None (unknown, e.g. the batch axis); every
rule propagates None where the size depends on an unknown input size.
"""

from __future__ import annotations


def product(dims):
    """The product of ``dims``, or None when one of them is unknown."""
    out = 1
    for d in dims:
        if d is None:
            return None
        out *= d
    return out


def conv_length(size, kernel, stride, dilation, padding):
    """Output length of a convolution or pooling window along one axis.

    valid: floor((size - dk) / stride) + 1 with dk = (kernel - 1) dilation + 1;
    same and causal: ceil(size / stride).
    """
    if size is None:
        return None
    if padding in ("same", "causal"):
        return -(-size // stride)
    dk = (kernel - 1) * dilation + 1
    return max((size - dk) // stride + 1, 0)


def transpose_length(size, kernel, stride, dilation, padding, output_padding):
    """Output length of a transposed convolution along one axis (Keras's rule)."""
    if size is None:
        return None
    dk = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(dk, stride) - dk if output_padding is None else output_padding
        return (size - 1) * stride + dk + extra
    if output_padding is None:
        return size * stride
    return (size - 1) * stride + dk % 2 + output_padding


def broadcast(a, b, owner="layer"):
    """NumPy broadcasting of two shapes with unknown (None) entries."""
    a, b = tuple(a), tuple(b)
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + a
    b = (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x == 1:
            out.append(y)
        elif y == 1 or x == y:
            out.append(x)
        elif x is None or y is None:
            out.append(x if y is None else y)
        else:
            raise ValueError(f"{owner}: inputs of shapes {a} and {b} cannot be broadcast")
    return tuple(out)


def spatial_axes(rank, data_format):
    """The positions of the spatial axes in a (batch, ..., channels) or channels_first shape."""
    if data_format == "channels_first":
        return tuple(range(2, rank + 2))
    return tuple(range(1, rank + 1))
