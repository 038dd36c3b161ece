"""docs/supported.md is what the registry's generator writes."""

from ..conftest import REPO


def test_docs_generator_writes_the_same_file():
    from npgrad._supported import render

    assert render() == (REPO / "docs" / "supported.md").read_text()
