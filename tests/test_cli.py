"""The command line: every check before any work, clear refusals, nothing left behind."""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from npgrad import bench, cli
from npgrad.experiment import data, report

from .conftest import DATA_ROOT, REPO, needs_mnist

SRC = REPO / "src"
QUICK = ["--device", "cpu", "--limit", "512", "--epochs", "1", "--jobs", "1"]
# what a run writes besides its figures (--no-plots, or after a figure failed)
WITHOUT_FIGURES = {"report.json", "losses.csv", "native.pt", "numpy.pt"}


def _raise_in(monkeypatch, owner, name: str, error: BaseException) -> None:
    """``owner.<name>`` raises ``error`` whenever it is called (for this test)."""

    def raising(*args, **kwargs):
        raise error

    monkeypatch.setattr(owner, name, raising)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC)}


def _npgrad(
    *argv: str, before: str = "", timeout: float = 120, **kw
) -> subprocess.CompletedProcess:
    """``npgrad argv`` in a fresh interpreter, after the Python statements ``before``."""
    code = f"{before}\nimport sys\nfrom npgrad import cli\nsys.exit(cli.main({list(argv)!r}))"
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
        **kw,
    )


def _raw_with(tmp_path: Path, names: tuple[str, ...]) -> Path:
    """A data root whose MNIST/raw holds only ``names`` (links to the shared files)."""
    raw = tmp_path / "partial" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in names:
        (raw / name).symlink_to(DATA_ROOT / "MNIST" / "raw" / name)
    return tmp_path / "partial"


def _exit_code(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    return e.value.code


# --- issue 1: every needed file is checked before training ---------------------------


@needs_mnist
def test_missing_test_split_is_found_before_training(tmp_path, capsys):
    root = _raw_with(tmp_path, data.FILES[True])
    out = tmp_path / "run"
    argv = ["reproduce", "--data-dir", str(root), "--no-download", "--out", str(out), *QUICK]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert "Step [" not in captured.out, "it trained before finding the files missing"
    err = captured.err.strip().splitlines()
    assert len(err) == 1
    assert "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte not found" in err[0]
    assert not out.exists()
    # without plots the test split is not needed, and the same root is enough
    assert cli.main([*argv, "--no-plots"]) == 0


# --- issue 2: the [experiment] extra missing -------------------------------------------


def _hidden(*modules: str) -> str:
    # a None entry in sys.modules makes both import and find_spec fail, as if uninstalled
    return "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in modules)


@pytest.mark.parametrize(
    ("modules", "argv", "named"),
    [
        pytest.param(
            ("matplotlib",), ["reproduce", "--data-dir", str(DATA_ROOT)], "matplotlib",
            id="reproduce-without-matplotlib",
        ),
        pytest.param(
            ("torchvision",), ["reproduce", "--data-dir", "{empty}"], "torchvision",
            id="reproduce-download-without-torchvision",
        ),
        pytest.param(
            ("matplotlib",), ["bench", "--quick", "--plot", "{tmp}/b.png"], "matplotlib",
            id="bench-plot-without-matplotlib",
        ),
        pytest.param(
            ("torchvision", "tqdm"), ["bench", "--quick", "--data-dir", str(DATA_ROOT)],
            "torchvision", id="bench-data-path-without-torchvision",
            marks=needs_mnist,
        ),
    ],
)  # fmt: skip
def test_missing_extra_names_the_install_command(tmp_path, modules, argv, named):
    (tmp_path / "empty").mkdir()
    argv = [a.format(tmp=tmp_path, empty=tmp_path / "empty") for a in argv]
    if argv[0] == "reproduce":
        argv += ["--out", str(tmp_path / "run"), *QUICK]
    proc = _npgrad(*argv, before=_hidden(*modules), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{named} is not installed" in proc.stderr
    assert 'pip install "npgrad[experiment]"' in proc.stderr
    assert 'pip install -e ".[experiment]"' in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"], "something was written"
    assert not list((tmp_path / "empty").iterdir())


@needs_mnist
def test_reproduce_runs_without_the_extra_when_it_needs_none_of_it(tmp_path):
    argv = ["reproduce", "--data-dir", str(DATA_ROOT), "--out", str(tmp_path / "run"), *QUICK]
    proc = _npgrad(*argv, "--no-plots", before=_hidden(*cli.EXTRA_MODULES))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "run" / "report.json").is_file()


# --- issue 3: bench's output paths are checked first -----------------------------------


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        pytest.param(["--json", "{tmp}/no/such/b.json"], "--json {tmp}/no/such/b.json needs the "
                     "folder {tmp}/no/such, which does not exist", id="json-folder-missing"),
        pytest.param(["--plot", "{tmp}/no/b.png"], "--plot {tmp}/no/b.png needs the folder",
                     id="plot-folder-missing"),
        pytest.param(["--json", "{tmp}"], "--json {tmp} is a folder", id="json-is-a-folder"),
        pytest.param(["--json", "{tmp}/b", "--plot", "{tmp}/b"], "name the same file",
                     id="json-and-plot-the-same"),
    ],
)  # fmt: skip
def test_bench_output_paths_are_checked_before_the_run(
    tmp_path, capsys, monkeypatch, flags, message
):
    _raise_in(
        monkeypatch,
        bench,
        "run",
        AssertionError("the benchmark ran before its output paths were checked"),
    )
    argv = ["bench", "--quick", *(f.format(tmp=tmp_path) for f in flags)]
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: npgrad bench")
    assert message.format(tmp=tmp_path) in err


