"""The README's example runs as written, and its set-up commands are the ones CI uses."""

import re

from .conftest import REPO


def _blocks(lang: str) -> list[str]:
    text = (REPO / "README.md").read_text()
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def test_readme_python_examples_run():
    blocks = _blocks("python")
    assert blocks
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})


def test_readme_starts_with_the_two_setup_commands():
    first = _blocks("bash")[0].strip().splitlines()
    assert first == [
        'pip install -e ".[experiment]" && npgrad reproduce --data-dir ../shared/data',
        'pip install -e ".[test]" && python -m pytest',
    ]
    ci = (REPO / ".ci" / "run").read_text()
    assert 'pip install -q -e ".[test]" && python3 -m pytest' in ci
