"""The founding experiment: data path, bitwise parity, the report, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from npgrad import cli
from npgrad.experiment import data, report

from .conftest import DATA_ROOT, needs_mnist

REPORT_KEYS = {"reference", "parity", "runs", "device", "versions"}


def _dataloader(limit: int | None):
    from torch.utils.data import DataLoader, Subset
    from torchvision.datasets import MNIST
    from torchvision.transforms import ToTensor

    ds = MNIST(str(DATA_ROOT), train=True, download=False, transform=ToTensor())
    if limit is not None:
        ds = Subset(ds, range(limit))
    return DataLoader(ds, batch_size=256, shuffle=False)


@needs_mnist
@pytest.mark.parametrize(
    "limit",
    [pytest.param(1000, id="first-1000"), pytest.param(None, id="all", marks=pytest.mark.slow)],
)
def test_batches_equal_torchvision_dataloader(limit):
    images, labels = data.load(DATA_ROOT, download=False)
    ours = list(data.Batches(images, labels, 256, limit=limit))
    theirs = list(_dataloader(limit))
    assert len(ours) == len(theirs)
    for (x, y), (tx, ty) in zip(ours, theirs):
        assert x.dtype == tx.dtype and y.dtype == ty.dtype
        assert torch.equal(x, tx) and torch.equal(y, ty)
    if limit is None:
        assert len(ours) == 235 and ours[-1][0].shape[0] == 96


def _run(tmp_path, *extra: str, device: str = "cpu") -> dict:
    out = tmp_path / "run"
    argv = ["reproduce", "--data-dir", str(DATA_ROOT), "--device", device, "--out", str(out)]
    assert cli.main([*argv, *extra]) == 0
    return json.loads((out / "report.json").read_text())


@needs_mnist
@pytest.mark.parametrize("impl", ["numpy", "numpy-auto"])
def test_reproduce_parity_on_each_device(tmp_path, device, impl):
    rep = _run(tmp_path, "--limit", "1024", "--no-plots", "--loss-impl", impl, device=device)
    assert rep["parity"]["params_bitwise_equal"] is True
    assert rep["device"].startswith(device)


@needs_mnist
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_reproduce_limit_parity_and_report(tmp_path, capsys, jobs):
    rep = _run(tmp_path, "--limit", "2048", "--no-plots", "--jobs", jobs)
    assert REPORT_KEYS <= rep.keys()
    assert rep["parity"]["params_bitwise_equal"] is True
    assert rep["parity"]["steps"] == 16  # 8 batches of 256, two epochs
    assert rep["runs"]["native"]["params_sha256"] == rep["runs"]["numpy"]["params_sha256"]
    assert set(rep["runs"]["native"]) == {"seconds", "params_sha256"}
    assert set(rep["versions"]) >= {"python", "torch", "numpy"}
    # on 2048 images only the first step shares the reference's history
    assert [(r["epoch"], r["step"]) for r in rep["reference"]] == [(1, 1)]
    # NumPy's pairwise mean and ATen's reduction may differ in the last bit of the
    # loss value; the gradients, hence the parameters, are bit-identical
    assert abs(rep["reference"][0]["native"] - rep["reference"][0]["numpy"]) < 1e-6
    printed = capsys.readouterr().out
    assert "Step [  1/8], Loss: 0.2321" in printed
    assert "=== Epoch [2/2], Loss:" in printed
    # the weights load safely
    out = tmp_path / "run"
    for name in ("native", "numpy"):
        sd = torch.load(out / f"{name}.pt", weights_only=True)
        assert set(sd) >= {"encoder.0.weight", "decoder.6.bias"}
    lines = (out / "losses.csv").read_text().splitlines()
    assert lines[0] == "epoch,step,native,numpy" and len(lines) == 17
    assert not list(out.glob(".*")), "temporary files left behind"


@needs_mnist
@pytest.mark.slow
def test_reproduce_full_matches_reference(tmp_path):
    rep = _run(tmp_path)
    assert rep["parity"] == {
        "params_bitwise_equal": True,
        "max_abs_loss_diff": rep["parity"]["max_abs_loss_diff"],
        "steps": 470,
    }
    assert rep["parity"]["max_abs_loss_diff"] < 1e-6
    rows = rep["reference"]
    assert len(rows) == 26
    for row in rows:
        for impl in ("native", "numpy"):
            assert abs(row[impl] - row["reference"]) <= report.REFERENCE_TOLERANCE + 1e-9, row
    # printed to four decimals, step 1 of epoch 1 is exactly the reference's 0.2321
    assert f"{rows[0]['native']:.4f}" == f"{rows[0]['numpy']:.4f}" == "0.2321"
    out = tmp_path / "run"
    for png in ("loss_curves.png", "reconstructions.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_data_is_one_clear_paragraph(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "npgrad",
            "reproduce",
            "--data-dir",
            str(tmp_path),
            "--device",
            "cpu",
            "--no-download",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    for name in data.ALL_FILES:
        assert name in proc.stderr
    assert str((tmp_path / "MNIST" / "raw").resolve()) in proc.stderr
    assert "--data-dir" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_failed_download_is_reported(tmp_path, monkeypatch):
    import torchvision.datasets

    def offline(*args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nno network")

    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    with pytest.raises(data.DataMissing, match="could not be downloaded .RuntimeError: Error "):
        data.load(tmp_path)


def test_data_root_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("NPGRAD_DATA", raising=False)
    assert str(data.resolve_root(None)) == "data"
    monkeypatch.setenv("NPGRAD_DATA", str(tmp_path))
    assert data.resolve_root(None) == tmp_path
    assert str(data.resolve_root("x")) == "x"


def test_scaling_matches_totensor():
    from torchvision.transforms.functional import to_tensor

    u8 = np.arange(256, dtype=np.uint8).reshape(16, 16)
    assert torch.equal(torch.from_numpy(data.scaled(u8[None]))[0], to_tensor(u8[:, :, None]))


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["reproduce", "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--seed", "--device", "--epochs", "--lr", "--limit", "--batch-size"):
        assert flag in text
    assert "(default: 256)" in text and "(default: 0.001)" in text


def test_bad_arguments_are_refused(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["reproduce", "--limit", "0"])
    assert e.value.code == 2
    assert "--limit must be at least 1, got 0" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--lr", "nan"], "--lr must be a positive number, got nan"),
        (["--lr", "-1"], "--lr must be a positive number, got -1.0"),
    ],
    ids=["lr-nan", "lr-negative"],
)
def test_bad_numbers_are_refused_before_training(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["reproduce", *argv])
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_bad_device_and_unwritable_out_are_refused_before_training(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["reproduce", "--device", "bogus"])
    assert e.value.code == 2
    assert "--device must be auto, cpu, cuda or cuda:N, got 'bogus'" in capsys.readouterr().err
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    # no --data-dir: the check must come before any data is looked for
    assert cli.main(["reproduce", "--device", "cpu", "--out", str(blocker / "run")]) == 2
    assert f"cannot write to --out {blocker / 'run'}" in capsys.readouterr().err
    # a run that stops early (no data here) leaves no empty output folder behind
    out = tmp_path / "new" / "run"
    argv = ["reproduce", "--device", "cpu", "--no-download", "--data-dir", str(tmp_path)]
    assert cli.main([*argv, "--out", str(out)]) == 2
    assert not (tmp_path / "new").exists()


def test_version_and_a_missing_command(capsys):
    from npgrad import __version__

    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"npgrad {__version__}"
    assert cli.main([]) == 2
    assert "reproduce" in capsys.readouterr().err


def test_ddp_runs_on_the_cpu_whatever_the_machine_has(capsys, monkeypatch):
    with pytest.raises(SystemExit) as e:
        cli.main(["reproduce", "--ddp", "2", "--device", "cuda"])
    assert e.value.code == 2
    assert "--ddp trains with gloo on CPU processes, got --device cuda" in capsys.readouterr().err
    # on a machine with a GPU, "auto" must still mean the CPU for the gloo runs
    seen = {}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(cli, "reproduce", lambda args, sub: seen.setdefault("device", args.device))
    cli.main(["reproduce", "--ddp", "2"])
    assert seen["device"] == "cpu"


def test_only_whole_first_epoch_batches_meet_the_reference():
    assert report.comparable(2, "end", 235, full=True)
    # 59,999 images also make 235 batches, but not the reference's
    assert not report.comparable(1, "end", 235, full=False)
    assert report.comparable(1, 221, 235, full=False)
    assert not report.comparable(1, 221, 221, full=False)  # its last batch is partial
    assert not report.comparable(2, 1, 8, full=False)


def test_eager_only_training_is_torchs_update_bit_for_bit_without_importing_dynamo():
    # the reproduction's children train with eager_only: torch.optim must not import
    # torch._dynamo there, and the parameters must be those of torch's own step
    code = """
