"""Each test starts with no budgets: those of this process are shared by every crawler it runs
with a token (twitter_crawler.budgets.memory), and the unit tests' crawlers all have the same."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from twitter_crawler.budgets import memory


@pytest.fixture(autouse=True)
def fresh_budgets() -> Iterator[None]:
    memory.REGISTRY.clear()
    yield
    memory.REGISTRY.clear()
