"""Multimodal fusion: one model over an image and a table of clinical values, with early,
joint and late fusion compared, and a missing modality handled, written as Keras code
(``import shendu as keras``).

Data: generated patients (made here, nothing downloaded). Each has a 24x24 grey scan (a
textured background with one lesion whose size and brightness vary) and three clinical
values (age, a lab marker, and one unrelated value). The outcome's log-odds add the
lesion's size (seen only in the scan) and the marker and age (only in the table), so
neither modality alone can reach what both give. Models, all trained with binary
cross-entropy and scored by ROC AUC on held-out patients: image only (a small CNN) and table
only (an MLP), each modality alone; early fusion, the table's values tiled as extra image
channels into one CNN; joint fusion, the CNN's and the MLP's embeddings concatenated before
a shared head; late fusion, each branch making its own prediction (a logit), a learned
weighting of the two giving the outcome.

Missing modality: the table is missing for 30% of test patients, or for all of them. The
missing values are given as zeros (the training mean, the values being standardised) with a
fourth column flagging them; the same joint model is also trained with modality dropout
(the table hidden and flagged for a random 30% of each training batch). Full run (63 s on
2 cores), AUC: image only 0.760, table only 0.787 (the trivial model: 0.5); early fusion
0.880, joint 0.893, late 0.895. Tables missing for 30% of patients: joint 0.863; for all:
0.763, the image-only model's score: with mean values and a flag, the joint model falls
back on the scan by itself here, and modality dropout adds nothing measurable (0.864 and
0.763); it matters where a missing value cannot be stood in for by a mean. The same script
on Keras 3.15 (JAX): 0.760, 0.787, 0.889, 0.892, 0.893; missing 0.863 and 0.765.

Run: uv run python examples/multimodal_fusion.py [--quick]
"""

import argparse

import numpy as np

import shendu as keras
from shendu import layers, ops

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true")
args = parser.parse_args()
keras.utils.set_random_seed(0)
SIZE, MISSING = 24, 0.3


def patients(n, rng):
    """Scans (n, 24, 24, 1), clinical values (n, 3) standardised, outcomes (n,)."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype("float32")
    scans = np.empty((n, SIZE, SIZE, 1), "float32")
    size = rng.uniform(1.5, 6.0, n)
    for i in range(n):
        background = 0.4 + 0.06 * np.sin(xx / rng.uniform(1.5, 3) + rng.uniform(0, 6))
        cy, cx = rng.uniform(7, SIZE - 7, 2)
        lesion = (yy - cy) ** 2 + (xx - cx) ** 2 <= size[i] ** 2
        image = np.where(lesion, rng.uniform(0.6, 0.8), background)
        scans[i, ..., 0] = np.clip(image + rng.normal(0, 0.08, image.shape), 0, 1)
    age = rng.normal(60, 12, n)
    marker = rng.normal(0, 1, n)
    unrelated = rng.normal(0, 1, n)
    logit = 1.6 * (size - 3.75) / 1.3 + 1.6 * marker + 1.2 * (age - 60) / 12
    outcome = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype("float32")
    table = np.stack([(age - 60) / 12, marker, unrelated], axis=1).astype("float32")
    return scans, table, outcome


def with_missing(table, missing):
    """The table with the missing rows zeroed, and a 4th column flagging them."""
    table = np.where(missing[:, None], 0.0, table).astype("float32")
    return np.concatenate([table, missing[:, None].astype("float32")], axis=1)


def image_branch(scan):
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(scan)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    return layers.GlobalMaxPooling2D()(x)


def table_branch(table):
    return layers.Dense(16, activation="relu")(layers.Dense(16, activation="relu")(table))


def head(x):
    return layers.Dense(1, activation="sigmoid")(layers.Dense(16, activation="relu")(x))


def model(kind):
    scan, table = keras.Input((SIZE, SIZE, 1), name="scan"), keras.Input((4,), name="table")
    if kind == "image only":
        return keras.Model([scan, table], head(image_branch(scan)))
    if kind == "table only":
        return keras.Model([scan, table], head(table_branch(table)))
    if kind == "early":  # the values as constant extra channels of the scan
        tiled = layers.Lambda(
            lambda t: ops.broadcast_to(t[:, None, None, :], (ops.shape(t)[0], SIZE, SIZE, 4)),
            output_shape=(SIZE, SIZE, 4),
        )(table)
        return keras.Model([scan, table], head(image_branch(layers.Concatenate()([scan, tiled]))))
    if kind == "joint":
        joined = layers.Concatenate()([image_branch(scan), table_branch(table)])
        return keras.Model([scan, table], head(joined))
    # late: each branch predicts on its own; a learned weighting of the two logits decides
    image_logit = layers.Dense(1)(layers.Dense(16, activation="relu")(image_branch(scan)))
    table_logit = layers.Dense(1)(table_branch(table))
    outcome = layers.Dense(1, activation="sigmoid")(
        layers.Concatenate()([image_logit, table_logit])
    )
    return keras.Model([scan, table], outcome)


def auc(outcome, predicted):
    return float(keras.metrics.AUC()(outcome, predicted))


def batches(scans, table, outcome, drop, rng, batch_size=64):
    """Training batches, with the table hidden (and flagged) for a ``drop`` share of each
    batch: modality dropout."""
    while True:
        order = rng.permutation(len(outcome))
        for start in range(0, len(order) - batch_size + 1, batch_size):
            b = order[start : start + batch_size]
            hidden = rng.uniform(size=len(b)) < drop
            yield (scans[b], with_missing(table[b], hidden)), outcome[b]


def train(kind, drop=0.0):
    net = model(kind)
    net.compile(optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy")
    net.fit(
        batches(x_scan, x_table, y, drop, np.random.default_rng(1)),
        steps_per_epoch=len(y) // 64,
        epochs=8 if args.quick else 15,
        verbose=0,
    )
    return net


rng = np.random.default_rng(0)
x_scan, x_table, y = patients(1500 if args.quick else 3000, rng)
t_scan, t_table, t_y = patients(1000, rng)
complete = with_missing(t_table, np.zeros(len(t_y), bool))
missing = with_missing(t_table, rng.uniform(size=len(t_y)) < MISSING)
absent = with_missing(t_table, np.ones(len(t_y), bool))

scores = {}
for kind in ("image only", "table only", "early", "joint", "late"):
    net = train(kind)
    scores[kind] = auc(t_y, net.predict([t_scan, complete], verbose=0))
    if kind == "joint":
        scores["joint, 30% tables missing"] = auc(t_y, net.predict([t_scan, missing], verbose=0))
        scores["joint, all tables missing"] = auc(t_y, net.predict([t_scan, absent], verbose=0))
robust = train("joint", drop=MISSING)
for name, table in (("complete", complete), ("30% missing", missing), ("all missing", absent)):
    predicted = robust.predict([t_scan, table], verbose=0)
    scores[f"joint + modality dropout, {name}"] = auc(t_y, predicted)

for name, value in scores.items():
    print(f"{name:40s} AUC {value:.3f}")
best_single = max(scores["image only"], scores["table only"])
print(f"best_single_modality_auc={best_single:.4f}")
print(f"fusion_gain={scores['joint'] - best_single:.4f}")
gain = scores["joint + modality dropout, all missing"] - scores["joint, all tables missing"]
print(f"modality_dropout_gain_all_missing={gain:.4f}")
print(f"joint_auc={scores['joint']:.4f}")
