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


def _messages(api: Any) -> list[tuple[str, str, Any, bool]]:
    """What a bot asked of the Bot API on the flow: each call's method and, for a message,
    its text, buttons and whether it is protected, as its user sees it (ids aside)."""
    sent: list[tuple[str, str, Any, bool]] = []
    for method, params in api.calls:
        if method == "getMe":  # at start-up, not on the flow
            continue
        if method not in {"sendMessage", "editMessageText"}:
            sent.append((method, "", None, False))
        else:
            markup = params.get("reply_markup")
            markup = json.loads(markup) if isinstance(markup, str) else markup
            protected = params.get("protect_content") in {True, "true"}
            sent.append((method, params["text"], markup, protected))
    return sent


async def _flow_of(name: str, folder: Path) -> list[tuple[str, str, Any, bool]]:
    from bench.flow import LenientBotAPI
    from bench.peers import one_at_a_time, running

    api = LenientBotAPI()
    async with running(name, api, 0.0, folder) as peer:
        await one_at_a_time(peer, api, await peer.users(1, 40_000))
    return _messages(api)


@pytest.mark.parametrize("peer", ["textbook", "stdlib", "aiogram"])
@pytest.mark.filterwarnings("ignore:If 'per_message=False'")  # PTB's own example, as it is
async def test_every_peer_sends_what_ours_sends(peer: str, tmp_path: Path) -> None:
    """The peers are measured on the same work as ours: the same messages, texts, buttons and
    protection, step by step, from the first name's prompt to the saved person's card."""
    if peer == "aiogram":
        pytest.importorskip("aiogram")  # the `bench` extra, in a venv of its own
    ours = await _flow_of("ours", tmp_path)
    messages = [call for call in ours if call[0] != "answerCallbackQuery"]
    assert len(messages) == 11  # one per update, and a tap's button answered besides
    assert [call[0] for call in ours].count("answerCallbackQuery") == 9
    assert messages[-1][1].startswith("Enregistré : P-0001 (Amina)")
    assert all(protected for *_, protected in messages)
    theirs = await _flow_of(peer, tmp_path)
    if peer == "aiogram":  # Telegram's editMessageText takes no protect_content: PTB sends it
        ours = [(m, t, k, p and m == "sendMessage") for m, t, k, p in ours]
    assert theirs == ours


@pytest.mark.parametrize("peer", ["ours", "stdlib"])
async def test_people_saved_at_once_get_numbers_of_their_own(peer: str, tmp_path: Path) -> None:
    """Chats answered concurrently (the 200-chat measure) each save a person of their own
    number, as ours does: a peer's numbering must not hand one number to two chats."""
    from bench.flow import LenientBotAPI
    from bench.peers import running, waiting_chats

    api = LenientBotAPI()
    async with running(peer, api, 0.005, tmp_path) as bot:
        chats = await bot.users(3, 100_000)
        _, in_order = await waiting_chats(bot, api, chats)
    assert in_order
    saved = sorted(api.last(chat).text.split(" ", 3)[2] for chat in chats)
    assert saved == ["P-0001", "P-0002", "P-0003"]
