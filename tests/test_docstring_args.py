"""The API pages' parameter tables: Google-style ``Args:`` sections (mkdocs reads them).

Every ``Args:`` section in shendu names parameters of its own signature, in its order (a
renamed or removed parameter fails here); the public entries users reach first have one
that covers every named parameter."""

import importlib
import inspect
import pkgutil
import re

import pytest

import shendu

#: the entries every user meets (the seed program, the guides' first pages): each must
#: document every parameter (self, *args and **kwargs aside)
REQUIRED = [
    "shendu.models.trainer.Trainer.compile",
    "shendu.models.trainer.Trainer.fit",
    "shendu.models.trainer.Trainer.evaluate",
    "shendu.models.trainer.Trainer.predict",
    "shendu.models.sequential.Sequential",
    "shendu.layers.core.Dense",
    "shendu.layers.core.Dropout",
    "shendu.layers.recurrent.Embedding",
    "shendu.layers.conv.Conv2D",
    "shendu.layers.recurrent.LSTM",
    "shendu.layers.normalization.BatchNormalization",
    "shendu.optimizers.algorithms.SGD",
    "shendu.optimizers.algorithms.Adam",
    "shendu.optimizers.algorithms.AdamW",
    "shendu.callbacks.EarlyStopping",
    "shendu.callbacks.ModelCheckpoint",
    "shendu.callbacks.ReduceLROnPlateau",
    "shendu.testing.gradcheck",
]

#: modules whose every public class documents its parameters: the optimizers, the callbacks
REQUIRED_MODULES = ["shendu.optimizers.algorithms", "shendu.callbacks"]


def _required():
    paths = list(REQUIRED)
    for module_name in REQUIRED_MODULES:
        module = importlib.import_module(module_name)
        for name, obj in sorted(vars(module).items()):
            if (
                inspect.isclass(obj)
                and obj.__module__ == module_name
                and not name.startswith("_")
                and parameters(obj)[0]
                and f"{module_name}.{name}" not in paths
            ):
                paths.append(f"{module_name}.{name}")
    return paths


_ARG = re.compile(r"^(\*{0,2}\w+)(?:\s*\([^)]*\))?:")


def args_section(doc):
    """The parameter names an ``Args:`` section lists, in order (None: no section)."""
    if not doc:
        return None
    lines = inspect.cleandoc(doc).splitlines()
    for i, line in enumerate(lines):
        if line.strip() == "Args:":
            indent = len(line) - len(line.lstrip())
            names, entry_indent = [], None
            for text in lines[i + 1 :]:
                if not text.strip():
                    continue
                depth = len(text) - len(text.lstrip())
                if depth <= indent:
                    break
                if entry_indent is None:
                    entry_indent = depth
                match = _ARG.match(text.strip())
                if depth == entry_indent and match:
                    names.append(match.group(1).lstrip("*"))
            return names
    return None


def parameters(obj):
    target = obj.__init__ if inspect.isclass(obj) else obj
    sig = inspect.signature(target)
    return [
        p.name
        for p in sig.parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ], [p.name for p in sig.parameters.values() if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def documented_objects():
    """(qualified name, object) of every class, function and method defined in shendu."""
    seen = set()
    for info in pkgutil.walk_packages(shendu.__path__, "shendu."):
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an extra that is not installed
            continue
        for name, obj in vars(module).items():
            if getattr(obj, "__module__", None) != module.__name__ or id(obj) in seen:
                continue
            if inspect.isclass(obj):
                seen.add(id(obj))
                yield f"{module.__name__}.{name}", obj
                for attr, member in vars(obj).items():
                    if inspect.isfunction(member):
                        yield f"{module.__name__}.{name}.{attr}", member
            elif inspect.isfunction(obj):
                seen.add(id(obj))
                yield f"{module.__name__}.{name}", obj


def resolve(path):
    module_name, _, rest = path.partition(".")
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(path)


def test_every_args_section_names_its_own_parameters_in_order():
    wrong, sections = [], 0
    for name, obj in documented_objects():
        listed = args_section(obj.__doc__)
        if listed is None:
            continue
        sections += 1
        named, variadic = parameters(obj)
        known = named + variadic
        unknown = [n for n in listed if n not in known]
        order = [n for n in listed if n in named]
        if unknown or order != [n for n in named if n in order]:
            wrong.append(f"{name}: lists {listed}, signature {known}")
    assert not wrong, "\n".join(wrong)
    assert sections >= len(REQUIRED)


@pytest.mark.parametrize("path", _required())
def test_the_first_entries_document_every_parameter(path):
    obj = resolve(path)
    listed = args_section(obj.__doc__)
    assert listed is not None, f"{path} has no Args section"
    named, _ = parameters(obj)
    missing = [n for n in named if n not in listed]
    assert not missing, f"{path}: Args does not name {missing}"
