"""Issue 18: the running bot stays small; libraries that weigh tens of MiB are imported by the
process that first uses them (a chart, a workbook, demo data), not at start."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("matplotlib", "openpyxl", "numpy", "PIL", "faker")


def test_starting_the_bot_imports_no_heavy_library() -> None:
    script = (
        "import sys, bot.__main__, bot.app\n"
        "bot.app.build_application  # what `python -m bot` builds\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""
