"""The fake Bot API itself: it can be trusted to fail a test, and the benchmarks that use it run
from an installed package, outside a checkout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from telegram.error import NetworkError

from bench import fakebotapi
from bot.app import BotApplication
from tests.conftest import User
from tests.fakes import FakeBotAPI, UnknownMethod


async def test_an_unknown_method_fails_the_test_even_when_the_bot_swallows_it(
    app: BotApplication, api: FakeBotAPI, mediator: User
) -> None:
    # PTB turns the fake's error into a NetworkError, which the bot may catch and log...
    with pytest.raises(NetworkError):
        await app.bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": mediator.id})
    # ...so the fake keeps it, and the end of every test checks every fake made during it.
    assert api.unknown == ["sendTelepathy"]
    with pytest.raises(UnknownMethod, match="sendTelepathy"):
        fakebotapi.assert_no_unknown_calls()
    other = FakeBotAPI()
    with pytest.raises(UnknownMethod):
        other.handle("editMessageText", {"chat_id": 1, "message_id": 404, "text": "x"})
    assert other.unknown == ["editMessageText on a message that does not exist"]
    api.unknown.clear()  # seen: let this test's own end pass
    other.unknown.clear()
    fakebotapi.assert_no_unknown_calls()


def test_bench_runs_outside_a_checkout(tmp_path: Path) -> None:
    """`python -m bench --help` from another folder, with only the installed packages."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "--size" in done.stdout
    # Nothing of the checkout's tests/ was needed.
    probe = subprocess.run(
        [sys.executable, "-c", "import bench.updates, bench.delivery, sys; "
         "print(any(m == 'tests' or m.startswith('tests.') for m in sys.modules))"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert probe.stdout.strip() == "False", probe.stderr[-2000:]
