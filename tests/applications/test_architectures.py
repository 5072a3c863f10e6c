"""Every application at its defaults (weights=None) has Keras 3.15's parameter count, number
of weight tensors, first and last layer with weights, model name and input shape (numbers
read from Keras 3.15 building the same models). Built under the loaders' allocation limits:
zero-filled weights and shape rules, so all 40 build in seconds."""

import pytest

import shendu as keras
from shendu.layers.allocation import allocation_limits

# name: (parameters, weight tensors, first weighted layer, last, model name, input shape);
# NASNetLarge's tensor count was not read (its Keras build took too long here): None
KERAS = {
    "ConvNeXtBase": (
        88591464,
        344,
        "convnext_base_stem",
        "convnext_base_head_dense",
        "convnext_base",
        (224, 224, 3),
    ),
    "ConvNeXtLarge": (
        197767336,
        344,
        "convnext_large_stem",
        "convnext_large_head_dense",
        "convnext_large",
        (224, 224, 3),
    ),
    "ConvNeXtSmall": (
        50223688,
        344,
        "convnext_small_stem",
        "convnext_small_head_dense",
        "convnext_small",
        (224, 224, 3),
    ),
    "ConvNeXtTiny": (
        28589128,
        182,
        "convnext_tiny_stem",
        "convnext_tiny_head_dense",
        "convnext_tiny",
        (224, 224, 3),
    ),
    "ConvNeXtXLarge": (
        350196968,
        344,
        "convnext_xlarge_stem",
        "convnext_xlarge_head_dense",
        "convnext_xlarge",
        (224, 224, 3),
    ),
    "DenseNet121": (8062504, 606, "conv1_conv", "predictions", "densenet121", (224, 224, 3)),
    "DenseNet169": (14307880, 846, "conv1_conv", "predictions", "densenet169", (224, 224, 3)),
    "DenseNet201": (20242984, 1006, "conv1_conv", "predictions", "densenet201", (224, 224, 3)),
    "EfficientNetB0": (
        5330571,
        314,
        "normalization",
        "predictions",
        "efficientnetb0",
        (224, 224, 3),
    ),
    "EfficientNetB1": (
        7856239,
        442,
        "normalization",
        "predictions",
        "efficientnetb1",
        (240, 240, 3),
    ),
    "EfficientNetB2": (
        9177569,
        442,
        "normalization",
        "predictions",
        "efficientnetb2",
        (260, 260, 3),
    ),
    "EfficientNetB3": (
        12320535,
        499,
        "normalization",
        "predictions",
        "efficientnetb3",
        (300, 300, 3),
    ),
    "EfficientNetB4": (
        19466823,
        613,
        "normalization",
        "predictions",
        "efficientnetb4",
        (380, 380, 3),
    ),
    "EfficientNetB5": (
        30562527,
        741,
        "normalization",
        "predictions",
        "efficientnetb5",
        (456, 456, 3),
    ),
    "EfficientNetB6": (
        43265143,
        855,
        "normalization",
        "predictions",
        "efficientnetb6",
        (528, 528, 3),
    ),
    "EfficientNetB7": (
        66658687,
        1040,
        "normalization",
        "predictions",
        "efficientnetb7",
        (600, 600, 3),
    ),
    "EfficientNetV2B0": (
        7200312,
        361,
        "stem_conv",
        "predictions",
        "efficientnetv2-b0",
        (224, 224, 3),
    ),
    "EfficientNetV2B1": (
        8212124,
        443,
        "stem_conv",
        "predictions",
        "efficientnetv2-b1",
        (240, 240, 3),
    ),
    "EfficientNetV2B2": (
        10178374,
        462,
        "stem_conv",
        "predictions",
        "efficientnetv2-b2",
        (260, 260, 3),
    ),
    "EfficientNetV2B3": (
        14467622,
        538,
        "stem_conv",
        "predictions",
        "efficientnetv2-b3",
        (300, 300, 3),
    ),
    "EfficientNetV2L": (
        119027848,
        1331,
        "stem_conv",
        "predictions",
        "efficientnetv2-l",
        (480, 480, 3),
    ),
    "EfficientNetV2M": (
        54431388,
        963,
        "stem_conv",
        "predictions",
        "efficientnetv2-m",
        (480, 480, 3),
    ),
    "EfficientNetV2S": (
        21612360,
        672,
        "stem_conv",
        "predictions",
        "efficientnetv2-s",
        (384, 384, 3),
    ),
    "InceptionResNetV2": (
        55873736,
        898,
        "conv2d",
        "predictions",
        "inception_resnet_v2",
        (299, 299, 3),
    ),
    "InceptionV3": (23851784, 378, "conv2d", "predictions", "inception_v3", (299, 299, 3)),
    "MobileNet": (4253864, 137, "conv1", "conv_preds", "mobilenet_1.00_224", (224, 224, 3)),
    "MobileNetV2": (3538984, 262, "Conv1", "predictions", "mobilenetv2_1.00_224", (224, 224, 3)),
    "MobileNetV3Large": (5507432, 266, "conv", "logits", "MobileNetV3Large", (None, None, 3)),
    "MobileNetV3Small": (2554968, 210, "conv", "logits", "MobileNetV3Small", (None, None, 3)),
    "NASNetLarge": (88949818, None, "stem_conv1", "predictions", "nasnet_large", (331, 331, 3)),
    "NASNetMobile": (5326716, 1126, "stem_conv1", "predictions", "nasnet_mobile", (224, 224, 3)),
    "ResNet101": (44707176, 626, "conv1_conv", "predictions", "resnet101", (224, 224, 3)),
    "ResNet101V2": (44675560, 544, "conv1_conv", "predictions", "resnet101v2", (224, 224, 3)),
    "ResNet152": (60419944, 932, "conv1_conv", "predictions", "resnet152", (224, 224, 3)),
    "ResNet152V2": (60380648, 816, "conv1_conv", "predictions", "resnet152v2", (224, 224, 3)),
    "ResNet50": (25636712, 320, "conv1_conv", "predictions", "resnet50", (224, 224, 3)),
    "ResNet50V2": (25613800, 272, "conv1_conv", "predictions", "resnet50v2", (224, 224, 3)),
    "VGG16": (138357544, 32, "block1_conv1", "predictions", "vgg16", (224, 224, 3)),
    "VGG19": (143667240, 38, "block1_conv1", "predictions", "vgg19", (224, 224, 3)),
    "Xception": (22910480, 236, "block1_conv1", "predictions", "xception", (299, 299, 3)),
}


@pytest.mark.parametrize("name", sorted(KERAS))
def test_architecture_equals_keras(name):
    params, tensors, first, last, model_name, shape = KERAS[name]
    keras.utils.clear_session()  # default layer names count from zero, as in a fresh Keras
    with allocation_limits(10**12, 10**12):
        model = getattr(keras.applications, name)(weights=None)
    weighted = [layer.name for layer in model.layers if layer.weights]
    assert model.count_params() == params
    if tensors is not None:
        assert len(model.weights) == tensors
    assert (weighted[0], weighted[-1], model.name) == (first, last, model_name)
    assert tuple(model.input_shape[1:]) == shape
