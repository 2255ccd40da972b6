"""The real Pod, through pymemri 0.1.2's :class:`PodClient` (``POD_URL=http(s)://host:port``):
the store's lifecycle and its I/O.

Needs the ``pod`` extra (``pip install -e '.[pod]'``). pymemri is blocking; the store pipeline
calls this store from a worker thread. The work is split by concern:

* :mod:`.podlog` imports pymemri without letting it touch the process's logging;
* :mod:`.podschema` holds the Pod's item types, derived from :mod:`twitter_crawler.items`;
* :mod:`.podplan` decides, without I/O, what one batch creates, updates and deletes;
* this module opens and checks the Pod, reads what the planner needs, sends the plan, and keeps
  the keys out of sight.

How it maps the crawl onto a Pod that has no upsert and no uniqueness but the item id:

* **Types.** Declared with ``add_to_schema`` (``/v5/<owner>/schema``); a Pod without that route
  (404, e.g. Pod 0.4.4) gets ``ItemPropertySchema`` items instead. They are also put in
  ``client.registered_classes``, so that ``client.search`` returns them.
* **Ids.** Every item's Pod id is derived from its key (:func:`~twitter_crawler.stores.ids.pod_id`:
  ``tw-acc-12``, ``tw-tweet-…``, ``tw-web-<hash of the url>``). Before each write one ``bulk``
  search by id finds which items exist, with their properties: existing ones are updated with the
  properties that changed, the others created. A rerun, or a retry after a lost answer, updates
  instead of duplicating.
* **Edges.** The Pod stores the same edge twice if asked, so the store keeps an index of the
  edges of every source item it has touched (source → (name, target) → the edges' own ids),
  loaded from the Pod (``search`` with ``[[edges]]``, in the same look-up) the first time a
  source is seen and kept up to date with what each write creates and deletes. After a failed
  write the touched sources are reloaded, in case the Pod applied the write and only the answer
  was lost.
* **Writes.** One :class:`Batch` is one ``POST /v4/<owner>/bulk`` (``createItems``,
  ``updateItems``, ``deleteItems``, ``createEdges``), which the Pod applies atomically. (pymemri's
  ``bulk_action`` sends the same request but answers only True/False and may split it in several
  requests; the store calls ``client.api.bulk`` to keep the Pod's status, the ids of the created
  edges, and atomicity.)
* **Files.** The bytes of a File go up with pymemri's ``upload_file`` (keyed by their sha256;
  the Pod answers 409 for bytes it has, which is fine); the File item and its edges travel in
  the batches like any other item.
* **One writer.** The edge index is this process's: a second crawl into the same Pod is refused
  while one writes, by a lease item in the Pod (:mod:`.podlease`) that a crashed crawl cannot
  keep.
* **Bookkeeping** lives in the Pod too, so a rerun against the same Pod is incremental:
  ``TwitterTimelineWatermark`` items (``userId``, ``sinceId``; id ``tw-wm-<userId>``) and
  ``TwitterContactsPage`` items (one per page of an unfinished followers/followings walk:
  ``walkId``, ``accountId``, ``edgeName``, ``targets`` as a JSON list), deleted when the walk
  completes. A complete walk deletes the edges to accounts it did not list (``deleteItems`` of
  the edges' own items) and records when that list was read in full: a ``TwitterContactsRead``
  item per list (``accountId``, ``edgeName``, ``dateRead`` in milliseconds).

Keys are used for transport only: they never appear in :meth:`PodStore.describe`, in log
messages (:mod:`twitter_crawler.logmask` masks them in every record while the store is open) or
in the exceptions this store raises.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests

from twitter_crawler import logmask
from twitter_crawler.stores.base import (
    Batch,
    ContactsState,
    MediaState,
    Store,
    StoreConfigError,
    StoreError,
    WriteResult,
)
from twitter_crawler.stores.podhttp import TimeoutSession, pluginauth_secrets, socket_options_kept
from twitter_crawler.stores.podlease import WriterLease
from twitter_crawler.stores.podlog import PodAPI, PodClient, PodError, SchemaMeta
from twitter_crawler.stores.podplan import (
    Edges,
    Lookups,
    PodView,
    edges_of,
    has_unknown_edge_ids,
    lookups,
    plan,
)
from twitter_crawler.stores.podschema import ALL_TYPES
from twitter_crawler.stores.records import BadBatch, read_batch

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

#: pymemri's error of a Pod answer (``status``, ``message``).
PodAPIError = PodError

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_KEY_RE = re.compile(r"^[0-9a-fA-F]{64}$")
#: Sources whose edges are kept in memory; older ones are reloaded from the Pod when needed.
EDGE_INDEX_SOURCES = 20_000
#: A bulk is refused by the Pod above 5 MiB; stay under it with some room.
MAX_BULK_CHARS = 4_500_000


def _safe_url(url: str) -> str:
    """The URL without credentials, query or fragment: what may be shown to people."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


