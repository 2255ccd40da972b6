"""Everything that knows the Twitter API, behind one contract.

* :mod:`~twitter_crawler.api.contract`: :class:`TwitterApi`, what the crawl may ask of an API
  version (requests, reading answers, paging, planning);
* :mod:`~twitter_crawler.api.pages` and :mod:`~twitter_crawler.api.problems`: the pages and the
  error answers both versions are read into;
* ``v1/`` and ``v2/``: each version's requests (:class:`ApiV1`, :class:`ApiV2`) and parsers;
* :mod:`~twitter_crawler.api.common` and :mod:`~twitter_crawler.api.request`: what the versions
  share.

:func:`from_settings` is the one place a version is chosen (``TWITTER_API_VERSION``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twitter_crawler.api.contract import TwitterApi
from twitter_crawler.api.problems import Problem, ProblemError, stop_problem, stop_problem_of
from twitter_crawler.api.v1.requests import ApiV1
from twitter_crawler.api.v2.requests import ApiV2

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

__all__ = [
    "ApiV1",
    "ApiV2",
    "Problem",
    "ProblemError",
    "TwitterApi",
    "for_version",
    "from_settings",
    "stop_problem",
    "stop_problem_of",
]

_VERSIONS: dict[str, type[TwitterApi]] = {ApiV1.version: ApiV1, ApiV2.version: ApiV2}


def for_version(version: str, base_url: str) -> TwitterApi:
    """The API of ``version`` (``"1.1"`` or ``"2"``) against ``base_url``."""
    try:
        cls = _VERSIONS[version]
    except KeyError:
        raise ValueError(
            f"unknown Twitter API version {version!r}: must be one of {', '.join(_VERSIONS)}"
        ) from None
    return cls(base_url)


def from_settings(settings: BaseSettings) -> TwitterApi:
    """The API the crawl talks to: ``TWITTER_API_VERSION`` against ``TWITTER_API_URL``.

    Both are checked at start-up (:mod:`twitter_crawler.settings.check` writes the version as
    ``"1.1"`` or ``"2"``); a component built without the project's settings gets the defaults.
    """
    # Imported here: the API modules are used without Scrapy (the parsers in benchmarks and
    # tests) and need none of the settings package then.
    from twitter_crawler.settings import defaults

    version = settings.get("TWITTER_API_VERSION") or defaults.TWITTER_API_VERSION
    base_url = settings.get("TWITTER_API_URL") or defaults.TWITTER_API_URL
    return for_version(str(version), str(base_url))
