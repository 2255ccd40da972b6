"""pymemri 0.1.2, imported without letting it touch the process's logging.

Import pymemri's names from here, never from pymemri directly (the plugin's reporter included):

* ``pymemri.pod.api`` calls ``logging.basicConfig(level=DEBUG)`` on import: with no handler yet
  on the root logger, every DEBUG record of every library (urllib3 request lines carry the owner
  key) would reach stderr. The root logger's level and handlers are put back as they were.
* pymemri logs through loguru, whose messages may contain request URLs (with the owner key):
  loguru's records of pymemri are disabled.

Keys that reach the standard loggers anyway (urllib3's request lines) are masked by
:mod:`twitter_crawler.logmask`, registered by the Pod store while it is open.
"""

from __future__ import annotations

import logging


def _import_quietly() -> None:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        import pymemri.pod.api
        import pymemri.pod.client  # noqa: F401 (imported here, under the guard)
        from loguru import logger as loguru_logger
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
    loguru_logger.disable("pymemri")


_import_quietly()

# Below the guard on purpose: these modules are loaded by now, so importing does not run them.
from pymemri.data.schema import Item, SchemaMeta
from pymemri.pod.api import PodAPI, PodError
from pymemri.pod.client import PodClient

__all__ = ["Item", "PodAPI", "PodClient", "PodError", "SchemaMeta"]
