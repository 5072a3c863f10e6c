"""The suite's larger workloads (#33): how the cost grows with the work.

  H  ResNet-20 (He et al. 2016, CIFAR form: 3 stages of 3 basic blocks, 16/32/64 filters,
     projection shortcuts) on 32x32x3, batch 128, softmax cross-entropy, Adam
  I  GPT-style language model: 4 pre-norm blocks, d_model 256, 4 heads, feed-forward 1,024,
     causal attention over 256 tokens of a 1,000-word vocabulary, batch 8
  W  B's MLP 784-w-w-10 at batch 128 for w from 256 to 4,096

Each builder takes the library (shendu or keras: the same code builds both models) and
returns ``(model, x, y)`` compiled with Adam; the ``torch_`` builders return the same network
in PyTorch with its loss. ``flops_per_sample`` gives the products' work of a training step
(forward, input gradient and weight gradient: three products per layer), for the fraction of
the GEMM peak each size reaches.
"""

from __future__ import annotations

import numpy as np

RESNET_BATCH = 128
GPT_BATCH, GPT_T, GPT_D, GPT_HEADS, GPT_FF, GPT_BLOCKS, GPT_VOCAB = 8, 256, 256, 4, 1024, 4, 1000
WIDTHS = (256, 512, 1024, 2048, 4096)


def cifar_data(n):
    rng = np.random.default_rng(0)
    return rng.random((n, 32, 32, 3), dtype=np.float32), rng.integers(0, 10, n)


def resnet20(lib, n):
    L = lib.layers
    x, y = cifar_data(n)

    def conv_bn(h, filters, kernel, strides=1, relu=True):
        h = L.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False)(h)
        h = L.BatchNormalization()(h)
        return L.Activation("relu")(h) if relu else h

    inp = L.Input((32, 32, 3))
    h = conv_bn(inp, 16, 3)
    for stage, filters in enumerate((16, 32, 64)):
        for block in range(3):
            strides = 2 if stage > 0 and block == 0 else 1
            branch = conv_bn(conv_bn(h, filters, 3, strides), filters, 3, relu=False)
            if strides != 1:
                h = conv_bn(h, filters, 1, strides, relu=False)
            h = L.Activation("relu")(L.Add()([h, branch]))
    out = L.Dense(10)(L.GlobalAveragePooling2D()(h))
    model = lib.Model(inp, out)
    model.compile("adam", lib.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model, x, y


def torch_resnet20(n):
    import torch
    from torch import nn

    def conv_bn(c_in, c_out, kernel, stride=1):
        return [
            nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
        ]

    class Block(nn.Module):
        def __init__(self, c_in, c_out, stride):
            super().__init__()
            self.branch = nn.Sequential(
                *conv_bn(c_in, c_out, 3, stride), nn.ReLU(), *conv_bn(c_out, c_out, 3)
            )
            self.shortcut = (
                nn.Sequential(*conv_bn(c_in, c_out, 1, stride)) if stride != 1 else None
            )

        def forward(self, h):
            short = h if self.shortcut is None else self.shortcut(h)
            return torch.relu(short + self.branch(h))

    layers = [*conv_bn(3, 16, 3), nn.ReLU()]
    c_in = 16
    for stage, filters in enumerate((16, 32, 64)):
        for block in range(3):
            layers.append(Block(c_in, filters, 2 if stage > 0 and block == 0 else 1))
            c_in = filters
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    x, y = cifar_data(n)
    x = np.ascontiguousarray(np.moveaxis(x, -1, 1))
    return nn.Sequential(*layers), x, y.astype(np.int64), nn.CrossEntropyLoss()


def gpt_data(n):
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, GPT_VOCAB, (n, GPT_T + 1))
    return tokens[:, :-1].astype(np.int32), tokens[:, 1:].astype(np.int32)


