"""``npgrad reproduce`` checks that matplotlib can draw before it trains."""

from __future__ import annotations

from npgrad import cli

from ..conftest import DATA_ROOT, needs_mnist

QUICK = ["--device", "cpu", "--limit", "512", "--epochs", "1", "--jobs", "1"]


@needs_mnist
def test_matplotlib_that_cannot_draw_is_found_before_training(tmp_path, monkeypatch, capsys):
    from npgrad.experiment import plotter

    def broken():
        raise RuntimeError("Unrecognized backend string 'nope'")

    monkeypatch.setattr(plotter, "_warm", broken)
    out = tmp_path / "run"
    argv = ["reproduce", "--data-dir", str(DATA_ROOT), "--out", str(out), *QUICK]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert "--- run" not in captured.out  # nothing trained
    assert captured.err.strip() == (
        "npgrad reproduce: the figures cannot be drawn here: RuntimeError: Unrecognized "
        "backend string 'nope'; fix that, or pass --no-plots"
    )
    assert not out.exists()
