"""The Pod store's one writer: a lease kept in the Pod itself.

The Pod store is single-writer: the index of edges that keeps an edge from being stored twice
lives in the writing process (:mod:`.pod`), and the Pod has no upsert. Two crawls writing into
one Pod (one owner's database) could both create the same edge. So a crawl takes a lease before
its first write, and a second crawl into the same Pod is refused, with one line that says who
holds it (host, process) and until when; several writers need the PostgreSQL store.

The lease is a ``TwitterWriterLease`` item (:mod:`.podschema`: ``holder``, ``host``, ``pid``,
``expires`` in milliseconds since the epoch, ``released``) with the id ``tw-lease-<generation>``:

* taking it: the lease of the highest generation is read; when it is held (not released, not
  expired, and its process is not known dead) the store refuses to open. Otherwise the next
  generation's item is created: the Pod refuses a second item with one id (409), so of two crawls
  that try at once exactly one gets it;
* keeping it: a thread renews ``expires`` every :data:`LEASE_SECONDS` / 4, also while the crawl
  waits for a rate limit and writes nothing;
* giving it back: closing the store marks it ``released``;
* a crawl that died (``kill -9``, a lost machine) cannot keep it: its lease expires
  :data:`LEASE_SECONDS` after its last renewal, and at once for a crawl on the same machine, which
  sees that the holder's process is gone.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from twitter_crawler.stores.base import StoreConfigError, StoreError

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)

#: How long a lease lasts after its last renewal: a crashed writer on another machine blocks the
#: Pod this long at most.
LEASE_SECONDS = 120.0
_ID_RE = re.compile(r"^tw-lease-(\d+)$")


def lease_id(generation: int) -> str:
    return f"tw-lease-{generation}"


def _boot_id() -> str:
    """This machine's boot: a pid is only meaningful within it."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:  # noqa: PTH123
            return fh.read().strip()
    except OSError:
        return ""


def this_host() -> str:
    return f"{socket.gethostname()}/{_boot_id()}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # not ours to signal (another user's): alive
        return True
    return True


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class WriterLease:
    """The lease of one Pod store. ``call(doing, function, *args)`` runs a Pod API call with the
    store's error handling; ``api()`` is the open store's PodAPI; ``lock`` the store's lock."""

    def __init__(
        self,
        where: str,
        api: Callable[[], Any],
        call: Callable[..., Any],
        lock: threading.RLock,
        *,
        seconds: float = LEASE_SECONDS,
    ) -> None:
        self.where = where
        self._api = api
        self._call = call
        self._lock = lock
        self.seconds = seconds
        self.holder = uuid.uuid4().hex
        self.item_id = ""
        self.expires_ms = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _now_ms(self) -> int:
        return int(time.time() * 1000)

    def _current(self) -> tuple[int, dict[str, Any] | None]:
        """The highest generation and its lease item (None: no lease yet)."""
        found = self._call(
            "reading the writer lease",
            self._api().search,
            {"type": "TwitterWriterLease", "deleted": False},
        )
        best: tuple[int, dict[str, Any] | None] = (0, None)
        for item in found:
            match = _ID_RE.match(str(item.get("id", "")))
            if match and int(match.group(1)) > best[0]:
                best = (int(match.group(1)), item)
        return best

    def _held_by_another(self, item: dict[str, Any]) -> bool:
        if item.get("released") or item.get("holder") == self.holder:
            return False
        expires = item.get("expires")
        if not isinstance(expires, int) or expires <= self._now_ms():
            return False
        pid = item.get("pid")
        # On this machine, a holder whose process is gone has crashed: no need to wait.
        return not (item.get("host") == this_host() and isinstance(pid, int)
                    and not _process_alive(pid))

    def _busy(self, item: dict[str, Any]) -> StoreConfigError:
        host = str(item.get("host", "?")).split("/", maxsplit=1)[0]
        expires = item.get("expires")
        until = _utc(expires) if isinstance(expires, int) else "?"
        return StoreConfigError(
            f"{self.where} is being written by another crawl (process {item.get('pid', '?')} on "
            f"{host}; its lease runs until {until} and is renewed while it runs): the Pod store "
            "takes one writer at a time. Wait for that crawl to end (a crawl that died frees the "
            f"Pod {self.seconds:.0f} s after it stopped), or write from several crawls into a "
            "PostgreSQL store (POD_URL=postgresql://...)"
        )

    def acquire(self) -> None:
        with self._lock:
            generation, item = self._current()
            if item is not None and self._held_by_another(item):
                raise self._busy(item)
            new_id = lease_id(generation + 1)
            expires = self._now_ms() + int(self.seconds * 1000)
            props = {
                "id": new_id,
                "type": "TwitterWriterLease",
                "holder": self.holder,
                "host": this_host(),
                "pid": os.getpid(),
                "expires": expires,
                "released": False,
            }
            try:
                self._call("taking the writer lease", self._api().create_item, props)
            except StoreError as exc:
                if "HTTP 409" not in str(exc):
                    raise
                # Another crawl created this generation between our look and our create.
                _, taken = self._current()
                raise self._busy(taken or props) from None
            self.item_id, self.expires_ms = new_id, expires
            if item is not None:
                # The previous generation is over: only the current one stays to be read.
                try:
                    self._call("retiring the previous lease", self._api().bulk,
                               delete_items=[str(item["id"])])
                except StoreError as exc:
                    logger.debug("Could not delete the previous writer lease: %s", exc)
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._renew_loop, name="pod-writer-lease", daemon=True
        )
        self._thread.start()

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.seconds / 4):
            try:
                self.renew()
            except StoreError as exc:
                # The next write checks the lease again; the Pod may be back by then.
                logger.warning("Could not renew the Pod writer lease: %s", exc)

    def renew(self) -> None:
        with self._lock:
            if not self.item_id or self._stop.is_set():
                return
            expires = self._now_ms() + int(self.seconds * 1000)
            self._call("renewing the writer lease", self._api().update_item,
                        {"id": self.item_id, "expires": expires})
            self.expires_ms = expires

    def check(self) -> None:
        """Before a write: the lease is still ours (renewed in time, or renewed now)."""
        if self.expires_ms - self._now_ms() > self.seconds * 1000 / 2:
            return
        with self._lock:
            _, item = self._current()
            if item is None or item.get("id") != self.item_id:
                raise StoreError(
                    f"{self.where}: this crawl lost its writer lease (it could not renew it in "
                    "time) and another crawl took the Pod"
                )
            self.renew()

    def release(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(10)
        with self._lock:
            if not self.item_id:
                return
            item_id, self.item_id = self.item_id, ""
            try:
                self._call("giving the writer lease back", self._api().update_item,
                           {"id": item_id, "released": True})
            except StoreError as exc:
                # It expires on its own.
                logger.warning("Could not give the Pod writer lease back: %s", exc)
