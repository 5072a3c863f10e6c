"""Attention layers: MultiHeadAttention (fused attention), Attention, AdditiveAttention."""

from __future__ import annotations

import numpy as np

from .. import backend, initializers, ops
from ..autograd.tensor import Tensor
from ..naming import serialize
from .base import Layer


def _mask_array(m):
    if m is None:
        return None
    return m.data if isinstance(m, Tensor) else np.asarray(m)


class MultiHeadAttention(Layer):
    """Keras's MultiHeadAttention over (batch, seq, features) inputs.

    Weights (Keras's shapes and order): query/kernel (d, heads, key_dim), query/bias
    (heads, key_dim), key/..., value/kernel (d, heads, value_dim), value/bias,
    attention_output/kernel (heads, value_dim, d_out), attention_output/bias (d_out).
    ``attention_axes`` other than the sequence axis is not supported.

    Args:
        num_heads: the number of attention heads.
        key_dim: the size of each head's queries and keys.
        value_dim: the size of each head's values (key_dim when None).
        dropout: the fraction of attention weights dropped (training only).
        use_bias: whether the projections have biases.
        output_shape: the size of the output's last axis (the query's when None).
        attention_axes: the axes attended over (all but batch, heads and features when None).
        kernel_initializer: initializer of the projections' kernels.
        bias_initializer: initializer of the projections' biases.
        seed: the seed of the dropout.
        **kwargs: the Layer options (name, dtype, trainable; the kernels' and biases'
            regularizers and constraints are not taken yet).
    """

    # masks (also the causal one) are arrays made in Python, which keep a step eager
    replay_safe = True

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        attention_axes=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(num_heads, int) or num_heads <= 0:
            raise ValueError(f"`num_heads` must be a positive integer. Received: {num_heads}")
        if attention_axes not in (None, 1, (1,), [1]):
            raise ValueError(
                "MultiHeadAttention: only attention over the sequence axis is supported "
                f"(attention_axes=None). Received: attention_axes={attention_axes}"
            )
        self.num_heads, self.key_dim = num_heads, int(key_dim)
        self.value_dim = int(value_dim) if value_dim else self.key_dim
        self.dropout, self.use_bias = float(dropout), use_bias
        self._output_shape = output_shape
        self.attention_axes = attention_axes
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.seed = seed
        self.generator = backend.make_generator(seed) if seed is not None else None
        self.supports_masking = True

    def _expects_list(self):
        return False

    def _dense(self, name, shape, bias_shape):
        kernel = self.add_weight(shape, self.kernel_initializer, name=f"{name}/kernel")
        bias = (
            self.add_weight(bias_shape, self.bias_initializer, name=f"{name}/bias")
            if self.use_bias
            else None
        )
        return kernel, bias

    def build(self, query_shape, value_shape=None, key_shape=None):
        value_shape = value_shape or query_shape
        key_shape = key_shape or value_shape
        h, k, v = self.num_heads, self.key_dim, self.value_dim
        self.query_kernel, self.query_bias = self._dense("query", (query_shape[-1], h, k), (h, k))
        self.key_kernel, self.key_bias = self._dense("key", (key_shape[-1], h, k), (h, k))
        self.value_kernel, self.value_bias = self._dense("value", (value_shape[-1], h, v), (h, v))
        out = self._output_shape
        d_out = query_shape[-1] if out is None else (out if isinstance(out, int) else out[-1])
        self.output_kernel, self.output_bias = self._dense(
            "attention_output", (h, v, d_out), (d_out,)
        )
        self.built = True

    def _maybe_build(self, inputs):
        """Built in ``call``, where the query, value and key shapes are all known."""

    def compute_output_spec(
        self, query, value=None, key=None, return_attention_scores=False, **kwargs
    ):
        """(batch, query steps, output size), and the scores (batch, heads, query steps,
        value steps) with ``return_attention_scores``; builds from the three shapes."""
        from .symbolic import KerasTensor

        value = query if value is None else value
        key = value if key is None else key
        if not hasattr(self, "query_kernel"):
            self.build(query.shape, value.shape, key.shape)
        out = KerasTensor(self.compute_output_shape(query.shape), self.dtype)
        if not return_attention_scores:
            return out
        scores = (query.shape[0], self.num_heads, query.shape[1], value.shape[1])
        return (out, KerasTensor(scores, self.dtype))

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        out = self._output_shape
        d_out = query_shape[-1] if out is None else (out if isinstance(out, int) else out[-1])
        return tuple(query_shape[:-1]) + (d_out,)

    def _project(self, x, kernel, bias):
        """(b, t, d) -> (b, t, heads, dim) as one GEMM on the kernel viewed as (d, heads*dim)."""
        d, h, k = kernel.shape
        w = ops.reshape(kernel, (d, h * k))
        b = None if bias is None else ops.reshape(bias, (h * k,))
        y = ops.linear(x, w, b)
        return ops.reshape(y, x.shape[:-1] + (h, k))

    def call(
        self,
        query,
        value=None,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
    ):
        value = query if value is None else value
        key = value if key is None else key
        value = value if isinstance(value, Tensor) else Tensor(np.asarray(value, query.dtype))
        key = key if isinstance(key, Tensor) else Tensor(np.asarray(key, query.dtype))
        if not hasattr(self, "query_kernel"):
            self.build(query.shape, value.shape, key.shape)
        q = self._project(query, self.query_kernel, self.query_bias)
        k = self._project(key, self.key_kernel, self.key_bias)
        v = self._project(value, self.value_kernel, self.value_bias)
        explicit = return_attention_scores or (training and self.dropout)
        # for self-attention lengths the plain path applies the causal mask inside the
        # attention node (where both alignments of the triangle agree)
        causal_in_op = use_causal_mask and not explicit and query.shape[1] == value.shape[1]
        mask = self._attention_mask(
            query,
            value,
            attention_mask,
            query_mask,
            value_mask,
            use_causal_mask and not causal_in_op,
            key_mask,
        )
        if explicit:
            scores = ops.einsum("bthk,bshk->bhts", q, k) / np.sqrt(self.key_dim)
            if mask is not None:
                scores = ops.where(mask, scores, -1e9)
            probs = ops.softmax(scores, axis=-1)
            if training and self.dropout:
                # None: the op looks up the library's generator when it draws
                probs = ops.dropout(probs, self.dropout, seed=self.generator)
            ctx = ops.einsum("bhts,bshv->bthv", probs, v)
        else:
            ctx = ops.dot_product_attention(q, k, v, mask=mask, is_causal=causal_in_op)
            probs = None
        h, v, d = self.output_kernel.shape
        ctx2 = ops.reshape(ctx, ctx.shape[:-2] + (h * v,))
        out = ops.linear(ctx2, ops.reshape(self.output_kernel, (h * v, d)), self.output_bias)
        return (out, probs) if return_attention_scores else out

    def _attention_mask(
        self, query, value, attention_mask, query_mask, value_mask, causal, key_mask=None
    ):
        """The (batch, 1, Tq, Tv) mask of the scores, as Keras's ``_compute_attention_mask``:
        the query, value and key masks (given, or carried by the inputs), the attention mask
        and the causal triangle, combined. Keras adds a large negative number to masked
        scores, so a row with every score masked keeps its softmax (a shift changes
        nothing): here such a row is left unmasked, which computes the same."""
        tq, tv = query.shape[1], value.shape[1]
        n = query.shape[0]
        mask = None
        qm = _mask_array(query_mask if query_mask is not None else query._keras_mask)
        vm = _mask_array(
            value_mask if value_mask is not None else getattr(value, "_keras_mask", None)
        )
        km = _mask_array(key_mask)
        if km is not None:
            vm = km.astype(bool) if vm is None else (vm.astype(bool) & km.astype(bool))
        if qm is not None or vm is not None:
            qm = np.ones((n, tq), bool) if qm is None else qm.astype(bool)
            vm = np.ones((n, tv), bool) if vm is None else vm.astype(bool)
            mask = qm[:, :, None] & vm[:, None, :]
        if attention_mask is not None:
            am = _mask_array(attention_mask).astype(bool)
            mask = am if mask is None else (mask & am)
        if causal:
            c = np.tril(np.ones((tq, tv), bool))
            mask = c[None] if mask is None else (mask & c)
        if mask is None:
            return None
        mask = np.broadcast_to(mask, (n, tq, tv))
        mask = mask | ~mask.any(axis=-1, keepdims=True)  # fully masked rows: as Keras
        return mask[:, None, :, :]  # (batch, heads, tq, tv)

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "output_shape": self._output_shape,
            "attention_axes": self.attention_axes,
            "kernel_initializer": serialize(self.kernel_initializer),
            "bias_initializer": serialize(self.bias_initializer),
            "seed": self.seed,
        }


