"""The one way secrets are kept out of sight: masked with ``***`` in texts and in log records.

Two uses, one rule (a value and its URL-encoded forms, longest first, values shorter than
:data:`MIN_LENGTH` left alone):

* :class:`Secrets` masks a text its owner is about to show, e.g. the Pod store's error messages
  with its own keys;
* :func:`add_secrets` masks the values in every log record of the process, whatever logger made
  it, until :func:`remove_secrets`. Loggers of libraries print what they see: urllib3 a request
  line with the Pod's owner key in its path, oauthlib (at DEBUG) the OAuth parameters with the
  access token. Filters on loggers only see the records of that very logger, and Scrapy replaces
  its root handler while it starts, so the masking sits where every record is made: the log
  record factory makes each record one whose message and traceback come out masked, whichever
  handler formats them. Registrations are counted: the plugin and the Pod store
  may both register the owner key, and the store's closing must not unmask it for the plugin.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

if TYPE_CHECKING:
    from collections.abc import Iterable

MASK = "***"
#: Shorter values are not masked: they would mask ordinary words.
MIN_LENGTH = 8


def forms(value: str) -> set[str]:
    """A value as it may appear in text: raw, and URL-encoded."""
    return {value, quote(value, safe=""), quote_plus(value), quote(value)}


class Secrets:
    """Values that must never be shown, in every form they may take in a text."""

    __slots__ = ("_forms",)

    def __init__(self, values: Iterable[str] = ()) -> None:
        known: set[str] = set()
        for value in values:
            if isinstance(value, str) and len(value) >= MIN_LENGTH:
                known.update(forms(value))
        # Longest first: a secret that contains another is masked whole.
        self._forms = tuple(sorted(known, key=len, reverse=True))

    def __bool__(self) -> bool:
        return bool(self._forms)

    def __repr__(self) -> str:
        return f"<Secrets: {len(self._forms)} forms>"

    def mask(self, text: str) -> str:
        for secret in self._forms:
            if secret in text:
                text = text.replace(secret, MASK)
        return text


_lock = threading.Lock()
_registered: Counter[str] = Counter()
_active = Secrets()
_installed = False


def mask(text: str) -> str:
    """The text with every value registered by :func:`add_secrets` masked."""
    return _active.mask(text)


class _MaskedRecord(logging.LogRecord):
    """A record whose message and traceback come out masked, when a handler formats them: most
    records (Scrapy's DEBUG line per item, with the item's repr) are dropped unformatted by the
    handlers' level, and formatting each of them here cost the crawl 5% of its throughput."""

    def getMessage(self) -> str:
        return mask(super().getMessage())

    # The value lives in the instance's __dict__, where LogRecord.__init__ put it (a record made
    # by the factory becomes this class after __init__; the property, a data descriptor, wins).
    @property
    def exc_text(self) -> str | None:
        # Formatter.format() uses exc_text when set, else formats exc_info itself: give it the
        # masked traceback.
        text: str | None = self.__dict__.get("exc_text")
        if text is None and self.exc_info and self.exc_info[1] is not None:
            text = self.__dict__["exc_text"] = mask(
                logging.Formatter().formatException(self.exc_info))
        return text

    @exc_text.setter
    def exc_text(self, value: str | None) -> None:
        self.__dict__["exc_text"] = value


def _install() -> None:
    global _installed  # noqa: PLW0603 (one factory per process)
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _active and type(record) is logging.LogRecord:
            record.__class__ = _MaskedRecord
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


def add_secrets(values: Iterable[str]) -> None:
    """Masks these values (and their URL-encoded forms) from now on, in every log record."""
    global _active  # noqa: PLW0603 (the process's one set of registered secrets)
    with _lock:
        _registered.update(v for v in values if isinstance(v, str) and len(v) >= MIN_LENGTH)
        _active = Secrets(_registered)
        _install()


def remove_secrets(values: Iterable[str]) -> None:
    """Undoes one :func:`add_secrets` of these values: a value still registered by another
    owner stays masked."""
    global _active  # noqa: PLW0603 (the process's one set of registered secrets)
    with _lock:
        _registered.subtract(v for v in values if isinstance(v, str) and len(v) >= MIN_LENGTH)
        for value in [v for v, count in _registered.items() if count <= 0]:
            del _registered[value]
        _active = Secrets(_registered)
