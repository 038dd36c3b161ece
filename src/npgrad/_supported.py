"""Print (or write) the list of NumPy and SciPy names that ``mode="auto"`` follows.

``python -m npgrad._supported docs/supported.md`` regenerates the published list.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np

from . import _mappings  # noqa: F401 - the registry's rows, which the list reads
from ._trace import supported


def _module(name: str) -> str:
    """The module a name is counted under: a ufunc's method (``numpy.add.accumulate``)
    under NumPy's."""
    mod = name.rsplit(".", 1)[0]
    head, _, attr = mod.rpartition(".")
    if head == "numpy" and isinstance(getattr(np, attr, None), np.ufunc):
        return head
    return mod


def render() -> str:
    names = supported()
    counts = Counter(_module(n) for n in names)
    lines = [
        "# What automatic mode follows",
        "",
        "Generated from npgrad's registry by `python -m npgrad._supported "
        "docs/supported.md`; do not edit by hand.",
        "",
        f"{len(names)} names. Anything else raises `npgrad.TraceError` naming the call "
        '(register a backward, or use `mode="numeric"`).',
        "",
        "| module | names |",
        "|---|---|",
    ]
    lines += [f"| `{m}` | {counts[m]} |" for m in sorted(counts)]
    lines.append("")
    lines += [f"- `{n}`" for n in names]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if argv:
        Path(argv[0]).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
