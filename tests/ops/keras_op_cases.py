"""The inputs on which shendu's ops are compared with Keras 3's: ``CASES`` names each
``keras.ops`` function's calls (every op not listed takes one float array ``X``), shared by
the value oracle (``test_keras_oracle_ops.py``), the dtype table
(``test_keras_dtype_table.py``) and the tool that records Keras's dtypes
(``tools/record_keras_dtypes.py``). Nothing here imports Keras or shendu."""

import numpy as np

R = np.random.default_rng(0)


def f(*shape, low=-1.5, high=1.5):
    return R.uniform(low, high, shape).astype("float32")


def pos(*shape):
    return R.uniform(0.2, 1.8, shape).astype("float32")


def unit(*shape):
    return R.uniform(-0.9, 0.9, shape).astype("float32")


def ints(*shape, high=5):
    return R.integers(0, high, shape).astype("int32")


X, Y = f(2, 3), f(2, 3)
M = f(3, 3) + 3 * np.eye(3, dtype="float32")
SPD = (M @ M.T).astype("float32")
IMG = R.uniform(0, 1, (2, 8, 8, 3)).astype("float32")

# name -> list of (args, kwargs); every op not listed takes one float array X
CASES = {
    # domains
    "arccosh": [((pos(2, 3) + 1,), {})],
    "arcsin": [((unit(2, 3),), {})],
    "arccos": [((unit(2, 3),), {})],
    "arctanh": [((unit(2, 3),), {})],
    "erfinv": [((unit(2, 3),), {})],
    "log": [((pos(2, 3),), {})],
    "log2": [((pos(2, 3),), {})],
    "log10": [((pos(2, 3),), {})],
    "log1p": [((pos(2, 3),), {})],
    "sqrt": [((pos(2, 3),), {})],
    "rsqrt": [((pos(2, 3),), {})],
    "reciprocal": [((pos(2, 3),), {})],
    "cbrt": [((f(2, 3),), {})],
    # binary
    **{
        name: [((X, Y), {}), ((f(2, 1), f(1, 3)), {})]
        for name in (
            "add",
            "subtract",
            "multiply",
            "maximum",
            "minimum",
            "arctan2",
            "hypot",
            "logaddexp",
            "logaddexp2",
            "fmax",
            "fmin",
            "equal",
            "not_equal",
            "greater",
            "greater_equal",
            "less",
            "less_equal",
            "logical_and",
            "logical_or",
            "logical_xor",
            "isclose",
            "heaviside",
            "nextafter",
            "copysign",
        )
    },
    **{
        name: [((X, pos(2, 3)), {})]
        for name in ("divide", "true_divide", "divide_no_nan", "mod", "fmod", "floor_divide")
    },
    "power": [((pos(2, 3), X), {})],
    "ldexp": [((X, ints(2, 3)), {})],
    **{
        name: [((ints(2, 3, high=50), ints(2, 3, high=50) + 1), {})]
        for name in ("gcd", "lcm", "bitwise_and", "bitwise_or", "bitwise_xor")
    },
    **{
        name: [((ints(2, 3, high=50), ints(2, 3, high=3)), {})]
        for name in ("bitwise_left_shift", "bitwise_right_shift", "left_shift", "right_shift")
    },
    "bitwise_invert": [((ints(2, 3),), {})],
    "bitwise_not": [((ints(2, 3),), {})],
    "allclose": [((X, X + 1e-9), {})],
    "isin": [((ints(2, 3), ints(4)), {})],
    # reductions
    **{
        name: [((X,), {}), ((X,), {"axis": 1}), ((X,), {"axis": 0, "keepdims": True})]
        for name in (
            "sum",
            "mean",
            "max",
            "min",
            "amax",
            "amin",
            "prod",
            "std",
            "var",
            "any",
            "all",
            "argmax",
            "argmin",
            "logsumexp",
            "median",
            "ptp",
            "count_nonzero",
            "nansum",
            "nanmean",
            "nanmax",
            "nanmin",
            "nanprod",
            "nanstd",
            "nanvar",
            "nanmedian",
        )
        if name not in ("count_nonzero",)
    },
    "argmax": [((X,), {}), ((X,), {"axis": 1})],
    "argmin": [((X,), {}), ((X,), {"axis": 1})],
    "nanargmax": [((X,), {"axis": 1})],
    "nanargmin": [((X,), {"axis": 1})],
    "count_nonzero": [((ints(3, 4),), {}), ((ints(3, 4),), {"axis": 0})],
    "quantile": [((X, 0.3), {}), ((X, [0.2, 0.8]), {"axis": 1})],
    "nanquantile": [((X, 0.3), {"axis": 1})],
    "percentile": [((X, 30.0), {})],
    "nanpercentile": [((X, 30.0), {"axis": 0})],
    "cumsum": [((X,), {"axis": 1})],
    "cumprod": [((X,), {"axis": 1})],
    "nancumsum": [((X,), {"axis": 1})],
    "nancumprod": [((X,), {"axis": 1})],
    "average": [((X,), {"axis": 1, "weights": pos(3)})],
    "norm": [
        ((X,), {}),
        ((X,), {"ord": 1, "axis": 1}),
        ((M,), {"ord": "fro"}),
        ((M,), {"ord": 2}),
        ((M,), {"ord": "nuc"}),
        ((X,), {"ord": 3, "axis": 1}),
    ],
    "trace": [((M,), {})],
    # shapes
    "reshape": [((X, (3, 2)), {}), ((X, (-1,)), {})],
    "transpose": [((f(2, 3, 4),), {"axes": (2, 0, 1)})],
    "expand_dims": [((X, 1), {})],
    "squeeze": [((f(2, 1, 3),), {"axis": 1})],
    "swapaxes": [((f(2, 3, 4), 0, 2), {})],
    "moveaxis": [((f(2, 3, 4), 0, -1), {})],
    "broadcast_to": [((f(3), (2, 3)), {})],
    "concatenate": [(([X, Y],), {"axis": 0})],
    "stack": [(([X, Y],), {"axis": 1})],
    "hstack": [(([X, Y],), {})],
    "vstack": [(([X, Y],), {})],
    "dstack": [(([X, Y],), {})],
    "append": [((X, Y), {"axis": 1})],
    "split": [((f(4, 3), 2), {})],
    "array_split": [((f(5, 3), 2), {})],
    "hsplit": [((f(2, 4), 2), {})],
    "vsplit": [((f(4, 2), 2), {})],
    "dsplit": [((f(2, 2, 4), 2), {})],
    "unstack": [((X,), {"axis": 1})],
    "tile": [((X, (2, 1)), {})],
    "repeat": [((X, 2), {"axis": 0})],
    "roll": [((X, 1), {"axis": 1})],
    "flip": [((X,), {"axis": 1})],
    "fliplr": [((X,), {})],
    "flipud": [((X,), {})],
    "rot90": [((f(2, 3, 4),), {"k": 1, "axes": (1, 2)})],
    "tril": [((f(4, 4),), {"k": -1})],
    "triu": [((f(4, 4),), {"k": 1})],
    "diagonal": [((f(3, 4),), {"offset": 1})],
    "diag": [((f(3),), {}), ((f(3, 4),), {"k": 1})],
    "diagflat": [((f(2, 2),), {})],
    "pad": [((X, ((1, 0), (0, 2))), {})],
    "take": [((X, ints(4, high=3)), {"axis": 1})],
    "take_along_axis": [((X, ints(2, 3, high=3)), {"axis": 1})],
    "ravel": [((X,), {})],
    "sort": [((X,), {"axis": 1})],
    "argsort": [((X,), {"axis": 1})],
    "argpartition": [((f(6), 2), {})],
    "top_k": [((X, 2), {})],
    "in_top_k": [((ints(2, high=3), X, 2), {})],
    "searchsorted": [((np.sort(f(6)), f(3)), {})],
    "digitize": [((X, np.sort(f(4))), {})],
    "bincount": [((ints(8),), {})],
    "unique": [((ints(8),), {"size": 5, "fill_value": -1})],
    "histogram": [((f(20),), {"bins": 4, "range": (-1.5, 1.5)})],
    "where": [((X > 0, X, Y), {})],
    "select": [(([X > 0.5, X < -0.5], [X, Y]), {})],
    "clip": [((X, -0.5, 0.5), {})],
    "diff": [((X,), {"axis": 1})],
    "trapezoid": [((X,), {})],
    "corrcoef": [((f(3, 6),), {})],
    "correlate": [((f(6), f(3)), {"mode": "same"})],
    "cross": [((f(4, 3), f(4, 3)), {})],
    "outer": [((f(3), f(4)), {})],
    "inner": [((f(3), f(3)), {})],
    "vdot": [((f(3), f(3)), {})],
    "kron": [((f(2, 2), f(2, 3)), {})],
    "dot": [((X, f(3, 4)), {})],
    "matmul": [((X, f(3, 4)), {})],
    "tensordot": [((f(2, 3, 4), f(4, 3)), {"axes": 1})],
    "einsum": [(("ij,jk->ik", X, f(3, 4)), {})],
    "cdist": [((f(4, 3), f(5, 3)), {})],
    "vander": [((f(4),), {"N": 3})],
    "meshgrid": [((f(3), f(2)), {"indexing": "ij"})],
    "one_hot": [((ints(4, high=3), 3), {})],
    "multi_hot": [((ints(2, 3, high=4), 4), {})],
    "nan_to_num": [((np.array([1.0, np.nan, np.inf, -np.inf], "float32"),), {})],
    "round": [((X * 10,), {"decimals": 0})],
    # creation
    "arange": [((5,), {}), ((1, 7, 2), {}), ((0.0, 1.0, 0.25), {})],
    "linspace": [((0.0, 1.0, 5), {})],
    "logspace": [((0.0, 2.0, 3), {})],
    "geomspace": [((1.0, 8.0, 4), {})],
    "eye": [((3,), {}), ((3, 4), {"k": 1})],
    "identity": [((3,), {})],
    "tri": [((3,), {"k": -1})],
    "zeros": [(((2, 3),), {})],
    "ones": [(((2, 3),), {})],
    "full": [(((2, 3), 7.0), {})],
    "zeros_like": [((X,), {})],
    "ones_like": [((X,), {})],
    "full_like": [((X, 2.0), {})],
    "empty": [(((2, 3),), {})],
    "empty_like": [((X,), {})],
    "array": [(([1.0, 2.0],), {})],
    "bartlett": [((6,), {})],
    "blackman": [((6,), {})],
    "hamming": [((6,), {})],
    "hanning": [((6,), {})],
    "kaiser": [((6, 5.0), {})],
    # linear algebra
    **{name: [((M,), {})] for name in ("det", "inv", "slogdet")},
    "cholesky": [((SPD,), {})],
    "logdet": [((SPD,), {})],
    "eigh": [((SPD,), {})],
    "solve": [((M, f(3, 2)), {})],
    "solve_triangular": [((np.tril(M), f(3, 2)), {"lower": True})],
    "svd": [((f(4, 3),), {"compute_uv": False})],
    "qr": [((f(4, 3),), {})],
    "pinv": [((f(4, 3),), {})],
    "lstsq": [((f(4, 3), f(4, 2)), {})],
    "matrix_rank": [((M,), {})],
    "cholesky_inverse": [((np.linalg.cholesky(SPD).astype("float32"),), {})],
    # Fourier, segments
    "fft": [(((X, Y),), {})],
    "fft2": [(((X, Y),), {})],
    "ifft2": [(((X, Y),), {})],
    "rfft": [((f(2, 8),), {})],
    "irfft": [(((f(2, 5), f(2, 5)),), {})],
    "stft": [((f(2, 32), 8, 4, 8), {})],
    "istft": [(((f(2, 9, 5), f(2, 9, 5)), 8, 4, 8), {})],
    "extract_sequences": [((f(2, 10), 4, 3), {})],
    **{
        name: [((f(6, 2), np.array([0, 0, 1, 2, 2, 2])), {"num_segments": 3})]
        for name in ("segment_sum", "segment_max", "segment_min", "segment_prod")
    },
    # nn
    "softmax": [((X,), {"axis": -1})],
    "log_softmax": [((X,), {"axis": -1})],
    "glu": [((f(2, 4),), {})],
    "sparsemax": [((X,), {})],
    "threshold": [((X, 0.2, -1.0), {})],
    "normalize": [((X,), {})],
    "psnr": [((IMG[0], IMG[1], 1.0), {})],
    "moments": [((X, [0]), {})],
    "batch_normalization": [((X, f(3), pos(3), -1), {"offset": f(3), "scale": f(3)})],
    "layer_normalization": [((X,), {})],
    "rms_normalization": [((X,), {})],
    "categorical_crossentropy": [((np.eye(3, dtype="float32")[[0, 2]], X), {"from_logits": True})],
    "sparse_categorical_crossentropy": [((np.array([0, 2]), X), {"from_logits": True})],
    "binary_crossentropy": [(((X > 0).astype("float32"), X), {"from_logits": True})],
    "conv": [((IMG, f(3, 3, 3, 4)), {"padding": "same"})],
    "conv_transpose": [((IMG, f(3, 3, 4, 3)), {"strides": 2, "padding": "same"})],
    "depthwise_conv": [((IMG, f(3, 3, 3, 2)), {})],
    "separable_conv": [((IMG, f(3, 3, 3, 1), f(1, 1, 3, 4)), {})],
    # strides given: Keras 3.15 on JAX fails without them ("inconsistent window_strides")
    "max_pool": [((IMG, (2, 2), (2, 2)), {})],
    "average_pool": [((IMG, (3, 3), (2, 2)), {"padding": "same"})],
    "adaptive_average_pool": [((IMG, (3, 2)), {})],
    "adaptive_max_pool": [((IMG, (3, 2)), {})],
    "space_to_depth": [((IMG, 2), {})],
    "depth_to_space": [((f(2, 2, 2, 8), 2), {})],
    "unfold": [((np.moveaxis(IMG, -1, 1), 3), {"padding": 1})],
    "fold": [((f(2, 12, 9), (4, 4), 2), {"padding": 1})],
    # (attn_logits_soft_cap: Keras supports it on TPUs only; shendu's is tested locally)
    "dot_product_attention": [((f(2, 4, 2, 3), f(2, 4, 2, 3), f(2, 4, 2, 3)), {})],
    "ctc_loss": [((np.array([[1, 2, 0]]), f(1, 6, 4), np.array([2]), np.array([6])), {})],
    "ctc_decode": [((np.log(pos(1, 5, 3)), np.array([5])), {})],
    # images
    "rgb_to_grayscale": [((IMG,), {})],
    "rgb_to_hsv": [((IMG,), {})],
    "hsv_to_rgb": [((IMG,), {})],
    "resize": [
        ((IMG, (5, 12)), {}),
        ((IMG, (4, 4)), {"interpolation": "nearest"}),
        ((IMG, (5, 6)), {"interpolation": "bicubic", "antialias": True}),
    ],
    "affine_transform": [
        (
            (IMG, np.array([1.0, 0.1, 0.5, 0.05, 0.9, -0.5, 0, 0], "float32")),
            {"fill_mode": "reflect"},
        )
    ],
    "map_coordinates": [
        (
            (IMG[0, :, :, 0], R.uniform(-1, 9, (2, 5, 5)).astype("float32"), 1),
            {"fill_mode": "nearest"},
        )
    ],
    "crop_images": [
        ((IMG,), {"top_cropping": 1, "left_cropping": 2, "target_height": 4, "target_width": 5})
    ],
    "pad_images": [
        ((IMG,), {"top_padding": 1, "left_padding": 2, "target_height": 10, "target_width": 11})
    ],
    "extract_patches": [((IMG, 3), {"strides": 2}), ((IMG, (2, 3)), {"padding": "same"})],
    "gaussian_blur": [((IMG,), {"kernel_size": (3, 5), "sigma": (1.0, 2.0)})],
    "perspective_transform": [
        (
            (
                IMG,
                np.array([[0, 0], [7, 0], [0, 7], [7, 7]], "float32"),
                np.array([[1, 0], [7, 1], [0, 6], [6, 7]], "float32"),
            ),
            {},
        )
    ],
    "scale_and_translate": [
        (
            (
                IMG,
                (2, 5, 6, 3),
                np.array([0.6, 0.7], "float32"),
                np.array([0.5, 0.2], "float32"),
                (1, 2),
                "bilinear",
            ),
            {},
        )
    ],
    "sobel_edges": [((IMG,), {})],
    "ssim": [((IMG, IMG * 0.9), {"filter_size": 3})],
    # core
    "cast": [((X, "int32"), {})],
    "saturate_cast": [((X * 300, "uint8"), {})],
    "convert_to_tensor": [((X,), {})],
    "convert_to_numpy": [((X,), {})],
    "stop_gradient": [((X,), {})],
    "scatter": [((np.array([[0, 1], [1, 2]]), np.array([5.0, 6.0], "float32"), (2, 3)), {})],
    "scatter_update": [
        ((X, np.array([[0, 1], [1, 2]]), np.array([5.0, 6.0], "float32")), {}),
        ((X, np.array([[0, 1], [0, 1]]), np.array([5.0, 6.0], "float32")), {"reduction": "add"}),
        ((X, np.array([[0, 1], [1, 2]]), np.array([5.0, 6.0], "float32")), {"reduction": "max"}),
    ],
    "slice": [((X, (0, 1), (2, 2)), {})],
    "slice_update": [((X, (0, 1), np.zeros((2, 2), "float32")), {})],
    "shape": [((X,), {})],
    "ndim": [((X,), {})],
    "size": [((X,), {})],
    "dtype": [((X,), {})],
    "is_tensor": [((X,), {})],
    "view": [((X, "int32"), {})],
    "rearrange": [((f(2, 6), "b (h w) -> b w h"), {"h": 2})],
    "get_item": [((X, 1), {})],
}

