"""Atomic file writes, with nothing heavier than the standard library (the process
that draws the figures imports it without torch)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same folder, then rename over ``path``."""
    # neither the standard library nor torch/matplotlib offers this; the small
    # packages that do (atomicwrites is archived) would be a dependency for 12 lines
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give what open() would
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError) and e.filename is None:
            e.filename = str(path)  # PIL's and a file object's write() name none
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
