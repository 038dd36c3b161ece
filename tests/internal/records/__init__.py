"""Op records: one or more per registry row, in the style of JAX's op records.

Each family's module here defines ``RECORDS: list[Record]``.  The runner
(``tests/internal/test_records.py``) checks every record against NumPy's (or
SciPy's) own value in float64 and float32, and its gradient with ``npgrad.check``
in float64 against central differences; a coverage test fails on a registry row
that no record covers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Record:
    """One checked use of one or more registry rows.

    ``fn`` is plain NumPy/SciPy code taking the arrays (float inputs first, in the
    order of ``shapes``, then ``consts``) and returning an array, a number or a
    tuple of them.  It runs once on NumPy arrays (the reference) and once in
    automatic mode on tensors (npgrad), and must give the same values.
    """

    covers: tuple[str, ...]  # registry names, e.g. ("numpy.cumsum", "ndarray.cumsum")
    fn: Callable[..., Any]
    shapes: tuple[tuple[int, ...], ...]  # one shape per float input
    domain: str | tuple[str, ...] = "real"  # real | positive | unit (-1, 1) | spd
    # (symmetric positive definite matrices, last two dims) | nonzero (|x| >= 0.5) |
    # probability (0, 1) | above_one (1, 3); or a tuple of them, one per input
    consts: tuple[Any, ...] = ()  # extra non-differentiated arguments (ints, arrays)
    grad: bool = True  # check the gradient in float64 (False: no gradient exists)
    # the dtype the inputs are drawn in, one record run each; integer and bool names
    # ("int64", "uint8", "bool") draw small integers (or truth values) for the domain
    dtypes: tuple[str, ...] = ("float64", "float32")
    rtol: float | None = None  # override the dtype table's tolerance (say why)
    id: str = field(default="")  # readable test id; default: the first covered name

    @property
    def name(self) -> str:
        return self.id or self.covers[0]

    def domains(self) -> tuple[str, ...]:
        if isinstance(self.domain, str):
            return (self.domain,) * len(self.shapes)
        if len(self.domain) != len(self.shapes):
            raise ValueError(f"record {self.name}: one domain per input, or one for all")
        return self.domain
