"""The fake Telegram Bot API the tests use: it lives in `bench.fakebotapi` (installed with the
package, so the benchmarks run outside a checkout); see there."""

from bench.fakebotapi import (
    BOT_ID,
    BOT_USERNAME,
    FakeBotAPI,
    FakeBotServer,
    RecordingRequest,
    Sent,
    UnknownMethod,
)

__all__ = [
    "BOT_ID",
    "BOT_USERNAME",
    "FakeBotAPI",
    "FakeBotServer",
    "RecordingRequest",
    "Sent",
    "UnknownMethod",
]
