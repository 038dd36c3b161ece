"""``--out`` checks: what counts as a folder that is not empty."""

from __future__ import annotations

import argparse

import pytest

from npgrad import cli


def _parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(prog="npgrad reproduce", exit_on_error=False)


def test_a_staging_folder_left_by_a_killed_run_does_not_block_the_next(tmp_path):
    (tmp_path / f"{cli.STAGING}abc123").mkdir()  # what SIGKILL during the writes leaves
    cli._check_out(_parser(), tmp_path, overwrite=False)  # no error


@pytest.mark.parametrize("names, said", [(["a"], "1 entry: a"), (["a", "b"], "2 entries: a, b")])
def test_a_folder_with_the_users_files_is_refused_counting_them(tmp_path, capsys, names, said):
    for n in names:
        (tmp_path / n).write_text("mine")
    (tmp_path / f"{cli.STAGING}x").mkdir()  # not counted
    with pytest.raises(SystemExit):
        cli._check_out(_parser(), tmp_path, overwrite=False)
    assert f"is not empty ({said});" in capsys.readouterr().err