# --- issue 4: an unavailable device is a usage error -----------------------------------


@pytest.mark.parametrize("command", ["reproduce", "bench"])
@pytest.mark.parametrize(
    ("device", "message"),
    [
        pytest.param("cuda", "--device cuda was asked for, but no CUDA device is here", id="cuda"),
        pytest.param("cuda:3", "--device cuda:3 was asked for", id="cuda-3"),
        pytest.param("bogus", "--device must be auto, cpu, cuda or cuda:N, got 'bogus'",
                     id="bogus"),
    ],
)  # fmt: skip
def test_unavailable_device_exits_2_with_usage(
    tmp_path, capsys, monkeypatch, command, device, message
):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(bench, "run", lambda *a, **k: pytest.fail("the benchmark ran"))
    argv = [command, "--device", device, "--data-dir", str(tmp_path)]
    if command == "reproduce":
        argv += ["--out", str(tmp_path / "run"), "--no-download"]
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: npgrad {command}") and message in err
    assert list(tmp_path.iterdir()) == []


# --- issue 5: a reused --out ------------------------------------------------------------


@needs_mnist
def test_non_empty_out_is_refused_and_overwrite_removes_only_npgrads_files(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "numpy-auto.pt").write_bytes(b"an earlier run's weights")
    (out / ".report.json.abc123.json").write_text("{")  # an interrupted atomic write
    argv = ["reproduce", "--data-dir", str(DATA_ROOT), "--out", str(out), "--no-plots", *QUICK]
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: npgrad reproduce") and "is not empty (3 entries" in err
    assert "--overwrite" in err
    assert (out / "numpy-auto.pt").read_bytes() == b"an earlier run's weights"
    assert cli.main([*argv, "--overwrite"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "losses.csv",
        "native.pt",
        "notes.txt",
        "numpy.pt",
        "report.json",
    ]
    assert (out / "notes.txt").read_text() == "mine"


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert _exit_code(["reproduce", "--out", str(blocker), "--device", "cpu"]) == 2
    assert f"--out {blocker} is a file, not a folder" in capsys.readouterr().err
    assert blocker.read_text() == "not a folder"


# --- issue 6: Ctrl-C ------------------------------------------------------------------


def _children(pid: int) -> list[str]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return path.read_text().split() if path.exists() else []


@needs_mnist
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("presses", [1, 2], ids=["once", "twice"])
def test_ctrl_c_during_two_jobs_is_one_line_and_status_130(tmp_path, presses):
    # twice: a double press, or `timeout -s INT`, which signals the process and then
    # its group; the second must not leave a training child running
    out = tmp_path / "run"
    argv = ["reproduce", "--data-dir", str(DATA_ROOT), "--device", "cpu", "--jobs", "2"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "npgrad", *argv, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        start_new_session=True,  # its own process group, as a terminal's Ctrl-C reaches
    )
    # two drawing processes start first, then the two training processes
    deadline = time.monotonic() + 60
    while len(_children(proc.pid)) < 4 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_children(proc.pid)) >= 4, "the drawing and training processes never started"
    time.sleep(0.5)  # into training
    children = _children(proc.pid)
    for _ in range(presses):
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.01)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines() == ["npgrad reproduce: interrupted"]
    assert not out.exists()
    assert not [c for c in children if Path(f"/proc/{c}").exists()], "a child outlived it"


