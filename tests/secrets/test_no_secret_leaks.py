"""Secret hygiene (PRODUCT.md §2): the Twitter secrets, the Pod's keys and the plugin's PluginAuth
never appear in logs (at DEBUG), stats, exports, job directories, the stores or error messages.

One scenario, run once for the module, with distinctive secret values (the emulator accepts only
those credentials, so a crawl that works used them):

* per store (SQLite, the test Pod): ``scrapy crawl`` over v1.1 at ``LOG_LEVEL=DEBUG`` with a JOBDIR and an
  export, interrupted with SIGINT while a request is parked for its rate limit (so the job
  directory holds a queue; the store files, -wal included, are copied at that moment), then
  resumed to the end; credentials given with ``-s`` for one store and in environment variables
  for the other;
* a crawl refused by the Pod (wrong database key), over v2 (the default): its error messages;
* the plugin entry point at DEBUG, over v2, as the container runs it, with an export; and once more with a
  forged PluginAuth: its error messages.

Then every file they produced (job directories, exports, the SQLite store with its -wal/-shm,
the Pod's data file with its -wal/-shm, the Pod's log) and all their standard output and error
are searched for every secret, raw and URL-encoded.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from tests.plugin.support import PodOwner, container_env, dockerfile_command
from tests.support.apiversion import V1
from tests.support.crawl import crawl_command, crawl_env, read_jsonl
from tests.support.process import jobdir_files
from tests.support.servers import ROOT, ServerProcess

CONSUMER_KEY = "leakcheck-consumer-key"
#: Characters that URL-encoding changes (+ / =), so that encoded forms differ from raw ones.
TWITTER_SECRETS = {
    "consumer_secret": "Cs+Leak/Check=Consumer~Secret7",
    "access_token": "1001-At+Leak/Check=Access~Token8",
    "access_secret": "As+Leak/Check=Access~Secret9",
}
CREDENTIAL_SETTINGS = {
    "TWITTER_CONSUMER_KEY": CONSUMER_KEY,
    "TWITTER_CONSUMER_SECRET": TWITTER_SECRETS["consumer_secret"],
    "TWITTER_ACCESS_TOKEN": TWITTER_SECRETS["access_token"],
    "TWITTER_ACCESS_SECRET": TWITTER_SECRETS["access_secret"],
}
WORLD = ["--handle", "alice", "--followers", "600", "--followings", "6", "--tweets", "60",
         "--following-tweets", "5", "--protected-followings", "1", "--suspended-followings", "1",
         "--seed", "13", "--consumer-key", CONSUMER_KEY,
         "--consumer-secret", TWITTER_SECRETS["consumer_secret"],
         "--access-token", TWITTER_SECRETS["access_token"],
         "--access-secret", TWITTER_SECRETS["access_secret"]]
#: followers/list: 3 pages of 200 against a quota of 2: the third parks until the window ends.
#: The interrupted crawls go over v1.1 for that (v2's pages of 1000 hold all 600 followers in one,
#: and its timelines run side by side: more than one request would park); the plugin run and the
#: refused crawl go over v2, the default, so what each version writes is searched.
PARKING = ["--quota", f"{V1.followers}=2", "--window", "6"]


def forms(value: str) -> set[str]:
    """A secret as it could be written anywhere: raw, URL-/percent-encoded (either case of hex
    digits), JSON-escaped. Compared case-insensitively."""
    encoded = {quote(value, safe=""), quote(value), quote_plus(value), json.dumps(value)[1:-1]}
    return {f.lower() for f in {value, *encoded}}


def found_in(text: str, value: str) -> bool:
    text = text.lower()
    return any(form in text for form in forms(value))


@dataclass
class Scenario:
    secrets: dict[str, str] = field(default_factory=dict)
    #: where -> {name: text}: "files" (job dirs, exports, stores, Pod data), "crawl output",
    #: "plugin output", "pod log".
    places: dict[str, dict[str, str]] = field(default_factory=dict)

    def add(self, where: str, name: str, text: str) -> None:
        self.places.setdefault(where, {})[name] = text


class LoggedServer(ServerProcess):
    """A server whose standard error goes to a file (to be searched too)."""

    def __init__(self, module: str, *args: str, log: Path) -> None:
        super().__init__(module, *args)
        self.log = log

    def start(self) -> LoggedServer:
        self._log = self.log.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(  # noqa: S603 (our own command line)
            [sys.executable, "-u", "-m", self.module, "--host", "127.0.0.1", "--port", "0",
             *self.args],
            stdout=subprocess.PIPE, stderr=self._log, text=True, cwd=ROOT,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip().split()[0]
        return self

    def stop(self) -> None:
        super().stop()
        self._log.close()


class Crawl:
    """``scrapy crawl twitter`` with its stdout and stderr in files."""

    def __init__(self, out: Path, name: str, api_url: str, settings: dict[str, str],
                 env: dict[str, str] | None = None) -> None:
        self.stdout_path, self.stderr_path = out / f"{name}.stdout", out / f"{name}.stderr"
        self._out = self.stdout_path.open("w", encoding="utf-8")
        self._err = self.stderr_path.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(  # noqa: S603 (our own command line)
            crawl_command(api_url, "alice", "-O", str(out / f"{name}.jsonl"), settings=settings),
            stdout=self._out, stderr=self._err, text=True, cwd=ROOT, env=crawl_env(env),
        )

    @property
    def log(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8")

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log:
            assert self.proc.poll() is None, f"the crawl ended first:\n{self.log[-3000:]}"
            assert time.monotonic() < deadline, f"no {text!r} in {timeout}s:\n{self.log[-3000:]}"
            time.sleep(0.05)

    def wait(self, timeout: float = 120) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            self._out.close()
            self._err.close()

    def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.wait(60)


def crawl_store(out: Path, name: str, api_url: str, store: dict[str, str],
                via_env: bool) -> dict[str, str]:
    """Interrupted while parked, then resumed to the end; both at DEBUG, with a JOBDIR. Returns
    their outputs."""
    jobdir = out / f"job-{name}"
    # Media on: file uploads to the Pod carry the database key in their URL.
    settings = {**store, "JOBDIR": str(jobdir), "LOG_LEVEL": "DEBUG",
                "TWITTER_CONTACTS_STRATEGY": "list", "TWITTER_MEDIA": "photos,avatars", **V1.settings}
    env = CREDENTIAL_SETTINGS if via_env else {}
    if not via_env:
        settings.update(CREDENTIAL_SETTINGS)
    first = Crawl(out, f"{name}-1", api_url, settings, env)
    try:
        first.wait_for(f"{V1.followers}: rate limit reached")
        # The stores as they are mid-crawl, write-ahead logs included (a clean close folds the
        # SQLite store's -wal back into the file).
        mid = out / f"mid-{name}"
        mid.mkdir()
        for path in out.glob(f"{'store' if name == 'sqlite' else 'pod-data'}.sqlite3*"):
            shutil.copy(path, mid / path.name)
        first.interrupt()
    finally:
        if first.proc.poll() is None:
            first.proc.kill()
            first.wait()
    assert "'finish_reason': 'shutdown'" in first.log, first.log[-3000:]
    assert "'twitter/ratelimit/handed_back': 1" in first.log, first.log[-3000:]
    queued = [p for p in jobdir_files(jobdir / "requests.queue") if p.parent.name != "requests.queue"]
    assert queued and all(p.stat().st_size > 0 for p in queued), "no queue in the job directory"
    second = Crawl(out, f"{name}-2", api_url, settings, env)
    assert second.wait() == 0, second.log[-3000:]
    assert "Resuming crawl" in second.log
    assert read_jsonl(out / f"{name}-2.jsonl"), "nothing exported"
    assert re.search(r"'twitter/media/downloaded': [1-9]", first.log + second.log), "no media"
    outputs = {}
    for run in (first, second):
        outputs[run.stdout_path.name] = run.stdout_path.read_text(encoding="utf-8")
        outputs[run.stderr_path.name] = run.log
    return outputs


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    base = tmp_path_factory.mktemp("leaks")
    out = base / "out"  # everything the runs produce, and nothing else
    out.mkdir()
    found = Scenario(secrets=dict(TWITTER_SECRETS))
    servers: list[ServerProcess] = []
    try:
        pod = LoggedServer("pod_testserver", "--data", str(out / "pod-data.sqlite3"),
                           log=out / "podserver.log").start()
        servers.append(pod)
        for _ in range(3):
            servers.append(ServerProcess("twitter_emulator", *WORLD, *PARKING).start())
        emulator_sqlite, emulator_pod, emulator_plugin = (s.url for s in servers[1:])

        crawler = PodOwner(pod)
        found.secrets.update(crawl_owner_key=crawler.owner_key, crawl_database_key=crawler.database_key)
        pod_store = {"POD_URL": pod.url, "POD_OWNER_KEY": crawler.owner_key,
                     "POD_DATABASE_KEY": crawler.database_key}
        # Side by side (each waits for its emulator's quota window): the embedded store with
        # credentials given with -s, the test Pod with credentials in environment variables.
        with ThreadPoolExecutor(2) as pool:
            runs = [
                pool.submit(crawl_store, out, "sqlite", emulator_sqlite,
                            {"POD_URL": f"sqlite:///{out / 'store.sqlite3'}"}, via_env=False),
                pool.submit(crawl_store, out, "pod", emulator_pod, pod_store, via_env=True),
            ]
            for run in runs:
                for name, text in run.result().items():
                    found.add("crawl output", name, text)
        assert any(i["type"] == "Tweet" for i in crawler.dump()["items"])

        # A crawl the Pod refuses: the error messages.
        wrong_key = secrets.token_hex(32)
        found.secrets["wrong_database_key"] = wrong_key
        refused = Crawl(out, "pod-refused", emulator_pod,
                        {**pod_store, "POD_DATABASE_KEY": wrong_key, "POD_RETRY_TIMES": "0",
                         "LOG_LEVEL": "DEBUG"}, CREDENTIAL_SETTINGS)
        assert refused.wait() == 1
        assert "'finish_reason': 'pod_unavailable'" in refused.log, refused.log[-3000:]
        found.add("crawl output", "pod-refused.stderr", refused.log)
        found.add("crawl output", "pod-refused.stdout", refused.stdout_path.read_text(encoding="utf-8"))

        # The plugin, as the container runs it: the Pod's variables, credentials in the
        # container's environment, DEBUG and an export on its command line.
        plugin = PodOwner(pod)
        run = plugin.create_run({"handle": "alice", "api_url": emulator_plugin})
        auth = plugin.plugin_auth(run["id"])
        found.secrets.update(
            plugin_owner_key=plugin.owner_key, plugin_database_key=plugin.database_key,
            plugin_auth_json=json.dumps(auth), plugin_auth_nonce=auth["data"]["nonce"],
            plugin_auth_permissions=auth["data"]["encryptedPermissions"],
        )
        env = container_env(plugin.pod_env(run, auth), CREDENTIAL_SETTINGS)
        args = ["-s", "LOG_LEVEL=DEBUG", "-O", str(out / "plugin.jsonl")]
        workdir = base / "workdir"
        workdir.mkdir()
        done = subprocess.run([*dockerfile_command(), *args], capture_output=True, text=True,  # noqa: S603
                              cwd=workdir, env=env, timeout=120, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        assert plugin.get(run["id"])["status"] == "done"
        found.add("plugin output", "plugin.stdout", done.stdout)
        found.add("plugin output", "plugin.stderr", done.stderr)
        (out / "plugin.stderr").write_text(done.stderr, encoding="utf-8")  # to look at

        # ... and with a forged PluginAuth: refused by the Pod, the run cannot even report.
        forged = {"data": {**auth["data"], "nonce": secrets.token_hex(24)}}
        found.secrets["forged_auth_nonce"] = forged["data"]["nonce"]
        bad_env = container_env(plugin.pod_env(run, forged),
                                {**CREDENTIAL_SETTINGS, "POD_RETRY_TIMES": "0"})
        refused_plugin = subprocess.run([*dockerfile_command(), "-s", "LOG_LEVEL=DEBUG"],  # noqa: S603
                                        capture_output=True, text=True, cwd=workdir, env=bad_env,
                                        timeout=120, check=False)
        assert refused_plugin.returncode == 1, refused_plugin.stderr[-3000:]
        assert "HTTP 401" in refused_plugin.stderr
        found.add("plugin output", "plugin-refused.stdout", refused_plugin.stdout)
        found.add("plugin output", "plugin-refused.stderr", refused_plugin.stderr)
        (out / "plugin-refused.stderr").write_text(refused_plugin.stderr, encoding="utf-8")

        # Every file, the Pod's data file (and its -wal, the server still running) included.
        for path in sorted(p for p in out.rglob("*") if p.is_file()):
            where = "pod log" if path.name == "podserver.log" else "files"
            if path.suffix in (".stdout", ".stderr"):
                continue  # read above, with the run they belong to
            found.add(where, str(path.relative_to(out)), path.read_bytes().decode("latin-1"))
        names = set(found.places["files"])
        assert {"pod-data.sqlite3", "store.sqlite3", "sqlite-1.jsonl", "pod-2.jsonl",
                "plugin.jsonl"} <= names, names
        assert any(n.startswith("job-pod/requests.queue/") for n in names), names
        assert "pod-data.sqlite3-wal" in names and "mid-sqlite/store.sqlite3-wal" in names, names
        yield found
    finally:
        for server in servers:
            server.stop()


SECRET_NAMES = [*TWITTER_SECRETS, "crawl_owner_key", "crawl_database_key", "wrong_database_key",
                "plugin_owner_key", "plugin_database_key", "plugin_auth_json",
                "plugin_auth_nonce", "plugin_auth_permissions", "forged_auth_nonce"]
PLACES = ["files", "crawl output", "plugin output", "pod log"]
#: Known leaks, each marked strict so the marker must go once it is fixed. (oauthlib logged the
#: access token at DEBUG; the OAuth middleware now keeps oauthlib's logger at INFO.)
KNOWN: set[tuple[str, str]] = set()


def cases() -> list[object]:
    out = []
    for where in PLACES:
        for name in SECRET_NAMES:
            marks = [pytest.mark.xfail(reason="known leak", strict=True)
                     ] if (where, name) in KNOWN else []
            out.append(pytest.param(where, name, marks=marks, id=f"{where.replace(' ', '-')}-{name}"))
    return out


@pytest.mark.parametrize(("where", "name"), cases())
def test_no_secret(scenario: Scenario, where: str, name: str) -> None:
    value = scenario.secrets[name]
    leaks = [place for place, text in scenario.places[where].items() if found_in(text, value)]
    assert not leaks, f"{name} found in {leaks}"


def test_the_search_finds_every_form() -> None:
    value = TWITTER_SECRETS["consumer_secret"]
    assert len(forms(value)) >= 3  # raw, %-encoded (upper- and lower-case hex), +-encoded
    for text in (f"x{value}y", f"oauth_x={quote(value, safe='')}", quote(value, safe="").lower(),
                 f"q={quote_plus(value)}", json.dumps({"k": value})):
        assert found_in(text, value), text
    assert not found_in("Cs+Leak/Check=Consumer~Secret", value)
