"""What a crawl with media should have stored, from the emulator's truth, and what it did store.

The expected files are worked out here from the rules a user reads in docs/settings.md, not with
the crawler's own helpers: a tweet photo is fetched at ``url?name=orig`` (Twitter's largest
size), a video at its ``url`` (the mp4), a profile picture without its ``_normal`` size suffix;
the emulator says which bytes (sha256) each of those URLs serves.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import sqlite3
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.apiversion import V2, ApiVersion
from tests.support.servers import ServerProcess

HANDLE = "alice"
Key = tuple[str, str]


def avatar_original(url: str) -> str:
    return re.sub(r"_normal(\.\w+)$", r"\1", url)


def avatar_photo_key(url: str) -> str:
    path = urllib.parse.urlsplit(avatar_original(url)).path
    return "avatar:" + path[path.index("profile_images/"):]


def sha_of(emulator: ServerProcess, url: str) -> dict[str, Any]:
    return emulator.get_json("/_emulator/media/sha256?url=" + urllib.parse.quote(url, safe=""))


@dataclass
class Expected:
    """media (type, externalId) → (download URL, sha256); the avatar Photo of each account."""

    files: dict[Key, tuple[str, str]] = field(default_factory=dict)
    avatars: dict[str, str] = field(default_factory=dict)  # account id → avatar Photo key
    sizes: dict[str, int] = field(default_factory=dict)  # sha256 → bytes


def expected_media(emulator: ServerProcess, kinds: set[str], following_tweets: int = 5,
                   api: ApiVersion = V2) -> Expected:
    """``api``: the version the crawl read (v2, the default, or v1.1: their media differ)."""
    truth = emulator.get_json(f"/_emulator/truth?handle={HANDLE}&following_tweets={following_tweets}"
                              f"&api={api.version}")["items"]
    out = Expected()

    def want(key: Key, url: str) -> None:
        info = sha_of(emulator, url)
        out.files[key] = (url, info["sha256"])
        out.sizes[info["sha256"]] = info["size"]

    for item in truth:
        kind = item["type"]
        if kind == "Photo" and "photos" in kinds:
            want(("Photo", item["externalId"]), item["url"] + "?name=orig")
        elif kind == "Video" and "videos" in kinds:
            want(("Video", item["externalId"]), item["url"])
        elif kind == "Account" and "avatars" in kinds and item.get("avatarUrl"):
            key = avatar_photo_key(item["avatarUrl"])
            out.avatars[item["externalId"]] = key
            want(("Photo", key), avatar_original(item["avatarUrl"]))
    return out


@dataclass
class Stored:
    items: dict[Key, dict[str, Any]] = field(default_factory=dict)
    edges: list[tuple[Key, str, Key]] = field(default_factory=list)
    blobs: dict[str, bytes] = field(default_factory=dict)  # sha256 → bytes kept by the store

    def targets(self, source: Key, name: str) -> list[Key]:
        return [t for s, n, t in self.edges if s == source and n == name]


class Target:
    kind = ""

    def settings(self) -> dict[str, str]:
        raise NotImplementedError

    def read(self) -> Stored:
        raise NotImplementedError


class SQLiteTarget(Target):
    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path

    def settings(self) -> dict[str, str]:
        return {"POD_URL": f"sqlite:///{self.path}"}

    def read(self) -> Stored:
        out = Stored()
        conn = sqlite3.connect(self.path)
        try:
            for kind, key, props in conn.execute("SELECT type, key, properties FROM items"):
                out.items[(kind, key)] = json.loads(props)
            out.edges = [((st, sk), name, (tt, tk)) for st, sk, name, tt, tk in conn.execute(
                "SELECT sourceType, sourceKey, name, targetType, targetKey FROM edge_keys")]
        finally:
            conn.close()
        folder = self.path.with_name(self.path.stem + ".files")
        for path in folder.rglob("*") if folder.exists() else []:
            if path.is_file():
                assert path.parent.name == path.name[:2], f"not content-addressed: {path}"
                out.blobs[path.name] = path.read_bytes()
        return out


class PodTarget(Target):
    kind = "pod"

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.owner_key, self.database_key = secrets.token_hex(32), secrets.token_hex(32)

    def settings(self) -> dict[str, str]:
        return {"POD_URL": self.server.url, "POD_OWNER_KEY": self.owner_key,
                "POD_DATABASE_KEY": self.database_key}

    def read(self) -> Stored:
        dump = self.server.get_json(f"/_podserver/dump?owner={self.owner_key}")
        out = Stored()
        keys: dict[str, Key] = {}
        for item in dump["items"]:
            if item.get("deleted") or "externalId" not in item and "url" not in item:
                continue
            key = (item["type"], item["url"] if item["type"] == "Website" else item.get("externalId"))
            if key[1] is None:
                continue
            assert key not in out.items, f"two Pod items for {key}"
            keys[item["id"]] = key
            out.items[key] = item
        out.edges = [(keys[e["_source"]], e["_name"], keys[e["_target"]])
                     for e in dump["edges"] if e["_source"] in keys and e["_target"] in keys]
        for sha in dump["files"]:
            out.blobs[sha] = self.get_file(sha)
        return out

    def get_file(self, sha: str) -> bytes:
        """The bytes, as a client gets them back: the Pod's ``get_file``."""
        body = json.dumps({"auth": {"type": "ClientAuth", "databaseKey": self.database_key},
                           "payload": {"sha256": sha}}).encode()
        request = urllib.request.Request(f"{self.server.url}/v4/{self.owner_key}/get_file",
                                         data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 (loopback)
            return resp.read()


class PostgresTarget(Target):
    """A database of its own on the session's PostgreSQL server; file bytes in its table."""

    kind = "postgres"

    def __init__(self, url: str) -> None:
        self.url = url

    def settings(self) -> dict[str, str]:
        return {"POD_URL": self.url}

    def read(self) -> Stored:
        import psycopg

        out = Stored()
        with psycopg.connect(self.url) as conn:
            for kind, key, props in conn.execute("SELECT type, key, properties FROM items"):
                out.items[(kind, key)] = props
            out.edges = [((st, sk), name, (tt, tk)) for st, sk, name, tt, tk in conn.execute(
                'SELECT "sourceType", "sourceKey", name, "targetType", "targetKey" FROM edge_keys')]
            for sha, size, data in conn.execute("SELECT sha256, size, data FROM files"):
                assert size == len(data)
                out.blobs[sha] = bytes(data)
        return out


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
