"""The Pod store with the plugin's PluginAuth (``auth_json``) instead of the database key."""

from __future__ import annotations

import secrets

import pytest

from tests.plugin.support import PodOwner, auth_counts
from tests.support.servers import ServerProcess
from twitter_crawler.stores.base import Batch, StoreConfigError, StoreError, open_store


def account(n: int) -> dict:
    return {"type": "Account", "externalId": str(n), "service": "twitter", "handle": f"user{n}"}


def test_writes_and_reads_with_plugin_auth_only(pod_server: ServerProcess) -> None:
    owner = PodOwner(pod_server)
    auth = owner.plugin_auth(owner.create_run({"handle": "alice"})["id"])
    store = open_store(pod_server.url, owner_key=owner.owner_key, auth_json=auth)
    before = auth_counts(pod_server)
    store.open()
    try:
        result = store.write(Batch(items=[account(1), account(2)], watermarks={"1": "99"}))
        assert result.created["Account"] == 2
        assert store.watermarks() == {"1": "99"}
    finally:
        store.close()
    used = auth_counts(pod_server) - before
    assert used["auth/ClientAuth"] == 0 and used["auth/PluginAuth"] > 0
    stored = {i["externalId"] for i in owner.dump()["items"] if i["type"] == "Account"}
    assert stored == {"1", "2"}
    assert owner.owner_key not in store.describe()


def test_a_refused_plugin_auth_says_so_without_its_values(pod_server: ServerProcess) -> None:
    owner = PodOwner(pod_server)
    auth = owner.plugin_auth(owner.create_run({"handle": "alice"})["id"])
    forged = {"data": {**auth["data"], "nonce": secrets.token_hex(24)}}
    store = open_store(pod_server.url, owner_key=owner.owner_key, auth_json=forged)
    with pytest.raises(StoreError) as caught:
        store.open()
    message = str(caught.value)
    assert "HTTP 401" in message
    for value in (owner.owner_key, *forged["data"].values()):
        assert value not in message


@pytest.mark.parametrize("auth_json", [{"nonce": "x"}, {"data": "x"}])
def test_a_malformed_plugin_auth_is_a_config_error(auth_json: dict) -> None:
    store = open_store("http://127.0.0.1:9", owner_key=secrets.token_hex(32), auth_json=auth_json)
    with pytest.raises(StoreConfigError, match="POD_AUTH_JSON must be"):
        store.open()


def test_without_plugin_auth_the_database_key_is_still_required() -> None:
    store = open_store("http://127.0.0.1:9", owner_key=secrets.token_hex(32))
    with pytest.raises(StoreConfigError, match="POD_DATABASE_KEY is not set"):
        store.open()
