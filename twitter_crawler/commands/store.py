"""``scrapy store``: look inside the embedded store or a PostgreSQL store.

::

    scrapy store counts                       # items per type, edges per name
    scrapy store tweets HANDLE [--limit N]    # that account's tweets, newest first
    scrapy store show EXTERNAL_ID             # an item (or a Website url), its properties and edges

It reads the store named by ``POD_URL``, as ``scrapy crawl`` does (``-s POD_URL=sqlite:///...``,
the environment or ``settings_local.py``), and never writes to it, so it can run while a crawl is
writing. The embedded store (``sqlite:///``) and the shared PostgreSQL store (``postgresql://``)
are supported: a real Pod has its own tools. A ``POD_URL`` that is no store address at all is one
line and exit status 2, as for ``scrapy crawl``; a store that cannot be read is one line and exit
status 1.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from typing import TYPE_CHECKING, Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from twitter_crawler.addon import resolve
from twitter_crawler.settings.check import BadSetting, check_settings
from twitter_crawler.stores.base import StoreConfigError, StoreError
from twitter_crawler.stores.sqlite import SQLiteStore

if TYPE_CHECKING:
    import argparse

    from twitter_crawler.stores.postgres import PostgresStore

    ReadableStore = SQLiteStore | PostgresStore

ACTIONS = ("counts", "tweets", "show")
#: Targets listed per edge name by ``show``; the rest are counted.
SHOW_EDGES = 10


def _number(value: int) -> str:
    return f"{value:,}"


def _date(value: Any) -> str:
    """ISO strings as ``2016-07-16 04:17``, milliseconds since the epoch as UTC dates."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if not isinstance(value, str) or not value:
        return "-"
    return value.replace("T", " ").removesuffix("Z")[:16]


def _one_line(text: Any, width: int) -> str:
    line = " ".join(str(text or "").split())
    return line if len(line) <= width else line[: max(width - 1, 0)] + "…"


