"""What one app was billed for today, kept across runs: X charges a resource returned again the
same UTC day only once (X_API_2026.md §2), so a second run the same day must not count again
what the first one paid for.

One text file per app and UTC day, ``<directory>/<app>-<YYYY-MM-DD>.ledger``: ``<app>`` is a
hash of the API's address and the app's credential (the consumer key, or the bearer token
alone), never the credential itself; each line is ``<resource> <id>`` (``post``, ``user``, ``follow``) for a resource billed,
``+<resource> <id>`` for one counted in ``includes``. A day's file is read only that day; older
files are removed when a crawl opens the ledger. All of it is blocking file I/O: the
cost middleware calls it in a thread.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

#: A ledger's key: (resource, id), with resource prefixed by ``+`` for an ``includes`` entry.
Key = tuple[str, str]


def app_key(credential: str) -> str:
    """The app's name in ledger file names: a hash that cannot be turned back into the
    credential."""
    return hashlib.sha256(b"twitter_crawler ledger\0" + credential.encode()).hexdigest()[:16]


class Ledger:
    """The resources one app was billed for (and counted in ``includes``) on one UTC day."""

    def __init__(self, directory: Path, app: str) -> None:
        self.directory = directory
        self.app = app

    def path(self, day: str) -> Path:
        return self.directory / f"{self.app}-{day}.ledger"

    def load(self, day: str) -> set[Key]:
        """What ``day``'s file holds (nothing when there is none); removes the files of other
        days (of every app), which can never be read again."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for old in self.directory.glob("*.ledger"):
            if not old.name.endswith(f"-{day}.ledger"):
                old.unlink(missing_ok=True)
        try:
            text = self.path(day).read_text(encoding="utf-8")
        except FileNotFoundError:
            return set()
        keys: set[Key] = set()
        for line in text.splitlines():
            resource, _, ident = line.partition(" ")
            if ident:  # a line cut short by a crash is skipped: that resource is counted again
                keys.add((resource, ident))
        return keys

    def append(self, day: str, keys: list[Key]) -> None:
        """Adds ``keys`` to ``day``'s file."""
        if not keys:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.path(day).open("a", encoding="utf-8") as f:
            f.write("".join(f"{resource} {ident}\n" for resource, ident in keys))
