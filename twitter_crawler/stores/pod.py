"""The real Pod, through pymemri 0.1.2's :class:`PodClient` (``POD_URL=http(s)://host:port``).

Needs the ``pod`` extra (``pip install -e '.[pod]'``). pymemri is blocking; the store pipeline
calls this store from a worker thread.

How it maps the crawl onto a Pod that has no upsert and no uniqueness but the item id:

* **Types.** ``Account``, ``Tweet``, ``Photo``, ``Video``, ``Website``, ``File`` are pymemri ``Item``
  subclasses with the properties of :mod:`twitter_crawler.items` (dates as ``DateTime``) and the
  edges as ``List`` fields. They are declared with ``add_to_schema`` (``/v5/<owner>/schema``); a
  Pod without that route (404, e.g. Pod 0.4.4) gets ``ItemPropertySchema`` items instead. They are
  also put in ``client.registered_classes``, so that ``client.search`` returns them.
* **Ids.** Every item's Pod id is derived from its key (:func:`~twitter_crawler.stores.ids.pod_id`:
  ``tw-acc-12``, ``tw-tweet-…``, ``tw-web-<hash of the url>``). Before each write one ``bulk``
  search by id finds which items exist, with their properties: existing ones are updated with the
  properties that changed, the others created. A rerun, or a retry after a lost answer, updates
  instead of duplicating.
* **Edges.** The Pod stores the same edge twice if asked, so the store keeps an index of the
  edges of every source item it has touched (source → (name, target) → the edges' own ids),
  loaded from the Pod (``search`` with ``[[edges]]``) the first time a source is seen and kept up
  to date with what each write creates and deletes. After a failed write the touched sources are
  reloaded, in case the Pod applied the write and only the answer was lost.
* **Writes.** One :class:`Batch` is one ``POST /v4/<owner>/bulk`` (``createItems``,
  ``updateItems``, ``deleteItems``, ``createEdges``), which the Pod applies atomically. (pymemri's
  ``bulk_action`` sends the same request but answers only True/False and may split it in several
  requests; the store calls ``client.api.bulk`` to keep the Pod's status, the ids of the created
  edges, and atomicity.)
* **Files.** The bytes of a File go up with pymemri's ``upload_file`` (keyed by their sha256;
  the Pod answers 409 for bytes it has, which is fine); the File item and its edges travel in
  the batches like any other item.
* **Bookkeeping** lives in the Pod too, so a rerun against the same Pod is incremental:
  ``TwitterTimelineWatermark`` items (``userId``, ``sinceId``; id ``tw-wm-<userId>``) and
  ``TwitterContactsPage`` items (one per page of an unfinished followers/followings walk:
  ``walkId``, ``accountId``, ``edgeName``, ``targets`` as a JSON list), deleted when the walk
  completes. A complete walk deletes the edges to accounts it did not list (``deleteItems`` of
  the edges' own items).

Keys are used for transport only: they never appear in :meth:`PodStore.describe`, in log
messages or in the exceptions this store raises (pymemri's own log output is switched off: its
messages can carry request URLs, which contain the owner key).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections import OrderedDict
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from twitter_crawler.stores.base import (
    Batch,
    MediaState,
    Store,
    StoreConfigError,
    StoreError,
    WriteResult,
)
from twitter_crawler.stores.ids import pod_id
from twitter_crawler.stores.podhttp import TimeoutSession, socket_options_kept
from twitter_crawler.stores.records import (
    BadBatch,
    Key,
    Page,
    Records,
    key_property,
    newer_since_id,
    read_batch,
    same,
)

if TYPE_CHECKING:
    from collections.abc import Iterable


def _import_pymemri() -> Any:
    """Imports pymemri without letting it reconfigure logging.

    ``pymemri.pod.api`` calls ``logging.basicConfig(level=DEBUG)`` on import: with no handler yet
    on the root logger, every DEBUG record of every library (urllib3 request lines carry the owner
    key) would reach stderr. The root logger's level and handlers are put back as they were.
    pymemri logs through loguru, whose messages may contain request URLs: they are disabled.
    """
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        import pymemri.pod.api as pymemri_api
        import pymemri.pod.client as pymemri_client
        from loguru import logger as loguru_logger
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
    loguru_logger.disable("pymemri")
    return pymemri_api, pymemri_client


_pymemri_api, _pymemri_client = _import_pymemri()

import requests  # noqa: E402 (a dependency of pymemri)
from pydantic import ValidationError  # noqa: E402
from pymemri.data.schema import Item, SchemaMeta  # noqa: E402

PodAPIError = _pymemri_api.PodError
PodClient = _pymemri_client.PodClient

logger = logging.getLogger(__name__)

_KEY_RE = re.compile(r"^[0-9a-fA-F]{64}$")
#: Sources whose edges are kept in memory; older ones are reloaded from the Pod when needed.
EDGE_INDEX_SOURCES = 20_000
#: A bulk is refused by the Pod above 5 MiB; stay under it with some room.
MAX_BULK_CHARS = 4_500_000


# -- the Pod's item types -----------------------------------------------------------------------


class Account(Item):
    service: str | None = None
    handle: str | None = None
    displayName: str | None = None
    description: str | None = None
    location: str | None = None
    url: str | None = None
    avatarUrl: str | None = None
    followersCount: int | None = None
    followingCount: int | None = None
    tweetCount: int | None = None
    listedCount: int | None = None
    verified: bool | None = None
    protected: bool | None = None
    dateJoined: datetime | None = None
    isMe: bool | None = None

    following: list[Account] = []  # noqa: RUF012 (a pydantic field)
    follower: list[Account] = []  # noqa: RUF012 (a pydantic field)
    profilePicture: list[Photo] = []  # noqa: RUF012 (a pydantic field)


class File(Item):
    """Memri's File: the bytes are uploaded apart (``upload_file``), addressed by ``sha256``."""

    sha256: str | None = None
    size: int | None = None
    mimeType: str | None = None
    url: str | None = None


