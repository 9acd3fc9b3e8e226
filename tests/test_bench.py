"""The benchmark suite runs at its smoke size on the lane's database. Nothing here is timed:
the figures are only checked to exist and to be numbers."""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import main


async def test_bench_smoke(postgres_url: str | None, tmp_path: Path) -> None:
    output = tmp_path / "bench.json"
    databases = "postgres" if postgres_url else "sqlite"
    args = ["--size", "tiny", "--databases", databases, "--repeat", "1", "--output", str(output)]
    if postgres_url:
        args += ["--postgres-url", postgres_url]
    assert await main(args) == 0
    result = json.loads(output.read_text())
    assert result["machine"]["cores"] >= 1
    sections = {row["section"] for row in result["rows"]}
    assert {"updates", "generate", "indicators", "sweep", "delivery", "memory"} <= sections
    saved = [r["value"] for r in result["rows"] if r["figure"] == "people saved"]
    assert saved == [5.0, 5.0, 5.0]  # the three update benchmarks really ran the /nouveau flow
    in_order = [r["value"] for r in result["rows"] if r["figure"] == "every chat in arrival order"]
    assert in_order == [1.0, 1.0]
    assert all(isinstance(row["value"], float) for row in result["rows"])
