"""Print (or write) the list of NumPy and SciPy names that ``mode="auto"`` follows.

``python -m npgrad.supported docs/supported.md`` regenerates the published list.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ._trace import supported


def render() -> str:
    names = supported()
    lines = [
        "# What automatic mode follows",
        "",
        "Generated from npgrad's mapping table by `python -m npgrad.supported "
        "docs/supported.md`; do not edit by hand.",
        "",
        f"{len(names)} names. Anything else raises `npgrad.TraceError` naming the call "
        '(register a backward, or use `mode="numeric"`).',
        "",
    ]
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
