"""Several accounts of one emulator world, as the truth describes them: whom an account follows,
and the worlds of several accounts merged as one store holds them."""

from __future__ import annotations

from typing import Any

from tests.support.apiversion import ApiVersion
from tests.support.crawl import merged
from tests.support.servers import ServerProcess


def truth_items(server: ServerProcess, handle: str, api: ApiVersion) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = server.get_json(
        f"/_emulator/truth?handle={handle}&api={api.version}")["items"]
    return items


def followings(server: ServerProcess, handle: str, api: ApiVersion) -> list[str]:
    """The handles of the accounts ``handle`` follows whose timelines can be read."""
    items = truth_items(server, handle, api)
    accounts = {i["externalId"]: i for i in items if i["type"] == "Account"}
    me = next(i["externalId"] for i in accounts.values() if i.get("isMe"))
    return [accounts[e["target"]["externalId"]]["handle"] for e in items
            if e["type"] == "Edge" and e["name"] == "following" and e["source"]["externalId"] == me
            and not accounts[e["target"]["externalId"]].get("protected")]


def union_truth(server: ServerProcess, handles: list[str], api: ApiVersion) -> dict[Any, Any]:
    """The worlds of ``handles`` merged as a store merges them, each of them ``isMe``."""
    items: list[dict[str, Any]] = []
    for handle in handles:
        items += truth_items(server, handle, api)
    want = merged(items)
    for props in want.values():
        if props["type"] == "Account" and props.get("handle") in handles:
            props["isMe"] = True
    return want
