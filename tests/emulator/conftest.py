"""Fixtures: real emulator processes, and a client that signs requests with requests-oauthlib."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from requests_oauthlib import OAuth1

from tests.support.servers import ServerProcess
from twitter_emulator.credentials import CRAWL_ENV as CREDS

MODULE = "twitter_emulator"
#: The shared world: big enough for several pages everywhere and for the 3,200 cap.
WORLD_ARGS = (
    "--handle", "alice", "--followers", "450", "--followings", "60", "--tweets", "3300",
    "--following-tweets", "12", "--protected-followings", "2", "--suspended-followings", "2",
    "--seed", "7", "--quotas", "off",
)


def oauth(**kwargs: Any) -> OAuth1:
    return OAuth1(
        CREDS["TWITTER_CONSUMER_KEY"], CREDS["TWITTER_CONSUMER_SECRET"],
        CREDS["TWITTER_ACCESS_TOKEN"], CREDS["TWITTER_ACCESS_SECRET"], **kwargs,
    )


class Client:
    """Signed v1.1 calls against one emulator."""

    def __init__(self, url: str, auth: OAuth1 | None = None) -> None:
        self.url = url
        self.auth = auth
        self.session = requests.Session()

    def get(self, endpoint: str, auth: Any = "default", **params: Any) -> requests.Response:
        return self.session.get(f"{self.url}/1.1/{endpoint}.json", params=params,
                                auth=(self.auth or oauth()) if auth == "default" else auth, timeout=30)

    def post(self, endpoint: str, auth: Any = "default", **data: Any) -> requests.Response:
        return self.session.post(f"{self.url}/1.1/{endpoint}.json", data=data,
                                 auth=(self.auth or oauth()) if auth == "default" else auth, timeout=30)

    def control(self, path: str, **params: Any) -> Any:
        r = self.session.get(f"{self.url}/_emulator/{path}", params=params, timeout=120)
        r.raise_for_status()
        return r.json()

    def close(self) -> None:
        self.session.close()


@contextmanager
def running(*args: str) -> Iterator[ServerProcess]:
    """An emulator process for the duration of the block.

    ServerProcess.stop() kills the child but leaves its stdout pipe open, which is a
    ResourceWarning (an error under ``filterwarnings=error``): close it here."""
    server = ServerProcess(MODULE, *args)
    try:
        yield server.start()
    finally:
        server.stop()
        if server.proc is not None and server.proc.stdout is not None:
            server.proc.stdout.close()


@pytest.fixture(scope="session")
def emulator() -> Iterator[ServerProcess]:
    with running(*WORLD_ARGS) as server:
        yield server


@pytest.fixture()
def client(emulator: ServerProcess) -> Iterator[Client]:
    c = Client(emulator.url)
    yield c
    c.close()


@pytest.fixture(scope="session")
def world(emulator: ServerProcess) -> dict[str, Any]:
    return emulator.get_json("/_emulator/world")


def errors_of(response: requests.Response) -> list[int]:
    return [e["code"] for e in response.json().get("errors", [])]
