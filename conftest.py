"""Test-wide setup: draw with Agg, so that no test opens a window."""

import re

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture
def refused():
    """``refused(call, exc, message)``: ``call()`` raises ``exc`` with ``message``
    before it makes any figure."""
    import matplotlib.pyplot as plt

    def check(call, exc, message):
        figures = plt.get_fignums()
        with pytest.raises(exc, match=re.escape(message)):
            call()
        assert plt.get_fignums() == figures  # refused before any figure was made

    return check