def _label(item_type: str, key: str, props: dict[str, Any]) -> str:
    """How a person recognises an item in one line."""
    if item_type == "Account" and props.get("handle"):
        name = f" ({props['displayName']})" if props.get("displayName") else ""
        return f"@{props['handle']}{name}"
    if item_type == "Tweet" and props.get("message"):
        return f"tweet {key}: {_one_line(props['message'], 60)}"
    if item_type == "Website":
        return key
    return f"{item_type} {key}"


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "counts | tweets HANDLE [--limit N] | show EXTERNAL_ID"

    def short_desc(self) -> str:
        return "Show what the store holds (counts, an account's tweets, an item)"

    def long_desc(self) -> str:
        return (
            "Reads the store named by POD_URL (sqlite:///path, or postgresql://...), without "
            "writing to it. "
            "'counts' prints items per type and edges per name; 'tweets HANDLE' prints that "
            "account's tweets, newest first; 'show EXTERNAL_ID' prints the items with that "
            "externalId (or Website url), their properties and edges."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--limit",
            type=int,
            default=20,
            metavar="N",
            help="tweets: print at most N tweets, 0 for all (default: 20)",
        )

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        # No crawler is built here, so no add-on resolves the settings: POD_URL may come from
        # settings_local.py or the environment, as for scrapy crawl.
        resolve(self.settings)
        # POD_URL only: the one setting this command reads; a bad media or rate-limit setting
        # must not keep anyone from looking inside the store.
        try:
            check_settings(self.settings, ["POD_URL"])
        except BadSetting as exc:
            print(f"scrapy store: bad setting: {exc}", file=sys.stderr)
            sys.exit(2)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if not args or args[0] not in ACTIONS:
            raise UsageError(f"say what to show: {', '.join(ACTIONS)}")
        action, rest = args[0], args[1:]
        if action == "counts" and rest:
            raise UsageError("counts takes no argument")
        if action in ("tweets", "show") and len(rest) != 1:
            raise UsageError(f"{action} takes one argument")
        if opts.limit < 0:
            raise UsageError("--limit must be 0 (all) or more")

        store = self._store(str(self.settings.get("POD_URL") or ""))
        if store is None:
            return
        try:
            store.open()
        except (StoreConfigError, StoreError) as exc:
            self._fail(str(exc))
            return
        try:
            if action == "counts":
                self._counts(store)
            elif action == "tweets":
                self._tweets(store, rest[0], opts.limit or None)
            else:
                self._show(store, rest[0])
        except StoreError as exc:
            self._fail(str(exc))
        except BrokenPipeError:
            # "scrapy store show 12 | head": the reader left, which is fine.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        finally:
            store.close()

    def _store(self, url: str) -> ReadableStore | None:
        """The store of ``url``, read-only (not opened yet); None when it is a Pod."""
        if url.startswith(("postgresql://", "postgres://")):
            from twitter_crawler.stores.postgres import PostgresStore

            return PostgresStore(url, readonly=True)
        if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
            return SQLiteStore(url[len("sqlite:///") :], readonly=True)
        kind = "a Pod" if url.startswith(("http://", "https://")) else "not a store address"
        self._fail(
            "scrapy store reads the embedded store (POD_URL=sqlite:///path) or a PostgreSQL "
            f"store (postgresql://...); POD_URL={url.split('?', maxsplit=1)[0]!r} is {kind}"
        )
        return None

    def _fail(self, message: str) -> None:
        print(f"scrapy store: {message}", file=sys.stderr)
        self.exitcode = 1

    @staticmethod
    def _table(title: str, counts: dict[str, int]) -> None:
        print(title)
        if not counts:
            print("  (none)")
            return
        width = max(len(name) for name in [*counts, "total"])
        digits = max(len(_number(n)) for n in [*counts.values(), sum(counts.values())])
        for name, count in counts.items():
            print(f"  {name:<{width}}  {_number(count):>{digits}}")
        print(f"  {'total':<{width}}  {_number(sum(counts.values())):>{digits}}")

    def _counts(self, store: ReadableStore) -> None:
        print(store.describe())
        self._table("Items", store.counts())
        self._table("Edges", store.edge_counts())
        print(f"Timelines with a since_id watermark: {_number(len(store.watermarks()))}")

    def _tweets(self, store: ReadableStore, handle: str, limit: int | None) -> None:
        account = store.account(handle)
        if account is None:
            self._fail(f"no account @{handle.lstrip('@')} in {store.describe()}")
            return
        tweets = store.tweets(handle, None)
        name = f" ({account['displayName']})" if account.get("displayName") else ""
        shown = tweets if limit is None else tweets[:limit]
        more = (
            f", the newest {len(shown)} shown (--limit 0 for all)"
            if len(shown) < len(tweets)
            else ""
        )
        who = f"@{account.get('handle', handle)}{name}"
        print(f"{who}: {_number(len(tweets))} tweets in the store{more}")
        width = shutil.get_terminal_size((120, 20)).columns
        for tweet in shown:
            head = f"{_date(tweet.get('postDate'))}  {tweet.get('tweetType') or '-':<7}  "
            print(head + _one_line(tweet.get("message"), max(width - len(head), 20)))

    def _show(self, store: ReadableStore, key: str) -> None:
        found = store.find(key)
        if not found:
            self._fail(f"no item with externalId (or url) {key!r} in {store.describe()}")
            return
        for number, item in enumerate(found):
            if number:
                print()
            print(f"{item['type']} {item['key']}  (Pod id {item['id']})")
            print(f"  stored   {_date(item['dateCreated'])}, changed {_date(item['dateModified'])}")
            props = item["properties"]
            width = max((len(name) for name in props), default=0)
            for name, value in props.items():
                shown = _one_line(value, 200) if isinstance(value, str) else value
                if isinstance(value, bool):
                    shown = "true" if value else "false"
                print(f"  {name:<{width}}  {shown}")
            by_name: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
            for name, t_type, t_key, t_props in item["outgoing"]:
                by_name.setdefault(name, []).append((t_type, t_key, t_props))
            for name, targets in by_name.items():
                print(f"  {name} → {_number(len(targets))}")
                for t_type, t_key, t_props in targets[:SHOW_EDGES]:
                    print(f"      {_label(t_type, t_key, t_props)}")
                if len(targets) > SHOW_EDGES:
                    print(f"      … and {_number(len(targets) - SHOW_EDGES)} more")
            if item["incoming"]:
                incoming = ", ".join(f"{name} {_number(n)}" for name, n in item["incoming"].items())
                print(f"  ← pointed at by {incoming}")