class Photo(Item):
    url: str | None = None
    width: int | None = None
    height: int | None = None

    file: list[File] = []  # noqa: RUF012 (a pydantic field)


class Video(Item):
    url: str | None = None
    thumbnailUrl: str | None = None
    durationMs: int | None = None
    isGif: bool | None = None

    file: list[File] = []  # noqa: RUF012 (a pydantic field)


class Website(Item):
    url: str | None = None
    displayUrl: str | None = None


class Tweet(Item):
    service: str | None = None
    message: str | None = None
    postDate: datetime | None = None
    tweetType: str | None = None
    lang: str | None = None
    source: str | None = None
    retweetCount: int | None = None
    likeCount: int | None = None
    inReplyToId: str | None = None
    replyCount: int | None = None
    conversationId: str | None = None

    author: list[Account] = []  # noqa: RUF012 (a pydantic field)
    reference: list[Tweet] = []  # noqa: RUF012 (a pydantic field)
    mention: list[Account] = []  # noqa: RUF012 (a pydantic field)
    photo: list[Photo] = []  # noqa: RUF012 (a pydantic field)
    video: list[Video] = []  # noqa: RUF012 (a pydantic field)
    link: list[Website] = []  # noqa: RUF012 (a pydantic field)


class TwitterTimelineWatermark(Item):
    """The ``since_id`` of a user's last complete timeline walk."""

    userId: str | None = None
    sinceId: str | None = None


class TwitterContactsPage(Item):
    """One page of an unfinished followers/followings walk (deleted when the walk completes)."""

    walkId: str | None = None
    accountId: str | None = None
    edgeName: str | None = None
    targets: str | None = None  # JSON list of account ids


Account.update_forward_refs()
Photo.update_forward_refs()
Video.update_forward_refs()
Tweet.update_forward_refs()

DATA_TYPES: dict[str, type[Item]] = {
    cls.__name__: cls for cls in (Account, Tweet, Photo, Video, Website, File)
}
STATE_TYPES: dict[str, type[Item]] = {
    cls.__name__: cls for cls in (TwitterTimelineWatermark, TwitterContactsPage)
}
ALL_TYPES = {**DATA_TYPES, **STATE_TYPES}


