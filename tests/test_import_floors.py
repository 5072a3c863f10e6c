"""The floors of shendu: each module imports only from its own floor and the floors below it
(shared/DESIGN.md, "Layers of the library"), at the top of a file and inside functions alike.
Where a lower floor needs a higher one, the higher one registers itself (Tensor's operators,
KerasTensor's operations).

The imports that still run up are listed in UPWARD with the floor they break; the test
fails on a new one, and on a listed one that has gone (then remove it), so the list only
shrinks.
"""

import ast
import os

import shendu

ROOT = os.path.dirname(shendu.__file__)

#: bottom up; a package or module of src/shendu on each floor
FLOORS = [
    ["annotations", "lazy", "naming", "tree", "parallel", "heap", "blas", "meta_array"],
    ["release", "saving_registry", "saving.files"],
    ["backend", "scopes", "keras_tensor", "data", "utils.string_hashing"],
    ["kernels", "config", "autograd", "utils.progbar", "utils.tensorboard_writer"],
    ["ops", "random"],
    [
        "initializers",
        "activations",
        "regularizers",
        "constraints",
        "losses",
        "dtype_policies",
        "utils.bounding_boxes",
    ],
    ["layers"],
    ["metrics", "optimizers", "mixed_precision", "export", "distributed"],
    ["models", "callbacks"],
    ["saving"],
    ["datasets", "utils", "preprocessing", "testing"],
    ["applications", "distillation", "visualization", "cli", "__init__"],
]
FLOOR = {unit: level for level, units in enumerate(FLOORS) for unit in units}

#: (importing file, imported unit): upward imports still there, to be taken away (none)
UPWARD: set = set()


def _unit(relative):
    """The unit a file belongs to: its top-level module or package, or the module itself
    where FLOORS names it (``utils.progbar``)."""
    parts = relative.replace(os.sep, "/").split("/")
    if len(parts) > 1 and parts[-1].endswith(".py"):
        dotted = ".".join(parts[:-1] + [parts[-1][:-3]])
        if dotted in FLOOR:
            return dotted
    first = parts[0]
    return first[:-3] if first.endswith(".py") else first


def _imported_units(path, package):
    """The units of shendu that ``path`` (in ``package``, a list of names) imports."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                module = package[: len(package) - node.level + 1]
                module = module + (node.module.split(".") if node.module else [])
            else:
                module = (node.module or "").split(".")
            if module[:1] != ["shendu"]:
                continue
            if len(module) == 1:
                yield from (alias.name for alias in node.names)
            elif len(module) == 2:
                package_names = [f"{module[1]}.{alias.name}" for alias in node.names]
                named = [name for name in package_names if name in FLOOR]
                yield from named or [module[1]]
            else:
                dotted = ".".join(module[1:3])
                yield dotted if dotted in FLOOR else module[1]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "shendu" and len(parts) > 1:
                    dotted = ".".join(parts[1:3])
                    yield dotted if dotted in FLOOR else parts[1]


def upward_imports():
    found = set()
    for folder, _, files in os.walk(ROOT):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, ROOT)
            unit = _unit(relative)
            package = ["shendu"] + [
                p for p in os.path.relpath(folder, ROOT).split(os.sep) if p != "."
            ]
            for target in set(_imported_units(path, package)):
                if target == unit or target not in FLOOR or unit not in FLOOR:
                    continue
                if FLOOR[target] > FLOOR[unit]:
                    found.add((relative.replace(os.sep, "/"), target))
    return found


def test_every_unit_has_a_floor():
    units = {
        _unit(name)
        for name in os.listdir(ROOT)
        if (name.endswith(".py") or os.path.isdir(os.path.join(ROOT, name)))
        and not name.startswith((".", "_"))
        or name == "__init__.py"
    }
    units.discard("__pycache__")
    assert not sorted(units - set(FLOOR)), "give each new module or package a floor"


def test_no_import_runs_up():
    found = upward_imports()
    assert not sorted(found - UPWARD), "imports that run up a floor (register instead)"
    assert not sorted(UPWARD - found), "listed upward imports that have gone: remove them"


def test_the_floor_check_sees_an_upward_import(tmp_path, monkeypatch):
    # a file of the ops floor that imports the layers floor, inside a function
    sneaky = tmp_path / "ops"
    sneaky.mkdir()
    (sneaky / "bad.py").write_text("def f():\n    from ..layers import Dense\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", str(tmp_path))
    assert upward_imports() == {("ops/bad.py", "layers")}