import sys, numpy as np, torch
from npgrad.experiment import data, train
rng = np.random.default_rng(0)
images = rng.integers(0, 256, (600, 28, 28), dtype=np.uint8)
batches = data.Batches(images, np.zeros(600, np.int64), 256)
quiet = lambda s: None
from npgrad.experiment import eager
print("wrappers known:", eager.without_dynamo_import())
fast = train.train("native", torch.nn.MSELoss(), batches, epochs=2, log=quiet, eager_only=True)
print("dynamo after eager_only:", "torch._dynamo" in sys.modules)
usual = train.train("native", torch.nn.MSELoss(), batches, epochs=2, log=quiet)
print("dynamo after torch's step:", "torch._dynamo" in sys.modules)
print("same parameters:", fast.params_sha256 == usual.params_sha256)
print("same losses:", fast.losses == usual.losses)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    if proc.stdout.startswith("wrappers known: False"):
        pytest.skip("this torch's optimizer wrappers are not the known kind: torch's path")
    assert proc.stdout.split("\n")[:5] == [
        "wrappers known: True",
        "dynamo after eager_only: False",
        "dynamo after torch's step: True",
        "same parameters: True",
        "same losses: True",
    ], proc.stdout


@pytest.mark.parametrize("when", ["before", "after"])
def test_eager_step_runs_torchs_step_for_hooks_registered_before_or_after(when):
    from npgrad.experiment import eager

    p = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.Adam([p], lr=0.1)
    calls = []
    if when == "before":
        opt.register_step_post_hook(lambda *a: calls.append("post"))
    step = eager.eager_step(opt)
    if when == "after":
        opt.register_step_pre_hook(lambda *a: calls.append("pre"))
    p.grad = torch.ones(3)
    step()
    assert calls == (["post"] if when == "before" else ["pre"])  # torch's path ran it


def test_eager_step_leaves_an_instance_wrapped_step_to_torch():
    # an LR scheduler wraps the instance's step to count calls: eager_step must not
    # go around it (the scheduler would warn that the optimizer never stepped)
    import warnings

    from npgrad.experiment import eager

    p = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.Adam([p], lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1)
    step = eager.eager_step(opt)
    assert step == opt.step  # the instance's wrapper itself
    p.grad = torch.ones(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        step()
        sched.step()
