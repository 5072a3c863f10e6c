"""Medical images, classification and generation: a CNN telling normal tissue from benign
and malignant lesions, and a conditional variational autoencoder that draws new images of a
chosen class, written as Keras code (``import shendu as keras``).

Data: generated phantoms (made here, nothing downloaded; no medical image set installs
offline from the package registries): 28x28 grey "dermoscopy-like" patches of faintly
textured skin holding nothing (normal), a round lesion (benign) or a lesion with a ragged
border (malignant), of one range of tones, at random sizes around the centre, under noise;
the classes are imbalanced (50%, 30%, 20%).

Classification: a small CNN with balanced class weights, scored by accuracy and the
macro-average of the per-class ROC AUCs on held-out patches. Baseline: logistic regression
on each patch's 16-bin intensity histogram (what tone and lesion area tell, not shape).

Generation: a conditional VAE (the class given to the encoder and the decoder; the KL term
added by a layer with ``add_loss``, the reconstruction by the compiled loss: a Gaussian
likelihood whose standard deviation is the phantoms' pixel noise, a cross-entropy weighing
the faint tones too lightly, so that the decoder ignored z). It draws 100 patches per class
from the prior (the decoded mean plus the likelihood's noise), and the CNN above judges
them: the share it assigns to the class asked for (chance: one third). Full run (82 s on 2
cores): CNN accuracy 1.000, macro AUC 1.000; histogram baseline 0.805 and 0.899 (the
majority class: 0.49); generated patches recognised as their class 0.683. The same script
on Keras 3.15 (JAX): 0.999 and 1.000, baseline 0.805 and 0.897, recognised 0.740.

Run: uv run python examples/medical_phantoms.py [--quick] [--plot phantoms.png]
(--plot shows real and generated patches per class; needs matplotlib)
"""

import argparse

import numpy as np

import shendu as keras
from shendu import layers, ops

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true")
parser.add_argument("--plot", default=None)
args = parser.parse_args()
keras.utils.set_random_seed(0)

SIZE, CLASSES, LATENT = 28, 3, 8
NAMES = ["normal", "benign", "malignant"]
SHARES = [0.5, 0.3, 0.2]


def phantoms(n, rng):
    """Patches (n, 28, 28, 1) in [0, 1] and their classes (n,)."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype("float32")
    images = np.empty((n, SIZE, SIZE, 1), "float32")
    classes = rng.choice(CLASSES, size=n, p=SHARES)
    for i, kind in enumerate(classes):
        skin = 0.6 + 0.03 * np.sin(xx / rng.uniform(1.2, 2.5) + rng.uniform(0, 6))
        skin += 0.03 * np.sin(yy / rng.uniform(1.2, 2.5) + rng.uniform(0, 6))
        image = skin
        if kind > 0:
            cy, cx = SIZE / 2 + rng.uniform(-3, 3, 2)
            radius = rng.uniform(5.0, 8.0)
            angle = np.arctan2(yy - cy, xx - cx)
            distance = np.hypot(yy - cy, xx - cx)
            # both kinds share one range of tones: the border tells them apart
            tone = rng.uniform(0.2, 0.35) + 0.04 * rng.standard_normal(skin.shape)
            if kind == 1:  # benign: round
                lesion = distance <= radius
            else:  # malignant: a ragged border
                border = radius * (
                    1
                    + 0.25 * np.sin(3 * angle + rng.uniform(0, 6))
                    + 0.15 * np.sin(7 * angle + rng.uniform(0, 6))
                )
                lesion = distance <= border
            image = np.where(lesion, tone, skin)
        image = image + rng.normal(0, 0.03, image.shape)
        images[i, ..., 0] = np.clip(image, 0, 1)
    return images, classes


def histogram_features(images):
    """Each patch's 16-bin intensity histogram (shares of its pixels)."""
    bins = np.clip((images[..., 0] * 16).astype(int), 0, 15).reshape(len(images), -1)
    return np.stack([np.bincount(row, minlength=16) for row in bins]).astype("float32") / (
        SIZE * SIZE
    )


def classifier():
    inputs = keras.Input((SIZE, SIZE, 1))
    x = layers.Conv2D(16, 3, activation="relu", padding="same")(inputs)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(32, 3, activation="relu", padding="same")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(32, 3, activation="relu", padding="same")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Dense(64, activation="relu")(layers.Flatten()(x))
    x = layers.Dropout(0.3)(x)
    return keras.Model(inputs, layers.Dense(CLASSES, activation="softmax")(x), name="classifier")


class Sampling(layers.Layer):
    """z = mean + exp(log_var / 2) * eps, eps ~ N(0, 1) (the reparameterisation trick)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1)

    def call(self, inputs):
        mean, log_var = inputs
        eps = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        return mean + ops.exp(0.5 * log_var) * eps


class KLDivergence(layers.Layer):
    """Adds KL(N(mean, var) || N(0, 1)) = -1/2 sum(1 + log var - mean^2 - var), averaged
    over the batch, to the model's loss; passes ``mean`` on."""

    def call(self, inputs):
        mean, log_var = inputs
        kl = -0.5 * ops.sum(1 + log_var - mean**2 - ops.exp(log_var), axis=1)
        self.add_loss(ops.mean(kl))
        return mean