def watermark_id(user_id: str) -> str:
    return (
        f"tw-wm-{user_id}"
        if user_id.isdigit() and len(user_id) <= 30
        else pod_id("TwitterTimelineWatermark", user_id)
    )


def page_id(page: Page) -> str:
    """Same page content, same id: a replayed batch does not store a page twice."""
    text = json.dumps([page.walk_id, page.source, page.name, page.targets])
    return "tw-cp-" + hashlib.sha256(text.encode()).hexdigest()[:30]


# -- helpers --------------------------------------------------------------------------------------


class _KeyFilter(logging.Filter):
    """Masks the keys in records of the HTTP libraries (a request line holds the owner key)."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "***")
            record.msg, record.args = message, ()
        return True


#: Loggers that may print request URLs (with the owner key in their path).
_HTTP_LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry", "requests")


class _Row:
    __slots__ = ("changed", "deleted", "exists", "props")

    def __init__(self, props: dict[str, Any], *, exists: bool, deleted: bool = False) -> None:
        self.props = props
        self.exists = exists
        self.deleted = deleted
        self.changed: dict[str, Any] = {}


def _fast_pod_props(fields: dict[str, Any], props: dict[str, Any]) -> dict[str, Any] | None:
    """What ``cls(**props).property_dict()`` gives, without pydantic's cost (about 100 µs an
    item), when every value already has its field's type; None when pydantic must decide."""
    out = {}
    for name, value in props.items():
        expected = fields[name].type_
        if expected is datetime:
            if not isinstance(value, str):
                return None
            try:
                value = round(datetime.fromisoformat(value).timestamp() * 1000)
            except ValueError:
                return None
        elif type(value) is not expected:  # bool is not int here, as for the Pod
            return None
        out[name] = value
    return out


def _auth_secrets(auth_json: Any) -> list[str]:
    """The strings of a PluginAuth that must never be shown: its values, and its JSON."""
    if not isinstance(auth_json, dict):
        return []
    data = auth_json.get("data")
    values = [v for v in (data.values() if isinstance(data, dict) else ()) if isinstance(v, str)]
    return [json.dumps(auth_json), *(v for v in values if len(v) >= 8)]


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
        self._client: Any = None
        self._lock = threading.RLock()
        self._key_filter = _KeyFilter(owner_key, database_key, *_auth_secrets(auth_json))
        # source id -> {(edge name, target id): [ids of the edges' own items]}
        self._edges: OrderedDict[str, dict[tuple[str, str], list[str]]] = OrderedDict()

    def describe(self) -> str:
        return f"Memri Pod at {self.url}"

    def __repr__(self) -> str:
        return f"<PodStore {self.url}>"

    # -- errors --------------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        for secret in (self._owner_key, self._database_key, *_auth_secrets(self._auth_json)):
            if secret:
                text = text.replace(secret, "***")
        return text

    def _error(self, exc: BaseException, doing: str) -> StoreError:
        if isinstance(exc, PodAPIError):
            message = self._scrub(str(exc.message or ""))[:300]
            return StoreError(f"the Pod at {self.url} refused {doing}: HTTP {exc.status} {message}")
        if isinstance(exc, requests.Timeout):
            return StoreError(f"the Pod at {self.url} did not answer in time ({doing})")
        if isinstance(exc, requests.ConnectionError):
            return StoreError(f"cannot reach the Pod at {self.url} ({doing}): connection failed")
        if isinstance(exc, requests.RequestException | ValueError):
            reason = self._scrub(str(exc))[:300]
            return StoreError(
                f"the Pod at {self.url} failed ({doing}): {type(exc).__name__}: {reason}"
            )
        return StoreError(f"the Pod at {self.url} failed ({doing}): {type(exc).__name__}")

    def _call(self, doing: str, function: Any, *args: Any, **kwargs: Any) -> Any:
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
            for name in _HTTP_LOGGERS:
                logging.getLogger(name).addFilter(self._key_filter)
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
        try:
            self._client.add_to_schema(meta, *ALL_TYPES.values())
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
        api = self._client.api
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
        with self._lock:
            client, self._client = self._client, None
            self._edges.clear()
            for name in _HTTP_LOGGERS:
                logging.getLogger(name).removeFilter(self._key_filter)
            if client is not None:
                client.api.session.close()

    def _api(self) -> Any:
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
                    edges = {e.get("_edge") for e in item.get("[[edges]]", []) if not e.get("deleted")}
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

    def _index_edges(self, source: str, item: dict[str, Any] | None) -> None:
        edges: dict[tuple[str, str], list[str]] = {}
        for edge in (item or {}).get("[[edges]]", []):
            target = (edge.get("_item") or {}).get("id")
            if target and not edge.get("deleted"):
                edges.setdefault((edge["_edge"], target), []).append(edge.get("id", ""))
        self._remember(source, edges)

    def _remember(self, source: str, edges: dict[tuple[str, str], list[str]]) -> None:
        self._edges[source] = edges
        self._edges.move_to_end(source)
        while len(self._edges) > EDGE_INDEX_SOURCES:
            self._edges.popitem(last=False)

    # -- writing -------------------------------------------------------------------------------

    def write(self, batch: Batch) -> WriteResult:
        with self._lock:
            api = self._api()
            try:
                records = read_batch(batch)
            except BadBatch as exc:
                raise StoreError(f"batch rejected, nothing written: {exc}") from None
            plan = _Plan(self, records)
            try:
                plan.prepare()
                payload = plan.payload()
            except BadBatch as exc:
                raise StoreError(f"batch rejected, nothing written: {exc}") from None
            if not any(payload.values()):
                return plan.result
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
                for source in plan.sources:
                    self._edges.pop(source, None)
                raise
            plan.commit(answer if isinstance(answer, dict) else {})
            return plan.result


