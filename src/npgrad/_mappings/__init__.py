"""The rows of the registry, one family per module.  Importing this package
registers every row and gives ``TracedArray`` the methods and operators they
declare; SciPy rows are resolved lazily, so SciPy is not imported here."""

from .._trace._methods import install_methods
from . import (  # noqa: F401 - imported for their rows
    array_api,
    calculus,
    contractions,
    creation,
    elementwise,
    fft,
    linalg,
    polynomial,
    reductions,
    scipy_bessel,
    scipy_distributions,
    scipy_linalg,
    scipy_optimize,
    scipy_signal,
    scipy_spatial,
    scipy_special,
    scipy_special_functions,
    scipy_stats,
    scipy_stats_functions,
    search,
    selection,
    shape,
    statistics,
    ufuncs,
    writes,
)

install_methods()
