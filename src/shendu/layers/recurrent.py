"""Embedding, Masking and the recurrent layers.

LSTM, GRU and SimpleRNN run the whole sequence as one fused node (ops.lstm/gru/
simple_rnn). Their cells (LSTMCell, GRUCell, SimpleRNNCell) are also usable one
step at a time, and ``RNN(cell)`` loops any cell, user cells included, with
ordinary ops. Masks from ``Embedding(mask_zero=True)`` or ``Masking`` skip steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import activations, backend, constraints, initializers, ops, regularizers
from ..autograd.tensor import Tensor
from ..naming import serialize
from .base import Layer, same_shape
from .core import _positive_int
from .wrapper import Wrapper


class Embedding(Layer):
    """Integer indices -> dense vectors: embeddings (input_dim, output_dim).

    With ``mask_zero=True`` index 0 is padding and a mask flows to the next layers.

    Args:
        input_dim: the size of the vocabulary (indices run from 0 to ``input_dim - 1``).
        output_dim: the size of each vector.
        embeddings_initializer: initializer of the table ("uniform").
        embeddings_regularizer: penalty on the table added to the loss.
        embeddings_constraint: projection applied to the table after each update.
        mask_zero: index 0 is padding: a mask flows to the next layers.
        **kwargs: the Layer options (name, dtype, trainable, input_length for old code).
    """

    replay_safe = True

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        **kwargs,
    ):
        kwargs.pop("input_length", None)
        super().__init__(**kwargs)
        self.input_dim = _positive_int(self, "input_dim", input_dim)
        self.output_dim = _positive_int(self, "output_dim", output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            (self.input_dim, self.output_dim),
            self.embeddings_initializer,
            name="embeddings",
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
        )

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def compute_output_dtype(self, input_dtype):
        return self.dtype

    def call(self, inputs):
        idx = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
        if idx.dtype.kind in "fb":  # Keras: indices other than integers are cast to int32
            idx = idx.astype(np.int32)
        # the range check runs in the op, so a replayed training step checks it too
        return ops.embedding(self.embeddings, idx, what=f"Layer {self.name!r}")

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        idx = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
        return idx != 0

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": serialize(self.embeddings_initializer),
            "embeddings_regularizer": serialize(self.embeddings_regularizer),
            "embeddings_constraint": serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
        }


class Masking(Layer):
    """Masks steps whose features all equal ``mask_value`` (and zeroes them)."""

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    compute_output_shape = same_shape

    def compute_mask(self, inputs, mask=None):
        return np.any(inputs.data != self.mask_value, axis=-1)

    def call(self, inputs):
        keep = np.any(inputs.data != self.mask_value, axis=-1, keepdims=True)
        return inputs * keep.astype(inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


def _dropout_mask(shape, rate, dtype, rng):
    keep = rng.random(shape) >= rate
    return (keep / (1.0 - rate)).astype(dtype)


class _RecurrentWeights:
    """The kernel, recurrent kernel and bias of a recurrent layer or cell, with Keras's
    initializer, regularizer and constraint options for each (shared by LSTM/GRU/SimpleRNN
    and their cells)."""

    if TYPE_CHECKING:  # given by the Layer this is mixed into, and its constructor
        add_weight: Callable[..., Any]
        use_bias: bool

    def _weight_options(
        self,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
    ):
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def _add_recurrent_weights(self, kernel_shape, recurrent_shape, bias_shape, bias_initializer):
        """kernel, recurrent_kernel and bias (None without ``use_bias``) of these shapes."""
        self.kernel = self.add_weight(
            kernel_shape,
            self.kernel_initializer,
            name="kernel",
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            recurrent_shape,
            self.recurrent_initializer,
            name="recurrent_kernel",
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                bias_shape,
                bias_initializer,
                name="bias",
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def _dropout_options(self, dropout, recurrent_dropout, seed):
        """Dropout rates in [0, 1] and the seed of their masks (a cell's, a ConvLSTM's)."""
        for name, v in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0 <= v <= 1:
                raise ValueError(f"`{name}` must be in [0, 1]. Received: {name}={v}")
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.seed = seed
        self.generator = backend.make_generator(seed) if seed is not None else None

    def _mask_rng(self):
        """The generator of the dropout masks: the layer's seeded one, else the global."""
        return self.generator if self.generator is not None else backend.generator()

    def _weights_config(self):
        return {
            name: serialize(getattr(self, name))
            for name in (
                "kernel_initializer",
                "recurrent_initializer",
                "bias_initializer",
                "kernel_regularizer",
                "recurrent_regularizer",
                "bias_regularizer",
                "kernel_constraint",
                "recurrent_constraint",
                "bias_constraint",
            )
        }


