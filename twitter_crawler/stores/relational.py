"""The state the SQLite and PostgreSQL stores read back for a crawl, in the SQL both speak.

Both keep items (``type``, ``key``, ``properties`` as JSON) and edges between item rowids; they
differ only in how a JSON property is read (``json``: the expression for one, e.g.
``json_extract(properties, '$.{name}')`` or ``properties->>'{name}'``) and in their query
functions. Each store passes its own ``query`` (SQL, parameters) -> rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twitter_crawler.stores.base import ContactsState, MediaState

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence



def contacts_state(query: Callable[[str], Sequence[tuple[Any, ...]]], *,
                   reads_table: bool = True, date_read: str = "dateRead") -> ContactsState:
    """When each list was last read in full, and the accounts each holds."""
    state = ContactsState()
    if reads_table:
        for source, name, read in query(f"SELECT source, name, {date_read} FROM contact_reads"):  # noqa: S608
            state.full_reads[(source, name)] = read / 1000
    for source, name, target in query(
        "SELECT s.key, e.name, t.key FROM edges AS e"
        " JOIN items AS s ON s.rowid = e.source AND s.type = 'Account'"
        " JOIN items AS t ON t.rowid = e.target AND t.type = 'Account'"
        " WHERE e.name IN ('follower', 'following')"
    ):
        state.targets.setdefault((source, name), set()).add(target)
    return state


def media_state(query: Callable[[str], Sequence[tuple[Any, ...]]], json: str) -> MediaState:
    """The media stored with their file, and those (and avatars) still without one."""
    state = MediaState()
    state.done = {
        (kind, key) for kind, key in query(
            "SELECT s.type, s.key FROM edges AS e JOIN items AS s ON s.rowid = e.source "
            "WHERE e.name = 'file' AND s.type IN ('Photo', 'Video')"
        )
    }
    for kind, key, url in query(
        f"SELECT type, key, {json.format(name='url')} FROM items AS i "  # noqa: S608
        "WHERE type IN ('Photo', 'Video') AND NOT EXISTS "
        "(SELECT 1 FROM edges AS e WHERE e.source = i.rowid AND e.name = 'file')"
    ):
        if url:
            state.pending.append({"type": kind, "externalId": key, "url": url})
    for key, avatar in query(
        f"SELECT key, {json.format(name='avatarUrl')} FROM items AS i "  # noqa: S608
        f"WHERE type = 'Account' AND {json.format(name='avatarUrl')} IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM edges AS e WHERE e.source = i.rowid AND e.name = 'profilePicture')"
    ):
        if avatar:
            state.pending.append({"type": "Account", "externalId": key, "avatarUrl": avatar})
    return state
