"""The read helpers of the embedded and the PostgreSQL stores, and ``scrapy store`` on both."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.stores.conftest import database_name
from tests.stores.test_store_contract import ME, account, edge, following, tweet
from tests.support.servers import ROOT
from twitter_crawler.items import Photo, to_dict
from twitter_crawler.stores.base import Batch, open_store
from twitter_crawler.stores.postgres import PostgresStore
from twitter_crawler.stores.sqlite import SQLiteStore


def reader(url: str) -> SQLiteStore | PostgresStore:
    if url.startswith("sqlite:///"):
        return SQLiteStore(url[len("sqlite:///"):], readonly=True)
    return PostgresStore(url, readonly=True)


@pytest.fixture(params=["sqlite", "postgres"])
def store_path(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The POD_URL of a store holding a few items (named so for the SQLite store's sake)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'pod.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database(database_name(request))
    store = open_store(url)
    store.open()
    store.write(
        Batch(
            items=[
                ME,
                account("2", handle="Alice", displayName="Alice L."),
                tweet("100", message="first", postDate="2020-01-01T10:00:00Z", tweetType="tweet"),
                tweet(
                    "1000",
                    message="second\nline",
                    postDate="2021-02-03T04:05:06Z",
                    tweetType="reply",
                ),
                tweet("300", message="not hers", postDate="2022-01-01T00:00:00Z"),
                to_dict(Photo(externalId="9", url="https://pbs.twimg.com/media/9.jpg")),
            ],
            edges=[
                *following("2"),
                edge("author", ("Tweet", "100"), ("Account", "2")),
                edge("author", ("Tweet", "1000"), ("Account", "2")),
                edge("author", ("Tweet", "300"), ("Account", "1")),
                edge("photo", ("Tweet", "1000"), ("Photo", "9")),
            ],
            watermarks={"2": "1000"},
        )
    )
    store.close()
    return url


def test_read_helpers(store_path: str) -> None:
    store = reader(store_path)
    store.open()
    try:
        assert store.counts() == {"Account": 2, "Photo": 1, "Tweet": 3}
        assert store.edge_counts() == {"author": 3, "following": 1, "photo": 1}
        assert [t["externalId"] for t in store.tweets("@alice")] == ["1000", "100"]
        assert [t["externalId"] for t in store.tweets("ALICE", limit=1)] == ["1000"]
        assert store.tweets("nobody") == []
        (found,) = store.find("1000")
        assert found["type"] == "Tweet"
        assert found["id"] == "tw-tweet-1000"
        assert [(name, kind, key) for name, kind, key, _ in found["outgoing"]] == [
            ("author", "Account", "2"),
            ("photo", "Photo", "9"),
        ]
        assert store.find("nothing") == []
        assert store.meta()["schema_version"] == "1"
    finally:
        store.close()


def test_a_readonly_store_does_not_create_files(tmp_path: Path) -> None:
    from twitter_crawler.stores.base import StoreConfigError

    store = SQLiteStore(tmp_path / "none.sqlite3", readonly=True)
    with pytest.raises(StoreConfigError, match="no store"):
        store.open()
    assert list(tmp_path.iterdir()) == []


def scrapy_store(*args: str, pod_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy.cmdline", "store", *args, "-s", f"POD_URL={pod_url}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_scrapy_store_counts(store_path: str) -> None:
    result = scrapy_store("counts", pod_url=store_path)
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    assert ["Account", "2"] in lines
    assert ["Tweet", "3"] in lines
    assert ["author", "3"] in lines
    assert "Timelines with a since_id watermark: 1" in result.stdout


def test_scrapy_store_tweets(store_path: str) -> None:
    result = scrapy_store("tweets", "alice", "--limit", "5", pod_url=store_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "@Alice (Alice L.): 2 tweets in the store"
    assert lines[1].split() == ["2021-02-03", "04:05", "reply", "second", "line"]
    assert lines[2].split() == ["2020-01-01", "10:00", "tweet", "first"]
    limited = scrapy_store("tweets", "alice", "--limit", "1", pod_url=store_path)
    assert "the newest 1 shown" in limited.stdout


def test_scrapy_store_show(store_path: str) -> None:
    result = scrapy_store("show", "1000", pod_url=store_path)
    assert result.returncode == 0, result.stderr
    assert "Tweet 1000  (Pod id tw-tweet-1000)" in result.stdout
    assert "author → 1" in result.stdout
    assert "@Alice (Alice L.)" in result.stdout
    shown = scrapy_store("show", "2", pod_url=store_path)
    assert "← pointed at by author 2, following 1" in shown.stdout


@pytest.mark.parametrize(
    ("args", "pod_url", "message"),
    [
        (["counts"], "http://127.0.0.1:3030", "is a Pod"),
        (["counts"], "sqlite:///{tmp}/missing.sqlite3", "no store at"),
        (["tweets", "nobody"], "{store}", "no account @nobody"),
        (["show", "424242"], "{store}", "no item"),
    ],
)
def test_scrapy_store_failures(
    store_path: str, tmp_path: Path, args: list[str], pod_url: str, message: str
) -> None:
    url = pod_url.format(tmp=tmp_path, store=store_path)
    result = scrapy_store(*args, pod_url=url)
    assert result.returncode == 1
    assert message in result.stderr
    assert not (tmp_path / "missing.sqlite3").exists()


def test_scrapy_store_usage(store_path: str) -> None:
    result = scrapy_store("frobnicate", pod_url=store_path)
    assert result.returncode == 2
    assert "counts, tweets, show" in result.stderr


@pytest.mark.parametrize("pod_url", ["ftp://example.org/pod", "sqlite:///"])
def test_scrapy_store_bad_pod_url_is_a_bad_setting(pod_url: str) -> None:
    result = scrapy_store("counts", pod_url=pod_url)
    assert result.returncode == 2
    assert result.stderr == (
        f"scrapy store: bad setting: POD_URL={pod_url!r}: must be sqlite:///path/to/file "
        "(the embedded store), postgresql://user:password@host:port/database (a shared "
        "PostgreSQL store) or http(s)://host:port (a Pod)\n"
    )


def test_a_readonly_postgres_store_never_writes(postgres_server) -> None:
    from twitter_crawler.stores.base import StoreConfigError, StoreError

    url = postgres_server.create_database("t_readonly_empty")
    with pytest.raises(StoreConfigError, match="holds no store"):
        reader(url).open()
    store = PostgresStore(url)
    store.open()
    store.close()
    readonly = reader(url)
    readonly.open()
    try:
        with pytest.raises(StoreError, match="read-only"):
            readonly.write(Batch(items=[ME]))
        assert readonly.counts() == {}
    finally:
        readonly.close()


def test_scrapy_store_on_postgres_names_it_without_the_password(postgres_server) -> None:
    url = postgres_server.create_database("t_store_command_pw")
    store = PostgresStore(url)
    store.open()
    store.write(Batch(items=[ME, account("2", handle="two")], edges=following("2")))
    store.close()
    result = scrapy_store("counts", pod_url=url)
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first == f"PostgreSQL store postgresql://crawler@127.0.0.1:{postgres_server.port}/t_store_command_pw"
    assert ["Account", "2"] in [line.split() for line in result.stdout.splitlines()]
    wrong = scrapy_store("counts", pod_url=postgres_server.url("t_store_command_pw", password="not-the-password"))
    assert wrong.returncode == 1
    assert wrong.stdout == ""
    (line,) = wrong.stderr.splitlines()
    assert line.startswith("scrapy store: PostgreSQL refused the connection to postgresql://crawler@127.0.0.1:")
    assert "password authentication failed" in line
    for output in (result.stdout, result.stderr, wrong.stdout, wrong.stderr):
        assert postgres_server.password not in output and "not-the-password" not in output
