"""Functional models on Inputs with unknown sizes, for the symbolic-shape table: each case
builds (inputs, outputs) from a Keras-like module, so that the recorder
(``tools/record_keras_dtypes.py``, on Keras) and ``test_keras_symbolic_table.py`` (on
shendu) build the same graph and compare output shapes and dtypes. Nothing here imports
Keras or shendu."""


def _layer(make, shape, dtype="float32"):
    def build(k):
        inputs = k.Input(shape, dtype=dtype)
        return inputs, make(k)(inputs)

    return build


def _text_cnn(k):
    """keras.io's text classification from scratch: Conv1D with strides on unknown length."""
    inputs = k.Input((None,), dtype="int64")
    x = k.layers.Embedding(100, 8)(inputs)
    x = k.layers.Conv1D(16, 7, padding="valid", activation="relu", strides=3)(x)
    x = k.layers.Conv1D(16, 7, padding="valid", activation="relu", strides=3)(x)
    x = k.layers.GlobalMaxPooling1D()(x)
    return inputs, k.layers.Dense(1, activation="sigmoid")(x)


class _TokenCount:
    """A user layer that reads ops.shape inside call (the size it computes stays unknown)."""

    @staticmethod
    def build(k):
        class TokenMean(k.layers.Layer):
            def call(self, x):
                n = k.ops.shape(x)[1]
                return k.ops.sum(x, axis=1) / k.ops.cast(n, "float32")

        inputs = k.Input((None, 4))
        return inputs, TokenMean()(inputs)


class _Routing:
    """A Switch-Transformer-like user layer: tokens flattened by ``ops.shape`` sizes, a
    sublayer applied, the sequence shape restored (batch and length stay unknown)."""

    @staticmethod
    def build(k):
        class Route(k.layers.Layer):
            def __init__(self):
                super().__init__()
                self.expert = k.layers.Dense(6)

            def call(self, x):
                batch, length = k.ops.shape(x)[0], k.ops.shape(x)[1]
                tokens = k.ops.reshape(x, (-1, x.shape[-1]))
                routed = k.ops.softmax(self.expert(tokens), axis=-1)
                routed = k.ops.reshape(routed, (batch, length, 6))
                return k.ops.concatenate([routed, k.ops.max(x, axis=-1, keepdims=True)], -1)

        inputs = k.Input((None, 4))
        return inputs, Route()(inputs)


class _UserConv:
    """A user layer calling ``ops.conv`` and a strided slice on unknown image sizes."""

    @staticmethod
    def build(k):
        class Edges(k.layers.Layer):
            def call(self, x):
                y = k.ops.conv(x, k.ops.ones((3, 3, 3, 2)), strides=2, padding="same")
                return y[:, ::2, 1:, :] * 2.0

        inputs = k.Input((None, None, 3))
        return inputs, Edges()(inputs)


def _known_batch(make, shape):
    def build(k):
        inputs = k.Input(shape, batch_size=2)
        return inputs, make(k)(inputs)

    return build


def _ops_on_symbolic(k):
    inputs = k.Input((None, 3))
    x = k.ops.expand_dims(inputs, -1)
    x = k.ops.concatenate([x, k.ops.square(x)], axis=-1)
    return inputs, k.ops.reshape(x, (-1, 6))


def _app(name):
    def build(k):
        model = getattr(k.applications, name)(
            weights=None, include_top=False, input_shape=(None, None, 3)
        )
        return model.inputs, model.outputs

    return build


SYMBOLIC_CASES = {
    "Conv1D on (None, 10)": _layer(lambda k: k.layers.Conv1D(3, 3), (None, 10)),
    "Conv1D strides on (None, 1)": _layer(lambda k: k.layers.Conv1D(4, 80, strides=16), (None, 1)),
    "Conv2D on (None, None, 3)": _layer(lambda k: k.layers.Conv2D(4, 7), (None, None, 3)),
    "Conv2DTranspose on (None, None, 3)": _layer(
        lambda k: k.layers.Conv2DTranspose(4, 3, strides=2), (None, None, 3)
    ),
    "MaxPooling2D on (None, None, 3)": _layer(lambda k: k.layers.MaxPooling2D(3), (None, None, 3)),
    "AveragePooling1D on (None, 4)": _layer(
        lambda k: k.layers.AveragePooling1D(2, strides=2), (None, 4)
    ),
    "GlobalAveragePooling2D on (None, None, 3)": _layer(
        lambda k: k.layers.GlobalAveragePooling2D(), (None, None, 3)
    ),
    "Flatten on (None, 3)": _layer(lambda k: k.layers.Flatten(), (None, 3)),
    "Reshape on (None, 4)": _layer(lambda k: k.layers.Reshape((-1, 2)), (None, 4)),
    "UpSampling2D on (None, None, 3)": _layer(lambda k: k.layers.UpSampling2D(), (None, None, 3)),
    "ZeroPadding2D on (None, None, 3)": _layer(
        lambda k: k.layers.ZeroPadding2D(2), (None, None, 3)
    ),
    "Embedding on (None,)": _layer(lambda k: k.layers.Embedding(10, 3), (None,), "int32"),
    "LSTM on (None, 3)": _layer(lambda k: k.layers.LSTM(2, return_sequences=True), (None, 3)),
    "Bidirectional GRU on (None, 3)": _layer(
        lambda k: k.layers.Bidirectional(k.layers.GRU(2)), (None, 3)
    ),
    "MultiHeadAttention on (None, 4)": _layer(
        lambda k: lambda x: k.layers.MultiHeadAttention(2, 2)(x, x), (None, 4)
    ),
    "Dense on (None, 4)": _layer(lambda k: k.layers.Dense(2), (None, 4)),
    "LayerNormalization on (None, 4)": _layer(lambda k: k.layers.LayerNormalization(), (None, 4)),
    "text CNN": _text_cnn,
    "user layer with ops.shape": _TokenCount.build,
    "ops on KerasTensors": _ops_on_symbolic,
    "user layer routing tokens": _Routing.build,
    "user layer with ops.conv": _UserConv.build,
    "Dense on batch 2": _known_batch(lambda k: k.layers.Dense(3), (5, 3)),
    "Conv1D on batch 2": _known_batch(lambda k: k.layers.Conv1D(2, 3), (5, 3)),
    "LSTM on batch 2": _known_batch(lambda k: k.layers.LSTM(4), (5, 3)),
    "Flatten on batch 2": _known_batch(lambda k: k.layers.Flatten(), (5, 3)),
    **{
        f"{name} on (None, None, 3)": _app(name)
        for name in (
            "ResNet50",
            "DenseNet121",
            "Xception",
            "EfficientNetB0",
            "MobileNet",
            "MobileNetV2",
            "MobileNetV3Small",
            "InceptionV3",
            "VGG16",
            "ConvNeXtTiny",
        )
    },
}
