"""The keras.io corpus on shendu: each program of tests/keras_io/programs (Keras 3 code
after a keras.io example or guide, on small offline data) runs with ``import keras``
changed to ``import shendu as keras`` and reaches its figures.

The bounds come from running the same programs on real Keras 3.15.1 (JAX backend; torch
for the PyTorch-idiom programs and the masking guide, TensorFlow for the two that need
it), ``python tools/keras_io_corpus.py --keras-python ...``: Keras's figure is in each
comment, and the bound leaves the room two libraries with different random streams
need (about 0.05 to 0.1 of accuracy, a quarter of a loss); exact figures (checks passed,
a learning-rate schedule's values) are held exactly.
"""

import os

import pytest

from . import corpus

GE, LE, EQ = ">=", "<=", "=="

THRESHOLDS = {
    "collaborative_filtering_movielens": {"val_loss": (LE, 1.6)},  # Keras 1.451
    "custom_fit_torch": {"final_loss": (LE, 12.0)},  # Keras 9.129
    "denoising_autoencoder": {
        "denoised_mse": (LE, 0.034),  # Keras 0.0274 (the noisy input: 0.0841)
        "val_loss": (LE, 0.33),  # Keras 0.304
    },
    "functional_api": {"checks_passed": (EQ, 5), "test_accuracy": (GE, 0.90)},  # 0.947
    "functional_api_multi_io": {
        "priority_accuracy": (GE, 0.85),  # Keras 0.952
        "resnet_val_acc": (GE, 0.72),  # Keras 0.774
    },
    "gan_torch": {
        "final_d_loss": (LE, 0.8),  # Keras 0.568
        "sample_std": (GE, 0.05),  # Keras 0.162: the generator has not collapsed
    },
    "gnn_citations": {
        "baseline_accuracy": (GE, 0.25),  # Keras 0.306 (7 classes: chance 0.14)
        "gnn_accuracy": (GE, 0.26),  # Keras 0.326
        "trainable_weights": (EQ, 50),  # Keras 50
        "unchanged_weights": (EQ, 0),  # Keras 0 (shendu 32 when normalize cut gradients)
    },
    "image_classification_from_scratch": {"train_acc": (GE, 0.94)},  # Keras 0.989
    "imbalanced_classification": {
        "val_recall": (GE, 0.75),  # Keras 0.867
        "reloaded_val_loss": (LE, 0.16),  # Keras 0.121
    },
    "imdb_bidirectional_lstm": {"val_accuracy": (GE, 0.92)},  # Keras 0.967
    "intro_to_keras_for_engineers": {
        "test_acc": (GE, 0.91),  # Keras 0.958
        "reloaded_acc": (GE, 0.91),  # Keras 0.958 (the reloaded model predicts the same)
        "ops_ok": (EQ, 4.0),
    },
    "keras_behaviour_part3": {
        "checks_passed": (EQ, 6),  # Keras 6
        "test_accuracy": (GE, 0.92),  # Keras 0.981
        "stateless_accuracy": (GE, 0.92),  # Keras 0.981 (equal to evaluate's, checked)
        "tuned_accuracy": (GE, 0.92),  # Keras 0.975
    },
    "knowledge_distillation": {
        "teacher_accuracy": (GE, 0.90),  # Keras 0.975
        "distilled_accuracy": (GE, 0.80),  # Keras 0.878
    },
    "lr_warmup_cosine": {
        "peak_rate": (EQ, 0.00299307),  # Keras 0.002993 (the schedule is exact)
        "final_rate": (LE, 1e-9),  # Keras 0
        "val_accuracy": (GE, 0.92),  # Keras 0.964
    },
    "making_new_layers_and_saving_hooks": {
        "checks_passed": (EQ, 6),
        # Keras 3.9e-10: the padding's targets (1000) are masked out of the loss
        "val_loss": (LE, 0.01),
        "reloaded_val_loss": (LE, 0.01),  # Keras 3.9e-10
    },
    "mnist_convnet": {"test_accuracy": (GE, 0.88)},  # Keras 0.925
    "sequential_model": {"checks_passed": (EQ, 11), "val_accuracy": (GE, 0.86)},  # 0.906
    "serialization_and_saving": {"checks_passed": (EQ, 8)},
    "siamese_contrastive": {"val_accuracy": (GE, 0.82)},  # Keras 0.871
    "structured_data_lookups": {"val_accuracy": (GE, 0.85)},  # Keras 0.906
    "text_classification_with_transformer": {"val_accuracy": (GE, 0.92)},  # Keras 1.0
    "timeseries_anomaly_detection": {
        "anomaly_recall": (GE, 0.9),  # Keras 0.986
        "false_alarm_rate": (LE, 0.05),  # Keras 0
    },
    "timeseries_classification_from_scratch": {"test_accuracy": (GE, 0.72)},  # Keras 0.775
    "timeseries_classification_transformer": {"test_accuracy": (GE, 0.70)},  # Keras 0.80
    "timeseries_weather_forecasting": {"best_val_loss": (LE, 0.18)},  # Keras 0.140
    "training_with_built_in_methods": {
        "test_accuracy": (GE, 0.84),  # Keras 0.889
        "custom_mse_loss": (LE, 0.13),  # Keras 0.1035
        "true_positives": (GE, 7500),  # Keras 8634
        "endpoint_loss": (LE, 1.0),  # Keras 0.739
    },
    "transfer_learning": {"checks_passed": (EQ, 5), "val_binary_accuracy": (GE, 0.55)},  # 0.63
    "understanding_masking_and_padding": {"checks_passed": (EQ, 10)},
    "vae_add_loss": {"final_loss": (LE, 0.095), "test_mse": (LE, 0.095)},  # Keras 0.081
    "working_with_rnns": {"checks_passed": (EQ, 6), "val_accuracy": (GE, 0.5)},  # 0.60
    "writing_your_own_callbacks": {
        "log_keys_as_keras": (EQ, 5),
        "final_lr": (EQ, 0.001),  # the scheduler's last rate, as in Keras
        "final_loss": (LE, 0.015),  # Keras 0.0097
    },
}


