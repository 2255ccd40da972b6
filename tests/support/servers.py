"""Runs the project's servers (the API emulator, the Pod test server) as real processes.

Like Scrapy's own MockServer: the child binds port 0 on 127.0.0.1 and prints its address as the
first line of its standard output; the parent reads it and kills the child on exit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class ServerProcess:
    """``with ServerProcess("twitter_emulator", "--followers", "10") as server: ...``"""

    def __init__(self, module: str, *args: str, env: dict[str, str] | None = None) -> None:
        self.module = module
        self.args = list(args)
        self.env = env
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> ServerProcess:
        env = {**os.environ, **(self.env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-m", self.module, "--host", "127.0.0.1", "--port", "0", *self.args],
            stdout=subprocess.PIPE,
            stderr=None,
            text=True,
            cwd=ROOT,
            env=env,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError(f"{self.module} did not print its address, it printed {line!r}")
        # Everything after the address line goes to our stderr, so a full pipe never blocks it.
        self.url = line.split()[0]
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def get_json(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=30) as resp:  # noqa: S310 (loopback)
            return json.load(resp)

    def post_json(self, path: str, payload: Any = None) -> Any:
        data = json.dumps(payload if payload is not None else {}).encode()
        req = urllib.request.Request(
            self.url + path, data=data, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 (loopback)
            return json.load(resp)
