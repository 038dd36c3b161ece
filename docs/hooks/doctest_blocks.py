"""mkdocs hook: show docstring examples (``>>>`` sessions) as Python console blocks.

Markdown reads a line starting with ``>`` as a quotation, so a doctest in a
docstring would render as nested quotes with its prompts stripped. This hook adds
a Markdown preprocessor that fences each run of doctest lines (the ``>>>`` and
``...`` lines and the expected output after them, up to a blank line) as a
``pycon`` code block, and shows Sphinx cross-reference roles
(``:func:`check```, ``:class:`~npgrad.GradcheckError```) as inline code with the
name alone. Lines already inside a fenced block are left alone.
"""

from __future__ import annotations

import re

from markdown import Extension
from markdown.preprocessors import Preprocessor

_PROMPT = re.compile(r"^(\s*)>>>( |$)")
_FENCE = re.compile(r"^\s*(```|~~~)")
_ROLE = re.compile(r":(?:func|class|meth|attr|mod|exc|data|obj):`~?([\w.]+)`")


def _role(match: re.Match) -> str:
    return f"`{match.group(1).rsplit('.', 1)[-1]}`"


class _DoctestFences(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        in_fence = False
        i = 0
        while i < len(lines):
            line = lines[i]
            if _FENCE.match(line):
                in_fence = not in_fence
            match = None if in_fence else _PROMPT.match(line)
            if match is None:
                out.append(line if in_fence else _ROLE.sub(_role, line))
                i += 1
                continue
            indent = match.group(1)
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
                i += 1
            if out and out[-1].strip():
                out.append("")
            out += [f"{indent}```pycon", *(indent + b for b in block), f"{indent}```", ""]
        return out


class DoctestFences(Extension):
    def extendMarkdown(self, md):  # noqa: N802 (Markdown's own name)
        # before the fenced-code preprocessor (priority 25), so the new fences are seen
        md.preprocessors.register(_DoctestFences(md), "npgrad_doctest_fences", 30)


def on_config(config, **kwargs):
    config.markdown_extensions.append(DoctestFences())
    return config
