"""autograd's fixed_point (an implicit gradient) has no counterpart in the shim."""

from autograd import _unsupported

fixed_point = _unsupported("autograd.misc.fixed_points.fixed_point")
