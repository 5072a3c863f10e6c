"""The CLI as a careless user and a bad day meet it: bad paths, a full disk, huge sizes,
Ctrl-C, CSV files typed the way a user would type them, stratified validation, and numbers
that make training meaningless. No traceback, one line, nothing partial left behind."""

import csv
import errno
import os

import numpy as np
import pytest

from shendu import cli
from shendu.datasets import TabularPreprocessor, TargetEncoder, read_csv

pytest.importorskip("safetensors")


def _csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return str(path)


def _people(tmp_path, n=40):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        age = int(rng.integers(18, 70))
        rows.append([age, int(rng.integers(20, 90)) * 1000, ["a", "b", "c"][i % 3], age > 40])
    return _csv(tmp_path / "people.csv", ["age", "income", "city", "label"], rows)


def run(capsys, *args):
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_output_path_problems_are_found_before_training(tmp_path, capsys, monkeypatch):
    data = _people(tmp_path)
    trained = []
    monkeypatch.setattr(cli, "build_mlp", lambda *a, **k: trained.append(1))
    cases = [
        (["--output", str(tmp_path / "missing" / "m.shendu")], "does not exist"),
        (["--output", str(tmp_path)], "must name a .shendu file"),
        (["--output", str(tmp_path / "dir.shendu")], "is a directory"),
        (["--plot", str(tmp_path / "curves.bmp")], "--plot must name a .png, .pdf, .svg, .jpg"),
        (["--plot", str(tmp_path / "nowhere" / "c.png")], "does not exist"),
    ]
    (tmp_path / "dir.shendu").mkdir()
    for extra, message in cases:
        code, out, err = run(capsys, "train", data, "--target", "label", *extra)
        assert code == 2 and message in err, err
        assert "Traceback" not in err and err.count("\n") == 1
    assert not trained


def test_unreadable_inputs_are_one_line_errors(tmp_path, capsys, monkeypatch):
    from shendu.datasets import tabular

    monkeypatch.setattr(tabular, "CSV_FIELD_LIMIT", 1000)
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,label\ncaf\xe9,1\nthe,0\n".encode("latin-1"))
    nul = tmp_path / "huge_field.csv"
    nul.write_text("a,label\n" + "x" * 2000 + ",1\n")
    for path, message in [
        (folder, "is a directory"),
        (tmp_path / "absent.csv", "CSV file not found"),
        (latin, "is not UTF-8 text"),
        (nul, "line 2 is not valid CSV (field larger than field limit (1000))"),
    ]:
        code, out, err = run(capsys, "train", str(path), "--target", "label")
        assert code == 2 and message in err, err
        assert "Traceback" not in err


def test_full_disk_while_saving_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    from shendu.saving import files

    data = _people(tmp_path)

    def full(path, write, suffix=""):
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr(files, "atomic_write", full)
    import shendu.saving

    monkeypatch.setattr(shendu.saving, "atomic_write", full)
    out_path = tmp_path / "m.shendu"
    code, out, err = run(
        capsys,
        "train",
        data,
        "--target",
        "label",
        "--epochs",
        "1",
        "--verbose",
        "0",
        "--output",
        str(out_path),
    )
    assert code == 2 and "No space left on device" in err and "Traceback" not in err
    assert not out_path.exists()


def test_ctrl_c_exits_130_with_one_line_and_no_file(tmp_path, capsys, monkeypatch):
    data = _people(tmp_path)
    import shendu.models.trainer as trainer

    def interrupted(self, *a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer.Trainer, "fit", interrupted)
    out_path = tmp_path / "m.shendu"
    code, out, err = run(capsys, "train", data, "--target", "label", "--output", str(out_path))
    assert code == 130 and "interrupted" in err and "Traceback" not in err
    assert sorted(os.listdir(tmp_path)) == ["people.csv"]


def test_sizes_that_cannot_fit_are_refused_before_allocating(tmp_path, capsys, monkeypatch):
    data = _people(tmp_path)
    monkeypatch.setattr(cli, "_physical_memory", lambda: 24 * 2**30)
    code, out, err = run(capsys, "train", data, "--target", "label", "--hidden", "100000,100000")
    assert code == 2
    assert "makes 10,000," in err and "GiB, and this machine has 24.0 GiB" in err


