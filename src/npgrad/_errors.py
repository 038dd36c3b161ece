"""Exception types and the one helper that words npgrad's messages."""

from __future__ import annotations


class NpgradError(Exception):
    """Base class of npgrad's own errors."""


class BackwardError(NpgradError, ValueError):
    """A registered backward returned something that cannot be a gradient."""


class GradcheckError(NpgradError, AssertionError):
    """A backward disagrees with finite differences (raised by :func:`npgrad.check`)."""


class TraceError(NpgradError, TypeError):
    """Automatic mode met an operation whose gradient it cannot follow."""


def describe(value: object) -> str:
    """A short description of a received value for error messages."""
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        return f"{type(value).__name__} of shape {tuple(shape)} and dtype {dtype}"
    return f"{type(value).__name__} {value!r:.60}"
