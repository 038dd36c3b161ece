"""The engine: plain NumPy code on torch tensors (``mode="auto"``).

The user's function receives :class:`TracedArray` objects instead of arrays.
Each NumPy call is looked up in the registry (``_registry``; the rows live in
``npgrad._mappings``) and becomes the equivalent torch op on the tensor itself, so
autograd records it and nothing leaves the device.  Whatever would drop the
gradient raises :class:`~npgrad.TraceError` naming the call and the way out.
Nothing here knows of ``Function`` or a call's binding.
"""

from ._array import TracedArray as TracedArray
from ._engine import supported as supported
from ._engine import trace as trace
from ._engine import tracing as tracing
from ._scipy import implements as implements

__all__ = ["TracedArray", "implements", "supported", "trace", "tracing"]
