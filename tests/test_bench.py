"""The benchmark contract (warm-up, interleaved repeats, median) and its outputs."""

from __future__ import annotations

import json
import runpy
import sys
import time

import torch

from npgrad import bench, cli

from .conftest import DATA_ROOT, REPO, needs_mnist


def test_timeit_warms_up_interleaves_and_takes_the_median():
    calls = []
    result = bench.timeit(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
        device=torch.device("cpu"),
        warmup=2,
        repeats=3,
        inner=2,
    )
    assert calls == ["a", "a", "b", "b"] + ["a", "a", "b", "b"] * 3
    for r in result.values():
        assert r["repeats"] == 3 and 0 <= r["min_s"] <= r["median_s"]


@needs_mnist
def test_timeit_prerolls_each_block_untimed():
    calls = []
    bench.timeit(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
        device=torch.device("cpu"),
        warmup=1,
        repeats=2,
        inner=2,
        preroll=1,
    )
    # warm-up a, b; then per repeat: 1 preroll + 2 timed calls of each variant
    assert calls == ["a", "b"] + ["a"] * 3 + ["b"] * 3 + ["a"] * 3 + ["b"] * 3


def test_timeit_prerolls_for_at_least_the_given_time():
    starts = []
    bench.timeit({"a": lambda: starts.append(time.perf_counter())}, device=torch.device("cpu"),
                 warmup=0, repeats=1, inner=1, preroll=0, preroll_s=0.02)  # fmt: skip
    # the last call is the timed one; the untimed ones before it span at least 20 ms
    assert len(starts) >= 2 and starts[-1] - starts[0] >= 0.02 - 1e-3


def test_compare_pairs_each_variant_with_the_base_in_its_own_loop():
    calls, made = [], []

    def make(name):
        made.append(name)
        return lambda: calls.append(name)

    res = bench.compare(
        make,
        ["native", "a", "b"],
        device=torch.device("cpu"),
        warmup=0,
        repeats=2,
        inner=1,
    )
    assert calls == ["native", "a"] * 2 + ["native", "b"] * 2
    assert made == ["native", "a", "native", "b"]  # fresh variants for each loop
    sec = res["seconds"]
    assert sec["native"]["repeats"] == 4 and sec["a"]["repeats"] == 2
    for i, k in enumerate(("a", "b")):
        base = sec["native"]["samples_s"][2 * i : 2 * i + 2]
        paired = [x / y for x, y in zip(sec[k]["samples_s"], base)]
        assert res["ratio"][k] == sum(paired) / 2  # the median of two
        assert res["base_seconds"][k]["samples_s"] == base  # the pairing is recorded


def test_compare_times_a_lone_base_when_no_peer_is_installed():
    # the NumPy-level section's peers (HIPS autograd, JAX) are optional: without
    # them only npgrad is left, and it is still timed, with no ratio
    calls = []
    res = bench.compare(
        lambda name: lambda: calls.append(name),
        ["npgrad"],
        base="npgrad",
        device=torch.device("cpu"),
        warmup=0,
        repeats=3,
        inner=1,
    )
    assert calls == ["npgrad"] * 3
    assert res["seconds"]["npgrad"]["repeats"] == 3 and res["ratio"] == {}


@needs_mnist
def test_run_reports_every_figure(tmp_path):
    result = bench.run(
        ["cpu"],
        quick=True,
        data_dir=str(DATA_ROOT),
        config=dict(warmup=1, repeats=2, inner=1),
        data_limit=512,
        tiny=True,
    )
    res = result["devices"]["cpu"]
    assert res["environment"]["torch_threads"] >= 1
    assert set(res["train_step"]["seconds"]) == {"native", "numpy", "auto", "handrolled"}
    assert set(res["loss"]) == {"64", "256", "1024", "4096"}
    for part in ("data_only", "with_training"):
        assert res["data_path"][part]["speedup"] > 0
    path = tmp_path / "b.json"
    bench.write_json(result, path)
    assert json.loads(path.read_text())["devices"]["cpu"]["loss"]["64"]["ratio"]["numpy"] > 0
    summarize = runpy.run_path(str(REPO / "benchmarks" / "summarize.py"))["summarize"]
    text = summarize([path, path])
    step = res["train_step"]["ratio"]["numpy"]
    assert "| training step, batch 256 |" in text and f"x{step:.3f} / x{step:.3f}" in text
    assert text.count("| loss fwd+bwd, batch") == 4 and "data path, data_only" in text
    bench.plot(result, tmp_path / "b.png")
    assert (tmp_path / "b.png").read_bytes()[:4] == b"\x89PNG"
    assert "training step" in bench.table(result)


def test_run_reports_the_per_call_sections(tmp_path):
    from npgrad import bench_problems

    result = bench.run(["cpu"], quick=True, data_dir=None,
                       config=dict(warmup=1, repeats=2, inner=1), tiny=True)  # fmt: skip
    res = result["devices"]["cpu"]
    # numpy mode's plain backward, paired with the hand-rolled Function around it
    assert (
        set(res["numpy_plain"]["ratio"]) == {"numpy"} and res["numpy_plain"]["ratio"]["numpy"] > 0
    )
    assert set(res["numpy_plain"]["seconds"]) == {"handrolled", "numpy"}
    # automatic mode against torch eager on every problem
    assert set(res["auto_vs_torch"]["problems"]) == set(bench_problems.PROBLEMS)
    for r in res["auto_vs_torch"]["problems"].values():
        assert r["ratio"]["auto"] > 0 and r["base_seconds"]["auto"]["repeats"] == 2
    # traced SciPy: timed, or skipped with the reason where this build does not follow it
    for r in res["scipy_traced"]["problems"].values():
        assert "skipped" in r or r["ratio"]["auto"] > 0
    assert "skipped" in res["compiled"] or "result" in res["compiled"]
    api = result["numpy_api"]
    assert "jax" not in sys.modules  # timed in a process of its own (JAX and fork clash)
    # every library on one thread there: pools timed in turn would slow each other
    assert api["environment"]["torch_threads"] == 1
    assert api["environment"]["thread_env"]["OPENBLAS_NUM_THREADS"] == "1"
    assert set(api["problems"]) == set(bench_problems.PROBLEMS)
    timed = set(api["problems"]["gp 64 points"]["seconds"])
    for lib in ("autograd", "jax"):
        assert (lib in api["notes"]) != (lib in timed)  # timed, or skipped with a note
    untouched = result["scipy_untouched"]
    assert set(untouched["ratio"]) == {"logsumexp", "norm.logpdf"} and untouched["pairs"] == 1
    path = tmp_path / "b.json"
    bench.write_json(result, path)
    text = bench.table(json.loads(path.read_text()))  # printed from the JSON alone
    assert "automatic mode vs the same maths in torch eager" in text
    assert "hand-rolled autograd.Function" in text
    assert "value+gradient of plain NumPy functions" in text and "outside a trace" in text


def test_bench_help_shows_defaults(capsys):
    try:
        cli.main(["bench", "--help"])
    except SystemExit as e:
        assert e.code == 0
    text = capsys.readouterr().out
    assert "--quick" in text and "--json" in text and "(default: auto)" in text
