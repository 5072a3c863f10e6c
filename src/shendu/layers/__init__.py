"""Keras layers. Public names are curated here; modules can move without breaking imports."""

from .activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from .attention import AdditiveAttention, Attention, GroupQueryAttention, MultiHeadAttention
from .base import Layer, Variable
from .color_augmentation import (
    AutoContrast,
    ContrastLimitedAdaptiveHistogramEqualization,
    Equalization,
    RandomColorDegeneration,
    RandomColorJitter,
    RandomGaussianBlur,
    RandomGrayscale,
    RandomHue,
    RandomInvert,
    RandomPosterization,
    RandomSaturation,
    RandomSharpness,
    Solarization,
)
from .conv import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
)
from .conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from .core import Activation, Dense, Dropout, Flatten, Identity, Lambda, Reshape
from .einsum_dense import EinsumDense
from .geometric_augmentation import (
    RandomElasticTransform,
    RandomErasing,
    RandomPerspective,
    RandomShear,
)
from .image_preprocessing import (
    CenterCrop,
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Resizing,
)
from .input_layer import Input, InputLayer
from .input_spec import InputSpec
from .merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from .mixing_augmentation import AugMix, CutMix, MixUp, RandAugment
from .normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    RMSNormalization,
    UnitNormalization,
)
from .operations import TensorOperation  # registers the recorder of ops on KerasTensors
from .pipeline import MaxNumBoundingBoxes, Pipeline
from .pooling import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from .preprocessing import (
    CategoryEncoding,
    Discretization,
    HashedCrossing,
    Hashing,
    IntegerLookup,
    Normalization,
    Rescaling,
    StringLookup,
)
from .recurrent import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    Embedding,
    GRUCell,
    LSTMCell,
    Masking,
    SimpleRNN,
    SimpleRNNCell,
    StackedRNNCells,
    TimeDistributed,
)
from .regularization import (
    ActivityRegularization,
    AlphaDropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from .reshaping import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    Permute,
    RepeatVector,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from .reversible_embedding import ReversibleEmbedding
from .spectral_normalization import SpectralNormalization
from .spectrogram import MelSpectrogram, STFTSpectrogram
from .symbolic import KerasTensor
from .text_vectorization import TextVectorization
from .wrapper import Wrapper

Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution3DTranspose = Conv3DTranspose
Convolution1DTranspose, Convolution2DTranspose = Conv1DTranspose, Conv2DTranspose
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = (
    MaxPooling1D,
    MaxPooling2D,
    AveragePooling1D,
    AveragePooling2D,
)
MaxPool3D, AvgPool3D = MaxPooling3D, AveragePooling3D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool3D, GlobalMaxPool3D = GlobalAveragePooling3D, GlobalMaxPooling3D


def serialize(layer) -> dict:
    """``{"class_name", "config"}`` of a layer (``deserialize`` reads it back)."""
    from ..naming import get_registered_name

    name = type(layer).__name__
    registered = get_registered_name(type(layer))
    return {
        "class_name": name,
        "config": layer.get_config(),
        **({"registered_name": registered} if registered != name else {}),
    }


__all__ = [
    "ContrastLimitedAdaptiveHistogramEqualization",
    "MaxNumBoundingBoxes",
    "Pipeline",
    "MelSpectrogram",
    "STFTSpectrogram",
    "HashedCrossing",
    "AutoContrast",
    "Equalization",
    "RandomColorDegeneration",
    "RandomColorJitter",
    "RandomGaussianBlur",
    "RandomGrayscale",
    "RandomHue",
    "RandomInvert",
    "RandomPosterization",
    "RandomSaturation",
    "RandomSharpness",
    "Solarization",
    "RandomElasticTransform",
    "RandomErasing",
    "RandomPerspective",
    "RandomShear",
    "AugMix",
    "CutMix",
    "MixUp",
    "RandAugment",
    "Activation",
    "Add",
    "Average",
    "Concatenate",
    "Dense",
    "Dot",
    "Dropout",
    "Flatten",
    "Identity",
    "Input",
    "InputLayer",
    "InputSpec",
    "KerasTensor",
    "Lambda",
    "Layer",
    "Maximum",
    "Minimum",
    "Multiply",
    "Reshape",
    "Subtract",
    "Variable",
    "add",
    "average",
    "concatenate",
    "dot",
    "AdaptiveAveragePooling1D",
    "AdaptiveAveragePooling2D",
    "AdaptiveAveragePooling3D",
    "AdaptiveMaxPooling1D",
    "AdaptiveMaxPooling2D",
    "AdaptiveMaxPooling3D",
    "StackedRNNCells",
    "ReversibleEmbedding",
    "Wrapper",
    "SpectralNormalization",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
    "Convolution1DTranspose",
    "Convolution2DTranspose",
    "Convolution3D",
    "Conv3DTranspose",
    "Convolution3DTranspose",
    "ConvLSTM1D",
    "ConvLSTM2D",
    "ConvLSTM3D",
    "Conv3D",
    "MaxPooling3D",
    "AveragePooling3D",
    "MaxPool3D",
    "AvgPool3D",
    "SeparableConvolution2D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "serialize",
    "TextVectorization",
    "EinsumDense",
    "GlobalAveragePooling3D",
    "GlobalMaxPooling3D",
    "GlobalAvgPool3D",
    "GlobalMaxPool3D",
    "SpatialDropout3D",
    "Cropping3D",
    "UpSampling3D",
    "ZeroPadding3D",
    "DepthwiseConv1D",
    "SeparableConv1D",
    "SeparableConvolution1D",
    "GroupQueryAttention",
]


def layer_classes() -> dict:
    """Every layer class of shendu by name, and the registered model classes."""
    import sys

    module = sys.modules[__name__]
    from .base import Layer as _Layer

    table = {}
    for name in dir(module):
        obj = getattr(module, name)
        if isinstance(obj, type) and issubclass(obj, _Layer):
            table[name] = obj
    table["TensorOperation"] = TensorOperation  # x + y on symbolic tensors (not public)
    table.update(MODEL_CLASSES)
    return table


#: Model classes that configs may name, registered by the models package when it loads
#: (``register_model_classes``: layers never import models).
MODEL_CLASSES: dict = {}


def register_model_classes(model, sequential) -> None:
    """Let configs name the model classes: ``Model`` (and Keras's ``Functional``) and
    ``Sequential``."""
    MODEL_CLASSES.update({"Model": model, "Functional": model, "Sequential": sequential})


def is_model(obj) -> bool:
    """Whether ``obj`` is a model (of the registered ``Model`` class), not a plain layer."""
    model = MODEL_CLASSES.get("Model")
    return model is not None and isinstance(obj, model)


def _own_build_from_config(layer) -> bool:
    """Whether the layer's class (a user's) defines its own ``build_from_config``."""
    from .base import Layer

    return (
        isinstance(layer, Layer)
        and type(layer).build_from_config is not Layer.build_from_config
        and not type(layer).__module__.startswith("shendu.")
    )


def deserialize(config, custom_objects=None):
    """A layer from ``{'class_name': ..., 'config': ...}`` through the closed table of shendu
    layers plus ``custom_objects`` and registered classes (never by importing a name).

    An error while rebuilding carries a note naming the layer (``err.__notes__``), so that
    a loader can say where in a nested config it happened."""
    from ..naming import _REGISTERED, scoped_objects, unknown_name_error

    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Expected a layer config with 'class_name'. Received: {config!r}")
    table = layer_classes()
    name = config["class_name"]
    if not isinstance(name, str):
        raise ValueError(f"Expected a layer class name (a string). Received: {name!r}")
    registered = config.get("registered")  # Keras's registered name "package>Name", if any
    cls = (
        (custom_objects or {}).get(name)
        or scoped_objects().get(name)
        or table.get(name)
        or (_REGISTERED.get(registered) if isinstance(registered, str) else None)
        or _REGISTERED.get(name)
    )
    if cls is None:
        raise unknown_name_error("layer class", name, table)
    inner = config.get("config") or {}
    if not isinstance(inner, dict):
        raise ValueError(
            f"Expected the config of layer class {name!r} to be an object. "
            f"Received: {type(inner).__name__}"
        )
    inner = dict(inner)
    try:
        if hasattr(cls, "from_config"):
            try:
                layer = (
                    cls.from_config(inner, custom_objects)
                    if name in ("Model", "Functional", "Sequential")
                    else cls.from_config(inner)
                )
            except TypeError as err:
                raise TypeError(
                    f"Could not rebuild layer {name!r} from its config: {err}"
                ) from None
        else:
            layer = cls(**inner)
        build = config.get("build_config")
        if isinstance(build, dict) and _own_build_from_config(layer) and not layer.built:
            layer.build_from_config(build)  # a user's own way to build (Keras calls it)
            layer.built = True  # as Keras's build wrapper marks it
        return layer
    except Exception as err:
        err.add_note(f"in layer {inner.get('name')!r} ({name})")
        raise
