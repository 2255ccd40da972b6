"""Candidate fixes, tried from the outside with ``-s`` so the crawler's code stays as it is.

(The first one measured here, one Scrapy item per API answer, is now how the spider works.)

``python -m bench variants`` runs the throughput world with each of :data:`VARIANTS` side by side
(alternating, repeated) and reports tweets/s against the crawl as it is. A variant that helps is a
proposal for the crawler's settings or code, not something the benchmark changes.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.logformatter import LogFormatter


class QuietLogFormatter(LogFormatter):
    """Scrapy's LogFormatter, except that the per-item DEBUG messages ("Scraped from ...",
    "Dropped: ...") are not even built when ``LOG_LEVEL`` would drop them.

    Scrapy leaves the root logger at DEBUG and filters in the handler, so every item otherwise
    costs a ``LogRecord`` (with ``findCaller``) that is thrown away.
    """

    def __init__(self, level: int = logging.DEBUG) -> None:
        self.level = level

    @classmethod
    def from_crawler(cls, crawler: Any) -> QuietLogFormatter:
        level = crawler.settings.get("LOG_LEVEL", "DEBUG")
        return cls(logging.getLevelName(level) if isinstance(level, str) else int(level))

    def scraped(self, item: Any, response: Any, spider: Any) -> Any:
        if self.level > logging.DEBUG:
            return None
        return super().scraped(item, response, spider)

    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any) -> Any:
        result = super().dropped(item, exception, response, spider)
        if result is not None and result["level"] < self.level:
            return None
        return result


#: name → (what it tries, extra ``-s`` settings); the spider is ``twitter`` unless the settings
#: name ``SPIDER`` (not a Scrapy setting: taken out before the crawl).
VARIANTS: dict[str, tuple[str, dict[str, str]]] = {
    "as is": ("the crawler's own settings", {}),
    "CONCURRENT_ITEMS=8": ("Scrapy starts CONCURRENT_ITEMS (default 100) tasks per response to run its "
                           "items through the pipelines; the pipelines are synchronous, 8 are plenty",
                           {"CONCURRENT_ITEMS": "8"}),
    "quiet item log": ("no LogRecord per item for DEBUG messages that LOG_LEVEL=INFO drops anyway",
                       {"LOG_FORMATTER": "bench.experiments.QuietLogFormatter"}),
    "both": ("CONCURRENT_ITEMS=8 and the quiet item log",
             {"CONCURRENT_ITEMS": "8", "LOG_FORMATTER": "bench.experiments.QuietLogFormatter"}),
    "both + POD_BATCH_SIZE=2000": ("and batches of 2,000 instead of 500 (fewer store transactions)",
                                   {"CONCURRENT_ITEMS": "8",
                                    "LOG_FORMATTER": "bench.experiments.QuietLogFormatter",
                                    "POD_BATCH_SIZE": "2000"}),
}
