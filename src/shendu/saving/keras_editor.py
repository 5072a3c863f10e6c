"""``KerasFileEditor``: inspect and edit the weights of a Keras 3 file (``.keras`` or
``.weights.h5``) without building its model, as Keras's editor does: list what the file
holds, compare it with a model, rename, delete or add objects (layers) and weights, and
save the result. The file is read through the same checks as the loader
(``keras_files.check_h5``: no links or storage outside the file, sizes within the data).

Objects are the groups that hold ``vars`` (``layers/dense``, ``layers/lstm/cell``); an
object may be named by its path or, when unique, by its last part (``dense``). Weights
are named by their index in ``vars`` ("0", "1", ...).
"""

from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np

from .checks import ModelFileError, open_archive, parse_json, read_member
from .files import atomic_write
from .keras_files import KERAS_MEMBERS, _h5py, check_h5
from .keras_layout import model_groups


class KerasFileEditor:
    """The weights of a Keras file as ``{object path: {weight name: array}}``."""

    def __init__(self, filepath):
        from . import MAX_TENSOR_BYTES

        self.filepath = os.fspath(filepath)
        self.config = self.metadata = None
        if self.filepath.endswith(".keras"):
            with open_archive(
                self.filepath,
                KERAS_MEMBERS,
                allowed=lambda n: n == "metadata.json" or n.startswith("assets/"),
                kind=".keras",
            ) as zf:
                self.config = parse_json(
                    read_member(zf, "config.json", self.filepath), self.filepath
                )
                if "metadata.json" in zf.namelist():
                    raw = read_member(zf, "metadata.json", self.filepath)
                    self.metadata = parse_json(raw, self.filepath, "metadata.json")
                source = io.BytesIO(read_member(zf, "model.weights.h5", self.filepath))
        elif self.filepath.endswith(".weights.h5"):
            source = self.filepath
        else:
            raise ValueError(
                "KerasFileEditor reads '.keras' and '.weights.h5' files. Received: "
                f"filepath={self.filepath!r}"
            )
        h5py = _h5py()
        try:
            h5 = h5py.File(source, "r")
        except OSError as err:
            raise ModelFileError(f"{self.filepath}: not an HDF5 file ({err})") from None
        with h5:
            check_h5(h5, self.filepath, MAX_TENSOR_BYTES)
            self.weights_dict: dict[str, dict[str, np.ndarray]] = {}
            h5.visititems(self._collect)

    def _collect(self, name, obj):
        if name.endswith("/vars") or name == "vars":
            h5py = _h5py()
            owner = name[: -len("/vars")] if name != "vars" else ""
            if not isinstance(obj, h5py.Group):
                raise ModelFileError(
                    f"{self.filepath}: {name!r} is a dataset; Keras keeps an object's "
                    "variables in a group"
                )
            weights = {}
            for key in obj.keys():
                item = obj[key]
                if not isinstance(item, h5py.Dataset):
                    raise ModelFileError(
                        f"{self.filepath}: {name}/{key} is a group where a variable (a "
                        "dataset) is expected"
                    )
                weights[key] = np.asarray(item[()])
            self.weights_dict[owner] = weights

    # --- looking ---
    def _path(self, object_name: str) -> str:
        if object_name in self.weights_dict:
            return object_name
        matches = [p for p in self.weights_dict if p.rsplit("/", 1)[-1] == object_name]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise ValueError(
                f"No object {object_name!r} in the file. Objects: "
                f"{sorted(p for p in self.weights_dict if p)}"
            )
        raise ValueError(f"The name {object_name!r} is ambiguous; use its path: {matches}")

    def summary(self, print_fn=print) -> None:
        """Print each object's path and its weights' shapes and dtypes."""
        for path in sorted(self.weights_dict):
            weights = self.weights_dict[path]
            if not path and not weights:
                continue
            shown = ", ".join(f"{k}: {v.shape} {v.dtype}" for k, v in weights.items())
            print_fn(f"{path or '(model)'}: {shown or 'no weights'}")

    def compare(self, reference_model, print_fn=print) -> dict:
        """Compare the file's weights with a model's (where Keras keeps them): the
        objects or shapes that differ are printed; returns ``{"status", "error_count",
        "match_count"}``."""
        errors = matches = 0
        for path, variables in model_groups(reference_model):
            held = self.weights_dict.get(path)
            if held is None:
                print_fn(f"Object {path} present in the model, missing from the file")
                errors += 1
                continue
            for i, v in enumerate(variables):
                found = held.get(str(i))
                if found is None or tuple(found.shape) != tuple(v.shape):
                    got = None if found is None else tuple(found.shape)
                    print_fn(f"{path}/vars/{i}: model shape {tuple(v.shape)}, file {got}")
                    errors += 1
                else:
                    matches += 1
        status = "success" if errors == 0 else "error"
        return {"status": status, "error_count": errors, "match_count": matches}

    # --- editing ---
    def rename_object(self, object_name: str, new_name: str) -> None:
        path = self._path(object_name)
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        new_path = new_name if "/" in new_name or not parent else f"{parent}/{new_name}"
        if new_path in self.weights_dict:
            raise ValueError(f"An object {new_path!r} already exists")
        prefix = path + "/"
        for key in list(self.weights_dict):
            if key == path or key.startswith(prefix):
                self.weights_dict[new_path + key[len(path) :]] = self.weights_dict.pop(key)

    def delete_object(self, object_name: str) -> None:
        path = self._path(object_name)
        for key in [k for k in self.weights_dict if k == path or k.startswith(path + "/")]:
            del self.weights_dict[key]

    def add_object(self, object_path: str, weights) -> None:
        if object_path in self.weights_dict:
            raise ValueError(f"An object {object_path!r} already exists")
        self.weights_dict[object_path] = {}
        self.add_weights(object_path, weights)

    def add_weights(self, object_name: str, weights) -> None:
        """Add weights (a dict name -> array, or a list numbered after the existing)."""
        held = self.weights_dict[self._path(object_name)]
        if not isinstance(weights, dict):
            weights = {str(len(held) + i): w for i, w in enumerate(weights)}
        for name, value in weights.items():
            if str(name) in held:
                raise ValueError(f"Weight {name!r} already exists in {object_name!r}")
            held[str(name)] = np.asarray(value)

    def delete_weight(self, object_name: str, weight_name) -> None:
        held = self.weights_dict[self._path(object_name)]
        if str(weight_name) not in held:
            raise ValueError(
                f"No weight {str(weight_name)!r} in {object_name!r}. Weights: {sorted(held)}"
            )
        del held[str(weight_name)]

    # --- writing ---
    def _h5_bytes(self) -> bytes:
        h5py = _h5py()
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as h5:
            for path in sorted(self.weights_dict):
                group = h5.require_group(f"{path}/vars" if path else "vars")
                for name, value in self.weights_dict[path].items():
                    group.create_dataset(name, data=value)
        return buffer.getvalue()

    def save(self, filepath) -> None:
        """Write the edited file (``.keras``: with the original config; ``.weights.h5``)."""
        path = os.fspath(filepath)
        if path.endswith(".weights.h5"):
            self.resave_weights(path)
            return
        if not path.endswith(".keras") or self.config is None:
            raise ValueError(
                "save() writes a '.keras' file (when a .keras file was opened) or a "
                f"'.weights.h5' file. Received: filepath={path!r}"
            )
        weights = self._h5_bytes()
        config, metadata = json.dumps(self.config), json.dumps(self.metadata or {})

        def write(tmp):
            with zipfile.ZipFile(tmp, "w") as zf:
                zf.writestr("metadata.json", metadata, zipfile.ZIP_DEFLATED)
                zf.writestr("config.json", config, zipfile.ZIP_DEFLATED)
                zf.writestr("model.weights.h5", weights, zipfile.ZIP_STORED)

        atomic_write(path, write)

    def resave_weights(self, filepath) -> None:
        """Write the (edited) weights alone as a ``.weights.h5`` file."""
        path = os.fspath(filepath)
        if not path.endswith(".weights.h5"):
            raise ValueError(f"The filename must end in '.weights.h5'. Received: {path!r}")
        data = self._h5_bytes()

        def write(tmp):
            with open(tmp, "wb") as f:
                f.write(data)

        atomic_write(path, write)
