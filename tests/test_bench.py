"""The benchmark suite runs at its smoke size on the lane's database. Nothing here is timed:
the figures are only checked to exist and to be numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

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


async def test_instruction_count_cuts_out_the_measured_updates(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bench.instructions` marks the measured updates with two getppid calls (valgrind dumps
    its counts at each): the measured flows, and only they, run between the two."""
    import bench.instructions as instructions

    events: list[str] = []
    submitted = instructions.one_at_a_time

    async def counting(peer: Any, api: Any, user_ids: list[int]) -> Any:
        events.append(f"flows of {len(user_ids)}")
        return await submitted(peer, api, user_ids)

    monkeypatch.setattr(instructions, "one_at_a_time", counting)
    monkeypatch.setattr(instructions.os, "getppid", lambda: events.append("dump") or 1)
    await instructions.measure("stdlib", 3)
    assert events == ["flows of 20", "dump", "flows of 3", "dump"]
    assert "3 users × 11 updates measured" in capsys.readouterr().out