# Keras 3.15's sparsemax sums the cumulative sums over the support (its rows do not sum to
# 1); shendu follows Martins & Astudillo (2016), checked against the definition in
# test_keras_ops.py. argpartition leaves the order inside each part open: compared by parts.
KNOWN_DIFFERENCES = {"sparsemax"}

# ops that need functions, draw random numbers, or return structures compared elsewhere
NOT_COMPARED = {
    "associative_scan",
    "cond",
    "custom_gradient",
    "fori_loop",
    "map",
    "scan",
    "switch",
    "vectorized_map",
    "while_loop",
    "vectorize",
    "jvp",
    "eig",
    "lu_factor",
    "svd",
    "elastic_transform",
    "polar",
    "view_as_complex",
    "view_as_real",
    "angle",
    "conj",
    "conjugate",
    "real",
    "imag",
    "image",
    "linalg",
    "nn",
    "numpy",
    "dropout",
}


def keras_op_names(keras_ops) -> list:
    """The public functions of ``keras_ops`` that the oracles compare."""
    return sorted(n for n in dir(keras_ops) if not n.startswith("_") and n not in NOT_COMPARED)


# ------------------------------------------------------------------ the dtype table's cells

#: the dtypes of the table (Keras's, less bfloat16: NumPy has none)
DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")
#: Python scalars as Keras treats them: weak types that take the other operand's kind
#: (a cell "uint8,py_int" is a uint8 array with the Python int 2)
SCALARS = {"py_int": 2, "py_float": 2.5, "py_bool": True}

