"""HIPS autograd's own gradient tests, run as plain NumPy/SciPy with npgrad's gradients.

    python benchmarks/hips_autograd_suite.py PATH_TO_AUTOGRAD_CHECKOUT [--json OUT]
        [--mode both|npgrad|autograd] [--files test_numpy.py ...] [-k EXPR]

The checkout's ``tests/test_systematic.py``, ``test_numpy.py``, ``test_linalg.py``,
``test_fft.py``, ``test_scipy.py``, ``test_binary_ops.py`` and ``test_scalar_ops.py``
are read from PATH at run time and run by pytest, once per mode, each in a process of
its own:

- ``npgrad``: the shim package ``benchmarks/hips_shim/autograd`` is first on
  ``sys.path``, so ``autograd.numpy`` is NumPy, ``autograd.scipy.*`` SciPy's modules
  and ``autograd.grad`` & co. npgrad's (see its docstring);
- ``autograd``: HIPS autograd itself (the installed package), the sanity check that
  the harness counts the same checks.

In both, ``autograd.test_util.check_grads`` / ``combo_check`` are the harness's own
(``hips_shim/_hips_core.py``): each ``check_grads(fun, ...)(*args)`` is one check, its
derivatives (reverse mode, forward mode, orders as the test asks) compared with
float64 central differences at autograd's tolerance; it is recorded, never raised.
Statuses: pass, wrong, clear (a npgrad TraceError or an error naming npgrad), crash
(another error), autograd only (the function fails on plain NumPy values already, no
derivative asked: it calls autograd's own API, e.g. ``np.linalg._dot`` or
``autograd.scipy.signal.convolve(..., axes=...)``), complex (complex inputs or result:
skipped, counted apart), and, in npgrad mode, ``not reached`` for a check that
autograd's run made and npgrad's did not (its test stopped earlier).  Only
real-valued checks are counted; the table's last column is the pass rate without
the ``autograd only`` ones.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHIM = os.path.join(HERE, "hips_shim")
FILES = (
    "test_systematic.py",
    "test_numpy.py",
    "test_linalg.py",
    "test_fft.py",
    "test_scipy.py",
    "test_binary_ops.py",
    "test_scalar_ops.py",
)
STATUSES = ("pass", "wrong", "clear", "crash", "autograd only", "not reached")


def _worker(checkout: str, mode: str, files: list[str], k: str | None, out: str) -> None:
    sys.dont_write_bytecode = True
    if mode == "npgrad":
        sys.path.insert(0, SHIM)
        import autograd  # the shim

        assert autograd.numpy is __import__("numpy"), "the shim is not first on sys.path"
    else:
        import autograd
        import autograd.test_util

        assert not autograd.__file__.startswith(SHIM)
        sys.path.append(SHIM)
    import _hips_core
    import pytest

    _hips_core.use(mode)
    if mode == "autograd":
        autograd.test_util.check_grads = _hips_core.check_grads
        autograd.test_util.combo_check = _hips_core.combo_check

    tests = collections.OrderedDict()

    class Plugin:
        def pytest_runtest_setup(self, item):
            _hips_core.CURRENT["test"] = item.nodeid

        def pytest_runtest_logreport(self, report):
            if report.when == "call" or report.outcome != "passed":
                entry = tests.setdefault(report.nodeid, {"outcome": "passed"})
                if report.outcome != "passed":
                    entry["outcome"] = f"{report.outcome} ({report.when})"
                    entry["error"] = (
                        str(report.longrepr).splitlines()[-1][:300] if report.longrepr else ""
                    )

        def pytest_collectreport(self, report):
            if report.outcome != "passed":
                tests[report.nodeid] = {
                    "outcome": "collection error",
                    "error": str(report.longrepr)[-300:],
                }

    tdir = os.path.join(checkout, "tests")
    with tempfile.TemporaryDirectory() as tmp:
        ini = os.path.join(tmp, "pytest.ini")
        with open(ini, "w") as fh:
            fh.write("[pytest]\n")
        args = [os.path.join(tdir, f) for f in files]
        args += ["-q", "-p", "no:cacheprovider", "-c", ini, "--rootdir", tdir, "-W", "ignore"]
        if k:
            args += ["-k", k]
        os.chdir(tmp)
        t0 = time.time()
        pytest.main(args, plugins=[Plugin()])
        wall = time.time() - t0
    with open(out, "w") as fh:
        json.dump({"mode": mode, "wall_s": wall, "checks": _hips_core.RESULTS, "tests": tests}, fh)


def _file_of(test: str) -> str:
    return os.path.basename(test.split("::")[0])


def summarize(runs: dict) -> dict:
    """Per file and in total: the counts of each status, real-valued checks only."""
    ref_keys = None
    if "autograd" in runs:
        ref_keys = {(c["test"], c["index"]) for c in runs["autograd"]["checks"]
                    if c["status"] != "complex"}  # fmt: skip
    out = {}
    for mode, run in runs.items():
        per: dict = collections.defaultdict(collections.Counter)
        seen = set()
        for c in run["checks"]:
            per[_file_of(c["test"])][c["status"]] += 1
            seen.add((c["test"], c["index"]))
        if mode == "npgrad" and ref_keys is not None:
            for key in ref_keys - seen:
                per[_file_of(key[0])]["not reached"] += 1
        table = {}
        for f in sorted(per, key=lambda f: FILES.index(f) if f in FILES else 99):
            cnt = per[f]
            real = sum(cnt[s] for s in STATUSES)
            table[f] = {"real": real, **{s: cnt[s] for s in STATUSES}, "complex": cnt["complex"]}
        total = collections.Counter()
        for row in table.values():
            total.update(row)
        table["total"] = dict(total)
        out[mode] = table
    return out


def _print(summary: dict) -> None:
    cols = ("real", "pass", "wrong", "clear", "crash", "autograd only", "not reached", "complex")
    for mode, table in summary.items():
        print(f"\n{mode}:")
        print(
            f"{'file':20s}"
            + "".join(f"{c:>9.9s}" for c in cols)
            + f"{'pass %':>8s}{'of NumPy':>9s}"
        )
        for f, row in table.items():
            pct = 100.0 * row.get("pass", 0) / row["real"] if row.get("real") else 0.0
            numpy_api = row.get("real", 0) - row.get("autograd only", 0)
            pct2 = 100.0 * row.get("pass", 0) / numpy_api if numpy_api else 0.0
            print(
                f"{f:20s}" + "".join(f"{row.get(c, 0):9d}" for c in cols) + f"{pct:8.1f}{pct2:9.1f}"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkout")
    ap.add_argument("--json")
    ap.add_argument("--mode", default="both", choices=("both", "npgrad", "autograd"))
    ap.add_argument("--files", nargs="*", default=list(FILES))
    ap.add_argument("-k")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--worker-out", help=argparse.SUPPRESS)
    a = ap.parse_args()
    checkout = os.path.abspath(a.checkout)
    if a.worker:
        _worker(checkout, a.worker, a.files, a.k, a.worker_out)
        return
    modes = ("autograd", "npgrad") if a.mode == "both" else (a.mode,)
    runs = {}
    for mode in modes:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
            path = fh.name
        cmd = [sys.executable, os.path.abspath(__file__), checkout, "--worker", mode,
               "--worker-out", path, "--files", *a.files]  # fmt: skip
        if a.k:
            cmd += ["-k", a.k]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if not os.path.getsize(path):
            sys.exit(f"{mode} run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        with open(path) as fh:
            runs[mode] = json.load(fh)
        os.unlink(path)
        print(f"{mode}: {len(runs[mode]['checks'])} checks in {runs[mode]['wall_s']:.0f} s")
    summary = summarize(runs)
    _print(summary)
    if "npgrad" in runs:
        blockers = collections.Counter()
        for c in runs["npgrad"]["checks"]:
            if c["status"] in ("wrong", "clear", "crash"):
                blockers[(c["status"], c.get("error", "")[:160])] += 1
        print("\nnpgrad's failing checks, by message:")
        for (status, msg), n in blockers.most_common(40):
            print(f"{n:5d}  {status:6s} {msg}")
    if a.json:
        import numpy
        import scipy

        env = {
            "python": sys.version.split()[0],
            "numpy": numpy.__version__,
            "scipy": scipy.__version__,
        }
        from importlib.metadata import PackageNotFoundError, version

        for pkg in ("autograd", "torch", "npgrad"):
            try:
                env[pkg] = version(pkg)
            except PackageNotFoundError:
                pass
        try:
            git = ["git", "-C", checkout, "rev-parse", "HEAD"]
            env["autograd_checkout"] = subprocess.run(
                git, capture_output=True, text=True
            ).stdout.strip()
        except OSError:
            pass
        with open(a.json, "w") as fh:
            json.dump({"env": env, "summary": summary, "runs": runs}, fh, indent=1)


if __name__ == "__main__":
    main()
