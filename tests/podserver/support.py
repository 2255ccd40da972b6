"""Starting the test Pod for tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.servers import ServerProcess


@contextmanager
def podserver(*args: str) -> Iterator[ServerProcess]:
    """``python -m pod_testserver *args``, stopped on exit."""
    server = ServerProcess("pod_testserver", *args).start()
    try:
        yield server
    finally:
        stop(server)


def stop(server: ServerProcess) -> None:
    """Kills the server and closes its stdout pipe, which ``ServerProcess.stop`` leaves open (an
    unclosed pipe is a ResourceWarning, an error under ``filterwarnings = error``)."""
    server.stop()
    if server.proc is not None and server.proc.stdout is not None:
        server.proc.stdout.close()
