"""Child processes for the crawl's heavy lifting, started clean.

The archive import reads in one child process (``archive/worker.py``) and writes SQLite in
another (``stores/sqlite.py``). They are *spawned* (a new interpreter), not forked: the crawl
process runs threads (the reactor's pool), which a fork would copy in whatever state they hold.

A spawned child first re-imports the parent's ``__main__`` when it is a script: the ``scrapy``
command's imports all of Scrapy, about 40 MB and half a second in each child that needs none of
it (``python -m scrapy`` is left alone by multiprocessing already). :func:`start` hides the
parent's ``__main__`` while the child is launched, so the child imports only what its target
needs.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable
    from multiprocessing.process import BaseProcess

#: One launch at a time: ``sys.modules["__main__"]`` is the process's, whichever thread starts.
_LAUNCH = threading.Lock()


def start(target: Callable[..., None], args: tuple[Any, ...], name: str) -> BaseProcess:
    """Starts ``target(*args)`` in a spawned, daemonic child process named ``name``."""
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=target, args=args, name=name, daemon=True)
    with _LAUNCH:
        main = sys.modules["__main__"]
        # A module without a file or a spec: multiprocessing then has no main to re-import.
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            proc.start()
        finally:
            sys.modules["__main__"] = main
    return proc


def pipe(*, duplex: bool = True) -> tuple[Any, Any]:
    """A pipe between the crawl and such a child: (this end, the child's)."""
    return multiprocessing.get_context("spawn").Pipe(duplex)
