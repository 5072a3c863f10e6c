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


def _split_target(header, rows, target):
    if target not in header:
        raise ValueError(
            f"Target column {target!r} is not in the CSV. Columns: {', '.join(header)}"
        )
    t = header.index(target)
    feature_header = [h for i, h in enumerate(header) if i != t]
    feature_rows = [[v for i, v in enumerate(r) if i != t] for r in rows]
    return feature_header, feature_rows, [r[t] for r in rows]


def _train(args):
    import shendu
    from shendu.datasets import TabularPreprocessor, TargetEncoder, read_csv

    if args.output and not args.output.endswith(".shendu"):
        raise ValueError(f"--output must name a .shendu file. Received: {args.output!r}")
    shendu.set_random_seed(args.seed)
    header, rows = read_csv(args.data)
    fh, frows, tvalues = _split_target(header, rows, args.target)
    pre = TabularPreprocessor().fit(fh, frows)
    enc = TargetEncoder.fit(args.target, tvalues, args.task)
    x = pre.transform(fh, frows)
    y = enc.transform(tvalues)
    imputed = {k: v for k, v in pre.missing_counts.items() if v}
    print(
        f"Read {len(rows)} rows, {len(fh)} feature columns -> {pre.n_features} features; "
        f"task: {enc.task}"
    )
    if imputed:
        total = sum(imputed.values())
        detail = ", ".join(f"{k}: {v}" for k, v in imputed.items())
        print(f"Imputed {total} missing values ({detail})")
    class_weight = None
    if enc.task == "classification":
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
    model = build_mlp(pre.n_features, args.hidden, enc)
    history = model.fit(
        x,
        y,
        epochs=args.epochs,
        batch_size=args.batch_size,
        validation_split=args.validation_split,
        class_weight=class_weight,
        verbose=args.verbose,
    )
    final = {k: v[-1] for k, v in history.history.items()}
    print("Final: " + " - ".join(f"{k}: {v:.4f}" for k, v in sorted(final.items())))
    if args.plot:
        shendu.utils.plot_history(history, args.plot)
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


def build_mlp(n_features, hidden, enc):
    """The MLP that ``shendu train`` fits: relu hidden layers, a head for the task."""
    from shendu.layers import Dense, Input
    from shendu.models import Sequential

    model = Sequential([Input((n_features,))])
    for units in hidden:
        model.add(Dense(units, activation="relu"))
    if enc.task == "classification":
        model.add(Dense(len(enc.classes), activation="softmax"))
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    else:
        model.add(Dense(1))
        model.compile("adam", "mse", metrics=["mae"])
    return model


def _load_with_preprocessing(path):
    from shendu.datasets import TabularPreprocessor, TargetEncoder
    from shendu.saving import load_model

    model = load_model(path)
    prep = getattr(model, "preprocessing", None)
    if not prep:
        raise ValueError(
            f"{path} holds no CSV preprocessing: it was not written by `shendu train`"
        )
    return (
        model,
        TabularPreprocessor.from_config(prep["features"]),
        TargetEncoder.from_config(prep["target"]),
        prep["feature_columns"],
    )


def _predict(args):
    import csv

    from shendu.datasets import read_csv

    model, pre, enc, columns = _load_with_preprocessing(args.model)
    header, rows = read_csv(args.data)
    if enc.name in header:
        header, rows, _ = _split_target(header, rows, enc.name)
    x = pre.transform(header, rows)
    preds = enc.inverse(model.predict(x, verbose=0))
    out = open(args.output, "w", newline="") if args.output else sys.stdout
    try:
        writer = csv.writer(out)
        writer.writerow([enc.name])
        for p in preds:
            writer.writerow([p])
    finally:
        if args.output:
            out.close()
    return 0


def _evaluate(args):
    from shendu.datasets import read_csv

    model, pre, enc, _ = _load_with_preprocessing(args.model)
    header, rows = read_csv(args.data)
    target = args.target or enc.name
    fh, frows, tvalues = _split_target(header, rows, target)
    logs = model.evaluate(
        pre.transform(fh, frows), enc.transform(tvalues), verbose=0, return_dict=True
    )
    print(" - ".join(f"{k}: {v:.4f}" for k, v in sorted(logs.items())))
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
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--validation-split", type=float, default=0.2)
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
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            return _seed_program(args)
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError, ImportError) as err:
        print(f"shendu {args.command or ''}: error: {err}".replace("  ", " "), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
