"""Instructions per update of one bot of `bench.peers`, counted by valgrind: a figure the
machine's load does not move (a shared machine's timings moved 2–3× between two days of
issue 18; the counts of two runs of the same code differ by less than 0.1 %).

    valgrind --tool=callgrind --dump-before=getppid --callgrind-out-file=/tmp/cg.%p \\
        python -m bench.instructions ours 20
    grep -m1 '^summary:' /tmp/cg.<pid>.2      # instructions of the measured updates

The bot is started and warmed up (20 users' flows) like `bench.peers`' one-at-a-time measure,
then `users` users go through /nouveau, one update at a time; `os.getppid()` is called just
before and just after them, so the dump valgrind writes at each call (`--dump-before`) cuts
out exactly those updates: divide the second dump's total by `users × 11`. Instructions are
not time: the same count runs slower in a process whose updates touch more memory (issue 18:
this bot ran 1.37× the stdlib peer's instructions and took 1.8–2× its CPU time).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

from bench.flow import FLOW, LenientBotAPI
from bench.peers import one_at_a_time, running


async def measure(name: str, users: int) -> None:
    """Warm `name` up, then run `users` flows between two `getppid` calls."""
    with tempfile.TemporaryDirectory() as folder:
        api = LenientBotAPI()
        async with running(name, api, 0.0, Path(folder)) as peer:
            await one_at_a_time(peer, api, await peer.users(20, 40_000))
            measured = await peer.users(users, 10_000)
            os.getppid()  # valgrind dumps here (--dump-before=getppid)...
            await one_at_a_time(peer, api, measured)
            os.getppid()  # ...and here: the second dump holds the measured updates only
    print(f"{name}: {users} users × {len(FLOW)} updates measured")


if __name__ == "__main__":
    asyncio.run(measure(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20))
