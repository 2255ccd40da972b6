"""Deterministic Pod item ids, shared by both stores.

The Pod's only uniqueness is on the item ``id`` (``^[a-zA-Z0-9_-]{6,36}$``), and a client may
choose it. Deriving the id from the item's key (``Tweet`` + ``externalId``) makes a rerun, a
retried batch or a second importer address the same Pod item instead of creating a twin:

* ``Account`` ``12`` → ``tw-acc-12``, ``Tweet`` → ``tw-tweet-…``, ``Photo`` → ``tw-photo-…``,
  ``Video`` → ``tw-video-…`` (Twitter ids and media keys are digits and ``_``);
* ``Website`` (keyed by its url) → ``tw-web-`` plus 22 hex digits of the url's SHA-256;
* a key that is not made of digits and ``_``, or too long, → ``tw-<kind>-x`` plus 22 hex digits
  of its SHA-256 (a raw key never starts with ``x``, so the two forms cannot collide).
"""

from __future__ import annotations

import hashlib
import re

POD_ID_RE = re.compile(r"^[a-zA-Z0-9_-]{6,36}$")
_RAW_KEY_RE = re.compile(r"^[0-9_]+$")
_KINDS = {
    "Account": "acc",
    "Tweet": "tweet",
    "Photo": "photo",
    "Video": "video",
    "Website": "web",
    "File": "file",
}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:22]


def pod_id(item_type: str, key: str) -> str:
    """The Pod id of the item of ``item_type`` keyed by ``key`` (externalId, or url)."""
    kind = _KINDS.get(item_type) or re.sub(r"[^a-z0-9]", "", item_type.lower())[:8] or "item"
    if item_type == "Website":
        return f"tw-web-{_digest(key)}"
    candidate = f"tw-{kind}-{key}"
    if _RAW_KEY_RE.match(key) and len(candidate) <= 36:
        return candidate
    return f"tw-{kind}-x{_digest(f'{item_type}:{key}')}"
