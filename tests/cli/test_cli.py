"""The ``shendu`` command: the main job, and train / predict / evaluate / summary on a CSV."""

import os
import subprocess
import sys

import pytest

CSV = """age,income,city,smoker,label
25,40000,paris,no,low
,52000,berlin,yes,high
47,,paris,no,high
33,61000,,yes,high
52,58000,rome,no,high
19,21000,paris,no,low
61,72000,berlin,,high
28,30000,rome,no,low
39,45000,paris,yes,low
44,80000,berlin,no,high
23,25000,rome,yes,low
58,66000,paris,no,high
"""


def shendu(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "shendu.cli", *args], capture_output=True, text=True, cwd=cwd
    )


def test_main_job_trains_iris_and_prints_accuracy(tmp_path):
    r = shendu("--verbose", "0", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    acc = float(r.stdout.split("test accuracy: ")[1].split()[0])
    assert acc >= 0.9
    assert os.listdir(tmp_path) == []  # writes nothing unless asked


def test_main_job_progress_bar():
    r = shendu("--epochs", "2")
    assert "Epoch 1/2" in r.stdout and "12/12" in r.stdout


def test_train_predict_evaluate_summary(tmp_path):
    pytest.importorskip("safetensors")
    data = tmp_path / "people.csv"
    data.write_text(CSV)
    model = tmp_path / "m.shendu"
    r = shendu(
        "train",
        str(data),
        "--target",
        "label",
        "--epochs",
        "5",
        "--hidden",
        "8",
        "--class-weight",
        "balanced",
        "--output",
        str(model),
        "--verbose",
        "0",
    )
    assert r.returncode == 0, r.stderr
    assert "Imputed 4 missing values (age: 1, income: 1, city: 1, smoker: 1)" in r.stdout
    assert "Classes (2): high: 7, low: 5" in r.stdout
    out = tmp_path / "pred.csv"
    r = shendu("predict", str(model), str(data), "--output", str(out))
    assert r.returncode == 0, r.stderr
    lines = out.read_text().strip().splitlines()
    assert lines[0] == "label" and len(lines) == 13 and set(lines[1:]) <= {"low", "high"}
    r = shendu("evaluate", str(model), str(data), "--target", "label")
    assert r.returncode == 0 and "accuracy:" in r.stdout and "loss:" in r.stdout
    r = shendu("summary", str(model))
    assert r.returncode == 0 and "Total params" in r.stdout


def test_regression_task(tmp_path):
    data = tmp_path / "reg.csv"
    data.write_text("x1,x2,y\n" + "".join(f"{i},{i % 3},{2 * i + 1.5}\n" for i in range(30)))
    r = shendu("train", str(data), "--target", "y", "--epochs", "3", "--verbose", "0")
    assert r.returncode == 0, r.stderr
    assert "task: regression" in r.stdout and "mae" in r.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["train", "{csv}", "--target", "nope"],
            "Target column 'nope' is not in the CSV. Columns: age, income, city, smoker, label",
        ),
        (
            ["train", "{empty}", "--target", "label"],
            "is empty: expected a header row and data rows",
        ),
        (
            ["train", "{csv}", "--target", "label", "--hidden", "8,-1"],
            "--hidden sizes must be positive",
        ),
        (
            ["train", "{csv}", "--target", "label", "--output", "m.h5"],
            "--output must name a .shendu file",
        ),
        (["predict", "{missing}", "{csv}"], "not a .shendu file"),
    ],
)
def test_cli_errors(tmp_path, args, message):
    (tmp_path / "p.csv").write_text(CSV)
    (tmp_path / "e.csv").write_text("")
    (tmp_path / "missing.shendu").write_text("nope")
    subs = {
        "{csv}": str(tmp_path / "p.csv"),
        "{empty}": str(tmp_path / "e.csv"),
        "{missing}": str(tmp_path / "missing.shendu"),
    }
    r = shendu(*[subs.get(a, a) for a in args])
    assert r.returncode == 2
    assert message in r.stderr, r.stderr


def test_help_on_every_subcommand():
    for sub in ([], ["train"], ["predict"], ["evaluate"], ["summary"]):
        r = shendu(*sub, "--help")
        assert r.returncode == 0 and "usage: shendu" in r.stdout