#: ops whose first two float operands are varied apart (every pair of dtypes, and a Python
#: scalar as second operand); every other op gets all its float operands in one dtype
PAIRWISE = (
    "add",
    "subtract",
    "multiply",
    "divide",
    "true_divide",
    "divide_no_nan",
    "floor_divide",
    "mod",
    "fmod",
    "power",
    "maximum",
    "minimum",
    "arctan2",
    "hypot",
    "logaddexp",
    "logaddexp2",
    "fmax",
    "fmin",
    "equal",
    "not_equal",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "logical_and",
    "logical_or",
    "logical_xor",
    "heaviside",
    "copysign",
    "isclose",
    "matmul",
    "dot",
    "inner",
    "outer",
    "vdot",
    "kron",
    "tensordot",
    "einsum",
    "cross",
    "append",
    "concatenate",
    "stack",
    "where",
)
#: ops for which a Python scalar is also tried as the first operand
SCALAR_FIRST = ("add", "subtract", "multiply", "divide", "power", "maximum")


def _float_slots(args):
    """Where the float32 arrays of ``args`` are: (i,) for ``args[i]``, (i, j) for
    ``args[i][j]`` (a list of arrays, as ``concatenate`` takes)."""
    slots = []
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray) and a.dtype == np.float32:
            slots.append((i,))
        elif isinstance(a, (list, tuple)):
            slots.extend(
                (i, j)
                for j, b in enumerate(a)
                if isinstance(b, np.ndarray) and b.dtype == np.float32
            )
    return slots