class _Plan:
    """Turns one batch into one bulk request, against what the Pod holds."""

    def __init__(self, store: PodStore, records: Records) -> None:
        self.store = store
        self.records = records
        self.result = WriteResult()
        self.rows: dict[str, _Row] = {}
        self.types: dict[str, Key] = {}
        self.create_edges: list[tuple[str, str, str]] = []
        self._pending: set[tuple[str, str, str]] = set()
        self.delete_edges: list[tuple[str, str, str, str]] = []  # source, name, target, edge id
        self.create_state: list[dict[str, Any]] = []
        self.update_state: list[dict[str, Any]] = []
        self.delete_items: list[str] = []
        self.sources: set[str] = set()

    # -- reading what the Pod holds ------------------------------------------------------------

    def prepare(self) -> None:
        store, records = self.store, self.records
        ids: dict[str, Key] = {}
        for kind, key, _ in records.items:
            ids[pod_id(kind, key)] = (kind, key)
        for source, _, target in records.edges:
            for kind, key in (source, target):
                ids[pod_id(kind, key)] = (kind, key)
            self.sources.add(pod_id(*source))
        for page in records.pages:
            if page.complete:
                self.sources.add(pod_id("Account", page.source))
        for kind, _ in ids.values():
            if kind not in DATA_TYPES:
                raise BadBatch(f"{kind} is not an item type of the Pod store")
        self.types = ids
        state_ids = [watermark_id(user_id) for user_id, _ in records.watermarks]
        state_ids += [page_id(page) for page in records.pages]
        load_edges = {s for s in self.sources if s not in store._edges}
        found = store._search_ids(dict.fromkeys([*ids, *state_ids, *load_edges]), load_edges)
        for item_id, (kind, _) in ids.items():
            item = found.get(item_id)
            if item is None:
                continue
            if item.get("type") != kind:
                raise BadBatch(
                    f"the Pod id {item_id} is taken by an item of type {item.get('type')}"
                )
            props = {k: v for k, v in item.items() if k not in _NOT_PROPERTIES}
            self.rows[item_id] = _Row(props, exists=True, deleted=bool(item.get("deleted")))
        for source in load_edges:
            # A source the Pod does not hold yet has no edges.
            store._index_edges(source, found.get(source))
        self.found_state = {i: found[i] for i in state_ids if i in found}
        self._apply_items()
        self._apply_edges()
        self._apply_watermarks()
        self._apply_pages()

    def _pod_props(self, kind: str, props: dict[str, Any]) -> dict[str, Any]:
        """The properties as the Pod stores them (dates in ms), checked by the pymemri type."""
        cls = DATA_TYPES[kind]
        fields = cls.__property_fields__
        props = {k: v for k, v in props.items() if k in fields and k != "id"}
        fast = _fast_pod_props(fields, props)
        if fast is not None:
            return fast
        while True:
            try:
                return cls(**props).property_dict()
            except ValidationError as exc:
                bad = {str(err["loc"][0]) for err in exc.errors() if err.get("loc")}
                if not bad & set(props):
                    raise BadBatch(f"{kind} {props.get(key_property(kind))}: {exc}") from None
                for name in bad & set(props):
                    logger.warning(
                        "%s %s: dropped property %s=%r, not a valid %s",
                        kind,
                        props.get(key_property(kind)),
                        name,
                        props[name],
                        fields[name].type_.__name__,
                    )
                    del props[name]

    def _apply_items(self) -> None:
        result = self.result
        for kind, key, raw in self.records.items:
            item_id = pod_id(kind, key)
            dropped = set(raw) - set(DATA_TYPES[kind].__property_fields__)
            if dropped:
                logger.debug("%s %s: properties unknown to the Pod type: %s", kind, key, dropped)
            props = self._pod_props(kind, raw)
            row = self.rows.get(item_id)
            if row is None:
                self.rows[item_id] = _Row(props, exists=False)
                result.created[kind] += 1
                continue
            changed = row.deleted
            if row.deleted:
                row.changed["deleted"] = False
                row.deleted = False
            for name, value in props.items():
                if name not in row.props or not same(row.props[name], value):
                    row.props[name] = value
                    row.changed[name] = value
                    changed = True
            if changed:
                result.updated[kind] += 1
            else:
                result.unchanged[kind] += 1

    def _apply_edges(self) -> None:
        store = self.store
        for source, name, target in self.records.edges:
            for kind, key in (source, target):
                item_id = pod_id(kind, key)
                if item_id not in self.rows:
                    # An edge needs both items: a missing end becomes a minimal item.
                    self.rows[item_id] = _Row({key_property(kind): key}, exists=False)
                    self.result.created[kind] += 1
            source_id, target_id = pod_id(*source), pod_id(*target)
            known = store._edges.get(source_id)
            if known is None:  # evicted from the index mid-batch: reload it
                store._index_edges(
                    source_id, store._search_ids([source_id], {source_id}).get(source_id)
                )
                known = store._edges[source_id]
            if (name, target_id) in known or (source_id, name, target_id) in self._pending:
                continue
            self.create_edges.append((source_id, name, target_id))
            self._pending.add((source_id, name, target_id))
            self.result.edges_created[name] += 1

    def _apply_watermarks(self) -> None:
        seen: dict[str, str] = {}
        for user_id, since_id in self.records.watermarks:
            item_id = watermark_id(user_id)
            stored = self.found_state.get(item_id)
            current = seen.get(user_id, (stored or {}).get("sinceId"))
            if not newer_since_id(current, since_id):
                continue
            seen[user_id] = since_id
            if stored is None:
                self.create_state = [s for s in self.create_state if s["id"] != item_id]
                self.create_state.append(
                    {
                        "id": item_id,
                        "type": "TwitterTimelineWatermark",
                        "userId": user_id,
                        "sinceId": since_id,
                    }
                )
            else:
                self.update_state = [s for s in self.update_state if s["id"] != item_id]
                update = {"id": item_id, "sinceId": since_id}
                if stored.get("deleted"):
                    update["deleted"] = False
                self.update_state.append(update)

    def _apply_pages(self) -> None:
        store = self.store
        batch_pages: list[tuple[str, Page]] = []
        for page in self.records.pages:
            item_id = page_id(page)
            if not page.complete:
                if item_id not in self.found_state and all(i != item_id for i, _ in batch_pages):
                    batch_pages.append((item_id, page))
                continue
            # The walk is complete: every target any of its pages listed stays, the rest goes.
            stored = store._call(
                "reading a contacts walk",
                store._api().search,
                {
                    "type": "TwitterContactsPage",
                    "accountId": page.source,
                    "edgeName": page.name,
                    "deleted": False,
                },
            )
            listed = set(page.targets)
            for item in stored:
                if item.get("walkId") == page.walk_id:
                    listed.update(json.loads(item.get("targets") or "[]"))
                self.delete_items.append(item["id"])
            for _, other in batch_pages:
                if (other.source, other.name, other.walk_id) == (
                    page.source,
                    page.name,
                    page.walk_id,
                ):
                    listed.update(other.targets)
            batch_pages = [
                (i, p) for i, p in batch_pages if (p.source, p.name) != (page.source, page.name)
            ]
            keep = {pod_id("Account", target) for target in listed}
            source_id = pod_id("Account", page.source)
            known = store._edges.get(source_id)
            if known is None or any(not i for ids in known.values() for i in ids):
                # Not indexed, or an edge whose own id is unknown (it could not be deleted).
                store._index_edges(
                    source_id, store._search_ids([source_id], {source_id}).get(source_id)
                )
                known = store._edges[source_id]
            for (name, target_id), edge_ids in known.items():
                if name == page.name and target_id not in keep:
                    for edge_id in edge_ids:
                        self.delete_edges.append((source_id, name, target_id, edge_id))
                    self.result.edges_removed[name] += 1
            # Edges of this batch to accounts the walk did not list: created, then removed.
            for edge in [e for e in self.create_edges if e[0] == source_id and e[1] == page.name]:
                if edge[2] not in keep:
                    self.create_edges.remove(edge)
                    self._pending.discard(edge)
                    self.result.edges_removed[page.name] += 1
        for item_id, page in batch_pages:
            self.create_state.append(
                {
                    "id": item_id,
                    "type": "TwitterContactsPage",
                    "walkId": page.walk_id,
                    "accountId": page.source,
                    "edgeName": page.name,
                    "targets": json.dumps(page.targets),
                }
            )

    # -- the request ---------------------------------------------------------------------------

    def payload(self) -> dict[str, list[Any]]:
        create_items, update_items = [], []
        for item_id, row in self.rows.items():
            kind = self.types.get(item_id, ("", ""))[0]
            if not row.exists:
                create_items.append({"id": item_id, "type": kind, **row.props})
            elif row.changed:
                update_items.append({"id": item_id, **row.changed})
        return {
            "create_items": create_items + self.create_state,
            "update_items": update_items + self.update_state,
            "delete_items": list(
                dict.fromkeys(
                    [edge_id for *_, edge_id in self.delete_edges if edge_id] + self.delete_items
                )
            ),
            "create_edges": [
                {"_source": s, "_target": t, "_name": n} for s, n, t in self.create_edges
            ],
        }

    def commit(self, answer: dict[str, Any]) -> None:
        """The bulk succeeded: bring the edge index up to date."""
        edges = self.store._edges
        created_ids = answer.get("createEdges") or []
        for position, (source, name, target) in enumerate(self.create_edges):
            edge_id = created_ids[position] if position < len(created_ids) else ""
            known = edges.get(source)
            if known is not None:
                known.setdefault((name, target), []).append(str(edge_id))
        for source, name, target, _ in self.delete_edges:
            known = edges.get(source)
            if known is not None:
                known.pop((name, target), None)


_NOT_PROPERTIES = {
    "id",
    "type",
    "dateCreated",
    "dateModified",
    "dateServerModified",
    "deleted",
    "[[edges]]",
    "~[[edges]]",
}
