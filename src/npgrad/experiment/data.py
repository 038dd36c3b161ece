"""MNIST, loaded once as a uint8 array and scaled as a whole.

The batches equal, value for value and in order, what
``DataLoader(MNIST(root, transform=ToTensor()), batch_size=256, shuffle=False)``
yields, without per-sample PIL work: ``ToTensor`` divides float32 pixels by 255,
and so does :func:`scaled`, on the whole array at once.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np

FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
ALL_FILES = FILES[True] + FILES[False]


class DataMissing(Exception):
    """MNIST is not in the data root and could not be downloaded."""


def resolve_root(data_dir: str | os.PathLike | None) -> Path:
    """``--data-dir``, else ``$NPGRAD_DATA``, else ``./data``."""
    if data_dir:
        return Path(data_dir)
    return Path(os.environ.get("NPGRAD_DATA") or "data")


def _read_idx(path: Path, magic: int) -> np.ndarray:
    with open(path, "rb") as f:
        head = f.read(8)
        got, n = struct.unpack(">ii", head)
        if got != magic:
            raise DataMissing(f"{path} is not an IDX file (magic {got}, expected {magic})")
        dims = (n,)
        if magic == 2051:
            dims = (n, *struct.unpack(">ii", f.read(8)))
        data = np.fromfile(f, dtype=np.uint8)
    if data.size != int(np.prod(dims)):
        raise DataMissing(f"{path} is truncated: {data.size} bytes for shape {dims}")
    return data.reshape(dims)


def _missing_message(root: Path, why: str) -> str:
    raw = root / "MNIST" / "raw"
    names = ", ".join(ALL_FILES)
    return (
        f"MNIST was not found and could not be downloaded ({why}). npgrad looks for the "
        f"four uncompressed files {names} in the folder {raw.resolve()}. Copy them there, "
        "or point npgrad at a folder that holds MNIST/raw/ with --data-dir DIR (or the "
        "NPGRAD_DATA environment variable); with a network connection they are "
        "downloaded there by torchvision."
    )


def load(root: Path, train: bool = True, download: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``(images uint8 [N, 28, 28], labels int64 [N])`` from ``root/MNIST/raw``."""
    raw = root / "MNIST" / "raw"
    paths = [raw / name for name in FILES[train]]
    if not all(p.is_file() for p in paths):
        if not download:
            raise DataMissing(_missing_message(root, "downloading is off"))
        try:
            # torchvision is heavy to import (about 2 s); only a missing file pays for it
            from torchvision.datasets import MNIST

            MNIST(str(root), train=train, download=True)
        except Exception as e:  # noqa: BLE001 - any failure to fetch means "missing"
            first = (str(e).strip().splitlines() or [""])[0].rstrip(":")
            raise DataMissing(_missing_message(root, f"{type(e).__name__}: {first}")) from None
    images = _read_idx(paths[0], 2051)
    labels = _read_idx(paths[1], 2049).astype(np.int64)
    return images, labels


def scaled(images: np.ndarray) -> np.ndarray:
    """float32 pixels in [0, 1], shaped [N, 1, 28, 28], exactly as ``ToTensor`` makes them."""
    return (images.astype(np.float32) / np.float32(255.0))[:, None]


class Batches:
    """The training batches, in order, already on ``device``.

    >>> import numpy as np, torch
    >>> b = Batches(np.zeros((5, 28, 28), np.uint8), np.arange(5), batch_size=2)
    >>> len(b), [x.shape[0] for x, _ in b]
    (3, [2, 2, 1])
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        batch_size: int = 256,
        device: str = "cpu",
        limit: int | None = None,
    ) -> None:
        import torch

        if batch_size < 1:
            raise ValueError(f"Batches: batch_size must be at least 1, got {batch_size}")
        if limit is not None:
            if limit < 1:
                raise ValueError(f"Batches: limit must be at least 1, got {limit}")
            images, labels = images[:limit], labels[:limit]
        self.batch_size = batch_size
        self.x = torch.from_numpy(scaled(images)).to(device)
        self.y = torch.from_numpy(np.ascontiguousarray(labels)).to(device)

    def __len__(self) -> int:
        return -(-self.x.shape[0] // self.batch_size)

    def __iter__(self) -> Iterator:
        b = self.batch_size
        for i in range(0, self.x.shape[0], b):
            yield self.x[i : i + b], self.y[i : i + b]
