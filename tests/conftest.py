import pytest

import shendu


@pytest.fixture(autouse=True)
def _seed():
    shendu.set_random_seed(1234)
    yield
