"""The documentation holds together: every page in mkdocs.yml's nav exists, every page
is in the nav (or deliberately excluded), every relative link in docs/*.md and
README.md reaches a file (and, for a Markdown page, a heading), and the quickstart
runs as written.

These checks need no mkdocs: they read the files. CI also builds the site with
``mkdocs build --strict``, which checks the same and more where mkdocs is installed.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from .conftest import REPO

DOCS = REPO / "docs"
MKDOCS = REPO / "mkdocs.yml"

_FENCED = re.compile(r"^(```|~~~).*?^\1[ \t]*$", flags=re.S | re.M)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_HTML_COMMENT = re.compile(r"<!--.*?-->", flags=re.S)
# [text](target) and ![alt](target); the target ends at whitespace or ')'
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", flags=re.M)
_EXTERNAL = ("http://", "https://", "mailto:", "ftp://")


# --------------------------------------------------------------------- mkdocs.yml
def _mkdocs_lines() -> list[str]:
    return MKDOCS.read_text().splitlines()


def nav_pages(lines: list[str] | None = None) -> list[str]:
    """The Markdown files named in the ``nav:`` block (``- Title: page.md`` or
    ``- page.md``), in order."""
    lines = _mkdocs_lines() if lines is None else lines
    pages: list[str] = []
    inside = False
    for line in lines:
        if re.match(r"^nav:\s*$", line):
            inside = True
            continue
        if inside:
            if line.strip() and not line.startswith((" ", "\t", "-")):
                break  # the next top-level key
            m = re.match(r"^\s*-\s*(?:[^:]+:\s*)?([^\s:#]+\.md)\s*$", line)
            if m:
                pages.append(m.group(1))
    return pages


def excluded_docs(lines: list[str] | None = None) -> list[str]:
    """The entries of the ``exclude_docs: |`` block (gitignore-style, one a line)."""
    lines = _mkdocs_lines() if lines is None else lines
    out: list[str] = []
    inside = False
    for line in lines:
        if re.match(r"^exclude_docs:\s*\|\s*$", line):
            inside = True
            continue
        if inside:
            if line.strip() and not line.startswith((" ", "\t")):
                break
            if line.strip() and not line.strip().startswith("#"):
                out.append(line.strip())
    return out


def _is_excluded(rel: str, patterns: list[str]) -> bool:
    for p in patterns:
        if p.endswith("/") and (rel + "/").startswith(p.lstrip("/")):
            return True
        if rel == p.lstrip("/"):
            return True
    return False


# --------------------------------------------------------------------- links
def slug(heading: str) -> str:
    """The anchor Python-Markdown's ``toc`` extension gives a heading (its default
    slugify): code marks and punctuation dropped, lower case, runs of spaces and
    hyphens made one hyphen."""
    text = re.sub(r"<[^>]+>", "", heading).replace("`", "")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(text: str) -> set[str]:
    """The heading anchors of a Markdown page (duplicates get ``_1``, ``_2``, ...)."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    for m in _HEADING.finditer(_FENCED.sub("", text)):
        s = slug(m.group(2))
        n = seen.get(s, 0)
        seen[s] = n + 1
        out.add(s if n == 0 else f"{s}_{n}")
    return out


def relative_links(text: str) -> list[str]:
    """Link targets in Markdown prose, outside code and comments, that are not URLs."""
    prose = _INLINE_CODE.sub("", _FENCED.sub("", _HTML_COMMENT.sub("", text)))
    return [
        t for t in _LINK.findall(prose) if not t.startswith(_EXTERNAL) and not t.startswith("//")
    ]


def broken_links(page: Path) -> list[str]:
    """Each relative link of ``page`` that reaches no file, or no heading of a page."""
    text = page.read_text()
    problems = []
    for target in relative_links(text):
        path_part, _, fragment = target.partition("#")
        dest = (page.parent / path_part).resolve() if path_part else page
        if not dest.exists():
            problems.append(f"{page.name}: {target} (no such file: {dest})")
            continue
        if fragment and dest.suffix == ".md" and fragment not in anchors(dest.read_text()):
            problems.append(f"{page.name}: {target} (no heading #{fragment} in {dest.name})")
    return problems


def _pages_with_links() -> list[Path]:
    return sorted(DOCS.glob("*.md")) + [REPO / "README.md"]


# --------------------------------------------------------------------- the tests
def test_every_nav_page_exists():
    pages = nav_pages()
    assert pages, "mkdocs.yml has no nav"
    missing = [p for p in pages if not (DOCS / p).is_file()]
    assert not missing, f"nav pages missing under docs/: {missing}"
    assert len(pages) == len(set(pages)), "a page is listed twice in the nav"


def test_every_page_is_in_the_nav_or_excluded():
    listed = set(nav_pages())
    excluded = excluded_docs()
    for p in excluded:
        assert (DOCS / p.rstrip("/")).exists(), f"exclude_docs names {p}, which is not in docs/"
    stray = [
        str(p.relative_to(DOCS))
        for p in sorted(DOCS.rglob("*.md"))
        if str(p.relative_to(DOCS)) not in listed
        and not _is_excluded(str(p.relative_to(DOCS)), excluded)
    ]
    assert not stray, f"pages in docs/ that the nav does not list: {stray}"


@pytest.mark.parametrize("page", _pages_with_links(), ids=lambda p: p.name)
def test_relative_links_resolve(page):
    assert not broken_links(page)


def test_the_link_check_catches_broken_links(tmp_path):
    (tmp_path / "there.md").write_text("# A title\n\n## Second part: `code`\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](there.md) [ok too](there.md#second-part-code) [web](https://example.org/x)\n"
        "[gone](missing.md) [bad anchor](there.md#nowhere) ![img](pics/none.png)\n"
        "`[in code](ignored.md)`\n\n```text\n[fenced](ignored-too.md)\n```\n"
    )
    found = broken_links(page)
    assert len(found) == 3, found
    assert any("missing.md" in f for f in found)
    assert any("#nowhere" in f for f in found)
    assert any("pics/none.png" in f for f in found)


def test_nav_parser_reads_nested_sections():
    lines = [
        "site_name: x",
        "nav:",
        "  - Home: index.md",
        "  - Guide:",
        "      - One: a/one.md",
        "  - two.md",
        "plugins:",
        "  - search: other.md",
    ]
    assert nav_pages(lines) == ["index.md", "a/one.md", "two.md"]


def test_quickstart_runs_as_written():
    code = re.findall(r"```python\n(.*?)```", (DOCS / "quickstart.md").read_text(), flags=re.S)
    assert code
    namespace: dict = {}
    for block in code:
        exec(compile(block, "docs/quickstart.md", "exec"), namespace)
