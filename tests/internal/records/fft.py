"""Records of ``numpy.fft`` (automatic mode returns real arrays: the records take
the real and imaginary parts of a spectrum)."""

from __future__ import annotations

import numpy as np

from . import Record


def _parts(z):
    return z.real, z.imag


RECORDS = [
    Record(covers=("numpy.fft.fft",), fn=lambda x: _parts(np.fft.fft(x)), shapes=((3, 8),)),
    Record(
        covers=("numpy.fft.fft",),
        fn=lambda x: _parts(np.fft.fft(x, n=6, axis=0, norm="ortho")),
        shapes=((4, 3),),
        id="numpy.fft.fft-n-axis-norm",
    ),
    Record(
        covers=("numpy.fft.ifft", "numpy.fft.fft"),
        fn=lambda x: _parts(np.fft.ifft(np.fft.fft(x) * 2.0)),
        shapes=((8,),),
    ),
    Record(
        covers=("numpy.fft.rfft",), fn=lambda x: _parts(np.fft.rfft(x, axis=-1)), shapes=((2, 8),)
    ),
    Record(
        covers=("numpy.fft.irfft", "numpy.fft.rfft"),
        fn=lambda x: np.fft.irfft(np.fft.rfft(x) * 0.5, n=8),
        shapes=((8,),),
    ),
    Record(
        covers=("numpy.fft.irfft", "numpy.fft.rfft"),
        fn=lambda x: np.fft.irfft(np.fft.rfft(x)),
        shapes=((7,),),
        id="numpy.fft.irfft-odd",
    ),
]