class _FusedRNN(_RecurrentWeights, Layer):
    """Shared code of LSTM, GRU and SimpleRNN (one fused op over the whole sequence)."""

    # stateful layers are excluded by step_replay itself; masks and dropout masks are arrays
    # made in Python, which keep such a step eager
    replay_safe = True

    gates = 1
    n_states = 1

    def _run(self, x, states, m, rm):
        """The fused op over the whole sequence: (outputs, *final states) (each layer
        defines it)."""
        raise NotImplementedError

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        seed=None,
        use_cudnn="auto",
        **kwargs,
    ):
        """Keras's arguments; ``unroll`` and ``use_cudnn`` are kept in the config and
        change nothing (the fused kernel loops over time on any device)."""
        super().__init__(**kwargs)
        self.use_cudnn = use_cudnn
        self.units = _positive_int(self, "units", units)
        if activation not in ("tanh", None) and activations.get(activation) is not ops.tanh:
            raise ValueError(
                f"{type(self).__name__}: the fused kernel supports activation='tanh'. "
                f"Received: activation={activation!r}; use RNN({type(self).__name__}Cell(...)) "
                "for other activations"
            )
        if recurrent_activation != "sigmoid" and self.gates > 1:
            raise ValueError(
                f"{type(self).__name__}: the fused kernel supports recurrent_activation="
                f"'sigmoid'. Received: {recurrent_activation!r}"
            )
        for name, v in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0 <= v < 1:
                raise ValueError(f"`{name}` must be in [0, 1). Received: {name}={v}")
        self.activation, self.recurrent_activation = "tanh", recurrent_activation
        self.use_bias = use_bias
        self._weight_options(
            kernel_initializer,
            recurrent_initializer,
            bias_initializer,
            kernel_regularizer,
            recurrent_regularizer,
            bias_regularizer,
            kernel_constraint,
            recurrent_constraint,
            bias_constraint,
        )
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards, self.stateful, self.unroll = go_backwards, stateful, unroll
        self.seed = seed
        self.generator = backend.make_generator(seed) if seed is not None else None
        self.supports_masking = True
        self.states = None

    def expected_ndim(self):
        return 3

    def build(self, input_shape):
        width = self.gates * self.units
        self._add_recurrent_weights(
            (input_shape[-1], width), (self.units, width), self._bias_shape(), self._bias_init()
        )

    def _bias_shape(self):
        return (self.gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def reset_states(self):
        self.states = None

    def _initial(self, x, initial_state):
        if initial_state is not None:
            states = (
                list(initial_state)
                if isinstance(initial_state, (list, tuple))
                else [initial_state]
            )
            return [s if isinstance(s, Tensor) else Tensor(np.asarray(s, x.dtype)) for s in states]
        if self.stateful and self.states is not None:
            return list(self.states)
        return [None] * self.n_states

    def _masks(self, x, training):
        rng = self.generator if self.generator is not None else backend.generator()
        if training and self.dropout:
            x = x * _dropout_mask((x.shape[0], 1, x.shape[2]), self.dropout, x.dtype, rng)
        rm = None
        if training and self.recurrent_dropout:
            rm = _dropout_mask((x.shape[0], self.units), self.recurrent_dropout, x.dtype, rng)
        return x, rm

    def call(self, inputs, mask=None, training=None, initial_state=None):
        x, rm = self._masks(inputs, training)
        m = None
        if mask is not None:
            m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
        states = self._initial(inputs, initial_state)
        outs = self._run(x, states, m, rm)
        seq, final = outs[0], list(outs[1:])
        if self.stateful:
            self.states = [s.detach() for s in final]
        if self.return_state:
            return [seq] + final
        return seq

    def compute_mask(self, inputs, mask=None):
        if mask is None or not self.return_sequences:
            return None
        m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
        return m[:, ::-1] if self.go_backwards else m

    def compute_output_shape(self, input_shape):
        return _rnn_output_shape(
            input_shape,
            self.units,
            [self.units] * self.n_states,
            self.return_sequences,
            self.return_state,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": self.activation,
            "recurrent_activation": self.recurrent_activation,
            "use_bias": self.use_bias,
            **self._weights_config(),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "seed": self.seed,
            "use_cudnn": self.use_cudnn,
        }


def _rnn_output_shape(input_shape, units, state_sizes, return_sequences, return_state):
    """(batch, steps, units) or (batch, units), then one (batch, size) per state."""
    batch = input_shape[0]
    seq = (batch, input_shape[1], units) if return_sequences else (batch, units)
    if not return_state:
        return seq
    return [seq] + [(batch, size) for size in state_sizes]


class _UnitForgetBias:
    """Zeros for all gates but ones for the forget gate (Keras's unit_forget_bias)."""

    def __init__(self, units):
        self.units = units

    def __call__(self, shape, dtype=None):
        b = np.zeros(shape, dtype=dtype or backend.floatx())
        b[self.units : 2 * self.units] = 1.0
        return b


class LSTM(_FusedRNN):
    """Long short-term memory over (batch, timesteps, features).

    Weights: kernel (features, 4 units), recurrent_kernel (units, 4 units), bias (4 units),
    gates in Keras's order i, f, c, o. ``unit_forget_bias`` starts the forget bias at 1.

    Example:
    >>> import numpy as np, shendu
    >>> shendu.layers.LSTM(8)(np.zeros((2, 5, 3))).shape
    (2, 8)

    Args:
        units: the size of the hidden and cell states.
        unit_forget_bias: start the forget gate's bias at 1.
        **kwargs: the options every recurrent layer takes, as Keras names them:
            activation ("tanh"), recurrent_activation ("sigmoid"), use_bias, the kernel,
            recurrent and bias initializers, regularizers and constraints, dropout,
            recurrent_dropout, return_sequences, return_state, go_backwards, stateful,
            unroll, and the Layer options.
    """

    gates, n_states = 4, 2

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = unit_forget_bias

    def _bias_init(self):
        return _UnitForgetBias(self.units) if self.unit_forget_bias else self.bias_initializer

    def _run(self, x, states, m, rm):
        h0, c0 = states
        return ops.lstm(
            x,
            h0,
            c0,
            self.kernel,
            self.recurrent_kernel,
            self.bias,
            mask=m,
            go_backwards=self.go_backwards,
            return_sequences=self.return_sequences,
            recurrent_mask=rm,
        )

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRU(_FusedRNN):
    """Gated recurrent unit; ``reset_after=True`` (Keras 3's default) has bias (2, 3 units).

    Args:
        units: the size of the hidden state.
        reset_after: apply the reset gate after the recurrent product (Keras's default, the
            cuDNN form; its bias then has two rows).
        **kwargs: the options every recurrent layer takes, as Keras names them:
            activation ("tanh"), recurrent_activation ("sigmoid"), use_bias, the kernel,
            recurrent and bias initializers, regularizers and constraints, dropout,
            recurrent_dropout, return_sequences, return_state, go_backwards, stateful,
            unroll, and the Layer options.
    """

    gates = 3

    def __init__(self, units, reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        self.reset_after = reset_after

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _run(self, x, states, m, rm):
        return ops.gru(
            x,
            states[0],
            self.kernel,
            self.recurrent_kernel,
            self.bias,
            mask=m,
            go_backwards=self.go_backwards,
            return_sequences=self.return_sequences,
            reset_after=self.reset_after,
            recurrent_mask=rm,
        )

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}


class SimpleRNN(_FusedRNN):
    """Fully connected recurrence: h' = tanh(x W + h U + b).

    Args:
        units: the size of the hidden state.
        activation: the state's activation ("tanh").
        recurrent_activation: accepted for Keras code; a simple RNN has no gates.
        use_bias: whether to add a bias.
        kernel_initializer: initializer of the input kernel ("glorot_uniform").
        recurrent_initializer: initializer of the recurrent kernel ("orthogonal").
        bias_initializer: initializer of the bias ("zeros").
        kernel_regularizer: penalty on the input kernel.
        recurrent_regularizer: penalty on the recurrent kernel.
        bias_regularizer: penalty on the bias.
        kernel_constraint: projection of the input kernel after each update.
        recurrent_constraint: projection of the recurrent kernel after each update.
        bias_constraint: projection of the bias after each update.
        dropout: the fraction of the inputs dropped (training only).
        recurrent_dropout: the fraction of the state dropped in the recurrence (training only).
        return_sequences: return every step's output (batch, steps, units), not the last one.
        return_state: also return the final state.
        go_backwards: read the sequence in reverse.
        stateful: carry the final state of a batch into the next one.
        unroll: accepted for Keras code (the loop is fused either way).
        seed: the seed of the dropout masks.
        use_cudnn: accepted for Keras code (no cuDNN here).
        **kwargs: the Layer options (name, dtype, trainable, input_shape).
    """

    def _run(self, x, states, m, rm):
        return ops.simple_rnn(
            x,
            states[0],
            self.kernel,
            self.recurrent_kernel,
            self.bias,
            mask=m,
            go_backwards=self.go_backwards,
            return_sequences=self.return_sequences,
            recurrent_mask=rm,
        )


# ----------------------------------------------------------------------------- cells


class _Cell(_RecurrentWeights, Layer):
    """Shared code of the cells: Keras's options, dropout masks kept for a whole sequence
    (``RNN`` resets them before each call, as Keras's cells keep theirs), the config."""

    gates = 1

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = _positive_int(self, "units", units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self._weight_options(
            kernel_initializer,
            recurrent_initializer,
            bias_initializer,
            kernel_regularizer,
            recurrent_regularizer,
            bias_regularizer,
            kernel_constraint,
            recurrent_constraint,
            bias_constraint,
        )
        self._dropout_options(dropout, recurrent_dropout, seed)
        self._dropout_masks: dict = {}

    def reset_dropout_masks(self):
        """Draw new dropout masks at the next training step (one set a sequence)."""
        self._dropout_masks = {}

    def _dropped(self, x, rate, which, training):
        """x times the cell's dropout mask ``which`` (kept until reset), when training."""
        if not training or not 0 < rate < 1:
            return x
        mask = self._dropout_masks.get(which)
        if mask is None or mask.shape != tuple(x.shape):
            mask = _dropout_mask(tuple(x.shape), rate, x.dtype, self._mask_rng())
            self._dropout_masks[which] = mask
        return x * mask

    def build(self, input_shape):
        width = self.gates * self.units
        self._add_recurrent_weights(
            (input_shape[-1], width), (self.units, width), self._bias_shape(), self._bias_init()
        )
        self.built = True

    def _bias_shape(self):
        return (self.gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def _inputs(self, inputs, h, training):
        """The step's input and state after their dropout masks."""
        x = self._dropped(inputs, self.dropout, "input", training)
        return x, self._dropped(h, self.recurrent_dropout, "state", training)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            **self._weights_config(),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }


class SimpleRNNCell(_Cell):
    """One step of SimpleRNN: call(x_t, [h]) -> (h', [h']), h' = act(x W + b + h U)."""

    def __init__(self, units, activation="tanh", use_bias=True, **kwargs):
        kwargs.pop("recurrent_activation", None)
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.state_size = self.units

    def call(self, inputs, states, training=None):
        x, h = self._inputs(inputs, states[0], training)
        h = self.activation(
            ops.linear(x, self.kernel, self.bias) + ops.matmul(h, self.recurrent_kernel)
        )
        return h, [h]

    def get_config(self):
        config = super().get_config()
        del config["recurrent_activation"]
        return config


class LSTMCell(_Cell):
    """One step of LSTM (gates i, f, c, o): call(x_t, [h, c]) -> (h', [h', c'])."""

    gates = 4

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [self.units, self.units]

    def _bias_init(self):
        return _UnitForgetBias(self.units) if self.unit_forget_bias else self.bias_initializer

    def call(self, inputs, states, training=None):
        x, h = self._inputs(inputs, states[0], training)
        c = states[1]
        u = self.units
        z = ops.linear(x, self.kernel, self.bias) + ops.matmul(h, self.recurrent_kernel)
        act, gate = self.activation, self.recurrent_activation
        i, f = gate(z[:, :u]), gate(z[:, u : 2 * u])
        g, o = act(z[:, 2 * u : 3 * u]), gate(z[:, 3 * u :])
        c = f * c + i * g
        h = o * act(c)
        return h, [h, c]

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRUCell(_Cell):
    """One step of GRU: call(x_t, [h]) -> (h', [h']). reset_after (Keras 3's default):
    hh = act(x W_h + b_h + r (h U_h + b_rec_h)); before: hh = act(x W_h + b_h + (r h) U_h);
    h' = z h + (1 - z) hh."""

    gates = 3

    def __init__(self, units, reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        self.reset_after = bool(reset_after)
        self.state_size = self.units

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def call(self, inputs, states, training=None):
        h_prev = states[0]
        x, h = self._inputs(inputs, h_prev, training)
        u, gate = self.units, self.recurrent_activation
        xz = ops.matmul(x, self.kernel)
        b_in = b_rec = None
        if self.bias is not None:
            b_in, b_rec = (self.bias[0], self.bias[1]) if self.reset_after else (self.bias, None)
            xz = xz + b_in
        if self.reset_after:
            hz = ops.matmul(h, self.recurrent_kernel)
            if b_rec is not None:
                hz = hz + b_rec
            z = gate(xz[:, :u] + hz[:, :u])
            r = gate(xz[:, u : 2 * u] + hz[:, u : 2 * u])
            hh = self.activation(xz[:, 2 * u :] + r * hz[:, 2 * u :])
        else:
            hz = ops.matmul(h, self.recurrent_kernel[:, : 2 * u])
            z = gate(xz[:, :u] + hz[:, :u])
            r = gate(xz[:, u : 2 * u] + hz[:, u:])
            hh = self.activation(
                xz[:, 2 * u :] + ops.matmul(r * h, self.recurrent_kernel[:, 2 * u :])
            )
        h_new = z * h_prev + (1 - z) * hh
        return h_new, [h_new]

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}


def _state_sizes(cell):
    sizes = cell.state_size
    return list(sizes) if isinstance(sizes, (list, tuple)) else [sizes]


class StackedRNNCells(Layer):
    """Cells run one after another at each step, as one cell: each cell's output is the
    next one's input; the states are all the cells' states, in order (``RNN`` given a list
    of cells stacks them this way)."""

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        self.cells = list(cells)
        if not self.cells:
            raise ValueError("StackedRNNCells needs at least one cell. Received: cells=[]")
        for cell in self.cells:
            if not hasattr(cell, "state_size"):
                raise ValueError(
                    "All cells must have a `state_size` attribute. "
                    f"Received: cell={cell!r} without one"
                )

    @property
    def state_size(self):
        return [size for cell in self.cells for size in _state_sizes(cell)]

    @property
    def output_size(self):
        last = self.cells[-1]
        return getattr(last, "output_size", None) or _state_sizes(last)[0]

    def build(self, input_shape):
        rows = input_shape[0] or 1
        features = input_shape[-1]
        for cell in self.cells:
            if not cell.built:
                cell._maybe_build(_ZerosShape((rows, features)))
            features = getattr(cell, "output_size", None) or _state_sizes(cell)[0]
        self.built = True

    def group_states(self, states):
        """The flat ``states`` as one list per cell."""
        grouped, at = [], 0
        for cell in self.cells:
            count = len(_state_sizes(cell))
            grouped.append(list(states[at : at + count]))
            at += count
        return grouped

    def call(self, inputs, states):
        new_states = []
        for cell, own in zip(self.cells, self.group_states(states)):
            inputs, own = cell(inputs, own)
            new_states += list(own) if isinstance(own, (list, tuple)) else [own]
        return inputs, new_states

    def get_config(self):
        from . import serialize

        return {**super().get_config(), "cells": [serialize(cell) for cell in self.cells]}

    @classmethod
    def from_config(cls, config):
        from . import deserialize

        config = dict(config)
        config["cells"] = [deserialize(cell) for cell in config["cells"]]
        return cls(**config)


class RNN(Layer):
    """Loops a cell over time: ``cell.call(x_t, states) -> (output, new_states)``.

    Works with any cell that has ``state_size`` (an int or a list of ints).
    """

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        """``zero_output_for_mask``: masked steps output zeros (else, as Keras's default,
        the last unmasked step's output); ``unroll`` is kept for Keras's API (the loop is
        Python's either way)."""
        super().__init__(**kwargs)
        self.cell = StackedRNNCells(cell) if isinstance(cell, (list, tuple)) else cell
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards, self.stateful = go_backwards, stateful
        self.unroll, self.zero_output_for_mask = bool(unroll), bool(zero_output_for_mask)
        self.supports_masking = True

    def expected_ndim(self):
        return 3

    def build(self, input_shape):
        if not self.cell.built:
            self.cell._maybe_build(_ZerosShape((input_shape[0] or 1, input_shape[-1])))

    def compute_output_shape(self, input_shape):
        sizes = _state_sizes(self.cell)
        units = getattr(self.cell, "output_size", None) or sizes[0]
        return _rnn_output_shape(
            input_shape, units, sizes, self.return_sequences, self.return_state
        )

    def call(self, inputs, mask=None, training=None, initial_state=None):
        n, t_len = inputs.shape[0], inputs.shape[1]
        sizes = _state_sizes(self.cell)
        if initial_state is None:
            states = [Tensor.wrap(np.zeros((n, s), inputs.dtype)) for s in sizes]
        else:
            states = (
                list(initial_state)
                if isinstance(initial_state, (list, tuple))
                else [initial_state]
            )
            # stacked cells take one list per cell, as Keras, or the states flat
            states = [t for s in states for t in (s if isinstance(s, (list, tuple)) else [s])]
        m = None if mask is None else (mask.data if isinstance(mask, Tensor) else np.asarray(mask))
        cells = self.cell.cells if isinstance(self.cell, StackedRNNCells) else [self.cell]
        for cell in cells:  # one set of dropout masks a sequence, as Keras's cells
            if hasattr(cell, "reset_dropout_masks"):
                cell.reset_dropout_masks()
        order = range(t_len - 1, -1, -1) if self.go_backwards else range(t_len)
        outputs, last = [], None
        for t in order:
            out, new_states = self.cell(inputs[:, t], states)
            new_states = (
                list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
            )
            if m is not None:
                keep = m[:, t][:, None]
                new_states = [ops.where(keep, a, b) for a, b in zip(new_states, states)]
                carried = out * 0 if last is None or self.zero_output_for_mask else last
                out = ops.where(keep, out, carried)
            states, last = new_states, out
            outputs.append(out)
        seq = ops.stack(outputs, axis=1) if self.return_sequences else last
        if self.return_state:
            if isinstance(self.cell, StackedRNNCells):  # as Keras: one list per cell
                return [seq] + self.cell.group_states(states)
            return [seq] + states
        return seq

    def get_config(self):
        return {
            **super().get_config(),
            "cell": {"class_name": type(self.cell).__name__, "config": self.cell.get_config()},
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }

    @classmethod
    def from_config(cls, config):
        from . import deserialize

        config = dict(config)
        config["cell"] = deserialize(config["cell"])
        return cls(**config)


class _ZerosShape:
    def __init__(self, shape):
        self.shape = shape


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy backwards; merges with ``merge_mode``
    ('concat', 'sum', 'mul', 'ave' or None for a list).

    Args:
        layer: the recurrent layer run forwards (a copy runs backwards).
        merge_mode: how the two outputs combine: "concat", "sum", "mul", "ave", or None (a list).
        backward_layer: the backward layer, when it should differ from the copy.
        **kwargs: the Layer options (name, dtype, trainable, input_shape).
    """

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        if merge_mode not in ("concat", "sum", "mul", "ave", None):
            raise ValueError(
                "Invalid merge mode. Merge mode should be one of {'sum', 'mul', 'ave', "
                f"'concat', None}}. Received: merge_mode={merge_mode}"
            )
        self.merge_mode = merge_mode
        self.forward_layer = layer
        if backward_layer is None:
            config = layer.get_config()
            config["name"] = "backward_" + config["name"]
            config["go_backwards"] = not config.get("go_backwards", False)
            backward_layer = type(layer).from_config(config)
        self.backward_layer = backward_layer
        self.return_sequences = layer.return_sequences
        self.supports_masking = True

    def build(self, input_shape):
        for layer in (self.forward_layer, self.backward_layer):
            layer._build_from_shapes(tuple(input_shape))

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(input_shape)
        if self.merge_mode is None:
            return [shape, shape]
        if self.merge_mode == "concat":
            return tuple(shape[:-1]) + (None if shape[-1] is None else 2 * shape[-1],)
        return shape

    def call(self, inputs, mask=None, training=None):
        fwd = self.forward_layer(inputs, mask=mask, training=training)
        bwd = self.backward_layer(inputs, mask=mask, training=training)
        if self.return_sequences:
            bwd = ops.flip(bwd, 1)
        if self.merge_mode == "concat":
            return ops.concatenate([fwd, bwd], axis=-1)
        if self.merge_mode == "sum":
            return fwd + bwd
        if self.merge_mode == "mul":
            return fwd * bwd
        if self.merge_mode == "ave":
            return (fwd + bwd) / 2
        return [fwd, bwd]

    def compute_mask(self, inputs, mask=None):
        if mask is None or not self.return_sequences:
            return None
        return mask.data if isinstance(mask, Tensor) else mask

    def get_config(self):
        return {
            **super().get_config(),
            "merge_mode": self.merge_mode,
            "layer": {
                "class_name": type(self.forward_layer).__name__,
                "config": self.forward_layer.get_config(),
            },
        }

    @classmethod
    def from_config(cls, config):
        from . import deserialize

        config = dict(config)
        config["layer"] = deserialize(config["layer"])
        if isinstance(config.get("backward_layer"), dict):  # Keras's config names both
            config["backward_layer"] = deserialize(config["backward_layer"])
        return cls(**config)


class TimeDistributed(Wrapper):
    """Applies a layer to every step: (batch, steps, ...) -> layer on (batch * steps, ...)."""

    def __init__(self, layer, **kwargs):
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    def build(self, input_shape=None):
        self.layer._build_from_shapes((None,) + tuple(input_shape[2:]))

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((None,) + tuple(input_shape[2:]))
        return tuple(input_shape[:2]) + tuple(inner[1:])

    def call(self, inputs, training=None):
        n, t = inputs.shape[0], inputs.shape[1]
        flat = ops.reshape(inputs, (n * t,) + tuple(inputs.shape[2:]))
        out = self.layer(flat, training=training)
        return ops.reshape(out, (n, t) + tuple(out.shape[1:]))