def _replace(args, values):
    """``args`` with the slots of ``values`` ({slot: value}) replaced."""
    out = list(args)
    for slot, value in values.items():
        if len(slot) == 1:
            out[slot[0]] = value
        else:
            inner = list(out[slot[0]])
            inner[slot[1]] = value
            out[slot[0]] = type(args[slot[0]])(inner)
    return tuple(out)


def _cast(a, dtype, wrap):
    with np.errstate(invalid="ignore", over="ignore"):
        return wrap(np.abs(a).astype(dtype) if dtype != "bool" else a > 0)


def dtype_cells(name, wrap=lambda a: a):
    """The cells of op ``name``'s row of the dtype table: (key, args, kwargs), where key
    names the operands' dtypes ("int8" or "int8,float32" or "uint8,py_float" for a scalar).
    ``wrap`` makes each operand of the cell's dtypes a tensor of the library under test."""
    args, kwargs = CASES.get(name, [((X,), {})])[0]
    slots = _float_slots(args)
    if not slots:
        return []
    cells = []
    if name in PAIRWISE and len(slots) >= 2:
        first, second = slots[0], slots[1]
        for d1 in DTYPES:
            for d2 in DTYPES:
                cells.append((f"{d1},{d2}", _pair(args, first, second, d1, d2, wrap), kwargs))
            for kind, scalar in SCALARS.items():
                values = {first: _cast(_at(args, first), d1, wrap), second: scalar}
                cells.append((f"{d1},{kind}", _replace(args, values), kwargs))
                if name in SCALAR_FIRST:
                    values = {first: scalar, second: _cast(_at(args, second), d1, wrap)}
                    cells.append((f"{kind},{d1}", _replace(args, values), kwargs))
        return cells
    for d in DTYPES:
        cells.append((d, _replace(args, {s: _cast(_at(args, s), d, wrap) for s in slots}), kwargs))
    return cells


def _at(args, slot):
    return args[slot[0]] if len(slot) == 1 else args[slot[0]][slot[1]]


def _pair(args, first, second, d1, d2, wrap):
    return _replace(
        args,
        {first: _cast(_at(args, first), d1, wrap), second: _cast(_at(args, second), d2, wrap)},
    )
