"""The store pipeline of a plugin run: the Pod opened with the PluginAuth of ``POD_AUTH_JSON``.

:class:`~twitter_crawler.pipelines.store.StorePipeline` opens its store with the owner and
database keys; inside the Pod there is no database key, only the PluginAuth. This subclass
hands the auth (the ``POD_AUTH_JSON`` setting) to :func:`~twitter_crawler.stores.base.open_store`
and is otherwise the same pipeline: same batches, retries, close reasons. The plugin entry point
puts it in place of ``StorePipeline``.

(Once ``StorePipeline`` itself passes ``POD_AUTH_JSON`` to ``open_store``, this class is no
longer needed: the partial below gives way to the keyword the pipeline passes.)
"""

from __future__ import annotations

import functools
import json
import sys
from typing import TYPE_CHECKING, Any

from twitter_crawler.pipelines.store import StorePipeline

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

STORE_PIPELINE = f"{StorePipeline.__module__}.{StorePipeline.__qualname__}"


class PluginStorePipeline(StorePipeline):
    auth_json: dict[str, Any] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pipeline = super().from_crawler(crawler)
        raw = crawler.settings.get("POD_AUTH_JSON")
        pipeline.auth_json = json.loads(raw) if raw else None
        return pipeline

    async def open_spider(self) -> None:
        module = sys.modules[StorePipeline.__module__]
        original = module.open_store
        module.open_store = functools.partial(original, auth_json=self.auth_json)
        try:
            await super().open_spider()
        finally:
            module.open_store = original
