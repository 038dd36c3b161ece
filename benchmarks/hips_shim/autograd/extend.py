"""autograd.extend has no counterpart here (npgrad.implements is npgrad's own way)."""

from autograd import _unsupported

primitive = _unsupported("autograd.extend.primitive")
defvjp = _unsupported("autograd.extend.defvjp")
defjvp = _unsupported("autograd.extend.defjvp")
Box = VSpace = object
