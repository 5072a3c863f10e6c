"""Each example runs (reduced with --quick) in a subprocess and beats a threshold that its
full run beats by a margin."""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))

CASES = [
    ("digits_cnn_augmentation.py", "test_accuracy", lambda v: v >= 0.8),
    ("text_bilstm.py", "test_accuracy", lambda v: v >= 0.9),
    ("tabular_missing_imbalanced.py", "auc", lambda v: v >= 0.9),
    ("multilabel_multitask.py", "mean_label_accuracy", lambda v: v >= 0.9),
    ("generative_vae_gan.py", "vae_ratio", lambda v: v < 0.9),
    ("generative_vae_gan.py", "gan_modes", lambda v: v >= 6),
    ("uncertainty_mc_dropout.py", "coverage_90", lambda v: 0.75 <= v <= 1.0),
    ("autoencoder_2d.py", "centroid_accuracy", lambda v: v >= 0.35),
    ("overfitting.py", "plain_overfit", lambda v: v > 0.03),
    ("timeseries_lstm.py", "mae_ratio", lambda v: v < 0.85),
    ("graph_convolution.py", "accuracy", lambda v: v >= 0.8),
    ("reinforcement_dqn.py", "average_return", lambda v: v >= 60),
    ("segmentation_unet.py", "unet_iou", lambda v: v >= 0.7),  # quick 0.81, baseline 0.36
    ("detection_centernet.py", "map_50", lambda v: v >= 0.75),  # quick 0.93, baseline 0.10
    ("dna_motif.py", "network_auc", lambda v: v >= 0.85),  # quick 0.91, 3-mer baseline 0.78
    ("dna_motif.py", "motif_match", lambda v: v >= 7),  # the planted 8 bases: 8 in quick
    ("multimodal_fusion.py", "fusion_gain", lambda v: v >= 0.05),  # quick 0.098 over 0.788
    ("medical_phantoms.py", "cnn_accuracy", lambda v: v >= 0.85),  # quick 0.99, base 0.82
    ("medical_phantoms.py", "generated_recognised", lambda v: v >= 0.5),  # quick 0.67-0.70, 1/3
]


@pytest.mark.parametrize("script,key,check", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_example(script, key, check):
    needs = {
        "tabular_missing_imbalanced.py": "sklearn",
        "timeseries_lstm.py": "statsmodels",
        "graph_convolution.py": "networkx",
        "reinforcement_dqn.py": "gymnasium",
    }
    if script in needs:
        pytest.importorskip(needs[script])
    r = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", script), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    value = float(re.search(rf"{key}=([-0-9.]+)", r.stdout).group(1))
    assert check(value), f"{key}={value}\n{r.stdout}"