def test_predict_output_is_written_atomically(tmp_path, capsys, monkeypatch):
    data = _people(tmp_path)
    model = tmp_path / "m.shendu"
    code, _, err = run(
        capsys,
        "train",
        data,
        "--target",
        "label",
        "--epochs",
        "1",
        "--verbose",
        "0",
        "--output",
        str(model),
    )
    assert code == 0, err
    target = tmp_path / "pred.csv"
    target.write_text("previous predictions\n")
    real_writer = csv.writer

    class Broken:
        def __init__(self, f):
            self.w, self.n = real_writer(f), 0

        def writerow(self, row):
            self.n += 1
            if self.n == 5:
                raise OSError(errno.ENOSPC, "No space left on device")
            self.w.writerow(row)

    monkeypatch.setattr(csv, "writer", Broken)
    code, _, err = run(capsys, "predict", str(model), data, "--output", str(target))
    assert code == 2 and "No space left on device" in err
    assert target.read_text() == "previous predictions\n"
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".shendu-tmp-")]


def test_field_larger_than_the_csv_default_limit(tmp_path):
    path = _csv(tmp_path / "big.csv", ["text", "label"], [["x" * 200_000, 1], ["y", 0]])
    before = csv.field_size_limit()
    header, rows = read_csv(path)
    assert len(rows[0][0]) == 200_000
    assert csv.field_size_limit() == before  # the raised limit is not left behind


# --------------------------------------------------------------------- column decisions


def _fit(header, rows, keep=()):
    return TabularPreprocessor().fit(header, rows, keep)


def test_non_finite_and_stray_tokens_are_missing_values_of_a_numeric_column():
    rows = [["1.5"], ["inf"], ["-"], ["n/a"], ["-inf"], ["2.5"], [""], ["3"]]
    pre = _fit(["x"], rows)
    assert pre.columns[0]["kind"] == "numeric"
    assert pre.missing_counts == {"x": 5}
    report = "\n".join(pre.report())
    assert "Imputed 5 missing values (x: 5 (" in report
    assert "1 'inf'" in report and "1 '-'" in report and "1 empty" in report
    x = pre.transform(["x"], rows)
    assert np.all(np.isfinite(x)) and x.shape == (8, 1)


def test_dates_free_text_and_identifiers_are_dropped_with_a_line():
    n = 30
    header = ["when", "comment", "user", "row", "score", "color"]
    rows = [
        [
            f"2024-01-{i % 28 + 1:02d}",
            f"customer number {i} wrote a long remark about the product",
            f"u{i:05d}",
            str(i),
            str(i % 7 * 1.5),
            ["red", "green"][i % 2],
        ]
        for i in range(n)
    ]
    pre = _fit(header, rows)
    assert pre.dropped == {
        "when": "dates",
        "comment": "free text",
        "user": "an identifier (a distinct value in nearly every row)",
        "row": "row numbers (0, 1, 2, ...)",
    }
    assert pre.n_features == 1 + 2
    line = pre.report()[0]
    assert line.startswith("Dropped columns: when (dates); comment (free text)")
    assert "--keep COLUMN" in line
    kept = _fit(header, rows, keep=["row"])
    assert "row" not in kept.dropped and kept.n_features == 4
    with pytest.raises(ValueError, match=r"Columns to keep are not in the CSV: \['nope'\]"):
        _fit(header, rows, keep=["nope"])


def test_duplicate_column_names_are_refused(tmp_path):
    path = _csv(tmp_path / "d.csv", ["a", "b", "a"], [[1, 2, 3]])
    with pytest.raises(ValueError, match=r"repeats column names \['a'\]"):
        read_csv(path)


def test_labels_1_and_1_0_are_one_class():
    enc = TargetEncoder.fit("y", ["1", "1.0", "0", " 0.0 ", "1"], "classification")
    assert enc.classes == ["0", "1"]
    np.testing.assert_array_equal(enc.transform(["1.0", "0", "1"]), [1, 0, 1])


