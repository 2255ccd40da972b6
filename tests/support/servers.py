"""Runs the project's servers (the API emulator, the Pod test server) and PostgreSQL as real
processes.

Like Scrapy's own MockServer: the child binds port 0 on 127.0.0.1 and prints its address as the
first line of its standard output; the parent reads it and kills the child on exit. PostgreSQL
(:class:`PostgresServer`) is initdb'ed into a temporary directory and started on a free port.
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


def postgres_binary(name: str) -> str:
    """``initdb`` or ``postgres``: on PATH, else Debian's /usr/lib/postgresql/<version>/bin."""
    import glob
    import shutil

    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if not candidates:
        raise RuntimeError(
            f"PostgreSQL's {name} is not installed: apt-get install postgresql (.ci/run does)"
        )
    return candidates[-1]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """A throw-away PostgreSQL server on 127.0.0.1: ``initdb`` into a temporary directory, then
    ``postgres`` on a free port, with password (scram-sha-256) authentication over TCP.

    PostgreSQL refuses to run as root: when the tests run as root, the server runs as the
    ``postgres`` user (Debian's package creates it), else as ``nobody``, in a directory it owns.
    """

    user = "crawler"
    #: Long enough to be masked by logmask, and with characters that need URL-encoding.
    password = "s3cret-pg/pass@word"

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0
        self.root = ""
        self.data = Path()
        self._run_as: dict[str, Any] = {}

    def _account(self) -> dict[str, Any]:
        if os.geteuid() != 0:
            return {}
        import pwd

        for name in ("postgres", "nobody"):
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                continue
            return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        raise RuntimeError("running as root and there is no postgres or nobody user to run PostgreSQL as")

    def start(self) -> PostgresServer:
        import tempfile

        self._run_as = self._account()
        # Under /tmp when root: a TMPDIR inside root's home would not be reachable by postgres.
        self.root = tempfile.mkdtemp(prefix="twitter-crawler-pg-",
                                     dir="/tmp" if self._run_as else None)  # noqa: S108
        os.chmod(self.root, 0o755)
        data = Path(self.root) / "data"
        pwfile = Path(self.root) / "pw"
        pwfile.write_text(self.password + "\n")
        if self._run_as:
            os.chown(self.root, self._run_as["user"], self._run_as["group"])
            os.chown(pwfile, self._run_as["user"], self._run_as["group"])
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        initdb = subprocess.run(  # noqa: S603
            [postgres_binary("initdb"), "-D", str(data), "-U", self.user, f"--pwfile={pwfile}",
             "--auth-host=scram-sha-256", "--auth-local=reject", "-E", "UTF8", "--no-sync"],
            check=False, capture_output=True, text=True, env=env, cwd=self.root, **self._run_as,
        )
        if initdb.returncode != 0:
            self.stop()
            raise RuntimeError(f"initdb failed: {initdb.stderr[-2000:]}")
        pwfile.unlink()
        self.data = data
        for _attempt in range(5):
            if self._launch(_free_port()):
                return self
        self.stop()
        raise RuntimeError("PostgreSQL found no free port")

    def _launch(self, port: int) -> bool:
        """Starts ``postgres`` on ``port``; False when another process took the port."""
        import time

        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        self.port = port
        self.proc = subprocess.Popen(  # noqa: S603
            [postgres_binary("postgres"), "-D", str(self.data), "-p", str(self.port),
             "-h", "127.0.0.1", "-k", self.root, "-c", "fsync=off",
             "-c", "max_connections=100", "-c", "deadlock_timeout=200ms"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
            cwd=self.root, **self._run_as,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            if self._ready():
                return True
            time.sleep(0.1)
        error = ""
        if self.proc.poll() is not None:
            assert self.proc.stderr is not None
            error = self.proc.stderr.read()
            if "could not bind" in error or "in use" in error:
                return False
        self.stop()
        raise RuntimeError(f"PostgreSQL did not start on 127.0.0.1:{self.port}: {error[-2000:]}")

    def halt(self) -> None:
        """Stops the server (a fast shutdown: connections are cut), keeping its data."""
        import signal

        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(30)
        if self.proc.stderr:
            self.proc.stderr.close()

    def resume(self) -> None:
        """Starts the halted server again, on the same port."""
        if not self._launch(self.port):
            raise RuntimeError(f"port {self.port} was taken while PostgreSQL was stopped")

    def _ready(self) -> bool:
        import socket

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                pass
        except OSError:
            return False
        try:
            import psycopg

            with psycopg.connect(self.url("postgres"), connect_timeout=2):
                return True
        except Exception:  # noqa: BLE001 (still starting)
            return False

    def url(self, database: str, *, password: str | None = None) -> str:
        from urllib.parse import quote

        secret = quote(self.password if password is None else password, safe="")
        return f"postgresql://{self.user}:{secret}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL (with the password)."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        import shutil
        import signal

        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # a fast shutdown
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()
        if self.root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RedisServer:
    """A real ``redis-server`` on 127.0.0.1 and a free port, in a directory of its own, with a
    password (so that every test with it also shows that the password stays out of sight).

    ``redis-server`` comes from Debian's package (``apt-get install redis-server``; ``.ci/run``
    installs it, scripts/system.sh). Without it the tests that need it fail: never skipped.
    """

    def __init__(self, workdir: Path, password: str = "redis-test-Pa55word") -> None:
        self.workdir = workdir
        self.password = password
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        import shutil
        import time

        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(exe).exists():
            raise RuntimeError("redis-server is not installed: apt-get install -y redis-server")
        self.workdir.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            self.port = _free_port()
            self.proc = subprocess.Popen(  # noqa: S603 (our own command line)
                [exe, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                 "--appendonly", "no", "--dir", str(self.workdir), "--requirepass", self.password,
                 "--daemonize", "no", "--logfile", str(self.workdir / "redis.log")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.workdir,
            )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if self.client().ping():
                        return self
                except Exception:  # noqa: BLE001 (not up yet)
                    time.sleep(0.05)
            self.stop()  # the port was taken meanwhile, or it did not start: try another
        log = (self.workdir / "redis.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"redis-server did not start:\n{log}")

    def client(self) -> Any:
        """A redis-py (synchronous) client, for the tests' own looks into Redis."""
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password,
                           decode_responses=True, socket_timeout=5)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    stop = kill

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