class PodStore(Store):
    """A Memri Pod at ``url``, with the owner's keys."""

    def __init__(
        self,
        url: str,
        owner_key: str = "",
        database_key: str = "",
        *,
        timeout: tuple[float, float] = (10.0, 120.0),
        auth_json: dict[str, Any] | None = None,
    ) -> None:
        self.url = _safe_url(url)
        self._raw_url = url.rstrip("/")
        self._owner_key = owner_key
        self._database_key = database_key
        # Inside the Pod: PluginAuth (``POD_AUTH_JSON``) in place of the database key.
        self._auth_json = auth_json
        self._timeout = timeout
        self._client: PodClient | None = None
        self._lock = threading.RLock()
        self._secret_values = (owner_key, database_key, *pluginauth_secrets(auth_json))
        self._secrets = logmask.Secrets(self._secret_values)
        self._masking = False
        # source id -> {(edge name, target id): [ids of the edges' own items]}
        self._edges: OrderedDict[str, dict[tuple[str, str], list[str]]] = OrderedDict()
        # The index above is this process's: one writer per Pod (see podlease).
        self._lease = WriterLease(self.describe(), self._api, self._call, self._lock)

    def describe(self) -> str:
        return f"Memri Pod at {self.url}"

    def __repr__(self) -> str:
        return f"<PodStore {self.url}>"

    # -- errors --------------------------------------------------------------------------------

    def _error(self, exc: BaseException, doing: str) -> StoreError:
        if isinstance(exc, PodAPIError):
            message = self._secrets.mask(str(exc.message or ""))[:300]
            return StoreError(f"the Pod at {self.url} refused {doing}: HTTP {exc.status} {message}")
        if isinstance(exc, requests.Timeout):
            return StoreError(f"the Pod at {self.url} did not answer in time ({doing})")
        if isinstance(exc, requests.ConnectionError):
            return StoreError(f"cannot reach the Pod at {self.url} ({doing}): connection failed")
        if isinstance(exc, requests.RequestException | ValueError):
            reason = self._secrets.mask(str(exc))[:300]
            return StoreError(
                f"the Pod at {self.url} failed ({doing}): {type(exc).__name__}: {reason}"
            )
        return StoreError(f"the Pod at {self.url} failed ({doing}): {type(exc).__name__}")

    def _call(self, doing: str, function: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        try:
            return function(*args, **kwargs)
        except (PodAPIError, requests.RequestException, ValueError) as exc:
            # "from None": the original exception's text may hold a URL with the owner key.
            raise self._error(exc, doing) from None

    # -- lifecycle -----------------------------------------------------------------------------

    def _check_config(self) -> None:
        parts = urlsplit(self._raw_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise StoreConfigError(
                f"POD_URL={self.url!r} is not a Pod address: use http(s)://host:port"
            )
        try:
            _ = parts.port  # raises ValueError on a malformed port
        except ValueError:
            raise StoreConfigError(f"POD_URL={self.url!r} has a malformed port") from None
        if parts.username or parts.password:
            raise StoreConfigError(
                f"POD_URL={self.url!r} must not carry credentials: use POD_OWNER_KEY and "
                "POD_DATABASE_KEY"
            )
        for setting, value in (
            ("POD_OWNER_KEY", self._owner_key),
            ("POD_DATABASE_KEY", self._database_key),
        ):
            if setting == "POD_DATABASE_KEY" and self._auth_json is not None:
                continue  # PluginAuth: the Pod holds the database key, the plugin never does
            if not value:
                raise StoreConfigError(f"POD_URL is a Pod ({self.url}) but {setting} is not set")
            if not _KEY_RE.match(value):
                raise StoreConfigError(
                    f"{setting} is not a Pod key: it must be 64 hexadecimal characters"
                )
        if self._auth_json is not None and not (
            isinstance(self._auth_json, dict) and isinstance(self._auth_json.get("data"), dict)
        ):
            raise StoreConfigError(
                'POD_AUTH_JSON must be {"data": {"nonce": ..., "encryptedPermissions": ...}}'
            )

    def open(self) -> None:
        with self._lock:
            if self._client is not None:
                return
            self._check_config()
            # urllib3's request lines carry the owner key in their path.
            if not self._masking:
                logmask.add_secrets(self._secret_values)
                self._masking = True
            url = urlunsplit(urlsplit(self._raw_url)._replace(query="", fragment=""))
            session = TimeoutSession(self._timeout)
            # PodClient's constructor GETs the URL without a timeout: check first that it answers.
            try:
                session.get(f"{url}/version")
            except requests.RequestException as exc:
                session.close()
                raise self._error(exc, "opening") from None
            try:
                with socket_options_kept():
                    client = PodClient(
                        url=url,
                        owner_key=self._owner_key,
                        database_key=self._database_key,
                        create_account=False,
                        auth_json=self._auth_json,
                    )
            except (PodAPIError, requests.RequestException, ValueError) as exc:
                session.close()
                raise self._error(exc, "opening") from None
            client.api.session.close()
            client.api.session = session
            try:
                # The account call's answer is not checked by pymemri (older Pods lack the route).
                if self._auth_json is None:  # a plugin's owner exists: its Pod started it
                    self._call("creating the account", client.api.create_account)
                for name, cls in ALL_TYPES.items():
                    client.registered_classes[name] = cls
                self._client = client
                self._declare_schema()
                self._lease.acquire()
            except BaseException:
                self._client = None
                session.close()
                raise
            self._edges.clear()

    def _declare_schema(self) -> None:
        from twitter_crawler import __version__

        meta = SchemaMeta(
            name="twitter_crawler",
            url="https://github.com/memri/twitter_crawler",
            version=__version__,
        )
        client = self._client
        if client is None:
            raise StoreError(f"the Pod store {self.url} is not open")
        try:
            client.add_to_schema(meta, *ALL_TYPES.values())
            return
        except PodAPIError as exc:
            if exc.status != 404:
                raise self._error(exc, "declaring the schema") from None
        except (requests.RequestException, ValueError) as exc:
            raise self._error(exc, "declaring the schema") from None
        logger.info(
            "%s has no /v5 schema API; declaring the properties as ItemPropertySchema items",
            self.url,
        )
        self._declare_property_items()

    def _declare_property_items(self) -> None:
        """The Pod 0.4.4 way: one ``ItemPropertySchema`` item per (type, property)."""
        api = self._api()
        wanted = {}
        for name, cls in ALL_TYPES.items():
            for prop, value_type in cls.pod_schema().properties.items():
                if prop in ("id", "dateCreated", "dateModified", "dateServerModified"):
                    continue
                schema_id = (
                    "tw-schema-" + hashlib.sha256(f"{name}.{prop}".encode()).hexdigest()[:24]
                )
                wanted[schema_id] = {
                    "id": schema_id,
                    "type": "ItemPropertySchema",
                    "itemType": name,
                    "propertyName": prop,
                    "valueType": value_type,
                }
        found = self._call("declaring the schema", api.bulk, search=[{"id": i} for i in wanted])[
            "search"
        ]
        existing = {item["id"] for hits in found for item in hits}
        missing = [item for schema_id, item in wanted.items() if schema_id not in existing]
        if missing:
            self._call("declaring the schema", api.bulk, create_items=missing)

    def close(self) -> None:
        if self._client is not None:
            self._lease.release()
        with self._lock:
            client, self._client = self._client, None
            self._edges.clear()
            if self._masking:
                logmask.remove_secrets(self._secret_values)
                self._masking = False
            if client is not None:
                client.api.session.close()

    def _api(self) -> PodAPI:
        if self._client is None:
            raise StoreError(f"the Pod store {self.url} is not open")
        return self._client.api

    # -- reading -------------------------------------------------------------------------------

    def watermarks(self) -> dict[str, str]:
        with self._lock:
            found = self._call(
                "reading watermarks",
                self._api().search,
                {"type": "TwitterTimelineWatermark", "deleted": False},
            )
            return {
                item["userId"]: item["sinceId"]
                for item in found
                if isinstance(item.get("userId"), str) and isinstance(item.get("sinceId"), str)
            }

    def contacts_state(self) -> ContactsState:
        state = ContactsState()
        with self._lock:
            api = self._api()
            reads = self._call(
                "reading the contacts reads",
                api.search,
                {"type": "TwitterContactsRead", "deleted": False},
            )
            for item in reads:
                account, name, date = (item.get(k) for k in ("accountId", "edgeName", "dateRead"))
                if isinstance(account, str) and isinstance(name, str) and isinstance(date, int):
                    state.full_reads[(account, name)] = date / 1000
            # Only imported accounts (isMe) have follower and following edges.
            accounts = self._call(
                "reading the contacts",
                api.search,
                {"type": "Account", "isMe": True, "deleted": False, "[[edges]]": {}},
            )
            for account_item in accounts:
                source = account_item.get("externalId")
                if not isinstance(source, str):
                    continue
                for edge in account_item.get("[[edges]]", []):
                    name = edge.get("_edge")
                    target = (edge.get("_item") or {}).get("externalId")
                    if edge.get("deleted") or name not in ("follower", "following"):
                        continue
                    if isinstance(target, str):
                        state.targets.setdefault((source, name), set()).add(target)
        return state

    def media_state(self) -> MediaState:
        state = MediaState()
        with self._lock:
            api = self._api()
            for kind, has in (("Photo", "file"), ("Video", "file"), ("Account", "profilePicture")):
                found = self._call(
                    f"reading the {kind} items",
                    api.search,
                    {"type": kind, "deleted": False, "[[edges]]": {}},
                )
                for item in found:
                    key = item.get("externalId")
                    edges = {
                        e.get("_edge") for e in item.get("[[edges]]", []) if not e.get("deleted")
                    }
                    if not isinstance(key, str):
                        continue
                    if kind == "Account":
                        if item.get("avatarUrl") and has not in edges:
                            state.pending.append(
                                {"type": kind, "externalId": key, "avatarUrl": item["avatarUrl"]}
                            )
                    elif has in edges:
                        state.done.add((kind, key))
                    elif item.get("url"):
                        state.pending.append({"type": kind, "externalId": key, "url": item["url"]})
        return state

    def put_file(self, sha256: str, data: bytes) -> None:
        with self._lock:
            api = self._api()
            try:
                api.upload_file(data)
            except PodAPIError as exc:
                if exc.status == 409:  # the Pod has these bytes already
                    return
                raise self._error(exc, "uploading a file") from None
            except requests.RequestException as exc:
                raise self._error(exc, "uploading a file") from None

    # -- what the planner needs ------------------------------------------------------------

    def _search_ids(self, ids: Iterable[str], with_edges: set[str]) -> dict[str, dict[str, Any]]:
        """The items with these ids (one bulk request), with edges for ``with_edges``."""
        queries = []
        for item_id in ids:
            query: dict[str, Any] = {"id": item_id}
            if item_id in with_edges:
                query["[[edges]]"] = {}
            queries.append(query)
        if not queries:
            return {}
        result = self._call("looking up items", self._api().bulk, search=queries)
        found = {}
        for hits in result.get("search", []):
            for item in hits:
                found[item["id"]] = item
        return found

    def _view(self, needs: Lookups) -> PodView:
        """What the Pod holds of ``needs``: one bulk search for the items, the bookkeeping and
        the edges of the sources not in the index, then one search per completed walk."""
        view = PodView()
        load = set()
        for source in needs.sources:
            known = self._edges.get(source)
            # A walk's source needs every edge's own id (to delete it): reload if one is unknown.
            if known is None or (source in needs.walk_sources and has_unknown_edge_ids(known)):
                load.add(source)
            else:
                view.edges[source] = known
        view.items = self._search_ids(dict.fromkeys([*needs.ids, *load]), load)
        for source in load:
            # A source the Pod does not hold yet has no edges.
            view.edges[source] = edges_of(view.items.get(source))
            self._remember(source, view.edges[source])
        for account, name in needs.walks:
            view.walks[(account, name)] = self._call(
                "reading a contacts walk",
                self._api().search,
                {
                    "type": "TwitterContactsPage",
                    "accountId": account,
                    "edgeName": name,
                    "deleted": False,
                },
            )
        return view

    def _remember(self, source: str, edges: Edges) -> None:
        self._edges[source] = edges
        self._edges.move_to_end(source)
        while len(self._edges) > EDGE_INDEX_SOURCES:
            self._edges.popitem(last=False)

    # -- writing -------------------------------------------------------------------------------

    def write(self, batch: Batch) -> WriteResult:
        with self._lock:
            api = self._api()
            self._lease.check()
            try:
                records = read_batch(batch)
                needs = lookups(records)
                view = self._view(needs)
                bulk = plan(records, needs, view)
            except BadBatch as exc:
                raise StoreError(f"batch rejected, nothing written: {exc}") from None
            payload = bulk.payload()
            if not any(payload.values()):
                return bulk.result
            size = len(json.dumps(payload))
            if size > MAX_BULK_CHARS:
                raise StoreError(
                    f"batch too large for one Pod request ({size:,} characters): "
                    "lower POD_BATCH_SIZE"
                )
            try:
                answer = self._call("writing a batch", api.bulk, **payload)
            except StoreError:
                # The Pod may have applied the bulk and lost only the answer: forget what this
                # batch touched, so a retry reloads it instead of creating edges twice.
                for source in bulk.sources:
                    self._edges.pop(source, None)
                raise
            bulk.commit(view, answer if isinstance(answer, dict) else {})
            for source in bulk.sources:
                self._remember(source, view.edges[source])
            return bulk.result