def gpt(lib, n):
    L = lib.layers
    x, y = gpt_data(n)

    class TokenAndPosition(L.Layer):
        """Token embeddings plus learned position embeddings."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.tokens = L.Embedding(GPT_VOCAB, GPT_D)
            self.positions = L.Embedding(GPT_T, GPT_D)

        def call(self, ids):
            return self.tokens(ids) + self.positions(lib.ops.arange(GPT_T))

    inp = L.Input((GPT_T,), dtype="int32")
    h = TokenAndPosition()(inp)
    for _ in range(GPT_BLOCKS):
        a = L.LayerNormalization(epsilon=1e-5)(h)
        a = L.MultiHeadAttention(GPT_HEADS, GPT_D // GPT_HEADS)(a, a, use_causal_mask=True)
        h = L.Add()([h, a])
        f = L.LayerNormalization(epsilon=1e-5)(h)
        f = L.Dense(GPT_D)(L.Dense(GPT_FF, activation="gelu")(f))
        h = L.Add()([h, f])
    out = L.Dense(GPT_VOCAB)(L.LayerNormalization(epsilon=1e-5)(h))
    model = lib.Model(inp, out)
    model.compile("adam", lib.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model, x, y


def torch_gpt(n):
    from torch import nn

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tokens = nn.Embedding(GPT_VOCAB, GPT_D)
            self.positions = nn.Embedding(GPT_T, GPT_D)
            self.blocks = nn.ModuleList(
                nn.TransformerEncoderLayer(
                    GPT_D,
                    GPT_HEADS,
                    GPT_FF,
                    dropout=0.0,
                    activation="gelu",
                    batch_first=True,
                    norm_first=True,
                )
                for _ in range(GPT_BLOCKS)
            )
            self.norm = nn.LayerNorm(GPT_D)
            self.out = nn.Linear(GPT_D, GPT_VOCAB)
            self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(GPT_T))

        def forward(self, ids):
            h = self.tokens(ids) + self.positions.weight
            for block in self.blocks:
                h = block(h, src_mask=self.mask, is_causal=True)
            return self.out(self.norm(h))

    def loss(logits, target):
        return nn.functional.cross_entropy(logits.reshape(-1, GPT_VOCAB), target.reshape(-1))

    x, y = gpt_data(n)
    return GPT(), x.astype(np.int64), y.astype(np.int64), loss


def mlp_of_width(lib, width, n):
    L = lib.layers
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((n, 784)).astype(np.float32), rng.integers(0, 10, n)
    model = lib.Sequential(
        [
            L.Input((784,)),
            L.Dense(width, activation="relu"),
            L.Dense(width, activation="relu"),
            L.Dense(10),
        ]
    )
    model.compile("adam", lib.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model, x, y


def torch_mlp_of_width(width, n):
    from torch import nn

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((n, 784)).astype(np.float32), rng.integers(0, 10, n)
    model = nn.Sequential(
        nn.Linear(784, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10)
    )
    return model, x, y.astype(np.int64), nn.CrossEntropyLoss()


def mlp_flops_per_sample(width):
    """A training step's products per sample: 6 FLOPs per weight (forward, two gradients)."""
    return 6 * (784 * width + width * width + width * 10)


def resnet20_flops_per_sample():
    """The convolutions' and the head's products of a training step, per sample."""
    macs, size, c_in = 32 * 32 * 3 * 16 * 9, 32, 16
    for stage, filters in enumerate((16, 32, 64)):
        for block in range(3):
            stride = 2 if stage > 0 and block == 0 else 1
            size //= stride
            macs += size * size * filters * 9 * (c_in + filters)  # the block's two 3x3
            if stride != 1:
                macs += size * size * filters * c_in  # the 1x1 projection
            c_in = filters
    return 6 * (macs + 64 * 10)


def gpt_flops_per_sample():
    """The projections', feed-forward's, attention's and head's products, per sequence."""
    per_token = GPT_BLOCKS * (4 * GPT_D * GPT_D + 2 * GPT_D * GPT_FF) + GPT_D * GPT_VOCAB
    attention = GPT_BLOCKS * 2 * GPT_T * GPT_D  # scores and weighted sum, per token
    return 6 * GPT_T * (per_token + attention)
