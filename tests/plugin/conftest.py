"""Fixtures of the plugin tests: a test Pod and an emulator (its own credentials) per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.podserver.support import podserver
from tests.support.servers import ServerProcess

#: The emulator accepts these only (not the demo credentials): a crawl that succeeds used them.
CREDENTIALS = {
    "consumer_key": "plugin-test-consumer-key",
    "consumer_secret": "plugin-test-consumer-secret",
    "access_token": "1001-plugin-test-access-token",
    "access_secret": "plugin-test-access-secret",
}
WORLD = ["--handle", "alice", "--followers", "45", "--followings", "6", "--tweets", "70",
         "--following-tweets", "8", "--protected-followings", "1", "--suspended-followings", "1",
         "--seed", "5"]


def emulator_args(*extra: str) -> list[str]:
    creds = [f"--{name.replace('_', '-')}={value}" for name, value in CREDENTIALS.items()]
    return [*WORLD, *creds, *extra]


@pytest.fixture(scope="module")
def pod_server() -> Iterator[ServerProcess]:
    with podserver() as server:
        yield server


@pytest.fixture(scope="module")
def emulator() -> Iterator[ServerProcess]:
    with ServerProcess("twitter_emulator", *emulator_args()) as server:
        yield server
