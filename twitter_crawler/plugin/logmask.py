"""Secrets masked in every log record of the plugin's process, whatever logger made it.

Loggers of libraries print what they see: urllib3 a request line with the owner key in its
path, oauthlib (at DEBUG) the OAuth parameters with the access token. Filters on loggers only
see the records of that very logger, and Scrapy replaces its root handler while it starts, so
the masking sits where every record is made: the log record factory. A record that carries a
secret, in its message or in its traceback, is rewritten with ``***`` before any handler sees
it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
#: Shorter values are not masked: they would mask ordinary words.
MIN_LENGTH = 8

_lock = threading.Lock()
_secrets: list[str] = []
_installed = False


def forms(value: str) -> set[str]:
    """A value as it may appear in text: raw, and URL-encoded."""
    return {value, quote(value, safe=""), quote_plus(value), quote(value)}


def mask(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 (a bad format string is the handler's to report)
        return
    masked = mask(message)
    if masked != message:
        record.msg, record.args = masked, ()
    if record.exc_info and record.exc_info[1] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        masked = mask(text)
        if masked != text:
            record.exc_text = masked


def add_secrets(values: Iterable[str]) -> None:
    """Masks these values (and their URL-encoded forms) from now on, in every log record."""
    global _installed  # noqa: PLW0603 (one factory per process)
    with _lock:
        known = set(_secrets)
        for value in values:
            if isinstance(value, str) and len(value) >= MIN_LENGTH:
                known.update(forms(value))
        # Longest first: a secret that contains another is masked whole.
        _secrets[:] = sorted(known, key=len, reverse=True)
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if _secrets:
                _scrub(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