class GroupQueryAttention(MultiHeadAttention):
    """Grouped-query attention: ``num_query_heads`` query heads share
    ``num_key_value_heads`` key/value heads (each key/value head serves
    num_query_heads / num_key_value_heads query heads); otherwise multi-head attention
    with ``head_dim`` per head. Weights as Keras's: query (d, num_query_heads, head_dim),
    key and value (d, num_key_value_heads, head_dim), output (num_query_heads, head_dim, d).
    """

    def __init__(
        self,
        head_dim,
        num_query_heads,
        num_key_value_heads,
        dropout=0.0,
        use_bias=True,
        sliding_window=None,
        flash_attention=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        use_gate=False,
        seed=None,
        **kwargs,
    ):
        for arg in ("kernel_regularizer", "bias_regularizer", "kernel_constraint",
                    "bias_constraint"):  # fmt: skip
            if kwargs.pop(arg, None) is not None:
                raise ValueError(f"GroupQueryAttention: `{arg}` is not supported by shendu")
        if sliding_window is not None or use_gate:
            raise ValueError(
                "GroupQueryAttention: `sliding_window` and `use_gate` are not supported by "
                f"shendu. Received: sliding_window={sliding_window}, use_gate={use_gate}"
            )
        if num_key_value_heads <= 0 or num_query_heads % num_key_value_heads:
            raise ValueError(
                "`num_query_heads` must be divisible by `num_key_value_heads`. Received: "
                f"num_query_heads={num_query_heads}, num_key_value_heads={num_key_value_heads}"
            )
        super().__init__(
            num_query_heads,
            head_dim,
            dropout=dropout,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            seed=seed,
            **kwargs,
        )
        self.head_dim, self.num_query_heads = int(head_dim), int(num_query_heads)
        self.num_key_value_heads = int(num_key_value_heads)
        self.num_repeats = self.num_query_heads // self.num_key_value_heads
        self.flash_attention = flash_attention  # accepted; results are the same

    def build(self, query_shape, value_shape=None, key_shape=None):
        value_shape = value_shape or query_shape
        key_shape = key_shape or value_shape
        q, kv, h = self.num_query_heads, self.num_key_value_heads, self.head_dim
        self.query_kernel, self.query_bias = self._dense("query", (query_shape[-1], q, h), (q, h))
        self.key_kernel, self.key_bias = self._dense("key", (key_shape[-1], kv, h), (kv, h))
        self.value_kernel, self.value_bias = self._dense(
            "value", (value_shape[-1], kv, h), (kv, h)
        )
        d = query_shape[-1]
        self.output_kernel, self.output_bias = self._dense("attention_output", (q, h, d), (d,))
        self.built = True

    def _project(self, x, kernel, bias):
        y = super()._project(x, kernel, bias)
        if kernel is self.key_kernel or kernel is self.value_kernel:  # share the heads
            y = ops.repeat(y, self.num_repeats, axis=2)
        return y

    def get_config(self):
        config = Layer.get_config(self)
        return {
            **config,
            "head_dim": self.head_dim,
            "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "flash_attention": self.flash_attention,
            "kernel_initializer": serialize(self.kernel_initializer),
            "bias_initializer": serialize(self.bias_initializer),
            "seed": self.seed,
        }


