"""Forking helper processes: Ctrl-C ignored and SIGTERM held back meanwhile."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import os, signal
from npgrad.experiment.processes import forking
seen = []
def raising(n, f):
    raise KeyboardInterrupt
signal.signal(signal.SIGTERM, raising)
try:
    with forking():
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)  # ignored while forking
        seen.append("inside")
except KeyboardInterrupt:
    seen.append("after")
print(seen, signal.getsignal(signal.SIGTERM) is raising)
"""


def test_a_sigterm_while_forking_lands_after_it_and_ctrl_c_is_ignored():
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['inside', 'after'] True"
