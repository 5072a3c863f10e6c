"""A corpus of crafted model files: each is refused with ModelFileError, fires no code, and
stays within the file's size plus 64 MiB of memory while being refused."""

import io
import json
import os
import pickle
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

pytest.importorskip("safetensors")

import shendu  # noqa: E402
from shendu import layers  # noqa: E402
from shendu.saving import ModelFileError, load_model, load_weights  # noqa: E402

CANARY = os.path.join(os.path.dirname(__file__), "_canary_fired")


class Canary:
    """If anything ever calls this, the canary file appears."""

    def __reduce__(self):
        return (open, (CANARY, "w"))


class Detonator(layers.Layer):  # deliberately NOT registered
    def __init__(self, **kwargs):
        open(CANARY, "w").close()
        super().__init__(**kwargs)


def _good_model():
    m = shendu.Sequential([layers.Input((3,)), layers.Dense(2, name="d")])
    m.compile("adam", "mse")
    m.fit(np.ones((4, 3)), np.ones((4, 2)), epochs=1, verbose=0)
    return m


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    path = tmp_path_factory.mktemp("good") / "m.shendu"
    _good_model().save(str(path))
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _zip(members):
    import warnings

    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w") as zf:
        warnings.simplefilter("ignore")  # duplicate names are the point of one case
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name), data)
    return buf.getvalue()


def _st(header, body=b"", raw_len=None):
    h = json.dumps(header).encode() if not isinstance(header, bytes) else header
    n = len(h) if raw_len is None else raw_len
    return struct.pack("<Q", n) + h + body


def _with_config(good, edit):
    cfg = json.loads(good["config.json"])
    edit(cfg)
    return _zip(
        [
            ("config.json", json.dumps(cfg).encode()),
            ("model.safetensors", good["model.safetensors"]),
        ]
    )


def _with_weights(good, st_bytes):
    return _zip([("config.json", good["config.json"]), ("model.safetensors", st_bytes)])


def _compression(method):
    """A valid archive whose config member claims another compression method (found by the
    atheris fuzz target: the zip module raised NotImplementedError)."""
    data = bytearray(_zip([("config.json", b"{}"), ("model.safetensors", b"\0" * 8)]))
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        start = 0
        while (i := data.find(sig, start)) != -1:
            offset = 8 if sig == b"PK\x03\x04" else 10
            data[i + offset : i + offset + 2] = method.to_bytes(2, "little")
            start = i + 4
    return bytes(data)