def decoder():
    z, label = keras.Input((LATENT,)), keras.Input((CLASSES,))
    x = layers.Dense(7 * 7 * 32, activation="relu")(layers.Concatenate()([z, label]))
    x = layers.Reshape((7, 7, 32))(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu")(x)
    outputs = layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x)
    return keras.Model([z, label], outputs, name="decoder")


def conditional_vae(decode):
    image, label = keras.Input((SIZE, SIZE, 1)), keras.Input((CLASSES,))
    x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(image)
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Concatenate()([layers.Flatten()(x), label])
    x = layers.Dense(64, activation="relu")(x)
    mean, log_var = layers.Dense(LATENT)(x), layers.Dense(LATENT)(x)
    mean = KLDivergence()([mean, log_var])
    z = Sampling()([mean, log_var])
    return keras.Model([image, label], decode([z, label]), name="cvae")


NOISE = 0.05  # the likelihood's standard deviation: about the phantoms' pixel noise


def pixel_likelihood(y_true, y_pred):
    """The reconstruction term: the negative log-likelihood of the pixels under a Gaussian
    of standard deviation NOISE around the decoded patch, sum((x - x')^2) / (2 NOISE^2)
    (the tones differ by tenths: a cross-entropy weighs that too lightly against the KL
    term, and the decoder learns to ignore z)."""
    return ops.sum(ops.square(y_true - y_pred), axis=(1, 2, 3)) / (2 * NOISE**2)


def macro_auc(classes, probabilities):
    return float(
        np.mean(
            [float(keras.metrics.AUC()(classes == c, probabilities[:, c])) for c in range(CLASSES)]
        )
    )


rng = np.random.default_rng(0)
n_train = 1500 if args.quick else 4000
x_train, c_train = phantoms(n_train, rng)
x_test, c_test = phantoms(1000, rng)
y_train = keras.utils.to_categorical(c_train, CLASSES)
weights = {c: n_train / (CLASSES * np.sum(c_train == c)) for c in range(CLASSES)}

baseline = keras.Sequential([keras.Input((16,)), layers.Dense(CLASSES, activation="softmax")])
baseline.compile(optimizer=keras.optimizers.Adam(2e-2), loss="categorical_crossentropy")
baseline.fit(histogram_features(x_train), y_train, epochs=40, batch_size=64, verbose=0)
base_probabilities = baseline.predict(histogram_features(x_test), verbose=0)
base_accuracy = float(np.mean(base_probabilities.argmax(1) == c_test))

cnn = classifier()
cnn.compile(optimizer=keras.optimizers.Adam(3e-3), loss="categorical_crossentropy")
cnn.fit(
    x_train,
    y_train,
    class_weight=weights,
    epochs=14 if args.quick else 20,
    batch_size=64,
    verbose=0,
)
probabilities = cnn.predict(x_test, verbose=0)
accuracy = float(np.mean(probabilities.argmax(1) == c_test))

decode = decoder()
cvae = conditional_vae(decode)
cvae.compile(optimizer=keras.optimizers.Adam(2e-3), loss=pixel_likelihood)
cvae.fit([x_train, y_train], x_train, epochs=16 if args.quick else 20, batch_size=64, verbose=0)
asked = np.repeat(np.arange(CLASSES), 100)
z = rng.standard_normal((len(asked), LATENT)).astype("float32")
decoded = decode.predict([z, keras.utils.to_categorical(asked, CLASSES)], verbose=0)
# a sample of the model is the decoded mean plus the likelihood's pixel noise
generated = np.clip(decoded + rng.normal(0, NOISE, decoded.shape), 0, 1).astype("float32")
recognised = float(np.mean(cnn.predict(generated, verbose=0).argmax(1) == asked))

if args.plot:
    from shendu.utils.plotting import _pyplot

    plt = _pyplot()
    fig, axes = plt.subplots(CLASSES, 8, figsize=(8, 3.3))
    for c in range(CLASSES):
        real = x_test[c_test == c][:2]
        made = generated[asked == c][:6]
        for j, patch in enumerate(list(real) + list(made)):
            axes[c, j].imshow(patch[..., 0], cmap="gray", vmin=0, vmax=1)
            axes[c, j].set_axis_off()
        axes[c, 0].set_title(f"{NAMES[c]} (real)", fontsize=7, loc="left")
        axes[c, 2].set_title("generated", fontsize=7, loc="left")
    fig.tight_layout()
    fig.savefig(args.plot, dpi=80)

print(f"histogram_baseline_accuracy={base_accuracy:.4f}")
print(f"histogram_baseline_macro_auc={macro_auc(c_test, base_probabilities):.4f}")
print(f"cnn_macro_auc={macro_auc(c_test, probabilities):.4f}")
print(f"generated_recognised={recognised:.4f}")
print(f"cnn_accuracy={accuracy:.4f}")
