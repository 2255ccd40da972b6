"""The password of ``POD_URL=postgresql://user:password@...`` is a secret (issue 18): a crawl at
DEBUG with a job directory and an export, a crawl refused for a wrong password and a crawl that
cannot reach PostgreSQL never show it, in their output or in any file they leave. The failing
ones end with one clear line and a non-zero exit status, no traceback.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.incremental.support import error_lines
from tests.secrets.test_no_secret_leaks import found_in
from tests.support.crawl import run_crawl
from tests.support.process import jobdir_files
from tests.support.servers import PostgresServer, ServerProcess, _free_port

WORLD = ["--followers", "30", "--followings", "4", "--tweets", "40", "--following-tweets", "3",
         "--quotas", "off", "--seed", "7"]
WRONG = "Wr0ng+Pass/word=Secret"


def assert_hidden(password: str, texts: list[str], files: list[Path]) -> None:
    for text in texts:
        assert not found_in(text, password), text[-2000:]
    for path in files:
        data = path.read_bytes().decode("utf-8", "replace")
        assert not found_in(data, password), path


def test_a_crawl_into_postgres_never_shows_the_password(
    start_emulator: Callable[..., ServerProcess], postgres_server: PostgresServer, tmp_path: Path
) -> None:
    emulator = start_emulator(*WORLD)
    url = postgres_server.create_database("t_secret_crawl")
    jobdir, export = tmp_path / "job", tmp_path / "items.jsonl"
    result = run_crawl(emulator.url, "alice", "-O", str(export), settings={
        "POD_URL": url, "LOG_LEVEL": "DEBUG", "JOBDIR": str(jobdir)}, env={})
    assert result.returncode == 0, result.log[-3000:]
    assert f"PostgreSQL store postgresql://crawler@127.0.0.1:{postgres_server.port}/t_secret_crawl" in result.log
    assert export.stat().st_size > 0 and jobdir_files(jobdir)
    assert_hidden(postgres_server.password, [result.stdout, result.stderr],
                  [export, *jobdir_files(jobdir)])


def test_a_wrong_password_is_one_line_and_exit_1(
    start_emulator: Callable[..., ServerProcess], postgres_server: PostgresServer
) -> None:
    emulator = start_emulator(*WORLD)
    postgres_server.create_database("t_secret_wrong")
    result = run_crawl(emulator.url, "alice", settings={
        "POD_URL": postgres_server.url("t_secret_wrong", password=WRONG), "LOG_LEVEL": "DEBUG"},
        env={})
    assert result.returncode == 1, result.log[-3000:]
    (line,) = error_lines(result.log)
    assert re.search(r"Cannot use the store: PostgreSQL refused the connection to "
                     r"postgresql://crawler@127\.0\.0\.1:\d+/t_secret_wrong: .*password "
                     r"authentication failed", line), line
    assert "Traceback" not in result.log
    assert "'finish_reason': 'pod_config_error'" in result.log
    # Nothing was asked of the API: the store is checked before the first request.
    assert emulator.get_json("/_emulator/log?since=0")["requests"] == []
    assert_hidden(WRONG, [result.stdout, result.stderr], [])
    assert_hidden(postgres_server.password, [result.stdout, result.stderr], [])


def test_an_unreachable_postgres_is_one_line_and_a_non_zero_exit(
    start_emulator: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    emulator = start_emulator(*WORLD)
    port = _free_port()  # nothing listens there
    url = f"postgresql://crawler:{WRONG.replace('/', '%2F').replace('+', '%2B')}@127.0.0.1:{port}/pod"
    result = run_crawl(emulator.url, "alice", settings={"POD_URL": url, "POD_RETRY_TIMES": "0"},
                       env={})
    assert result.returncode != 0, result.log[-3000:]
    (line,) = error_lines(result.log)
    assert f"cannot reach PostgreSQL at postgresql://crawler@127.0.0.1:{port}/pod" in line, line
    assert "Traceback" not in result.log
    assert "'finish_reason': 'pod_unavailable'" in result.log
    assert_hidden(WRONG, [result.stdout, result.stderr], [])


def test_log_records_are_masked_while_the_store_is_open(
    postgres_server: PostgresServer, caplog
) -> None:
    import logging

    from twitter_crawler.stores.postgres import PostgresStore

    url = postgres_server.create_database("t_secret_mask")
    store = PostgresStore(url)
    logger = logging.getLogger("some.library")
    store.open()
    try:
        with caplog.at_level(logging.INFO):
            logger.info("connecting to %s", url)
            logger.info("password is %s", postgres_server.password)
        messages = [r.getMessage() for r in caplog.records if r.name == "some.library"]
        assert len(messages) == 2
        assert_hidden(postgres_server.password, messages, [])
        assert "***" in messages[1]
        assert repr(store) == f"<PostgresStore postgresql://crawler@127.0.0.1:{postgres_server.port}/t_secret_mask>"
    finally:
        store.close()


def test_a_password_given_as_a_parameter_is_a_secret_too(postgres_server: PostgresServer) -> None:
    from twitter_crawler.stores.base import StoreConfigError
    from twitter_crawler.stores.postgres import PostgresStore

    postgres_server.create_database("t_secret_param")
    url = f"postgresql://crawler@127.0.0.1:{postgres_server.port}/t_secret_param?password={WRONG.replace('/', '%2F').replace('+', '%2B').replace('=', '%3D')}"
    store = PostgresStore(url)
    assert WRONG not in store.describe() and "password" not in store.describe()
    with pytest.raises(StoreConfigError, match="password authentication failed") as refused:
        store.open()
    assert_hidden(WRONG, [str(refused.value)], [])
    good = url.split("?")[0] + "?password=" + postgres_server.url("x").split(":")[2].split("@")[0]
    store = PostgresStore(good)
    store.open()
    store.close()