@needs_mnist
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("whom", ["command", "group"])
def test_sigterm_during_two_jobs_cleans_up_and_is_status_143(tmp_path, whom):
    # kill PID, or timeout: the same cleanup as Ctrl-C, no staging folder left behind
    out = tmp_path / "run"
    argv = ["reproduce", "--data-dir", str(DATA_ROOT), "--device", "cpu", "--jobs", "2"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "npgrad", *argv, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while len(_children(proc.pid)) < 4 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_children(proc.pid)) >= 4, "the drawing and training processes never started"
    time.sleep(0.5)  # into training
    children = _children(proc.pid)
    if whom == "group":
        os.killpg(proc.pid, signal.SIGTERM)
    else:
        os.kill(proc.pid, signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert stderr.strip().splitlines() == ["npgrad reproduce: terminated"]
    assert not out.exists()
    assert not [c for c in children if Path(f"/proc/{c}").exists()], "a child outlived it"


@needs_mnist
def test_a_figure_that_fails_keeps_the_rest_of_the_results(tmp_path, monkeypatch, capsys):
    from npgrad.experiment import plots

    _raise_in(monkeypatch, plots, "reconstructions", ValueError("boom"))
    out = tmp_path / "run"
    argv = ["reproduce", "--data-dir", str(DATA_ROOT), "--out", str(out), *QUICK]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "ValueError: boom" in err  # the traceback, for a bug report
    assert err.strip().splitlines()[-1] == (
        f"npgrad reproduce: the figures could not be drawn (ValueError: boom); "
        f"the report, losses and weights are in {out}/"
    )
    assert {p.name for p in out.iterdir()} == WITHOUT_FIGURES


@needs_mnist
def test_a_figures_own_oserror_keeps_the_rest_like_any_figure_error(tmp_path, monkeypatch, capsys):
    from npgrad.experiment import plots

    encoder = OSError("encoder error -2 when writing image file")  # PIL's: no errno
    _raise_in(monkeypatch, plots, "reconstructions", encoder)
    out = tmp_path / "run"
    argv = ["reproduce", "--data-dir", str(DATA_ROOT), "--out", str(out), *QUICK]
    assert cli.main(argv) == 1
    assert "the figures could not be drawn (OSError: encoder error" in capsys.readouterr().err
    assert {p.name for p in out.iterdir()} == WITHOUT_FIGURES


@needs_mnist
def test_a_failed_rename_says_which_files_are_new(tmp_path, monkeypatch, capsys):
    import errno

    out = tmp_path / "run"
    argv = ["reproduce", "--data-dir", str(DATA_ROOT), "--out", str(out), "--no-plots", *QUICK]
    assert cli.main(argv) == 0
    real, moved = os.replace, []

    def replace(src, dst):
        if Path(dst).parent == out:
            if len(moved) == 2:
                raise OSError(errno.EIO, "Input/output error", str(dst))
            moved.append(Path(dst).name)
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    assert cli.main([*argv, "--overwrite", "--seed", "1"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"npgrad reproduce: could not write the results into {out} (")
    assert err.endswith(
        f"Input/output error; of this run's files only {', '.join(moved)} reached it, the rest "
        "there are the earlier run's"
    )


@needs_mnist
def test_a_full_disk_names_the_folder_and_the_file(tmp_path, monkeypatch, capsys):
    import errno

    from npgrad.experiment import report

    def full(stage, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(stage / "native.pt"))

    monkeypatch.setattr(report, "save_outputs", full)
    out = tmp_path / "new" / "run"
    argv = ["reproduce", "--data-dir", str(DATA_ROOT), "--out", str(out), "--no-plots", *QUICK]
    assert cli.main(argv) == 1
    assert capsys.readouterr().err.strip() == (
        f"npgrad reproduce: could not write the results into {out} (native.pt): "
        "No space left on device"
    )
    assert list(tmp_path.iterdir()) == []


@needs_mnist
def test_an_interrupt_after_the_results_are_written_says_they_are_whole(
    tmp_path, monkeypatch, capsys
):
    from npgrad.experiment import report

    _raise_in(monkeypatch, report, "summary", KeyboardInterrupt)
    out = tmp_path / "run"
    argv = ["reproduce", "--data-dir", str(DATA_ROOT), "--out", str(out), "--no-plots", *QUICK]
    assert cli.main(argv) == 130
    assert capsys.readouterr().err.strip() == (
        f"npgrad reproduce: interrupted after its results were written in full to {out}/"
    )
    assert {p.name for p in out.iterdir()} == WITHOUT_FIGURES


@needs_mnist
def test_ctrl_c_during_the_renames_waits_for_the_whole_set(tmp_path, monkeypatch, capsys):
    # the renames are not cut in the middle: all of the new set, or none of it
    real, calls = os.replace, []
    out = tmp_path / "run"

    def replace(src, dst):
        if Path(dst).parent == out:  # a finished file moving into place
            if not calls:
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the first one moves
            calls.append(dst)
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    argv = ["reproduce", "--data-dir", str(DATA_ROOT), "--out", str(out), "--no-plots", *QUICK]
    assert cli.main(argv) == 130
    assert capsys.readouterr().err.strip() == (
        f"npgrad reproduce: interrupted after its results were written in full to {out}/"
    )
    assert {p.name for p in out.iterdir()} == WITHOUT_FIGURES


@needs_mnist
def test_interrupt_while_writing_leaves_no_partial_results(tmp_path, monkeypatch, capsys):
    from npgrad.experiment import plots

    _raise_in(monkeypatch, plots, "reconstructions", KeyboardInterrupt)
    out = tmp_path / "new" / "run"
    argv = ["reproduce", "--data-dir", str(DATA_ROOT), "--out", str(out), *QUICK]
    assert cli.main(argv) == 130
    assert capsys.readouterr().err.strip() == "npgrad reproduce: interrupted"
    assert list(tmp_path.iterdir()) == []


@needs_mnist
def test_interrupted_overwrite_keeps_the_earlier_results_whole(tmp_path, monkeypatch, capsys):
    # --overwrite replaces npgrad's earlier files only with a complete new set
    from npgrad.experiment import plots

    out = tmp_path / "run"
    argv = ["reproduce", "--data-dir", str(DATA_ROOT), "--out", str(out), *QUICK]
    assert cli.main(argv) == 0
    (out / "notes.txt").write_text("mine")
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    _raise_in(monkeypatch, plots, "reconstructions", KeyboardInterrupt)
    assert cli.main([*argv, "--overwrite", "--seed", "1"]) == 130
    capsys.readouterr()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing staged left


@needs_mnist
def test_a_reader_that_leaves_does_not_end_the_run(tmp_path):
    # npgrad reproduce | head -2: the pipe closes early; the run still writes its files
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "npgrad", "reproduce", "--data-dir", str(DATA_ROOT),
           "--out", str(out), "--no-plots", *QUICK]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    first = proc.stdout.readline()
    proc.stdout.close()  # the reader leaves
    _, stderr = proc.communicate(timeout=120)
    assert first.startswith(b"--- run 'native'")
    assert proc.returncode == 0, stderr
    assert b"Traceback" not in stderr
    assert {p.name for p in out.iterdir()} == WITHOUT_FIGURES


# --- issue 7: report.json's provenance ---------------------------------------------------


@needs_mnist
def test_report_records_version_commit_time_device_and_out(tmp_path):
    out = tmp_path / "run"
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    argv = ["reproduce", "--data-dir", str(DATA_ROOT), "--out", str(out), "--no-plots", *QUICK]
    assert cli.main(argv) == 0
    rep = json.loads((out / "report.json").read_text())
    assert rep["versions"]["npgrad"] == cli.package_version() != "unknown"
    assert rep["device"] == "cpu" and rep["out"] == str(out.resolve())
    created = datetime.datetime.fromisoformat(rep["created_utc"])
    assert created.utcoffset() == datetime.timedelta(0)
    assert before <= created <= datetime.datetime.now(datetime.timezone.utc)
    if shutil.which("git") and (REPO / ".git").exists():
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        assert rep["git_commit"] == head and isinstance(rep["git_dirty"], bool)
    else:
        assert rep["git_commit"] is None and rep["git_dirty"] is None


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_commit_is_only_npgrads_own_checkout(tmp_path):
    assert report.git_state(tmp_path) == (None, None)  # not a checkout
    # a checkout of another project that merely contains an installed npgrad
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    pkg = tmp_path / "site-packages" / "npgrad"
    pkg.mkdir(parents=True)
    assert report.git_state(pkg) == (None, None)


def test_version_is_the_packages_and_the_distributions():
    from importlib import metadata

    import npgrad

    assert cli.package_version() == npgrad.__version__ == metadata.version("npgrad")


# --- issue 8: a failed download leaves nothing behind -----------------------------------


def _fake_mnist(monkeypatch, *, fail: bool):
    """torchvision's MNIST as it behaves offline (folders made, a partial archive,
    then an error) or online (the four files)."""
    import torchvision.datasets

    def mnist(root, train=True, download=False, **kwargs):
        raw = Path(root) / "MNIST" / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        if fail:
            (raw / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b partial")
            raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")
        for name in data.ALL_FILES:
            (raw / name).write_bytes(name.encode())

    monkeypatch.setattr(torchvision.datasets, "MNIST", mnist)


def test_failed_download_leaves_nothing_behind(tmp_path, monkeypatch, capsys):
    _fake_mnist(monkeypatch, fail=True)
    root = tmp_path / "data"
    with pytest.raises(data.DataMissing, match="RuntimeError: Error downloading"):
        data.load(root)
    assert list(tmp_path.iterdir()) == []
    # the same through the command line, with the default output folder in cwd
    monkeypatch.chdir(tmp_path)
    assert cli.main(["reproduce", "--data-dir", str(root), "--device", "cpu"]) == 2
    assert "could not be downloaded" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_download_moves_the_finished_files_into_place(tmp_path, monkeypatch):
    _fake_mnist(monkeypatch, fail=False)
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte").write_bytes(b"already here")
    data.ensure(tmp_path / "data")
    assert sorted(p.name for p in raw.iterdir()) == sorted(data.ALL_FILES)
    assert (raw / "train-images-idx3-ubyte").read_bytes() == b"already here"  # kept
    assert (raw / "t10k-images-idx3-ubyte").read_bytes() == b"t10k-images-idx3-ubyte"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"], "a temporary folder is left"


# --- issue 9: start-up without torch ----------------------------------------------------

# npgrad's public names load on first use: parsing and argument errors import no torch
LAZY_PACKAGE = (
    "import sys\n"
    "import atexit\n"
    "atexit.register(lambda: print('torch imported:', 'torch' in sys.modules))\n"
)


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--help"], id="help"),
        pytest.param(["--version"], id="version"),
        pytest.param(["reproduce", "--help"], id="reproduce-help"),
        pytest.param(["reproduce", "--limit", "0"], id="bad-number"),
        pytest.param(["reproduce", "--jobs", "3"], id="bad-choice"),
        pytest.param(["bench", "--json", "/no/such/folder/b.json"], id="bad-json-path"),
    ],
)
def test_parsing_and_argument_errors_do_not_import_torch(argv):
    proc = _npgrad(*argv, before=LAZY_PACKAGE)
    assert proc.returncode in (0, 2), proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "torch imported: False"


