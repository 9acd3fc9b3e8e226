"""Composition of the AVEQ field assistant: settings, database, access, texts, application."""

import os

# Opt in now to python-telegram-bot's coming timedelta durations (RetryAfter.retry_after...),
# rather than have every 429 raise a deprecation warning.
os.environ.setdefault("PTB_TIMEDELTA", "true")
