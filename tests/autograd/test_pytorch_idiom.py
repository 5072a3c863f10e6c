"""PyTorch's tensor method names, as the custom loops written for Keras's torch backend call
them (values checked against NumPy; a torch oracle test compares when torch is present)."""

import numpy as np
import pytest

import shendu

A = np.arange(12, dtype="float32").reshape(3, 4) - 5


def test_clone_stays_in_the_graph_and_detach_leaves_it():
    t = shendu.tensor(A, requires_grad=True)
    c = t.clone()
    (c * c).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), 2 * A)
    fresh = t.clone().detach().requires_grad_(True)  # the book's gradient ascent
    assert fresh.requires_grad and fresh.creator is None


@pytest.mark.parametrize(
    "method, expected",
    [
        (lambda t: t.diagonal(), np.diagonal(A)),
        (lambda t: t.diagonal(1), np.diagonal(A, 1)),
        (lambda t: t.abs(), np.abs(A)),
        (lambda t: t.unsqueeze(0).squeeze(0), A),
        (lambda t: t.unsqueeze(1), A[:, None]),
        (lambda t: t.permute(1, 0), A.T),
        (lambda t: t.view(2, 6), A.reshape(2, 6)),
        (lambda t: t.view(-1), A.reshape(-1)),
        (lambda t: t.clamp(-1, 2), np.clip(A, -1, 2)),
        (lambda t: t.clamp(max=0), np.minimum(A, 0)),
        (lambda t: t.norm(), np.linalg.norm(A)),
        (lambda t: t.norm(1), np.abs(A).sum()),
        (lambda t: t.norm(2, dim=1), np.linalg.norm(A, axis=1)),
        (lambda t: t.double(), A.astype("float64")),
        (lambda t: t.long(), A.astype("int64")),
        (lambda t: t.int(), A.astype("int32")),
        (lambda t: t.cpu(), A),
    ],
)
def test_method_values(method, expected):
    out = method(shendu.tensor(A))
    assert out.dtype == np.asarray(expected).dtype or out.dtype.kind == "f"
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)


def test_dim_and_float():
    t = shendu.tensor(A.astype("float64"))
    assert t.dim() == 2 and t.float().dtype == np.float32


def test_torch_agrees():
    torch = pytest.importorskip("torch")
    ours, theirs = shendu.tensor(A), torch.tensor(A)
    np.testing.assert_allclose(ours.norm(3).numpy(), theirs.norm(3).numpy(), rtol=1e-5)
    np.testing.assert_allclose(ours.diagonal(-1).numpy(), theirs.diagonal(-1).numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.permute(1, 0).numpy(), theirs.permute(1, 0).numpy())
