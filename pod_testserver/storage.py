"""The test Pod's database: items, edges, files and schemas of every owner, in one SQLite file.

It mirrors what a Pod guarantees and no more:

* item ids are unique per owner (``^[a-zA-Z0-9_-]{6,36}$``); there is no upsert and no
  uniqueness on ``externalId``;
* an edge ``(source, name, target)`` needs both items, and is NOT unique: creating it twice
  stores it twice, as the real Pod does. Each edge also has an item of type ``Edge`` (its
  ``self``); deleting that item hides the edge;
* ``delete_item`` only marks an item ``deleted``;
* a bulk is one transaction: every operation succeeds, or nothing changes.

With ``strict`` schema checking (the default) a property must have been declared, with its
type, through ``/v5/<owner>/schema`` (or an ``ItemPropertySchema`` item, the 0.4.4 way) before it
is written or searched, as the Pod requires. The Pod's own types (:data:`BUILTIN_SCHEMA`:
``PluginRun``, which the Pod reads to start plugins and plugins update with their status) need
no declaration.

Owners are whatever string the server hands in: it passes the SHA-256 of the owner key, so
the file holds no key.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
import uuid
from typing import Any

ITEM_ID_RE = re.compile(r"^[a-zA-Z0-9_-]{6,36}$")
PROPERTY_RE = re.compile(r"^[a-zA-Z][_a-zA-Z0-9]{0,30}[a-zA-Z0-9]$")
#: Item fields that are columns, not properties. They need no schema.
BASE_FIELDS = ("id", "type", "dateCreated", "dateModified", "dateServerModified", "deleted")
VALUE_TYPES = {"Text", "Integer", "Real", "Bool", "DateTime"}
#: Types every Pod knows, with their properties (pymemri 0.1.2's central schema).
BUILTIN_SCHEMA: dict[str, dict[str, str]] = {
    "PluginRun": {
        "authUrl": "Text",
        "config": "Text",
        "containerId": "Text",
        "containerImage": "Text",
        "error": "Text",
        "pluginModule": "Text",
        "pluginName": "Text",
        "progress": "Real",
        "status": "Text",
        "targetItemId": "Text",
        "webserverPort": "Integer",
    },
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS owners (
    owner TEXT PRIMARY KEY,
    keyHash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    rowid INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    dateCreated INTEGER NOT NULL,
    dateModified INTEGER NOT NULL,
    dateServerModified INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    properties TEXT NOT NULL,
    UNIQUE (owner, id)
);
CREATE INDEX IF NOT EXISTS items_by_type ON items (owner, type);
CREATE TABLE IF NOT EXISTS edges (
    rowid INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    self TEXT NOT NULL,
    source TEXT NOT NULL,
    name TEXT NOT NULL,
    target TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS edges_by_source ON edges (owner, source, name);
CREATE INDEX IF NOT EXISTS edges_by_target ON edges (owner, target, name);
CREATE INDEX IF NOT EXISTS edges_by_self ON edges (owner, self);
CREATE TABLE IF NOT EXISTS files (
    owner TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (owner, sha256)
);
CREATE TABLE IF NOT EXISTS schemas (
    rowid INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    dateCreated INTEGER NOT NULL,
    payload TEXT NOT NULL
);
"""