def test_npgrad_help_does_not_import_torch():
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "npgrad", "--help"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert proc.returncode == 0
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()}
    assert "torch" not in imported


def test_version_is_the_package_version(capsys):
    assert _exit_code(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"npgrad {cli.package_version()}"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", cli.package_version())


# --- issue 10 and 11: what the plots and the table say ----------------------------------


@pytest.mark.parametrize("equal", [True, False], ids=["identical", "different"])
def test_loss_curve_title_states_the_verdict_and_both_hashes(equal):
    from npgrad.experiment import plots

    rep = {
        "parity": {"params_bitwise_equal": equal, "steps": 470},
        "runs": {"native": {"params_sha256": "ab" * 32}, "numpy": {"params_sha256": "cd" * 32}},
    }
    verdict = plots._verdict(rep)
    assert ("NOT bit-identical" in verdict) is not equal and "bit-identical" in verdict
    assert "native abababababab" in verdict and "numpy cdcdcdcdcdcd" in verdict


def _summary(median: float) -> dict:
    return {"median_s": median, "min_s": median, "repeats": 1, "samples_s": [median]}


def test_bench_table_prints_the_paired_native_medians_beside_each_ratio():
    variants = {k: _summary(300e-6 + i * 10e-6) for i, k in enumerate(bench.VARIANTS)}
    paired = {k: _summary(150e-6 + i * 1e-6) for i, k in enumerate(bench.VARIANTS)}
    figures = {
        # the pooled native median (999 us) is not what any ratio was paired with
        "seconds": {"native": _summary(999e-6), **variants},
        "base_seconds": paired,
        "ratio": {k: 1.5 + i for i, k in enumerate(bench.VARIANTS)},
    }
    env = {"cpu_count": 2, "torch_threads": 2, "torch": "t", "numpy": "n"}
    step = {"batch": 256, **json.loads(json.dumps(figures))}
    result = {
        "devices": {"cpu": {"environment": env, "train_step": step, "loss": {"256": figures}}}
    }
    text = bench.table(result)
    row = next(line for line in text.splitlines() if line.strip().startswith("256 "))
    assert row.split() == ["256", "300.0", "150.0", "x1.50", "310.0", "151.0", "x2.50",
                           "320.0", "152.0", "x3.50"]  # fmt: skip
    assert "999" not in text
    assert "not the quotient of the two medians" in text


@pytest.mark.parametrize(
    "argv, code",
    [pytest.param([], 2, id="no-command"), pytest.param(["bench", "--seed", "x"], 2, id="usage"),
     pytest.param(["--version"], 0, id="version")],
)  # fmt: skip
def test_the_command_keeps_its_exit_status_and_output_through_the_fast_exit(argv, code):
    # the entry point leaves with os._exit: the status and every buffered line survive
    # it, piped as well as on a terminal
    proc = subprocess.run(
        [sys.executable, "-m", "npgrad", *argv], capture_output=True, text=True, env=_env(),
        timeout=120,
    )  # fmt: skip
    assert proc.returncode == code, proc.stderr
    assert (proc.stdout + proc.stderr).strip(), "nothing printed"
    if argv == ["--version"]:
        from npgrad import __version__

        assert __version__ in proc.stdout


def test_the_fast_exit_flushes_a_buffered_stdout():
    # piped and without PYTHONUNBUFFERED, print() is buffered: entry() must flush it
    # before os._exit, and pass main()'s status on
    env = {k: v for k, v in _env().items() if k != "PYTHONUNBUFFERED"}
    code = "from npgrad import cli\ncli.main = lambda: print('summary') or 3\ncli.entry()"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip
    assert (proc.returncode, proc.stdout) == (3, "summary\n"), proc.stderr
