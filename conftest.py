"""Test-wide setup: draw with Agg, so that no test opens a window."""

import matplotlib

matplotlib.use("Agg")