def test_a_target_with_one_class_is_refused():
    with pytest.raises(ValueError, match=r"holds one class \('yes'\); a classifier needs"):
        TargetEncoder.fit("y", ["yes", "yes", " yes"], "auto")


def test_values_too_large_to_scale_are_reported():
    with pytest.raises(ValueError, match="Column 'x' holds values too large to scale"):
        _fit(["x"], [["1e308"], ["-1e308"], ["1e308"]])
    pre = _fit(["x"], [["1"], ["2"], ["3"]])
    with pytest.raises(ValueError, match=r"row 2 holds '1e300', too large to scale"):
        pre.transform(["x"], [["1e300"]])


# --------------------------------------------------------------------- validation split


def test_validation_split_is_stratified_on_a_file_sorted_by_class():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    train, val = cli._validation_split(y, 0.2, seed=0, stratify=True)
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(100))
    assert np.bincount(y[val]).tolist() == [10, 6, 4]
    assert len(set(y[val[:10]])) > 1  # shuffled, not class blocks


def test_train_on_sorted_csv_validates_on_every_class(tmp_path, capsys):
    rows = [[i * 0.1 + c, c] for c in range(3) for i in range(20)]  # sorted by class
    data = _csv(tmp_path / "sorted.csv", ["x", "label"], rows)
    code, out, err = run(
        capsys, "train", data, "--target", "label", "--epochs", "2", "--verbose", "0"
    )
    assert code == 0, err
    assert "Validation: 12 rows held out, each class in proportion" in out


def test_regression_metrics_are_printed_in_the_targets_units(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = [[x, 1000 * x + rng.normal() * 50] for x in rng.random(60)]
    data = _csv(tmp_path / "r.csv", ["x", "price"], rows)
    code, out, err = run(
        capsys, "train", data, "--target", "price", "--epochs", "2", "--verbose", "0"
    )
    assert code == 0, err
    line = next(ln for ln in out.splitlines() if ln.startswith("Validation MAE"))
    assert line.endswith("(in price's units)")
    assert float(line.split()[2].rstrip(",")) > 10  # hundreds of price units, not std units


def test_meaningless_numbers_are_refused(tmp_path, capsys):
    data = _people(tmp_path)
    for flag, value, message in [
        ("--learning-rate", "nan", "--learning-rate must be a positive finite number"),
        ("--learning-rate", "inf", "--learning-rate must be a positive finite number"),
        ("--validation-split", "1.5", "--validation-split must be in (0, 1)"),
    ]:
        code, out, err = run(capsys, "train", data, "--target", "label", flag, value)
        assert code == 2 and message in err, err


def test_evaluate_gives_regression_errors_in_the_targets_units(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = [[x, 1000 * x + rng.normal() * 50] for x in rng.random(60)]
    data = _csv(tmp_path / "r.csv", ["x", "price"], rows)
    model = str(tmp_path / "m.shendu")
    code, _, err = run(
        capsys, "train", data, "--target", "price", "--epochs", "2", "--verbose", "0",
        "--output", model,
    )  # fmt: skip
    assert code == 0, err
    code, out, err = run(capsys, "evaluate", model, data)
    assert code == 0, err
    first, second = out.strip().splitlines()
    assert first.endswith("(standardised price)")
    assert second.startswith("MAE ") and second.endswith("(in price's units)")
    assert float(second.split()[1].rstrip(",")) > 10  # price units (it printed 0.1 before)


def test_a_malformed_preprocessing_block_is_one_line_naming_the_key(tmp_path, capsys):
    import shendu

    data = _people(tmp_path)
    model_path = str(tmp_path / "m.shendu")
    code, _, err = run(
        capsys, "train", data, "--target", "label", "--epochs", "1", "--verbose", "0",
        "--output", model_path,
    )  # fmt: skip
    assert code == 0, err
    model = shendu.saving.load_model(model_path)
    model.preprocessing["features"] = {"columns": "not what it was"}
    model.save(model_path)
    code, out, err = run(capsys, "predict", model_path, data)
    assert code != 0
    assert "the CSV preprocessing block's 'features' is malformed" in err
    assert "Traceback" not in err
