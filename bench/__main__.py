"""`make bench`: run every benchmark module `bench/bench_*.py`, or the ones named on the command line.

Each module has an async `main()` that prints its measured figures as ratios against a baseline it
measures in the same run. Benchmarks are not tests: nothing here asserts a speed.
"""

import asyncio
import importlib
import sys
from pathlib import Path


def main() -> int:
    names = sys.argv[1:] or sorted(path.stem for path in Path(__file__).parent.glob("bench_*.py"))
    for name in names:
        module = importlib.import_module(f"bench.{name.removesuffix('.py')}")
        print(f"== {module.__name__} ==", flush=True)
        asyncio.run(module.main())
    return 0


if __name__ == "__main__":
    sys.exit(main())