class Attention(Layer):
    """Dot-product (Luong) attention: call([query, value(, key)]).

    scores = query @ key^T (times a learned scale when ``use_scale``), softmax over the
    value steps, output = scores @ value.
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                f"Invalid value for argument score_mode. Expected one of {{'dot', 'concat'}}. "
                f"Received: score_mode={score_mode}"
            )
        self.use_scale, self.score_mode, self.dropout, self.seed = (
            use_scale,
            score_mode,
            dropout,
            seed,
        )
        self.supports_masking = True

    def _expects_list(self):
        return True

    def build(self, input_shape):
        self.scale = self.add_weight((), "ones", name="scale") if self.use_scale else None
        self.concat_score_weight = (
            self.add_weight((), "ones", name="concat_score_weight")
            if self.score_mode == "concat"
            else None
        )

    def _scores(self, q, k):
        if self.score_mode == "dot":
            s = ops.matmul(q, ops.swapaxes(k, 1, 2))
            return s * self.scale if self.scale is not None else s
        q_ = ops.expand_dims(q, 2)
        k_ = ops.expand_dims(k, 1)
        s = ops.tanh(q_ + k_)
        if self.scale is not None:
            s = s * self.scale
        return self.concat_score_weight * ops.sum(s, axis=-1)

    def call(
        self,
        inputs,
        mask=None,
        training=None,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
            raise ValueError(
                f"Layer {self.name!r} expects [query, value] or [query, value, key]. "
                f"Received: {type(inputs).__name__}"
            )
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) == 3 else v
        scores = self._scores(q, k)
        vm = None
        if isinstance(mask, (list, tuple)) and len(mask) > 1 and mask[1] is not None:
            vm = _mask_array(mask[1]).astype(bool)[:, None, :]
        if use_causal_mask:
            c = np.tril(np.ones(scores.shape[1:], bool))[None]
            vm = c if vm is None else vm & c
        if vm is not None:
            scores = ops.where(np.broadcast_to(vm, scores.shape), scores, -1e9)
        weights = ops.softmax(scores, axis=-1)
        if training and self.dropout:
            weights = ops.dropout(weights, self.dropout)
        out = ops.matmul(weights, v)
        return (out, weights) if return_attention_scores else out

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)) and mask and mask[0] is not None:
            return _mask_array(mask[0])
        return None

    def compute_output_shape(self, input_shape):
        query, value = input_shape[0], input_shape[1]
        return tuple(query[:-1]) + (value[-1],)

    def compute_output_spec(self, inputs, return_attention_scores=False, **kwargs):
        from .symbolic import KerasTensor

        out = Layer.compute_output_spec(self, inputs)
        if not return_attention_scores:
            return out
        query, value = inputs[0].shape, inputs[1].shape
        return (out, KerasTensor((query[0], query[1], value[1]), self.dtype))

    def get_config(self):
        return {
            **super().get_config(),
            "use_scale": self.use_scale,
            "score_mode": self.score_mode,
            "dropout": self.dropout,
            "seed": self.seed,
        }


class AdditiveAttention(Attention):
    """Bahdanau attention: scores = sum(scale * tanh(query + key)) over features."""

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        kwargs.pop("score_mode", None)
        super().__init__(use_scale=use_scale, score_mode="dot", dropout=dropout, **kwargs)

    def build(self, input_shape):
        dim = input_shape[0][-1]
        self.scale = (
            self.add_weight((dim,), "glorot_uniform", name="scale") if self.use_scale else None
        )

    def _scores(self, q, k):
        s = ops.tanh(ops.expand_dims(q, 2) + ops.expand_dims(k, 1))
        if self.scale is not None:
            s = s * self.scale
        return ops.sum(s, axis=-1)

    def get_config(self):
        config = super().get_config()
        config.pop("score_mode")
        return config
