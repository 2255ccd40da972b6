"""HTTP details of talking to a Pod through pymemri, shared by the Pod store and the plugin's
PluginRun reporter: timeouts, urllib3's socket options, and which strings of a PluginAuth are
secrets."""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import requests
from urllib3.connection import HTTPConnection

if TYPE_CHECKING:
    from collections.abc import Iterator


class TimeoutSession(requests.Session):
    """pymemri's requests carry no timeout: a Pod that stops answering would hang the crawl."""

    def __init__(self, timeout: tuple[float, float]) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.default_timeout)
        return super().request(*args, **kwargs)


@contextmanager
def socket_options_kept() -> Iterator[None]:
    """Around building a pymemri ``PodAPI``/``PodClient``: it appends its keep-alive options to
    urllib3's process-wide list on every client; keep each of them once."""
    options = list(HTTPConnection.default_socket_options)
    try:
        yield
    finally:
        extra = [o for o in HTTPConnection.default_socket_options if o not in options]
        HTTPConnection.default_socket_options = options + list(dict.fromkeys(extra))


def pluginauth_secrets(auth_json: object) -> list[str]:
    """The strings of a PluginAuth (``POD_AUTH_JSON``) that must never be shown: its values, and
    the JSON itself as it may be written, for :class:`twitter_crawler.logmask.Secrets`."""
    if not isinstance(auth_json, dict):
        return []
    data = auth_json.get("data")
    values = [v for v in (data.values() if isinstance(data, dict) else ()) if isinstance(v, str)]
    return [json.dumps(auth_json), json.dumps(auth_json, separators=(",", ":")), *values]
