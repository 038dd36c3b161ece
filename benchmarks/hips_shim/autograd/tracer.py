"""autograd's tracer has no counterpart in the shim."""

from autograd import _unsupported

trace = _unsupported("autograd.tracer.trace")
Node = object
