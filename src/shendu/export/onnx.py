"""ONNX export (the ``[onnx]`` extra: the ``onnx`` package builds the graph).

The model's layers are translated one by one into ONNX nodes, in the order the model
runs them; weights become initializers. Tensors stay channels_last between layers (as in
shendu); convolution and pooling are wrapped in transposes to ONNX's channels_first.
Inference semantics: Dropout and the noise layers are identities, BatchNormalization
uses its moving statistics (folded into one multiply-add). A layer without a converter
raises a ValueError that names it.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .. import activations, backend
from ..layers import core, merging

OPSET = 17


def _onnx():
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        raise ImportError(
            "ONNX export needs the onnx package, which is not installed. Install the extra: "
            "pip install 'shendu[onnx]'"
        ) from None
    return onnx, TensorProto, helper, numpy_helper


class _Graph:
    """Collects nodes and initializers with unique names."""

    def __init__(self):
        self.onnx, self.TensorProto, self.helper, self.numpy_helper = _onnx()
        self.nodes, self.initializers, self.count = [], [], 0

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, array, base="const"):
        n = self.name(base)
        self.initializers.append(self.numpy_helper.from_array(np.asarray(array), n))
        return n

    def ints(self, values, base="shape"):
        return self.const(np.asarray(values, dtype=np.int64), base)

    def op(self, op_type, inputs, base=None, n_out=1, **attrs):
        outs = [self.name(base or op_type.lower()) for _ in range(n_out)]
        self.nodes.append(
            self.helper.make_node(op_type, list(inputs), outs, name=self.name(op_type), **attrs)
        )
        return outs[0] if n_out == 1 else outs


def _w(v):
    return backend.to_numpy(v.data).astype(np.float32)


# ----------------------------------------------------------------------------- activations


def _activation(g, fn, x):
    if fn is activations.linear or fn is None:
        return x
    name = activations.serialize(fn)
    simple = {
        "relu": "Relu",
        "sigmoid": "Sigmoid",
        "tanh": "Tanh",
        "softplus": "Softplus",
        "softsign": "Softsign",
        "selu": "Selu",
        "exponential": "Exp",
    }
    if name in simple:
        return g.op(simple[name], [x])
    if name == "softmax":
        return g.op("Softmax", [x], axis=-1)
    if name == "log_softmax":
        return g.op("LogSoftmax", [x], axis=-1)
    if name == "elu":
        return g.op("Elu", [x], alpha=1.0)
    if name == "leaky_relu":
        return g.op("LeakyRelu", [x], alpha=0.2)
    if name == "relu6":
        return g.op("Clip", [x, g.const(np.float32(0)), g.const(np.float32(6))])
    if name == "hard_sigmoid":
        return g.op("HardSigmoid", [x], alpha=1 / 6, beta=0.5)
    if name in ("silu", "swish"):
        return g.op("Mul", [x, g.op("Sigmoid", [x])])
    if name == "gelu":  # keras.activations.gelu: the exact (erf) form
        inner = g.op("Erf", [g.op("Div", [x, g.const(np.float32(np.sqrt(2)))])])
        half = g.op("Mul", [x, g.const(np.float32(0.5))])
        return g.op("Mul", [half, g.op("Add", [inner, g.const(np.float32(1))])])
    raise ValueError(f"ONNX export: activation {name!r} has no converter")


# ----------------------------------------------------------------------------- layers


def _to_nchw(g, x, rank):
    return g.op("Transpose", [x], perm=[0, rank + 1] + list(range(1, rank + 1)))


def _to_nhwc(g, x, rank):
    return g.op("Transpose", [x], perm=[0] + list(range(2, rank + 2)) + [1])


def _same_pads(size, k, s, d):
    from ..ops.conv import _same_padding

    return _same_padding(size, k, s, d)


def _spatial_pads(layer, in_shape, kernel, strides, dilation):
    if layer.padding == "valid":
        return [0] * (2 * len(kernel))
    if any(s is None for s in in_shape):
        raise ValueError(
            f"ONNX export: layer {layer.name!r} uses padding='same' with unknown spatial "
            "sizes; export with a fixed input size"
        )
    pads = [_same_pads(n, k, s, d) for n, k, s, d in zip(in_shape, kernel, strides, dilation)]
    return [p[0] for p in pads] + [p[1] for p in pads]


def _conv(g, layer, x, in_shape):
    from ..layers import conv as conv_layers

    if layer.data_format != "channels_last":
        raise ValueError(f"ONNX export: layer {layer.name!r}: only channels_last is supported")
    rank = layer.rank
    if isinstance(layer, conv_layers.DepthwiseConv2D):
        k = _w(layer.depthwise_kernel)  # (kh, kw, c, m)
        c, m = k.shape[2], k.shape[3]
        kernel = k.reshape(k.shape[:2] + (1, c * m))
        groups = c
    elif isinstance(layer, conv_layers.SeparableConv2D):
        raise ValueError(f"ONNX export: layer {layer.name!r} (SeparableConv2D) has no converter")
    else:
        kernel = _w(layer.kernel)
        groups = layer.groups if not layer.transpose else 1
    spatial = in_shape[1 : rank + 1]
    xn = _to_nchw(g, x, rank)
    if layer.transpose:
        w = np.transpose(kernel, (rank + 1, rank) + tuple(range(rank)))  # (in, out, k...)
        from ..ops.conv import _transpose_geometry

        begins, ends, extra = [], [], []
        for n, k, st, d in zip(spatial, kernel.shape[:rank], layer.strides, layer.dilation_rate):
            out, crop = _transpose_geometry(n, k, st, d, layer.padding, layer.output_padding)
            full = (n - 1) * st + (k - 1) * d + 1
            end = full - crop - out
            begins.append(crop)
            ends.append(max(end, 0))
            extra.append(max(-end, 0))
        y = g.op(
            "ConvTranspose",
            [xn, g.const(w, "kernel")],
            kernel_shape=list(kernel.shape[:rank]),
            strides=list(layer.strides),
            dilations=list(layer.dilation_rate),
            pads=begins + ends,
            output_padding=extra,
        )
    else:
        w = np.transpose(kernel, (rank + 1, rank) + tuple(range(rank)))  # (out, in/g, k...)
        pads = _spatial_pads(
            layer, spatial, kernel.shape[:rank], layer.strides, layer.dilation_rate
        )
        y = g.op(
            "Conv",
            [xn, g.const(w, "kernel")],
            kernel_shape=list(kernel.shape[:rank]),
            strides=list(layer.strides),
            dilations=list(layer.dilation_rate),
            pads=pads,
            group=groups,
        )
    y = _to_nhwc(g, y, rank)
    if getattr(layer, "bias", None) is not None:
        y = g.op("Add", [y, g.const(_w(layer.bias), "bias")])
    return _activation(g, layer.activation, y)


def _pool(g, layer, x, in_shape):
    rank = layer.rank
    spatial = in_shape[1 : rank + 1]
    strides = layer.strides or layer.pool_size
    pads = _spatial_pads(layer, spatial, layer.pool_size, strides, (1,) * rank)
    xn = _to_nchw(g, x, rank)
    if layer.mode == "max":
        y = g.op(
            "MaxPool", [xn], kernel_shape=list(layer.pool_size), strides=list(strides), pads=pads
        )
    else:
        y = g.op(
            "AveragePool",
            [xn],
            kernel_shape=list(layer.pool_size),
            strides=list(strides),
            pads=pads,
            count_include_pad=0,
        )
    return _to_nhwc(g, y, rank)


def _lstm_like(g, layer, x, kind):
    units = layer.units
    w = _w(layer.kernel).T  # (gates*u, in)
    r = _w(layer.recurrent_kernel).T
    b = _w(layer.bias) if layer.bias is not None else None
    if kind == "LSTM":  # Keras i, f, c, o  ->  ONNX i, o, f, c
        order = np.r_[0:units, 3 * units : 4 * units, units : 2 * units, 2 * units : 3 * units]
        w, r = w[order], r[order]
        bias = (
            np.zeros(8 * units, np.float32)
            if b is None
            else np.concatenate([b[order], np.zeros(4 * units, np.float32)])
        )
        attrs: dict[str, Any] = {}
    elif kind == "GRU":
        if not layer.reset_after:
            raise ValueError(f"ONNX export: GRU {layer.name!r} needs reset_after=True")
        bias = np.zeros(6 * units, np.float32) if b is None else b.reshape(-1)
        attrs = {"linear_before_reset": 1}
    else:
        bias = (
            np.zeros(2 * units, np.float32)
            if b is None
            else np.concatenate([b, np.zeros(units, np.float32)])
        )
        attrs = {"activations": ["Tanh"]}
    if layer.go_backwards:
        attrs["direction"] = "reverse"
    # onnxruntime runs only the time-major layout: (seq, batch, features)
    xt = g.op("Transpose", [x], perm=[1, 0, 2])
    outs = g.op(
        kind,
        [xt, g.const(w[None], "W"), g.const(r[None], "R"), g.const(bias[None], "B")],
        n_out=2,
        hidden_size=units,
        **attrs,
    )
    y, y_h = outs[0], outs[1]
    if layer.return_sequences:
        # Y: (seq, 1, batch, hidden) -> (batch, seq, hidden)
        y = g.op("Transpose", [g.op("Squeeze", [y, g.ints([1])])], perm=[1, 0, 2])
        if layer.go_backwards:  # Keras returns the outputs in processing (reversed) order
            y = g.op("Slice", [y, g.ints([-1]), g.ints([-(2**62)]), g.ints([1]), g.ints([-1])])
        return y
    return g.op("Squeeze", [y_h, g.ints([0])])


def _mha(g, layer, q, v):
    h, kd, vd = layer.num_heads, layer.key_dim, layer.value_dim

    def project(x, kernel, bias, dim):
        d = kernel.shape[0]
        y = g.op("MatMul", [x, g.const(_w(kernel).reshape(d, h * dim), "kernel")])
        if bias is not None:
            y = g.op("Add", [y, g.const(_w(bias).reshape(h * dim), "bias")])
        y = g.op("Reshape", [y, g.ints([0, 0, h, dim])])
        return g.op("Transpose", [y], perm=[0, 2, 1, 3])  # (b, h, t, dim)

    qh = project(q, layer.query_kernel, layer.query_bias, kd)
    kh = project(v, layer.key_kernel, layer.key_bias, kd)
    vh = project(v, layer.value_kernel, layer.value_bias, vd)
    scores = g.op("MatMul", [qh, g.op("Transpose", [kh], perm=[0, 1, 3, 2])])
    scores = g.op("Mul", [scores, g.const(np.float32(1 / np.sqrt(kd)))])
    probs = g.op("Softmax", [scores], axis=-1)
    ctx = g.op("Transpose", [g.op("MatMul", [probs, vh])], perm=[0, 2, 1, 3])
    ctx = g.op("Reshape", [ctx, g.ints([0, 0, h * vd])])
    d_out = layer.output_kernel.shape[-1]
    y = g.op("MatMul", [ctx, g.const(_w(layer.output_kernel).reshape(h * vd, d_out), "kernel")])
    if layer.output_bias is not None:
        y = g.op("Add", [y, g.const(_w(layer.output_bias), "bias")])
    return y


def convert_layer(g, layer, inputs, in_shapes, call_kwargs=None):
    """ONNX nodes for one layer call; returns the output name(s)."""
    from .. import layers as L

    x = inputs[0] if isinstance(inputs, list) else inputs
    shape = in_shapes[0] if isinstance(in_shapes, list) else in_shapes
    if isinstance(layer, core.Dense):
        y = g.op("MatMul", [x, g.const(_w(layer.kernel), "kernel")])
        if layer.bias is not None:
            y = g.op("Add", [y, g.const(_w(layer.bias), "bias")])
        return _activation(g, layer.activation, y)
    if isinstance(layer, core.Activation):
        return _activation(g, layer.activation, x)
    if isinstance(
        layer,
        (
            core.Dropout,
            core.Identity,
            L.GaussianNoise,
            L.GaussianDropout,
            L.AlphaDropout,
            L.ActivityRegularization,
            L.SpatialDropout1D,
            L.SpatialDropout2D,
        ),
    ):
        return g.op("Identity", [x])
    if isinstance(layer, core.Flatten):
        return g.op("Flatten", [x], axis=1)
    if isinstance(layer, core.Reshape):
        return g.op("Reshape", [x, g.ints([0] + list(layer.target_shape))])
    if isinstance(layer, L.BatchNormalization):
        scale = 1 / np.sqrt(_w(layer.moving_variance) + layer.epsilon)
        if layer.gamma is not None:
            scale = scale * _w(layer.gamma)
        shift = -_w(layer.moving_mean) * scale
        if layer.beta is not None:
            shift = shift + _w(layer.beta)
        axis = layer.axis % len(shape)
        shape_b = [1] * (len(shape) - axis) if axis != len(shape) - 1 else None
        if shape_b is not None:
            scale = scale.reshape([-1] + [1] * (len(shape) - axis - 1))
            shift = shift.reshape([-1] + [1] * (len(shape) - axis - 1))
        y = g.op("Mul", [x, g.const(scale.astype(np.float32), "bn_scale")])
        return g.op("Add", [y, g.const(shift.astype(np.float32), "bn_shift")])
    if isinstance(layer, L.LayerNormalization):
        axes = [layer.axis] if isinstance(layer.axis, int) else list(layer.axis)
        if [a % len(shape) for a in axes] != [len(shape) - 1] or layer.rms_scaling:
            raise ValueError(f"ONNX export: LayerNormalization {layer.name!r} over axis -1 only")
        dim = shape[-1]
        gamma = _w(layer.gamma) if layer.gamma is not None else np.ones(dim, np.float32)
        beta = _w(layer.beta) if layer.beta is not None else np.zeros(dim, np.float32)
        return g.op(
            "LayerNormalization",
            [x, g.const(gamma, "gamma"), g.const(beta, "beta")],
            axis=-1,
            epsilon=layer.epsilon,
        )
    if isinstance(layer, L.Embedding):
        idx = g.op("Cast", [x], to=g.TensorProto.INT64)
        return g.op("Gather", [g.const(_w(layer.embeddings), "embeddings"), idx], axis=0)
    if isinstance(
        layer, (L.Conv1D, L.Conv2D, L.Conv1DTranspose, L.Conv2DTranspose, L.DepthwiseConv2D)
    ):
        return _conv(g, layer, x, shape)
    if isinstance(layer, (L.MaxPooling1D, L.MaxPooling2D, L.AveragePooling1D, L.AveragePooling2D)):
        return _pool(g, layer, x, shape)
    if isinstance(
        layer,
        (
            L.GlobalAveragePooling1D,
            L.GlobalAveragePooling2D,
            L.GlobalMaxPooling1D,
            L.GlobalMaxPooling2D,
        ),
    ):
        op = "ReduceMean" if layer.mode == "average" else "ReduceMax"
        return g.op(op, [x], axes=list(range(1, layer.rank + 1)), keepdims=int(layer.keepdims))
    if isinstance(layer, L.LSTM):
        return _lstm_like(g, layer, x, "LSTM")
    if isinstance(layer, L.GRU):
        return _lstm_like(g, layer, x, "GRU")
    if isinstance(layer, L.SimpleRNN):
        return _lstm_like(g, layer, x, "RNN")
    if isinstance(layer, L.MultiHeadAttention):
        value = inputs[1] if isinstance(inputs, list) and len(inputs) > 1 else x
        return _mha(g, layer, x, value)
    if isinstance(layer, L.ReLU) and layer.negative_slope == 0 and layer.threshold == 0:
        y = g.op("Relu", [x])
        if layer.max_value is not None:
            y = g.op("Min", [y, g.const(np.float32(layer.max_value))])
        return y
    if isinstance(layer, L.LeakyReLU):
        return g.op("LeakyRelu", [x], alpha=layer.negative_slope)
    if isinstance(layer, L.Softmax):
        return g.op("Softmax", [x], axis=layer.axis)
    if isinstance(layer, merging.Concatenate):
        return g.op("Concat", list(inputs), axis=layer.axis)
    if isinstance(layer, merging.Subtract):
        return g.op("Sub", list(inputs))
    if isinstance(layer, (merging.Add, merging.Multiply, merging.Maximum, merging.Minimum)):
        op = {
            merging.Average: "Sum",
            merging.Add: "Sum",
            merging.Multiply: "Mul",
            merging.Maximum: "Max",
            merging.Minimum: "Min",
        }[type(layer)]
        y = g.op(op, list(inputs)) if op != "Mul" else _chain(g, "Mul", inputs)
        if isinstance(layer, merging.Average):
            y = g.op("Div", [y, g.const(np.float32(len(inputs)))])
        return y
    raise ValueError(
        f"ONNX export: layer {layer.name!r} ({type(layer).__name__}) has no ONNX converter"
    )


def _chain(g, op, inputs):
    y = inputs[0]
    for other in inputs[1:]:
        y = g.op(op, [y, other])
    return y


def _value_info(g, name, shape, dtype):
    elem = g.TensorProto.INT64 if np.dtype(dtype).kind in "iu" else g.TensorProto.FLOAT
    dims = ["batch" if i == 0 or s is None else s for i, s in enumerate(shape)]
    dims = [d if d != "batch" or i == 0 else f"d{i}" for i, d in enumerate(dims)]
    return g.helper.make_tensor_value_info(name, elem, dims)


def export_onnx(model, filepath, opset=OPSET):
    """Write ``model`` (Sequential or functional, built) as an ONNX file; returns the path."""
    from ..saving.files import atomic_write

    g = _Graph()
    path = os.fspath(filepath)
    graph_inputs, graph_outputs = [], []
    graph = model.functional_graph()
    if graph is not None:
        names = {}
        for t in graph.inputs:
            n = t.node.layer.name
            names[id(t)] = n
            graph_inputs.append(_value_info(g, n, t.shape, t.dtype))
        for node in graph.nodes:
            ins = [t for t in node.input_tensors]
            if node.layer is model:
                raise ValueError("ONNX export: nested models are not supported")
            if not hasattr(node.layer, "call"):
                continue
            arg = node.args[0] if node.args else node.kwargs.get("inputs")
            if isinstance(arg, (list, tuple)):
                inputs = [names[id(t)] for t in arg]
                shapes = [t.shape for t in arg]
            else:
                inputs = [names[id(t)] for t in ins]
                shapes = [t.shape for t in ins]
            if not isinstance(arg, (list, tuple)) and len(inputs) == 1:
                out = convert_layer(g, node.layer, inputs[0], shapes[0], node.kwargs)
            else:
                out = convert_layer(g, node.layer, inputs, shapes, node.kwargs)
            outs = out if isinstance(out, list) else [out]
            for t, o in zip(node.outputs, outs):
                names[id(t)] = o
        for i, t in enumerate(graph.outputs):
            out_name = f"output_{i}" if len(graph.outputs) > 1 else "output"
            g.nodes.append(g.helper.make_node("Identity", [names[id(t)]], [out_name]))
            graph_outputs.append(_value_info(g, out_name, t.shape, t.dtype))
    else:
        raise ValueError(
            "ONNX export works on built Sequential and functional models (build the model, or "
            "give it an Input, first)"
        )
    graph = g.helper.make_graph(g.nodes, model.name, graph_inputs, graph_outputs, g.initializers)
    proto = g.helper.make_model(
        graph, opset_imports=[g.helper.make_opsetid("", opset)], producer_name="shendu"
    )
    proto.ir_version = min(proto.ir_version, 9)
    g.onnx.checker.check_model(proto, full_check=True)
    data = proto.SerializeToString()

    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(data)

    atomic_write(path, write)
    return path


__all__ = ["export_onnx"]
