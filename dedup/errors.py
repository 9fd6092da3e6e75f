"""Errors a user can act on; the CLI prints them as one line and exits with code 2."""

from __future__ import annotations


class DedupError(Exception):
    """Base class of the errors ``dedup`` reports to users."""


class InputError(DedupError):
    """Unreadable or malformed input; the message names the file and line."""


class ConfigError(DedupError, ValueError):
    """A parameter outside its allowed range or set."""


class OutputError(DedupError):
    """An output path that cannot or must not be written."""
