"""`python -m bench` (`make bench`): run every benchmark script in this folder, one after another."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """Run bench_*.py (or those named on the command line); each prints its own table and ratios."""
    here = Path(__file__).parent
    chosen = argv or sorted(p.stem for p in here.glob("bench_*.py"))
    failed = []
    for name in chosen:
        print(f"== {name}", flush=True)
        if subprocess.call([sys.executable, str(here / f"{name}.py")]) != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