def _holds(value, op, bound):
    if op == GE:
        return value >= bound
    if op == LE:
        return value <= bound
    return abs(value - bound) <= 1e-5 * abs(bound) if bound else abs(value) <= 1e-9


@pytest.mark.parametrize("name", corpus.names())
def test_program_reaches_its_figures_on_shendu(name, tmp_path):
    figures, done = corpus.run(name, "shendu", str(tmp_path), timeout=900)
    assert done.returncode == 0, (done.stdout[-1500:], done.stderr[-3000:])
    expected = THRESHOLDS[name]
    missing = sorted(set(expected) - set(figures))
    assert not missing, f"{name} printed no RESULT for {missing}: {done.stdout[-1500:]}"
    failed = {
        figure: (figures[figure], op, bound)
        for figure, (op, bound) in expected.items()
        if not _holds(figures[figure], op, bound)
    }
    assert not failed, f"{name}: {failed}"


def test_every_program_has_bounds_and_the_corpus_is_large_enough():
    assert sorted(THRESHOLDS) == corpus.names()
    assert len(corpus.names()) >= 25


@pytest.mark.parametrize("name", corpus.names())
def test_only_the_imports_change_unless_listed(name):
    keras_text, shendu_text = corpus.source(name, "keras"), corpus.source(name, "shendu")
    assert "import shendu as keras" in shendu_text
    assert "import keras\n" not in shendu_text and "from keras " not in shendu_text
    changed = [
        (a, b)
        for a, b in zip(keras_text.splitlines(), shendu_text.splitlines())
        if a != b and not b.startswith(("import shendu", "from shendu"))
    ]
    allowed = {(old.strip(), new.strip()) for old, new, _ in corpus.EXTRA_CHANGES.get(name, [])}
    assert {(a.strip(), b.strip()) for a, b in changed} <= allowed, changed


def test_the_extra_changes_say_why():
    for name, changes in corpus.EXTRA_CHANGES.items():
        assert name in corpus.names()
        for old, new, why in changes:
            assert old != new and len(why) > 20


def test_programs_do_not_download():
    for name in corpus.names():
        text = corpus.source(name, "keras")
        assert "get_file" not in text and "load_data(" not in text, name
    assert os.path.exists(os.path.join(corpus.PROGRAMS, "corpus_data.py"))