class PodError(Exception):
    """An answer other than 200: ``status`` and a message for the body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def now_ms() -> int:
    return int(time.time() * 1000)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _check_value(name: str, value: Any, value_type: str | None) -> None:
    if isinstance(value, dict | list):
        raise PodError(400, f"Property {name} must be a scalar, got {type(value).__name__}")
    if value_type is None or value is None:
        return
    ok = {
        "Text": isinstance(value, str),
        "Integer": isinstance(value, int) and not isinstance(value, bool),
        "DateTime": isinstance(value, int) and not isinstance(value, bool),
        "Real": isinstance(value, int | float) and not isinstance(value, bool),
        "Bool": isinstance(value, bool),
    }.get(value_type, True)
    if not ok:
        raise PodError(400, f"Property {name} is {value_type} in the schema, got {value!r}")


class Storage:
    """All owners' data. Every public method runs in its own transaction."""

    def __init__(self, path: str = ":memory:", *, strict_schema: bool = True) -> None:
        self.path = path
        self.strict_schema = strict_schema
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        if path != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                self.conn.execute(statement)
        # owner -> item type -> property -> value type; "*" holds every type's properties.
        self._schemas: dict[str, dict[str, dict[str, str]]] = {}
        for row in self.conn.execute("SELECT owner, payload FROM schemas ORDER BY rowid"):
            self._merge_schema(row["owner"], json.loads(row["payload"]))
        for row in self.conn.execute(
            "SELECT owner, properties FROM items WHERE type = 'ItemPropertySchema' AND deleted = 0"
        ):
            self._merge_property_schema(row["owner"], json.loads(row["properties"]))

    def close(self) -> None:
        self.conn.close()

    # -- transactions --------------------------------------------------------------------------

    def transaction(self) -> _Transaction:
        return _Transaction(self.conn)

    # -- owners --------------------------------------------------------------------------------

    def check_owner(self, owner: str, database_key: str, *, register: bool = True) -> None:
        """The database key must be the one the owner's database was created with."""
        row = self.conn.execute("SELECT keyHash FROM owners WHERE owner = ?", (owner,)).fetchone()
        if row is None:
            if register:
                self.conn.execute(
                    "INSERT INTO owners (owner, keyHash) VALUES (?, ?)",
                    (owner, key_hash(database_key)),
                )
            return
        if row["keyHash"] != key_hash(database_key):
            raise PodError(401, "Wrong database key for this owner")

    def owners(self) -> list[str]:
        return [
            row["owner"] for row in self.conn.execute("SELECT owner FROM owners ORDER BY owner")
        ]

    # -- schema --------------------------------------------------------------------------------

    def add_schema(self, owner: str, payload: Any) -> None:
        if not isinstance(payload, dict) or not isinstance(payload.get("nodes", {}), dict):
            raise PodError(400, "Schema payload must be {nodes: {...}, edges: {...}, meta: {...}}")
        for type_name, node in payload.get("nodes", {}).items():
            props = node.get("properties", {}) if isinstance(node, dict) else None
            if not isinstance(props, dict):
                raise PodError(400, f"Schema of {type_name} has no properties object")
            for name, value_type in props.items():
                if value_type not in VALUE_TYPES:
                    raise PodError(
                        400, f"Schema of {type_name}.{name}: unknown type {value_type!r}"
                    )
                known = self._schemas.get(owner, {}).get("*", {}).get(name)
                if known is not None and known != value_type:
                    raise PodError(
                        400, f"Schema for property {name} is already defined to type {known}"
                    )
        self.conn.execute(
            "INSERT INTO schemas (owner, dateCreated, payload) VALUES (?, ?, ?)",
            (owner, now_ms(), json.dumps(payload)),
        )
        self._merge_schema(owner, payload)

    def _merge_schema(self, owner: str, payload: dict[str, Any]) -> None:
        schema = self._schemas.setdefault(owner, {"*": {}})
        for type_name, node in payload.get("nodes", {}).items():
            for name, value_type in node.get("properties", {}).items():
                schema.setdefault(type_name, {})[name] = value_type
                schema["*"][name] = value_type

    def _merge_property_schema(self, owner: str, props: dict[str, Any]) -> None:
        type_name, name, value_type = (
            props.get("itemType"),
            props.get("propertyName"),
            props.get("valueType"),
        )
        if isinstance(type_name, str) and isinstance(name, str) and value_type in VALUE_TYPES:
            schema = self._schemas.setdefault(owner, {"*": {}})
            schema.setdefault(type_name, {})[name] = value_type
            schema["*"][name] = value_type

    def _value_type(self, owner: str, item_type: str, name: str) -> str | None:
        """The declared type of a property, or None when it may be anything."""
        if item_type == "ItemPropertySchema" and name in ("itemType", "propertyName", "valueType"):
            return "Text"
        builtin = BUILTIN_SCHEMA.get(item_type, {}).get(name)
        if builtin is not None:
            return builtin
        schema = self._schemas.get(owner, {})
        declared = schema.get(item_type, {}).get(name) or schema.get("*", {}).get(name)
        if declared is None and self.strict_schema:
            raise PodError(400, f"Property {name} not defined in Schema (item type {item_type})")
        return declared

    def _check_properties(self, owner: str, item_type: str, props: dict[str, Any]) -> None:
        for name, value in props.items():
            if not isinstance(name, str) or not PROPERTY_RE.match(name):
                raise PodError(400, f"Invalid property name {name!r}")
            _check_value(name, value, self._value_type(owner, item_type, name))

    # -- items ---------------------------------------------------------------------------------

    def _row_to_item(self, row: sqlite3.Row) -> dict[str, Any]:
        item = {
            "id": row["id"],
            "type": row["type"],
            "dateCreated": row["dateCreated"],
            "dateModified": row["dateModified"],
            "dateServerModified": row["dateServerModified"],
            "deleted": bool(row["deleted"]),
        }
        item.update(json.loads(row["properties"]))
        return item

    def _get_row(self, owner: str, item_id: str) -> sqlite3.Row | None:
        return self.conn.execute(
            "SELECT * FROM items WHERE owner = ? AND id = ?", (owner, item_id)
        ).fetchone()

    def get_item(self, owner: str, item_id: Any) -> list[dict[str, Any]]:
        if not isinstance(item_id, str):
            raise PodError(400, "get_item expects the item id as a JSON string")
        row = self._get_row(owner, item_id)
        return [] if row is None else [self._row_to_item(row)]

    def create_item(self, owner: str, item: Any) -> str:
        if not isinstance(item, dict):
            raise PodError(400, "An item must be a JSON object")
        item = dict(item)
        item_type = item.pop("type", None)
        if not isinstance(item_type, str) or not item_type:
            raise PodError(400, "An item needs a type")
        item_id = item.pop("id", None)
        if item_id is None:
            item_id = uuid.uuid4().hex
        if not isinstance(item_id, str) or not ITEM_ID_RE.match(item_id):
            raise PodError(400, f"Invalid item id {item_id!r}: it must match {ITEM_ID_RE.pattern}")
        now = now_ms()
        date_created = item.pop("dateCreated", None) or now
        date_modified = item.pop("dateModified", None) or now
        item.pop("dateServerModified", None)
        deleted = bool(item.pop("deleted", False))
        props = {k: v for k, v in item.items() if v is not None}
        self._check_properties(owner, item_type, props)
        try:
            self.conn.execute(
                "INSERT INTO items (owner, id, type, dateCreated, dateModified, "
                "dateServerModified, deleted, properties) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    owner,
                    item_id,
                    item_type,
                    date_created,
                    date_modified,
                    now,
                    int(deleted),
                    json.dumps(props),
                ),
            )
        except sqlite3.IntegrityError:
            raise PodError(409, f"Item with id {item_id} already exists") from None
        if item_type == "ItemPropertySchema":
            self._merge_property_schema(owner, props)
        return item_id

    def update_item(self, owner: str, item: Any) -> None:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise PodError(400, "update_item needs an object with an id")
        item = dict(item)
        item_id = item.pop("id")
        row = self._get_row(owner, item_id)
        if row is None:
            raise PodError(404, f"Item with id {item_id} not found")
        for ignored in ("type", "dateCreated", "dateServerModified"):
            item.pop(ignored, None)
        now = now_ms()
        date_modified = item.pop("dateModified", None) or now
        deleted = item.pop("deleted", None)
        props = json.loads(row["properties"])
        self._check_properties(owner, row["type"], item)
        for name, value in item.items():
            if value is None:
                props.pop(name, None)  # null erases a property
            else:
                props[name] = value
        self.conn.execute(
            "UPDATE items SET properties = ?, dateModified = ?, dateServerModified = ?, "
            "deleted = ? WHERE rowid = ?",
            (
                json.dumps(props),
                date_modified,
                now,
                row["deleted"] if deleted is None else int(bool(deleted)),
                row["rowid"],
            ),
        )

    def delete_item(self, owner: str, item_id: Any) -> None:
        if not isinstance(item_id, str):
            raise PodError(400, "delete_item expects the item id as a JSON string")
        now = now_ms()
        cursor = self.conn.execute(
            "UPDATE items SET deleted = 1, dateModified = ?, dateServerModified = ? "
            "WHERE owner = ? AND id = ?",
            (now, now, owner, item_id),
        )
        if cursor.rowcount == 0:
            raise PodError(404, f"Item with id {item_id} not found")

    # -- edges ---------------------------------------------------------------------------------

    def create_edge(self, owner: str, edge: Any) -> str:
        if not isinstance(edge, dict):
            raise PodError(400, "An edge must be a JSON object")
        source, target, name = edge.get("_source"), edge.get("_target"), edge.get("_name")
        if not all(isinstance(v, str) and v for v in (source, target, name)):
            raise PodError(400, "An edge needs _source, _target and _name")
        for end in (source, target):
            if self._get_row(owner, end) is None:
                raise PodError(404, f"Edge end {end} not found")
        self_id = self.create_item(owner, {"type": "Edge", "id": edge.get("_self")})
        # No uniqueness check: the Pod stores the same (source, name, target) twice.
        self.conn.execute(
            "INSERT INTO edges (owner, self, source, name, target) VALUES (?, ?, ?, ?, ?)",
            (owner, self_id, source, name, target),
        )
        return self_id

    def delete_edge(self, owner: str, edge: Any) -> None:
        if not isinstance(edge, dict):
            raise PodError(400, "An edge must be a JSON object")
        rows = self.conn.execute(
            "SELECT rowid, self FROM edges "
            "WHERE owner = ? AND source = ? AND name = ? AND target = ?",
            (owner, edge.get("_source"), edge.get("_name"), edge.get("_target")),
        ).fetchall()
        if not rows:
            raise PodError(404, "Edge not found")
        for row in rows:
            self.conn.execute("DELETE FROM edges WHERE rowid = ?", (row["rowid"],))
            self.conn.execute("DELETE FROM items WHERE owner = ? AND id = ?", (owner, row["self"]))

    def _edges(self, owner: str, item_id: str, *, incoming: bool = False) -> list[sqlite3.Row]:
        near, far = ("target", "source") if incoming else ("source", "target")
        # An edge whose own item was deleted is gone.
        return self.conn.execute(
            f"SELECT e.name AS name, e.{far} AS far, s.rowid AS selfRowid FROM edges AS e "
            "JOIN items AS s ON s.owner = e.owner AND s.id = e.self AND s.deleted = 0 "
            f"WHERE e.owner = ? AND e.{near} = ? ORDER BY e.rowid",
            (owner, item_id),
        ).fetchall()

    def get_edges(self, owner: str, query: Any) -> list[dict[str, Any]]:
        if not isinstance(query, dict) or not isinstance(query.get("item"), str):
            raise PodError(400, "get_edges needs {item, direction, expandItems}")
        item_id = query["item"]
        if self._get_row(owner, item_id) is None:
            raise PodError(404, f"Item with id {item_id} not found")
        incoming = query.get("direction", "Outgoing") == "Incoming"
        expand = query.get("expandItems", True)
        out = []
        for edge in self._edges(owner, item_id, incoming=incoming):
            far = self._get_row(owner, edge["far"])
            if far is None:
                continue
            out.append(
                {
                    "name": edge["name"],
                    "item": self._row_to_item(far) if expand else {"id": far["id"]},
                }
            )
        return out

    def _edge_list(self, owner: str, item_id: str, *, incoming: bool) -> list[dict[str, Any]]:
        out = []
        for edge in self._edges(owner, item_id, incoming=incoming):
            far = self._get_row(owner, edge["far"])
            self_row = self.conn.execute(
                "SELECT * FROM items WHERE rowid = ?", (edge["selfRowid"],)
            ).fetchone()
            if far is None or self_row is None:
                continue
            entry = self._row_to_item(self_row)
            entry["_edge"] = edge["name"]
            entry["_item"] = self._row_to_item(far)
            out.append(entry)
        return out

    # -- search --------------------------------------------------------------------------------

    def search(self, owner: str, query: Any) -> list[dict[str, Any]]:
        if not isinstance(query, dict):
            raise PodError(400, "A search query must be a JSON object")
        query = dict(query)
        with_edges = "[[edges]]" in query
        with_incoming = "~[[edges]]" in query
        query.pop("[[edges]]", None)
        query.pop("~[[edges]]", None)
        clauses = ["owner = ?"]
        params: list[Any] = [owner]
        ids = query.pop("ids", None)
        if ids is not None:
            if not isinstance(ids, list):
                raise PodError(400, "ids must be a list")
            clauses.append(f"id IN ({','.join('?' * len(ids))})")
            params.extend(ids)
        for column in ("id", "type"):
            if column in query:
                clauses.append(f"{column} = ?")
                params.append(query.pop(column))
        if "deleted" in query:
            clauses.append("deleted = ?")
            params.append(int(bool(query.pop("deleted"))))
        if "dateServerModified>=" in query:
            clauses.append("dateServerModified >= ?")
            params.append(query.pop("dateServerModified>="))
        if "dateServerModified<" in query:
            clauses.append("dateServerModified < ?")
            params.append(query.pop("dateServerModified<"))
        order = query.pop("_sortOrder", "Asc")
        if order not in ("Asc", "Desc"):
            raise PodError(400, "_sortOrder must be Asc or Desc")
        limit = query.pop("_limit", None)
        offset = query.pop("_offset", None)
        for raw_name, value in query.items():
            name = raw_name[:-2] if raw_name.endswith("==") else raw_name
            if not PROPERTY_RE.match(name):
                raise PodError(400, f"Invalid property name {raw_name!r}")
            if name in ("dateCreated", "dateModified"):
                clauses.append(f"{name} = ?")
                params.append(value)
                continue
            item_type = query.get("type") or "*"
            self._value_type(owner, item_type, name)
            _check_value(name, value, None)
            if value is None:
                clauses.append(f"json_extract(properties, '$.{name}') IS NULL")
            else:
                clauses.append(f"json_extract(properties, '$.{name}') = ?")
                params.append(value)
        direction = "DESC" if order == "Desc" else "ASC"
        sql = (
            f"SELECT * FROM items WHERE {' AND '.join(clauses)} "
            f"ORDER BY dateServerModified {direction}, rowid {direction}"
        )
        if limit is not None or offset is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [-1 if limit is None else int(limit), int(offset or 0)]
        rows = self.conn.execute(sql, params).fetchall()
        out = []
        for row in rows:
            item = self._row_to_item(row)
            if with_edges:
                item["[[edges]]"] = self._edge_list(owner, row["id"], incoming=False)
            if with_incoming:
                item["~[[edges]]"] = self._edge_list(owner, row["id"], incoming=True)
            out.append(item)
        return out

    # -- bulk ----------------------------------------------------------------------------------

    def bulk(self, owner: str, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise PodError(400, "A bulk payload must be a JSON object")
        for key in ("createItems", "updateItems", "deleteItems", "createEdges", "search"):
            if not isinstance(payload.get(key, []), list):
                raise PodError(400, f"bulk {key} must be a list")
        result: dict[str, Any] = {
            "createItems": [
                self.create_item(owner, item) for item in payload.get("createItems", [])
            ]
        }
        for item in payload.get("updateItems", []):
            self.update_item(owner, item)
        for item_id in payload.get("deleteItems", []):
            self.delete_item(owner, item_id)
        result["createEdges"] = [
            self.create_edge(owner, edge) for edge in payload.get("createEdges", [])
        ]
        result["search"] = [self.search(owner, query) for query in payload.get("search", [])]
        return result

    # -- files ---------------------------------------------------------------------------------

    def upload_file(self, owner: str, sha: str, data: bytes) -> None:
        if hashlib.sha256(data).hexdigest() != sha.lower():
            raise PodError(400, "The body's SHA-256 does not match the URL")
        try:
            self.conn.execute(
                "INSERT INTO files (owner, sha256, data) VALUES (?, ?, ?)",
                (owner, sha.lower(), data),
            )
        except sqlite3.IntegrityError:
            raise PodError(409, "File already exists") from None

    def get_file(self, owner: str, payload: Any) -> bytes:
        sha = payload.get("sha256") if isinstance(payload, dict) else None
        if not isinstance(sha, str):
            raise PodError(400, "get_file needs {sha256}")
        row = self.conn.execute(
            "SELECT data FROM files WHERE owner = ? AND sha256 = ?", (owner, sha.lower())
        ).fetchone()
        if row is None:
            raise PodError(404, "File not found")
        return bytes(row["data"])

    # -- introspection -------------------------------------------------------------------------

    def dump(self, owner: str) -> dict[str, Any]:
        items = [
            self._row_to_item(row)
            for row in self.conn.execute(
                "SELECT * FROM items WHERE owner = ? ORDER BY rowid", (owner,)
            )
        ]
        edges = [
            {
                "_self": row["self"],
                "_source": row["source"],
                "_name": row["name"],
                "_target": row["target"],
            }
            for row in self.conn.execute(
                "SELECT * FROM edges WHERE owner = ? ORDER BY rowid", (owner,)
            )
        ]
        schemas = [
            json.loads(row["payload"])
            for row in self.conn.execute(
                "SELECT payload FROM schemas WHERE owner = ? ORDER BY rowid", (owner,)
            )
        ]
        files = [
            row["sha256"]
            for row in self.conn.execute("SELECT sha256 FROM files WHERE owner = ?", (owner,))
        ]
        return {"items": items, "edges": edges, "schemas": schemas, "files": files}


class _Transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        elif self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
