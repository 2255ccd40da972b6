"""A ``scrapy crawl`` subprocess that a test can watch, interrupt (SIGINT) or kill (SIGKILL)."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.crawl import crawl_command, crawl_env
from tests.support.servers import ROOT


class CrawlProcess:
    def __init__(self, api_url: str, handle: str, *args: str, settings: dict[str, str]) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 (our own command line)
            crawl_command(api_url, handle, *args, settings=settings),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT,
            env=crawl_env(settings=settings),
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def wait_for(self, condition: Callable[[], bool], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.proc.poll() is not None:
                raise AssertionError(f"the crawl ended first:\n{self.log[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met in {timeout}s:\n{self.log[-3000:]}")
            time.sleep(0.05)

    def interrupt(self) -> float:
        """Sends one SIGINT (Ctrl-C) and returns the seconds the process took to exit."""
        start = time.monotonic()
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(60)
        elapsed = time.monotonic() - start
        self._reader.join(10)
        return elapsed

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(60)
        self._reader.join(10)

    def wait(self, timeout: float = 300) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(10)
        assert self.proc.stderr is not None
        self.proc.stderr.close()
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill()
        if self.proc.stderr:
            self.proc.stderr.close()


def jobdir_files(jobdir: Path) -> list[Path]:
    return [p for p in jobdir.rglob("*") if p.is_file()]
