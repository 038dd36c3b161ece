"""``python benchmarks/run.py ...`` runs ``npgrad bench ...`` (one implementation)."""

import sys

from npgrad.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
