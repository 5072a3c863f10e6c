"""The public signatures of the training floor (autograd/, optimizers/, models/) are
annotated, so that the type checker in CI (mypy, configured in pyproject.toml) checks how
they are used. A new public function without annotations fails here, by name."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "src" / "shendu"
PACKAGES = ["autograd", "optimizers", "models"]


def _public_defs(path):
    """(qualified name, FunctionDef) of the public functions and methods of a module."""
    tree = ast.parse(path.read_text())
    found = []

    def visit(node, prefix, in_class):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef) and not child.name.startswith("_"):
                visit(child, f"{prefix}{child.name}.", True)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if child.name.startswith("_") and child.name not in ("__init__", "__call__"):
                    continue
                found.append((f"{prefix}{child.name}", child, in_class))

    visit(tree, "", False)
    return found


def _missing(fn, in_class):
    args = fn.args
    params = args.posonlyargs + args.args + args.kwonlyargs
    if in_class and params and params[0].arg in ("self", "cls"):
        params = params[1:]
    missing = [p.arg for p in params if p.annotation is None]
    missing += [
        f"*{a.arg}" for a in (args.vararg, args.kwarg) if a is not None and a.annotation is None
    ]
    if fn.returns is None and fn.name != "__init__":
        missing.append("return")
    return missing


FILES = sorted(p for package in PACKAGES for p in (ROOT / package).glob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_public_signatures_are_annotated(path):
    unannotated = {
        name: missing
        for name, fn, in_class in _public_defs(path)
        if (missing := _missing(fn, in_class))
    }
    assert not unannotated, f"{path.name}: public functions without annotations: {unannotated}"


def test_the_check_sees_the_packages():
    names = {name for path in FILES for name, _, _ in _public_defs(path)}
    assert {"Tensor.backward", "Optimizer.apply", "Trainer.fit", "CompiledStep.train"} <= names
