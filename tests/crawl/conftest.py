from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.servers import ServerProcess

WORLD = ["--handle", "alice", "--followers", "230", "--followings", "45", "--tweets", "260",
         "--following-tweets", "12", "--protected-followings", "2", "--suspended-followings", "2",
         "--seed", "7"]


@pytest.fixture(scope="module")
def emulator() -> Iterator[ServerProcess]:
    with ServerProcess("twitter_emulator", *WORLD) as server:
        yield server
