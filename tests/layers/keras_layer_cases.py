"""The layers of the layer dtype table and their inputs: each case builds a layer from a
Keras-like module (``keras`` or ``shendu``) and names the input it takes, so that the
recorder (``tools/record_keras_dtypes.py``, on Keras) and the table test
(``test_keras_layer_dtype_table.py``, on shendu) call the same layers on the same data.
Nothing here imports Keras or shendu."""

import numpy as np

#: the input dtypes of the table: images and token ids arrive as integers, data as float64
LAYER_DTYPES = ("bool", "uint8", "int32", "int64", "float16", "float32", "float64")

_R = np.random.default_rng(0)
#: input shapes: a batch of flat features, sequences, images, token ids
INPUTS = {
    "flat": _R.uniform(0, 4, (2, 6)),
    "seq": _R.uniform(0, 4, (2, 5, 3)),
    "image": _R.uniform(0, 4, (2, 6, 6, 3)),
    "ids": _R.integers(0, 4, (2, 5)).astype("float64"),
}

#: name -> (constructor of a module, input kind)
LAYER_CASES = {
    "Dense": (lambda k: k.layers.Dense(3), "flat"),
    "EinsumDense": (lambda k: k.layers.EinsumDense("ab,bc->ac", output_shape=3), "flat"),
    "Conv1D": (lambda k: k.layers.Conv1D(2, 2), "seq"),
    "Conv2D": (lambda k: k.layers.Conv2D(2, 2), "image"),
    "DepthwiseConv2D": (lambda k: k.layers.DepthwiseConv2D(2), "image"),
    "SeparableConv2D": (lambda k: k.layers.SeparableConv2D(2, 2), "image"),
    "Conv2DTranspose": (lambda k: k.layers.Conv2DTranspose(2, 2), "image"),
    "MaxPooling2D": (lambda k: k.layers.MaxPooling2D(), "image"),
    # strides given: Keras 3.15 on JAX fails without them ("inconsistent window_strides")
    "AveragePooling2D": (lambda k: k.layers.AveragePooling2D(2, strides=2), "image"),
    "GlobalAveragePooling2D": (lambda k: k.layers.GlobalAveragePooling2D(), "image"),
    "GlobalMaxPooling2D": (lambda k: k.layers.GlobalMaxPooling2D(), "image"),
    "Flatten": (lambda k: k.layers.Flatten(), "image"),
    "Reshape": (lambda k: k.layers.Reshape((3, 2)), "flat"),
    "Permute": (lambda k: k.layers.Permute((2, 1)), "seq"),
    "RepeatVector": (lambda k: k.layers.RepeatVector(2), "flat"),
    "Dropout": (lambda k: k.layers.Dropout(0.5), "flat"),
    "Activation": (lambda k: k.layers.Activation("relu"), "flat"),
    "ReLU": (lambda k: k.layers.ReLU(), "flat"),
    "Softmax": (lambda k: k.layers.Softmax(), "flat"),
    "LayerNormalization": (lambda k: k.layers.LayerNormalization(), "flat"),
    "BatchNormalization": (lambda k: k.layers.BatchNormalization(), "flat"),
    "UnitNormalization": (lambda k: k.layers.UnitNormalization(), "flat"),
    "Rescaling": (lambda k: k.layers.Rescaling(1 / 255), "image"),
    "Normalization": (lambda k: k.layers.Normalization(mean=2.0, variance=4.0), "flat"),
    "Embedding": (lambda k: k.layers.Embedding(10, 2), "ids"),
    "LSTM": (lambda k: k.layers.LSTM(2), "seq"),
    "GRU": (lambda k: k.layers.GRU(2), "seq"),
    "SimpleRNN": (lambda k: k.layers.SimpleRNN(2), "seq"),
    "ZeroPadding2D": (lambda k: k.layers.ZeroPadding2D(1), "image"),
    "UpSampling2D": (lambda k: k.layers.UpSampling2D(), "image"),
    "Cropping2D": (lambda k: k.layers.Cropping2D(1), "image"),
    "CategoryEncoding": (
        lambda k: k.layers.CategoryEncoding(num_tokens=10, output_mode="multi_hot"),
        "ids",
    ),
    "Discretization": (lambda k: k.layers.Discretization(bin_boundaries=[1.0, 2.0]), "flat"),
    "GaussianNoise": (lambda k: k.layers.GaussianNoise(0.1), "flat"),
}


def layer_input(kind, dtype):
    """The input of ``kind`` in ``dtype`` (values kept small and non-negative)."""
    x = INPUTS[kind]
    return x > 2 if dtype == "bool" else x.astype(dtype)
