"""PluginAuth for the test Pod: how a plugin the Pod starts talks to it without the database key.

A Pod starts a plugin container with ``POD_AUTH_JSON`` in its environment, and the plugin sends
``{"type": "PluginAuth", "data": {"nonce": ..., "encryptedPermissions": ...}}`` as the ``auth``
of every call. In the real Pod (``src/plugin_auth_crypto.rs``) ``encryptedPermissions`` is the
owner's database key encrypted with XChaCha20-Poly1305 under a key that exists only in the Pod
process's memory: the plugin never learns the database key, and a restarted Pod no longer
accepts the plugin auths it issued.

The test Pod does the same, with what Python's ``cryptography`` offers:

* a 32-byte key made at start-up, kept in memory only (never in the ``--data`` file);
* ``nonce``: 24 random bytes (48 hex characters, as the Pod's);
* ``encryptedPermissions``: ChaCha20-Poly1305 over ``{"databaseKey": ..., "pluginRunId": ...}``
  with a per-nonce subkey (HMAC-SHA256 of the key and the nonce's first 16 bytes; the cipher's
  12-byte nonce is 4 zero bytes and the nonce's last 8, the XChaCha20 layout), and the owner key
  as associated data: an auth issued for one owner does not open another owner's database.

A Pod issues the auth itself when it starts a plugin; the test Pod has no containers to start,
so it issues one on request, through the test-only route ``POST /_podserver/plugin_auth`` (see
:mod:`.server`), to whoever proves they hold the owner's database key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

NONCE_RE = re.compile(r"^[0-9a-fA-F]{48}$")
HEX_RE = re.compile(r"^(?:[0-9a-fA-F]{2})+$")


class BadPluginAuth(Exception):
    """The PluginAuth is malformed, forged, for another owner, or from an earlier Pod process."""


class PluginAuthority:
    """Issues and opens PluginAuth ``data`` objects with a key that lives in this process only."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else os.urandom(32)

    def _cipher(self, nonce: bytes) -> tuple[ChaCha20Poly1305, bytes]:
        subkey = hmac.new(self._key, nonce[:16], hashlib.sha256).digest()
        return ChaCha20Poly1305(subkey), b"\0\0\0\0" + nonce[16:]

    def issue(self, owner: str, database_key: str, plugin_run_id: str) -> dict[str, Any]:
        """The ``data`` of a PluginAuth: what the Pod puts in ``POD_AUTH_JSON`` as
        ``{"data": <this>}``."""
        nonce = os.urandom(24)
        cipher, inner = self._cipher(nonce)
        plain = json.dumps({"databaseKey": database_key, "pluginRunId": plugin_run_id}).encode()
        sealed = cipher.encrypt(inner, plain, owner.encode())
        return {"nonce": nonce.hex(), "encryptedPermissions": sealed.hex()}

    def open(self, owner: str, data: Any) -> tuple[str, str]:
        """``(database key, plugin run id)`` of a PluginAuth's ``data``; else
        :class:`BadPluginAuth`."""
        if not isinstance(data, dict):
            raise BadPluginAuth('PluginAuth needs "data": {"nonce", "encryptedPermissions"}')
        nonce, sealed = data.get("nonce"), data.get("encryptedPermissions")
        if not isinstance(nonce, str) or not NONCE_RE.match(nonce):
            raise BadPluginAuth("PluginAuth nonce must be 48 hexadecimal characters")
        if not isinstance(sealed, str) or not HEX_RE.match(sealed):
            raise BadPluginAuth("PluginAuth encryptedPermissions must be hexadecimal")
        cipher, inner = self._cipher(bytes.fromhex(nonce))
        try:
            plain = cipher.decrypt(inner, bytes.fromhex(sealed), owner.encode())
        except InvalidTag:
            raise BadPluginAuth(
                "PluginAuth does not open: forged, for another owner, or issued before this "
                "Pod restarted"
            ) from None
        permissions = json.loads(plain)
        return permissions["databaseKey"], permissions["pluginRunId"]
