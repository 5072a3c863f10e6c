import pytest

from shendu.kernels import dispatch


@pytest.fixture
def kernel_mode():
    """Set the kernels' path for one test; the selection in effect before is restored."""
    before = dict(dispatch._state)

    def select(mode):
        dispatch.set_kernels(mode)

    yield select
    dispatch._state.clear()
    dispatch._state.update(before)
