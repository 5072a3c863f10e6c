"""Data sets bundled with scikit-learn and statsmodels, when those are installed (the
``[datasets]`` extra). Nothing is downloaded: both packages ship these files."""

from __future__ import annotations

import numpy as np


def _sklearn():
    try:
        import sklearn.datasets as d
    except ImportError:
        raise ImportError(
            "This data set comes with scikit-learn, which is not installed. Install the extra: "
            "pip install 'shendu[datasets]'"
        ) from None
    return d


def _statsmodels():
    try:
        import statsmodels.api as sm
    except ImportError:
        raise ImportError(
            "This data set comes with statsmodels, which is not installed. Install the extra: "
            "pip install 'shendu[datasets]'"
        ) from None
    return sm


def _xy(bunch):
    return bunch.data.astype(np.float32), bunch.target


def load_wine():
    """(x, y): 178 wines, 13 chemical measurements, 3 cultivars."""
    return _xy(_sklearn().load_wine())


def load_breast_cancer():
    """(x, y): 569 tumours, 30 features, y = 1 for benign (scikit-learn's coding)."""
    return _xy(_sklearn().load_breast_cancer())


def load_diabetes():
    """(x, y): 442 patients, 10 standardised features, a disease-progression score."""
    x, y = _xy(_sklearn().load_diabetes())
    return x, y.astype(np.float32)


def load_sunspots():
    """Yearly sunspot numbers 1700-2008 as a float32 array (years, values)."""
    data = _statsmodels().datasets.sunspots.load_pandas().data
    return data["YEAR"].to_numpy().astype(np.int64), data["SUNACTIVITY"].to_numpy().astype(
        np.float32
    )


def load_co2():
    """Weekly Mauna Loa CO2 (ppm) 1958-2001, missing weeks filled by interpolation."""
    data = _statsmodels().datasets.co2.load_pandas().data["co2"].interpolate()
    return data.to_numpy().astype(np.float32)
