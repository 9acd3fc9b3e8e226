"""Composition of the AVEQ field assistant: settings, database, access, texts, application."""
