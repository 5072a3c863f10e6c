"""The ``shendu`` command.

shendu                       train the seed model (Iris, Dense 10-10-3, Adam) on the data
                             shipped in the package and print the test loss and accuracy
shendu train DATA.csv --target COLUMN [options]
                             train an MLP on any CSV (standardised numbers, one-hot strings,
                             imputed missing values)
shendu predict MODEL DATA.csv [--output FILE]
shendu evaluate MODEL DATA.csv --target COLUMN
shendu summary MODEL
  shendu export MODEL OUTPUT.onnx
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np


def _seed_program(args):
    import shendu
    from shendu.datasets import load_iris, train_test_split
    from shendu.layers import Dense
    from shendu.models import Sequential
    from shendu.optimizers import Adam

    shendu.set_random_seed(args.seed)
    x, y = load_iris()
    y = shendu.utils.to_categorical(y, 3)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, seed=args.seed)
    model = Sequential()
    model.add(Dense(10, input_dim=4, activation="relu"))
    model.add(Dense(10, activation="relu"))
    model.add(Dense(3, activation="softmax"))
    model.compile(optimizer=Adam(), loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=10, verbose=args.verbose)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(
        f"Test loss: {loss:.4f} - test accuracy: {accuracy:.4f} ({len(x_test)} held-out samples)"
    )
    return 0


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer. Received: {text!r}"
        ) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer. Received: {text!r}")
    return value


def _parse_hidden(text):
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--hidden expects comma-separated positive integers. Received: {text!r}"
        ) from None
    if any(s <= 0 for s in sizes):
        raise argparse.ArgumentTypeError(f"--hidden sizes must be positive. Received: {text!r}")
    return sizes


def _check_outputs(args):
    """Refuse output paths that cannot be written, before any data is read or trained on."""
    if args.output:
        if not args.output.endswith(".shendu"):
            raise ValueError(f"--output must name a .shendu file. Received: {args.output!r}")
        _check_writable(args.output, "--output")
    if args.plot:
        ext = os.path.splitext(args.plot)[1].lower()
        if ext not in PLOT_FORMATS:
            raise ValueError(
                f"--plot must name a {', '.join(PLOT_FORMATS)} file. Received: {args.plot!r}"
            )
        _check_writable(args.plot, "--plot")
        from shendu.utils.plotting import require_matplotlib

        require_matplotlib()


PLOT_FORMATS = (".png", ".pdf", ".svg", ".jpg")


def _check_writable(path, flag):
    if os.path.isdir(path):
        raise ValueError(f"{flag} {path!r} is a directory; name a file")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"{flag} {path!r}: the folder {folder!r} does not exist")
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise ValueError(f"{flag} {path!r} cannot be written (permission denied)")


def _physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _check_model_size(n_features, hidden, n_outputs, batch_size):
    """Refuse an MLP whose training cannot fit in this machine's memory, before allocating.

    Training holds each parameter about 5 times (weights, gradients, Adam's two slots, the
    flat copies) in float32, plus the activations of a batch."""
    sizes = [n_features, *hidden, n_outputs]
    params = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    needed = 4 * (5 * params + 4 * batch_size * sum(sizes))
    memory = _physical_memory()
    if memory is not None and needed > memory:
        raise MemoryError(
            f"--hidden {','.join(map(str, hidden))} makes {params:,} parameters; training "
            f"them needs about {needed / 2**30:.1f} GiB, and this machine has "
            f"{memory / 2**30:.1f} GiB. Choose smaller layers."
        )


def _validation_split(y, fraction, seed, stratify):
    """(train indices, validation indices): shuffled, and for classification stratified, so
    each class keeps its share in both parts (a file sorted by class loses no class)."""
    rng = np.random.default_rng(seed)
    n = len(y)
    if not 0 < fraction < 1:
        raise ValueError(f"--validation-split must be in (0, 1). Received: {fraction}")
    groups = [np.flatnonzero(y == c) for c in np.unique(y)] if stratify else [np.arange(n)]
    train, val = [], []
    for idx in groups:
        idx = rng.permutation(idx)
        k = int(round(len(idx) * fraction))
        if len(idx) > 1:
            k = min(max(k, 1), len(idx) - 1)
        else:
            k = 0
        val.append(idx[:k])
        train.append(idx[k:])
    train_idx, val_idx = (
        rng.permutation(np.concatenate(train)),
        rng.permutation(np.concatenate(val)),
    )
    if len(val_idx) == 0 or len(train_idx) == 0:
        raise ValueError(
            f"--validation-split {fraction} leaves an empty training or validation set for "
            f"{n} rows"
        )
    return train_idx, val_idx


def _finite_option(value, flag):
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{flag} must be a positive finite number. Received: {value}")
    return value


def _train(args):
    import shendu
    from shendu.datasets import TabularPreprocessor, TargetEncoder, read_csv, split_target

    _check_outputs(args)
    _finite_option(args.learning_rate, "--learning-rate")
    shendu.set_random_seed(args.seed)
    header, rows = read_csv(args.data)
    fh, frows, tvalues = split_target(header, rows, args.target)
    keep = [k.strip() for k in (args.keep or "").split(",") if k.strip()]
    pre = TabularPreprocessor().fit(fh, frows, keep)
    enc = TargetEncoder.fit(args.target, tvalues, args.task)
    classification = enc.task == "classification"
    _check_model_size(
        pre.n_features, args.hidden, len(enc.classes) if classification else 1, args.batch_size
    )
    x = pre.transform(fh, frows)
    y = enc.transform(tvalues)
    print(
        f"Read {len(rows)} rows, {len(fh)} feature columns -> {pre.n_features} features; "
        f"task: {enc.task}"
    )
    for line in pre.report():
        print(line)
    class_weight = None
    if classification:
        counts = np.bincount(y, minlength=len(enc.classes))
        share = ", ".join(f"{c}: {n}" for c, n in zip(enc.classes, counts))
        print(f"Classes ({len(enc.classes)}): {share}")
        if counts.max() > 1.5 * max(counts.min(), 1):
            print(
                "Class imbalance: the largest class is "
                f"{counts.max() / max(counts.min(), 1):.1f}x "
                "the smallest"
                + ("" if args.class_weight else " (use --class-weight balanced to reweight)")
            )
        if args.class_weight == "balanced":
            class_weight = {i: len(y) / (len(counts) * n) for i, n in enumerate(counts) if n}
    tr, va = _validation_split(y, args.validation_split, args.seed, classification)
    print(
        f"Validation: {len(va)} rows held out"
        + (", each class in proportion" if classification else "")
    )
    model = build_mlp(pre.n_features, args.hidden, enc, args.learning_rate)
    history = model.fit(
        x[tr],
        y[tr],
        epochs=args.epochs,
        batch_size=args.batch_size,
        validation_data=(x[va], y[va]),
        class_weight=class_weight,
        verbose=args.verbose,
    )
    final = {k: v[-1] for k, v in history.history.items()}
    print("Final: " + " - ".join(f"{k}: {v:.4f}" for k, v in sorted(final.items())))
    if not classification:
        for part, idx in (("training", tr), ("validation", va)):
            print(f"{part.capitalize()} {_errors_in_units(model, enc, x[idx], y[idx])}")
    if args.plot:
        from shendu.saving.files import atomic_write

        ext = os.path.splitext(args.plot)[1]
        atomic_write(args.plot, lambda tmp: shendu.utils.plot_history(history, tmp), suffix=ext)
        print(f"Saved the learning curves to {args.plot}")
    if args.output:
        model.preprocessing = {
            "features": pre.get_config(),
            "target": enc.get_config(),
            "feature_columns": fh,
        }
        model.save(args.output)
        print(f"Saved the model to {args.output}")
    return 0


def _errors_in_units(model, enc, x, y):
    """MAE and RMSE of a regression model in the target's own units (the model learns the
    standardised target: its loss and metrics are in standard deviations)."""
    pred = np.asarray(enc.inverse(model.predict(x, verbose=0)))
    truth = np.asarray(enc.inverse(y.reshape(-1, 1)))
    mae = float(np.mean(np.abs(pred - truth)))
    rmse = float(np.sqrt(np.mean((pred - truth) ** 2)))
    return f"MAE {mae:.4g}, RMSE {rmse:.4g} (in {enc.name}'s units)"


def build_mlp(n_features, hidden, enc, learning_rate=0.001):
    """The MLP that ``shendu train`` fits: relu hidden layers, a head for the task."""
    from shendu.layers import Dense, Input
    from shendu.models import Sequential
    from shendu.optimizers import Adam

    model = Sequential([Input((n_features,))])
    for units in hidden:
        model.add(Dense(units, activation="relu"))
    if enc.task == "classification":
        model.add(Dense(len(enc.classes), activation="softmax"))
        model.compile(Adam(learning_rate), "sparse_categorical_crossentropy", metrics=["accuracy"])
    else:
        model.add(Dense(1))
        model.compile(Adam(learning_rate), "mse", metrics=["mae"])
    return model


def _load_with_preprocessing(path):
    from shendu.datasets import TabularPreprocessor, TargetEncoder
    from shendu.saving import ModelFileError, load_model

    model = load_model(path)
    prep = getattr(model, "preprocessing", None)
    if not prep:
        raise ValueError(
            f"{path} holds no CSV preprocessing: it was not written by `shendu train`"
        )
    if not isinstance(prep, dict):
        raise ModelFileError(f"{path}: the CSV preprocessing block is not an object")
    for key, kind in (("features", dict), ("target", dict), ("feature_columns", list)):
        if not isinstance(prep.get(key), kind):
            raise ModelFileError(
                f"{path}: the CSV preprocessing block's {key!r} is missing or not a "
                f"{kind.__name__}"
            )
    parts = []
    for key, cls in (("features", TabularPreprocessor), ("target", TargetEncoder)):
        try:
            parts.append(cls.from_config(prep[key]))
        except (KeyError, TypeError, ValueError, IndexError) as err:
            raise ModelFileError(
                f"{path}: the CSV preprocessing block's {key!r} is malformed "
                f"({type(err).__name__}: {err})"
            ) from None
    if not all(isinstance(c, str) for c in prep["feature_columns"]):
        raise ModelFileError(
            f"{path}: the CSV preprocessing block's 'feature_columns' are not names"
        )
    return model, parts[0], parts[1], prep["feature_columns"]


def _predict(args):
    import csv

    from shendu.datasets import read_csv, split_target
    from shendu.saving.files import atomic_write

    if args.output:
        _check_writable(args.output, "--output")
    model, pre, enc, columns = _load_with_preprocessing(args.model)
    header, rows = read_csv(args.data)
    if enc.name in header:
        header, rows, _ = split_target(header, rows, enc.name)
    x = pre.transform(header, rows)
    preds = enc.inverse(model.predict(x, verbose=0))

    def write(stream):
        writer = csv.writer(stream)
        writer.writerow([enc.name])
        for p in preds:
            writer.writerow([p])

    if not args.output:
        write(sys.stdout)
        return 0

    def write_file(tmp):
        with open(tmp, "w", newline="") as f:
            write(f)

    atomic_write(args.output, write_file)  # never a half-written file, even on Ctrl-C
    return 0


def _evaluate(args):
    from shendu.datasets import read_csv, split_target

    model, pre, enc, _ = _load_with_preprocessing(args.model)
    header, rows = read_csv(args.data)
    target = args.target or enc.name
    fh, frows, tvalues = split_target(header, rows, target)
    x, y = pre.transform(fh, frows), enc.transform(tvalues)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    line = " - ".join(f"{k}: {v:.4f}" for k, v in sorted(logs.items()))
    if enc.task == "classification":
        print(line)
    else:  # the logs are in standard deviations of the target: give its own units too
        print(f"{line} (standardised {enc.name})")
        print(_errors_in_units(model, enc, x, y))
    return 0


def _summary(args):
    from shendu.saving import load_model

    load_model(args.model, compile=False).summary()
    return 0


def _export(args):
    from shendu.saving import load_model

    load_model(args.model, compile=False).export(args.output)
    print(f"Wrote {args.output}")
    return 0


def make_parser():
    parser = argparse.ArgumentParser(
        prog="shendu",
        description="Train the built-in Iris model (no arguments), or train, evaluate and "
        "predict with an MLP on any CSV file.",
    )
    parser.add_argument("--epochs", type=int, default=100, help="epochs for the Iris model")
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    parser.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2])
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("train", help="train an MLP on a CSV file")
    p.add_argument("data", help="the CSV file (a header row, then one row per sample)")
    p.add_argument("--target", required=True, help="the column to predict")
    p.add_argument("--task", default="auto", choices=["auto", "classification", "regression"])
    p.add_argument(
        "--hidden", type=_parse_hidden, default=[64, 32], help="hidden layer sizes, e.g. 64,32"
    )
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--batch-size", type=_positive_int, default=32)
    p.add_argument("--learning-rate", type=float, default=0.001)
    p.add_argument(
        "--validation-split",
        type=float,
        default=0.2,
        help="fraction held out, shuffled and stratified by class (default 0.2)",
    )
    p.add_argument(
        "--keep",
        help="columns to keep although they look like dates, free text or identifiers",
    )
    p.add_argument(
        "--class-weight",
        choices=["balanced"],
        default=None,
        help="reweight classes inversely to their frequency",
    )
    p.add_argument("--output", help="save the trained model (with its preprocessing) here")
    p.add_argument("--plot", help="save the learning curves as an image (needs matplotlib)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--verbose", type=int, default=2, choices=[0, 1, 2])
    p.set_defaults(func=_train)

    p = sub.add_parser("predict", help="write the predictions of a saved model as CSV")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--output", help="CSV file to write (default: standard output)")
    p.set_defaults(func=_predict)

    p = sub.add_parser("evaluate", help="loss and metrics of a saved model on a CSV file")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--target", help="the target column (default: the one it was trained on)")
    p.set_defaults(func=_evaluate)

    p = sub.add_parser("summary", help="print the layer table of a saved model")
    p.add_argument("model")
    p.set_defaults(func=_summary)

    p = sub.add_parser("export", help="export a saved model to ONNX (needs shendu[onnx])")
    p.add_argument("model")
    p.add_argument("output", help="the .onnx file to write")
    p.set_defaults(func=_export)
    return parser


def main(argv=None):
    """Run the command; an expected failure prints one line (no traceback) and returns 2,
    an interruption (Ctrl-C) returns 130. Files are written atomically, so neither leaves a
    partial file behind."""
    parser = make_parser()
    args = parser.parse_args(argv)
    name = f"shendu {args.command}" if args.command else "shendu"
    try:
        if args.command is None:
            return _seed_program(args)
        return args.func(args)
    except KeyboardInterrupt:
        print(f"\n{name}: interrupted; nothing was written", file=sys.stderr)
        return 130
    except MemoryError as err:
        detail = str(err) or "the data or the model does not fit in memory"
        print(f"{name}: error: out of memory: {detail}", file=sys.stderr)
        return 2
    except OSError as err:
        reason = err.strerror or str(err)
        where = f" ({err.filename})" if err.filename else ""
        message = str(err) if not err.strerror else f"{reason}{where}"
        print(f"{name}: error: {message}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, ImportError) as err:
        print(f"{name}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
