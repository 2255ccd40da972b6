"""Keeps the PluginRun item in the Pod up to date: ``status``, ``progress`` and ``error``.

pymemri's run states (``pymemri.plugin.states``): the plugin sets ``started`` when it begins,
then ``done`` when the import finished, ``aborted`` when it was stopped (SIGTERM, Ctrl-C) and
can be run again to continue, ``error`` otherwise, with a one-line ``error``. ``progress`` goes
from 0.0 to 1.0. Updates go through pymemri's ``PodClient`` with the plugin's PluginAuth
(``PodAPI.update_item``, the call ``PluginBase.set_run_status`` makes through its client).

A status that cannot be written is logged once as a warning and does not stop the import: the
import is the job, the status only reports on it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import requests

from twitter_crawler.logmask import mask
from twitter_crawler.plugin.environment import (
    PluginConfigError,
    PluginRunUnavailable,
    PodEnvironment,
)
from twitter_crawler.stores.podhttp import TimeoutSession, socket_options_kept

logger = logging.getLogger(__name__)

# pymemri.plugin.states (importing pymemri other than through twitter_crawler.stores.podlog
# would let it reconfigure logging, see there): checked against pymemri in the tests.
RUN_STARTED = "started"
RUN_COMPLETED = "done"
RUN_FAILED = "error"
RUN_ABORTED = "aborted"


def _pymemri() -> tuple[Any, Any]:
    """``(PodAPI, PodError)``, imported through :mod:`twitter_crawler.stores.podlog`, which keeps
    pymemri from reconfiguring logging."""
    try:
        from twitter_crawler.stores.podlog import PodAPI, PodError
    except ImportError:
        raise PluginConfigError(
            "the plugin needs pymemri: install the project with its extra, pip install '.[pod]'"
        ) from None
    return PodAPI, PodError


class PluginRunReporter:
    """The PluginRun named by ``POD_TARGET_ITEM``, in the Pod of ``POD_FULL_ADDRESS``."""

    def __init__(self, env: PodEnvironment, *, timeout: tuple[float, float] = (5.0, 30.0)) -> None:
        self.env = env
        self.timeout = timeout
        #: The close reason of the crawl, set by :class:`~.extension.PluginRunExtension`.
        self.reason: str | None = None
        self._api: Any = None
        self._pod_api, self._pod_error = _pymemri()
        self._lock = threading.Lock()
        self._warned = False
        self._finished = False
        self._last_progress = -1.0

    def __repr__(self) -> str:
        return f"<PluginRunReporter {self.env.run_id} at {self.env.url}>"

    # -- the connection --------------------------------------------------------------------------

    def _connect(self) -> Any:
        """pymemri's ``PodAPI`` (what ``PodClient.api`` is), with timeouts. No request yet:
        ``PodClient()`` would GET the Pod without a timeout."""
        if self._api is not None:
            return self._api
        with socket_options_kept():
            api = self._pod_api(
                database_key=None,
                owner_key=self.env.owner_key,
                url=self.env.url,
                auth_json=self.env.auth_json,
                verbose=False,
            )
        api.session.close()
        api.session = TimeoutSession(self.timeout)
        self._api = api
        return api

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, self._pod_error):
            status = getattr(exc, "status", "?")
            return mask(f"HTTP {status} {getattr(exc, 'message', '')}".strip())[:200]
        if isinstance(exc, requests.Timeout):
            return "no answer in time"
        if isinstance(exc, requests.ConnectionError):
            return "connection failed"
        return type(exc).__name__

    def _call(self, doing: str, function: str, payload: Any, *, quiet: bool = False) -> Any:
        try:
            return getattr(self._connect(), function)(payload)
        except Exception as exc:  # noqa: BLE001 (pymemri and requests raise many kinds)
            # Never the exception's own text: a requests error holds the URL, with the owner key.
            reason = self._describe(exc)
            if not quiet and not self._warned:
                self._warned = True
                logger.warning(
                    "Could not %(doing)s the PluginRun %(run)s in the Pod at %(url)s (%(reason)s); "
                    "the import goes on",
                    {"doing": doing, "run": self.env.run_id, "url": self.env.url, "reason": reason},
                )
            raise RuntimeError(reason) from None

    # -- reading ---------------------------------------------------------------------------------

    def fetch_run(self) -> dict[str, Any]:
        """The PluginRun item as the Pod holds it (when ``POD_TARGET_ITEM`` has no config)."""
        try:
            found = self._call("read", "get_item", self.env.run_id, quiet=True)
        except RuntimeError as exc:
            raise PluginRunUnavailable(
                f"cannot read the PluginRun {self.env.run_id} from the Pod at {self.env.url} "
                f"({exc})"
            ) from None
        if not isinstance(found, list) or not found or not isinstance(found[0], dict):
            raise PluginRunUnavailable(
                f"the Pod at {self.env.url} has no PluginRun {self.env.run_id}"
            )
        return found[0]

    # -- writing ---------------------------------------------------------------------------------

    def _update(self, props: dict[str, Any], *, quiet: bool = False, last: bool = False) -> bool:
        with self._lock:
            if self._finished:
                return False
            self._finished = last
            try:
                self._call("update", "update_item", {"id": self.env.run_id, **props}, quiet=quiet)
            except RuntimeError:
                return False
            return True

    def started(self) -> bool:
        return self._update({"status": RUN_STARTED, "progress": 0.0, "error": None})

    def progress(self, share: float) -> bool:
        share = round(min(max(share, 0.0), 0.99), 3)
        if share <= self._last_progress:
            return False
        self._last_progress = share
        return self._update({"progress": share})

    def finished(self, status: str, error: str | None = None, *, quiet: bool = False) -> bool:
        """The last update: later progress updates (from a thread still running) are ignored."""
        props: dict[str, Any] = {"status": status, "error": error}
        if status == RUN_COMPLETED:
            props["progress"] = 1.0
        return self._update(props, quiet=quiet, last=True)
