"""gradcheck's failure message names the element that disagrees most, with its two values."""

import numpy as np
import pytest

from shendu.autograd.function import Function
from shendu.testing import gradcheck


class _WrongAtZero(Function):
    """The identity, whose backward is wrong at element 0 (5 instead of 1)."""

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        g = gy.copy()
        g[0] *= 5.0
        return g


def test_the_message_names_the_worst_element_and_its_values():
    with pytest.raises(AssertionError) as err:
        gradcheck(lambda x: _WrongAtZero().apply(x), [np.array([0.5, 1.5, 2.5])])
    message = str(err.value)
    assert "disagrees at (0,)" in message
    # the values of that element (the message showed the last element's before)
    assert message.endswith("analytic 5 vs numeric 1")
