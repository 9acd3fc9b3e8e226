"""`python -m bench`: measure, print a table, write JSON under bench/results/.

python -m bench                     full sizes, SQLite and PostgreSQL
python -m bench --size tiny         the smoke size CI runs (nothing is asserted on time)
python -m bench --databases sqlite  one database only
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
from pathlib import Path

from bench import delivery, indicators, sweep, updates
from bench.harness import RESULTS, Report

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SECTIONS = {
    "updates": updates.run,
    "indicators": indicators.run,
    "sweep": sweep.run,
    "delivery": delivery.run,
}


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--size", choices=["tiny", "full"], default="full")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--output", help="JSON file (default: bench/results/bench-<size>-<time>.json)"
    )
    parser.add_argument(
        "--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    args = parser.parse_args(argv)
    report = Report()
    print(
        f"{'section':<12} {'database':<10} {'size':<22} {'figure':<34} {'value':>12} unit   target"
    )
    for section in args.sections.split(","):
        for kind in args.databases.split(","):
            await SECTIONS[section](report, kind, args.postgres_url, args.size, args.repeat)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    path = Path(args.output) if args.output else RESULTS / f"bench-{args.size}-{stamp}.json"
    report.write(path)
    print(f"\nJSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