def _corrupt_deflate(good):
    """A deflated config member whose stream is damaged (an atheris finding: zlib.error)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("config.json", good["config.json"])
        zf.writestr("model.safetensors", good["model.safetensors"])
    data = bytearray(buf.getvalue())
    start = 30 + len("config.json")
    for i in range(start + 2, start + 40):
        data[i] ^= 0xA5
    return bytes(data)


def _bomb():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("config.json", b"{}")
        info = zipfile.ZipInfo("model.safetensors")
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(300):  # 300 MiB of zeros, a few hundred KiB compressed
                f.write(chunk)
    return buf.getvalue()


def _set_layer(cfg, key, value):
    cfg["model"]["config"]["layers"][1]["config"][key] = value


def _replace_class(cfg, name):
    cfg["model"]["config"]["layers"][1]["class_name"] = name


def _tensor_entry(dtype="F32", shape=(2,), offsets=(0, 8)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


CASES = {
    "not a zip": lambda g: b"this is not a zip file at all",
    "empty file": lambda g: b"",
    "pickle file": lambda g: pickle.dumps(Canary()),
    "truncated zip": lambda g: _with_config(g, lambda c: None)[:200],
    "absolute member name": lambda g: _zip(
        [
            ("/etc/config.json", b"{}"),
            ("config.json", g["config.json"]),
            ("model.safetensors", g["model.safetensors"]),
        ]
    ),
    "dotdot member name": lambda g: _zip(
        [("../config.json", g["config.json"]), ("model.safetensors", g["model.safetensors"])]
    ),
    "duplicate member": lambda g: _zip(
        [
            ("config.json", g["config.json"]),
            ("config.json", g["config.json"]),
            ("model.safetensors", g["model.safetensors"]),
        ]
    ),
    "missing weights": lambda g: _zip([("config.json", g["config.json"])]),
    "missing config": lambda g: _zip([("model.safetensors", g["model.safetensors"])]),
    "extra pickle member": lambda g: _zip(
        [
            ("config.json", g["config.json"]),
            ("model.safetensors", g["model.safetensors"]),
            ("payload.pkl", pickle.dumps(Canary())),
        ]
    ),
    "decompression bomb": lambda g: _bomb(),
    "unsupported compression method": lambda g: _compression(99),
    "lzma compression": lambda g: _compression(14),
    "corrupt deflate stream": _corrupt_deflate,
    "non-utf8 member name (fuzz finding)": lambda g: __import__("base64").b64decode(
        "UG51bGwKfVBLAQIUAxQAAPsAADuTel0sydlEMQYAADMGAAALAAAAAAAAAP//WAIAAAAAcoM6b25maWcuanPvblB"
        "LBQYAAAAAAQABADkAAABcBgAAAAA="
    ),
    "config not utf8": lambda g: _zip(
        [("config.json", b"\xff\xfe{"), ("model.safetensors", g["model.safetensors"])]
    ),
    "config not json": lambda g: _zip(
        [("config.json", b"{not json"), ("model.safetensors", g["model.safetensors"])]
    ),
    "config not shendu": lambda g: _zip(
        [("config.json", b'{"format": "keras"}'), ("model.safetensors", g["model.safetensors"])]
    ),
    "config duplicate keys": lambda g: _zip(
        [
            ("config.json", b'{"format": "shendu", "format": "shendu"}'),
            ("model.safetensors", g["model.safetensors"]),
        ]
    ),
    "unregistered class": lambda g: _with_config(g, lambda c: _replace_class(c, "Detonator")),
    "python module path as class": lambda g: _with_config(
        g, lambda c: _replace_class(c, "os.system")
    ),
    "module key": lambda g: _with_config(
        g, lambda c: c["model"]["config"]["layers"][1].update(module="subprocess")
    ),
    "function reference": lambda g: _with_config(g, lambda c: _set_layer(c, "function", "eval")),
    "url in config": lambda g: _with_config(
        g, lambda c: _set_layer(c, "name", "https://evil.example/x")
    ),
    "file path in config": lambda g: _with_config(
        g, lambda c: _set_layer(c, "name", "/etc/passwd")
    ),
    "dotdot path in config": lambda g: _with_config(
        g, lambda c: _set_layer(c, "name", "../../secret")
    ),
    "filepath key": lambda g: _with_config(g, lambda c: _set_layer(c, "filepath", "weights.h5")),
    "unknown activation name": lambda g: _with_config(
        g, lambda c: _set_layer(c, "activation", "__import__")
    ),
    "header too short": lambda g: _with_weights(g, b"\x01\x02"),
    "header too long": lambda g: _with_weights(g, _st(b"{}", raw_len=200 * 1024 * 1024)),
    "header past the end": lambda g: _with_weights(g, _st(b"{}", raw_len=1000)),
    "header not utf8": lambda g: _with_weights(g, _st(b"\xff\xfe\xfd")),
    "header not json": lambda g: _with_weights(g, _st(b"{nope")),
    "header not an object": lambda g: _with_weights(g, _st([1, 2])),
    "unknown dtype": lambda g: _with_weights(
        g, _st({"w": _tensor_entry(dtype="PICKLE")}, b"\0" * 8)
    ),
    "negative shape": lambda g: _with_weights(
        g, _st({"w": _tensor_entry(shape=(-2,))}, b"\0" * 8)
    ),
    "overflowing shape": lambda g: _with_weights(
        g, _st({"w": _tensor_entry(shape=(2**40, 2**40))}, b"\0" * 8)
    ),
    "offsets out of range": lambda g: _with_weights(
        g, _st({"w": _tensor_entry(offsets=(0, 800))}, b"\0" * 8)
    ),
    "overlapping offsets": lambda g: _with_weights(
        g,
        _st({"a": _tensor_entry(offsets=(0, 8)), "b": _tensor_entry(offsets=(4, 12))}, b"\0" * 12),
    ),
    "trailing bytes": lambda g: _with_weights(g, _st({"w": _tensor_entry()}, b"\0" * 16)),
    "size mismatch for dtype": lambda g: _with_weights(
        g, _st({"w": _tensor_entry(shape=(3,))}, b"\0" * 8)
    ),
    "bad metadata": lambda g: _with_weights(g, _st({"__metadata__": {"a": 1}})),
    "wrong weight count": lambda g: _with_weights(
        g, _st({"w0000:d/kernel": _tensor_entry(shape=(3, 2), offsets=(0, 24))}, b"\0" * 24)
    ),
}


def _weights_file(good, **changes):
    import safetensors.numpy as st

    tensors = dict(st.load(good["model.safetensors"]))
    tensors.update(changes)
    return _with_weights(good, st.save(tensors))


def _optimizer_state_transposed(good):
    """Optimizer slots of the wrong shape (an atheris finding: a plain ValueError escaped)."""
    import safetensors.numpy as st

    tensors = dict(st.load(good["model.safetensors"]))
    key = next(k for k in tensors if k.startswith("optimizer/") and tensors[k].ndim == 2)
    tensors[key] = np.ascontiguousarray(tensors[key].T)
    return _with_weights(good, st.save(tensors))


CASES.update(
    {
        "optimizer slot of the wrong shape": _optimizer_state_transposed,
        "weight shape mismatch": lambda g: _weights_file(
            g, **{"w0000:d/kernel": np.zeros((4, 2), np.float32)}
        ),
        "weight dtype mismatch": lambda g: _weights_file(
            g, **{"w0000:d/kernel": np.zeros((3, 2), np.float64)}
        ),
    }
)


# ---------------------------------------------------------------- sizes, structure, versions
# A few hundred bytes that declare gigabytes: each must be refused before anything of that
# size exists (the test's tracemalloc bound), and without running a layer on such data.


def _seq(*layers, input_shape=(3,)):
    return {
        "class_name": "Sequential",
        "config": {
            "name": "s",
            "layers": [
                {"class_name": "InputLayer", "config": {"batch_shape": [None, *input_shape]}}
            ]
            + [{"class_name": c, "config": cfg} for c, cfg in layers],
        },
    }


def _functional(layers, inputs, outputs):
    return {
        "class_name": "Functional",
        "config": {
            "name": "f",
            "layers": layers,
            "input_layers": inputs,
            "output_layers": outputs,
        },
    }


def _node(name, cls, config, args):
    spec = {"tensor": args[0]} if len(args) == 1 else {"list": args}
    return {
        "class_name": cls,
        "name": name,
        "config": {"name": name, **config},
        "inbound_nodes": [{"args": spec, "kwargs": {}}],
    }


def _input(name, shape):
    return {
        "class_name": "InputLayer",
        "name": name,
        "config": {"name": name, "batch_shape": [None, *shape]},
        "inbound_nodes": [],
    }


def _doubling_chain(n):
    """Concatenate([x, x]) n times: each layer doubles the activation, no weights at all."""
    layers = [_input("in", (4,))]
    prev = "in"
    for i in range(n):
        name = f"c{i}"
        layers.append(_node(name, "Concatenate", {}, [[prev, 0, 0], [prev, 0, 0]]))
        prev = name
    return _functional(layers, [["in", 0, 0]], [[prev, 0, 0]])


def _broadcast_product():
    """Multiply of (None, 1, N) and (None, N, 1): an N x N activation from two N-vectors."""
    n = 1 << 16
    layers = [
        _input("a", (1, n)),
        _input("b", (n, 1)),
        _node("m", "Multiply", {}, [["a", 0, 0], ["b", 0, 0]]),
    ]
    return _functional(layers, [["a", 0, 0], ["b", 0, 0]], [["m", 0, 0]])


def _nested_sequentials(depth):
    model = _seq(("Dense", {"units": 2, "name": "d"}))
    for i in range(depth):
        model = {
            "class_name": "Sequential",
            "config": {"name": f"s{i}", "layers": [model]},
        }
    return model


def _model_file(model_config, tensors=None, **extra):
    """A complete .shendu file: the given model config, weights from ``tensors``."""
    import safetensors.numpy as st

    config = {
        "format": "shendu",
        "format_version": 1,
        "shendu_version": "0.1.0",
        "model": model_config,
        "compile_config": None,
        "weights": [],
        **extra,
    }
    data = st.save(tensors or {}) if tensors else _st({})
    return _zip([("config.json", json.dumps(config).encode()), ("model.safetensors", data)])


def _deep_json(depth, opener=b"[", closer=b"]"):
    return opener * depth + closer * depth


def _with_raw_config(g, raw):
    return _zip([("config.json", raw), ("model.safetensors", g["model.safetensors"])])


def _many_members(n):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(n):
            zf.writestr(f"m{i}", b"")
    return buf.getvalue()


def _config_edit(g, edit):
    cfg = json.loads(g["config.json"])
    edit(cfg)
    return _with_raw_config(g, json.dumps(cfg).encode())


def _dense_layer(cfg):
    return cfg["model"]["config"]["layers"][1]


CASES.update(
    {
        # sizes: weights beyond what the file holds, activations beyond the ceiling
        "dense of 10**12 weights": lambda g: _model_file(_seq(("Dense", {"units": 10**12}))),
        "dense wider than the file's weights": lambda g: _config_edit(
            g, lambda c: _dense_layer(c)["config"].update(units=10**6)
        ),
        "embedding of 10**10 rows": lambda g: _model_file(
            _seq(("Embedding", {"input_dim": 10**10, "output_dim": 8}))
        ),
        "lstm of 10**5 units": lambda g: _model_file(
            _seq(("LSTM", {"units": 10**5}), input_shape=(5, 3))
        ),
        "input of 10**10 elements": lambda g: _model_file(
            _seq(("Flatten", {}), input_shape=(10**5, 10**5))
        ),
        "upsampling to 10**12 elements": lambda g: _model_file(
            _seq(("UpSampling2D", {"size": [10**6, 10**6]}), input_shape=(1, 1, 1))
        ),
        "repeat vector 10**11 times": lambda g: _model_file(
            _seq(("RepeatVector", {"n": 10**11}), input_shape=(3,))
        ),
        "zero padding of 10**6": lambda g: _model_file(
            _seq(("ZeroPadding2D", {"padding": 10**6}), input_shape=(1, 1, 1))
        ),
        "transposed conv with strides 10**5": lambda g: _model_file(
            _seq(
                ("Conv2DTranspose", {"filters": 1, "kernel_size": 1, "strides": 10**5}),
                input_shape=(4, 4, 1),
            ),
            {
                "w0000:conv2d_transpose/kernel": np.zeros((1, 1, 1, 1), np.float32),
                "w0001:conv2d_transpose/bias": np.zeros((1,), np.float32),
            },
        ),
        "category encoding of 10**11 tokens": lambda g: _model_file(
            _seq(("CategoryEncoding", {"num_tokens": 10**11, "output_mode": "one_hot"}))
        ),
        "resizing to 10**6 x 10**6": lambda g: _model_file(
            _seq(("Resizing", {"height": 10**6, "width": 10**6}), input_shape=(2, 2, 1))
        ),
        "concatenate doubling 40 times": lambda g: _model_file(_doubling_chain(40)),
        "broadcast product of two vectors": lambda g: _model_file(_broadcast_product()),
        "build_config of 10**12 elements": lambda g: _config_edit(
            g,
            lambda c: (
                c["model"]["config"]["layers"].pop(0),
                c.update(build_config={"input_shape": [None, 10**6, 10**6]}),
            ),
        ),
        # structure: nesting, wrong JSON types, missing keys
        "config nested 100000 deep": lambda g: _with_raw_config(g, _deep_json(100000)),
        "config nested 500 deep": lambda g: _with_raw_config(
            g, b'{"format": "shendu", "x": ' + _deep_json(500) + b"}"
        ),
        "models nested 200 deep": lambda g: _model_file(_nested_sequentials(200)),
        "safetensors header nested 100000 deep": lambda g: _with_weights(
            g, _st(_deep_json(100000, b'{"a":', b"}").replace(b"}", b"}", 1) + b"")
        ),
        "model config is a list": lambda g: _config_edit(g, lambda c: c.update(model=[1, 2])),
        "layers is an object": lambda g: _config_edit(
            g, lambda c: c["model"]["config"].update(layers={"a": 1})
        ),
        "layer config is a list": lambda g: _config_edit(
            g, lambda c: _dense_layer(c).update(config=[1, 2])
        ),
        "layer without class_name": lambda g: _config_edit(
            g, lambda c: _dense_layer(c).pop("class_name")
        ),
        "class_name is a number": lambda g: _config_edit(
            g, lambda c: _dense_layer(c).update(class_name=7)
        ),
        "units is a string": lambda g: _config_edit(
            g, lambda c: _dense_layer(c)["config"].update(units="2")
        ),
        "initializer of the wrong type": lambda g: _config_edit(
            g, lambda c: _dense_layer(c)["config"].update(kernel_initializer=[1])
        ),
        "functional without output_layers": lambda g: _model_file(
            {"class_name": "Functional", "config": {"name": "f", "layers": []}}
        ),
        "functional node of the wrong type": lambda g: _model_file(
            _functional(
                [
                    _input("in", (3,)),
                    {
                        "class_name": "Dense",
                        "name": "d",
                        "config": {"units": 2},
                        "inbound_nodes": "in",
                    },
                ],
                [["in", 0, 0]],
                [["d", 0, 0]],
            )
        ),
        "compile_config is a list": lambda g: _config_edit(
            g, lambda c: c.update(compile_config=[1])
        ),
        "optimizer config of the wrong type": lambda g: _config_edit(
            g, lambda c: c["compile_config"].update(optimizer={"class_name": "Adam", "config": 3})
        ),
        "optimizer_variables out of range": lambda g: _config_edit(
            g, lambda c: c.update(optimizer_variables=[0, 99])
        ),
        "optimizer_variables repeated": lambda g: _config_edit(
            g, lambda c: c.update(optimizer_variables=[0, 0])
        ),
        "vocabulary given as a file path": lambda g: _model_file(
            _seq(("StringLookup", {"vocabulary": "/etc/passwd"}), input_shape=(1,))
        ),
        "weights numbered with a gap": lambda g: _weights_file_only(
            {
                "w0000:d/kernel": np.zeros((3, 2), np.float32),
                "w0002:d/bias": np.zeros(2, np.float32),
            },
            g,
        ),
        "weight named outside the scheme": lambda g: _weights_file_only(
            {"../../etc/passwd": np.zeros(2, np.float32)}, g
        ),
        "negative units": lambda g: _config_edit(
            g, lambda c: _dense_layer(c)["config"].update(units=-5)
        ),
        "layer dtype not numeric": lambda g: _config_edit(
            g, lambda c: _dense_layer(c)["config"].update(dtype="U10")
        ),
        "bidirectional around a number": lambda g: _model_file(
            _seq(("Bidirectional", {"layer": 5}), input_shape=(4, 3))
        ),
        "time distributed around a huge dense": lambda g: _model_file(
            _seq(
                (
                    "TimeDistributed",
                    {"layer": {"class_name": "Dense", "config": {"units": 10**9}}},
                ),
                input_shape=(4, 3),
            )
        ),
        "functional graph with a cycle": lambda g: _model_file(
            _functional(
                [
                    _input("in", (3,)),
                    _node("a", "Add", {}, [["in", 0, 0], ["b", 0, 0]]),
                    _node("b", "Add", {}, [["in", 0, 0], ["a", 0, 0]]),
                ],
                [["in", 0, 0]],
                [["b", 0, 0]],
            )
        ),
        "functional node naming an unknown layer": lambda g: _model_file(
            _functional(
                [_input("in", (3,)), _node("a", "ReLU", {}, [["ghost", 0, 0]])],
                [["in", 0, 0]],
                [["a", 0, 0]],
            )
        ),
        # archives and versions
        "archive listing 100000 members": lambda g: _many_members(100000),
        "newer format version": lambda g: _config_edit(g, lambda c: c.update(format_version=99)),
        "format version missing": lambda g: _config_edit(g, lambda c: c.pop("format_version")),
        "format version not a number": lambda g: _config_edit(
            g, lambda c: c.update(format_version="1")
        ),
        "model.safetensors shorter than declared": lambda g: _with_weights(
            g, g["model.safetensors"][:-4]
        ),
    }
)


def _weights_file_only(tensors, g):
    import safetensors.numpy as st

    return _with_weights(g, st.save(tensors))


def test_corpus_has_at_least_90_files():
    assert len(CASES) >= 90, len(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_crafted_file_is_refused(name, good, tmp_path):
    if os.path.exists(CANARY):
        os.remove(CANARY)
    data = CASES[name](good)
    path = tmp_path / "crafted.shendu"
    path.write_bytes(data)
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError) as info:
            load_model(str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(path) in str(info.value)
    assert not os.path.exists(CANARY), "loading fired code from the file"
    assert peak < len(data) + 64 * 1024 * 1024, f"peak {peak} bytes"


def test_weight_mismatch_message_names_layer_expected_and_received(good, tmp_path):
    path = tmp_path / "m.shendu"
    path.write_bytes(CASES["weight shape mismatch"](good))
    with pytest.raises(
        ModelFileError,
        match=r"layer weight 'd/kernel' expected shape \(3, 2\). Received: shape \(4, 2\)",
    ):
        load_model(str(path))


def test_lambda_refused_in_safe_mode_with_opt_in_hint(tmp_path):
    def double(x):
        return x * 2

    inp = layers.Input((2,))
    m = shendu.Model(inp, layers.Lambda(double)(inp))
    path = str(tmp_path / "lam.shendu")
    m.save(path)
    with pytest.raises(ModelFileError, match="safe_mode=False and the function in custom_objects"):
        load_model(path)
    m2 = load_model(path, safe_mode=False, custom_objects={"double": double})
    np.testing.assert_allclose(m2.predict(np.ones((1, 2)), verbose=0), [[2.0, 2.0]])


def test_load_weights_refuses_crafted_file(tmp_path):
    m = _good_model()
    path = tmp_path / "w.weights.safetensors"
    path.write_bytes(_st({"w": _tensor_entry()}, b"\0" * 16))
    with pytest.raises(ModelFileError, match="trailing bytes"):
        load_weights(m, str(path))
