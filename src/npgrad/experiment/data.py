"""MNIST, loaded once as a uint8 array and scaled a batch at a time.

The batches equal, value for value and in order, what
``DataLoader(MNIST(root, transform=ToTensor()), batch_size=256, shuffle=False)``
yields, without per-sample PIL work: ``ToTensor`` divides float32 pixels by 255,
and so does :func:`scaled`, on a whole batch at once.
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
    # torchvision.datasets.mnist.read_image_file does the same, but importing
    # torchvision costs about 1.1 s and its reader 0.29 s against this one's 0.12 s
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


def raw_folder(root: Path) -> Path:
    return root / "MNIST" / "raw"


def missing_files(root: Path, splits: tuple[bool, ...] = (True, False)) -> list[str]:
    """The files of ``splits`` (True: training, False: test) not in ``root/MNIST/raw``."""
    raw = raw_folder(root)
    return [name for train in splits for name in FILES[train] if not (raw / name).is_file()]


def _missing_message(root: Path, missing: list[str], why: str) -> str:
    raw = raw_folder(root).resolve()
    names = ", ".join(ALL_FILES)
    return (
        f"MNIST is incomplete: {', '.join(missing)} not found in {raw}, and they could not "
        f"be downloaded ({why}). npgrad looks for the four uncompressed files {names} in "
        "that folder. Copy them there, or point npgrad at a folder that holds MNIST/raw/ "
        "with --data-dir DIR (or the NPGRAD_DATA environment variable); with a network "
        "connection they are downloaded there by torchvision."
    )


def _existing_ancestor(path: Path) -> Path:
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


def ensure(root: Path, splits: tuple[bool, ...] = (True, False), download: bool = True) -> None:
    """Make sure every file of ``splits`` is in ``root/MNIST/raw``, downloading the
    missing ones, or raise :class:`DataMissing` naming them.  A failed download
    leaves nothing behind: torchvision downloads into a temporary folder, and only
    the finished, uncompressed files are moved into place."""
    missing = missing_files(root, splits)
    if not missing:
        return
    if not download:
        raise DataMissing(_missing_message(root, missing, "downloading is off"))
    import shutil
    import tempfile

    try:
        # beside the data root, so the files are moved, not copied, into place
        with tempfile.TemporaryDirectory(
            prefix=".npgrad-mnist-", dir=_existing_ancestor(root)
        ) as t:
            # torchvision is heavy to import (about 1-2 s); only a missing file pays for it
            from torchvision.datasets import MNIST

            MNIST(t, download=True)  # fetches both splits
            fetched = raw_folder(Path(t))
            raw = raw_folder(root)
            raw.mkdir(parents=True, exist_ok=True)
            for name in missing:
                shutil.move(str(fetched / name), str(raw / name))
    except Exception as e:  # noqa: BLE001 - any failure to fetch means "missing"
        first = (str(e).strip().splitlines() or [""])[0].rstrip(":")
        why = f"{type(e).__name__}: {first}"
        raise DataMissing(_missing_message(root, missing, why)) from None


def load(root: Path, train: bool = True, download: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``(images uint8 [N, 28, 28], labels int64 [N])`` from ``root/MNIST/raw``."""
    ensure(root, (train,), download=download)
    raw = raw_folder(root)
    images = _read_idx(raw / FILES[train][0], 2051)
    labels = _read_idx(raw / FILES[train][1], 2049).astype(np.int64)
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
        self.y = torch.from_numpy(np.ascontiguousarray(labels)).to(device)
        if self.y.is_cpu:
            # scaled a batch at a time, as it is used: the whole set in float32 is
            # 188 MB written once and read once, and first touching that much memory
            # took 0.05-0.45 s here (the same function on each slice: the same bits)
            self.images, self.x = images, None
        else:
            self.images, self.x = None, torch.from_numpy(scaled(images)).to(device)

    def __len__(self) -> int:
        return -(-self.y.shape[0] // self.batch_size)

    def __iter__(self) -> Iterator:
        import torch

        b = self.batch_size
        for i in range(0, self.y.shape[0], b):
            if self.x is None:
                yield torch.from_numpy(scaled(self.images[i : i + b])), self.y[i : i + b]
            else:
                yield self.x[i : i + b], self.y[i : i + b]
