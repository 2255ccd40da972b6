"""What the Pod gives the plugin it starts: four environment variables, read and checked.

=====================  =========================================================================
``POD_FULL_ADDRESS``   the Pod's address, ``http(s)://host:port``
``POD_OWNER``          the owner key, 64 hexadecimal characters
``POD_AUTH_JSON``      the PluginAuth, ``{"data": {"nonce": ..., "encryptedPermissions": ...}}``
                       (a ``"type": "PluginAuth"`` member is accepted too)
``POD_TARGET_ITEM``    the PluginRun item, as JSON: ``{"id": ..., "type": "PluginRun",
                       "config": ...}``; its ``config`` (a JSON object, or a string holding one,
                       as pymemri stores it) says what to import. Without ``config`` the item is
                       read from the Pod.
=====================  =========================================================================

The config (:data:`CONFIG_KEYS`): ``handle`` (required), ``parts``, ``limit``,
``following_tweets`` (the spider's arguments), and optionally ``api_url``, the four Twitter
credentials, ``consumer_key``, ``consumer_secret``, ``access_token``, ``access_secret``, and
``media`` (``TWITTER_MEDIA``: ``"photos,avatars,videos"``, or ``"none"``).
Credentials can come instead from the container's ``TWITTER_*`` environment variables.

Every problem is a :class:`PluginConfigError` whose message is one line that names the variable
and never repeats a secret value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from twitter_crawler.settings.check import BadSetting, check_value
from twitter_crawler.spiders.arguments import BadArgument, parse_arguments
from twitter_crawler.stores.podhttp import pluginauth_secrets

if TYPE_CHECKING:
    from collections.abc import Mapping

ADDRESS = "POD_FULL_ADDRESS"
OWNER = "POD_OWNER"
AUTH = "POD_AUTH_JSON"
TARGET = "POD_TARGET_ITEM"
VARIABLES = (ADDRESS, OWNER, AUTH, TARGET)

KEY_RE = re.compile(r"^[0-9a-fA-F]{64}$")
ITEM_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

#: Config keys that become spider arguments (``-a name=value``).
ARGUMENT_KEYS = ("handle", "parts", "limit", "following_tweets")
#: Config keys that become settings.
SETTING_KEYS = {
    "api_url": "TWITTER_API_URL",
    "consumer_key": "TWITTER_CONSUMER_KEY",
    "consumer_secret": "TWITTER_CONSUMER_SECRET",
    "access_token": "TWITTER_ACCESS_TOKEN",
    "access_secret": "TWITTER_ACCESS_SECRET",
    "media": "TWITTER_MEDIA",
}
CONFIG_KEYS = (*ARGUMENT_KEYS, *SETTING_KEYS)
#: Config values that are secrets (masked in every log line of the plugin's process).
SECRET_KEYS = ("consumer_secret", "access_token", "access_secret")


class PluginConfigError(Exception):
    """The Pod's environment or the PluginRun's config is missing or malformed."""

    #: The plugin's exit status.
    status = 2


class PluginRunUnavailable(PluginConfigError):
    """The PluginRun item (its config) cannot be read from the Pod."""

    status = 1


@dataclass(frozen=True)
class PodEnvironment:
    url: str
    owner_key: str = field(repr=False)
    auth_json: dict[str, Any] = field(repr=False)
    run: dict[str, Any] = field(repr=False)

    @property
    def run_id(self) -> str:
        return str(self.run["id"])

    def secrets(self) -> list[str]:
        """Every value of this environment that must never be shown."""
        return [self.owner_key, *pluginauth_secrets(self.auth_json)]


@dataclass(frozen=True)
class RunConfig:
    """What one PluginRun asks for: spider arguments and settings."""

    arguments: dict[str, str]
    settings: dict[str, str] = field(repr=False)

    def secrets(self) -> list[str]:
        return [
            self.settings[SETTING_KEYS[key]]
            for key in SECRET_KEYS
            if self.settings.get(SETTING_KEYS[key])
        ]


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise PluginConfigError(f"{name} is not set: the Pod sets it when it starts the plugin")
    return value


def _json_object(name: str, text: str, shape: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise PluginConfigError(f"{name} is not JSON: it must be {shape}") from None
    if not isinstance(value, dict):
        raise PluginConfigError(f"{name} is not a JSON object: it must be {shape}")
    return value


def read_address(text: str) -> str:
    parts = urlsplit(text)
    shown = "" if "@" in text else f"={text!r}"
    try:
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        raise PluginConfigError(f"{ADDRESS}{shown} has a malformed port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PluginConfigError(f"{ADDRESS}{shown} is not a Pod address: http(s)://host:port")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise PluginConfigError(
            f"{ADDRESS} must be http(s)://host:port, without credentials, query or fragment"
        )
    return text.rstrip("/")


def read_auth(text: str) -> dict[str, Any]:
    shape = '{"data": {"nonce": ..., "encryptedPermissions": ...}}'
    auth = _json_object(AUTH, text, shape)
    if auth.get("type", "PluginAuth") != "PluginAuth":
        raise PluginConfigError(f"{AUTH} is not a PluginAuth: it must be {shape}")
    data = auth.get("data")
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), str) and data.get(k) for k in ("nonce", "encryptedPermissions")
    ):
        raise PluginConfigError(f"{AUTH} is malformed: it must be {shape}")
    return {"data": data}


def read_target(text: str) -> dict[str, Any]:
    shape = '{"id": ..., "type": "PluginRun", "config": ...}'
    run = _json_object(TARGET, text, shape)
    run_id = run.get("id")
    if not isinstance(run_id, str) or not ITEM_ID_RE.match(run_id):
        raise PluginConfigError(f"{TARGET} has no valid item id: it must be {shape}")
    if run.get("type", "PluginRun") != "PluginRun":
        raise PluginConfigError(
            f"{TARGET} is a {run.get('type')!r} item, not the PluginRun: it must be {shape}"
        )
    return run


def read_environment(environ: Mapping[str, str]) -> PodEnvironment:
    """The Pod's four variables, all present and well-formed, or :class:`PluginConfigError`."""
    values = {name: _required(environ, name) for name in VARIABLES}
    owner = values[OWNER]
    if not KEY_RE.match(owner):
        raise PluginConfigError(
            f"{OWNER} is not a Pod owner key: it must be 64 hexadecimal characters"
        )
    return PodEnvironment(
        url=read_address(values[ADDRESS]),
        owner_key=owner,
        auth_json=read_auth(values[AUTH]),
        run=read_target(values[TARGET]),
    )


def has_config(run: Mapping[str, Any]) -> bool:
    return run.get("config") not in (None, "")


def read_config(run: Mapping[str, Any]) -> RunConfig:  # noqa: PLR0912
    """The PluginRun's config, checked as ``scrapy crawl`` checks its arguments."""
    where = f"the config of the PluginRun {run.get('id')}"
    shape = '{"handle": "jack", "parts": ..., "limit": ..., "following_tweets": ...}'
    raw = run.get("config")
    if raw in (None, ""):
        raise PluginConfigError(f"{where} is empty: it must name the handle, as in {shape}")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise PluginConfigError(f"{where} is not JSON: it must be {shape}") from None
    if not isinstance(raw, dict):
        raise PluginConfigError(f"{where} is not a JSON object: it must be {shape}")
    unknown = sorted(str(k) for k in raw if k not in CONFIG_KEYS)
    if unknown:
        raise PluginConfigError(
            f"{where} has unknown keys {', '.join(unknown)}: known are {', '.join(CONFIG_KEYS)}"
        )
    arguments: dict[str, str] = {}
    for key in ARGUMENT_KEYS:
        value = raw.get(key)
        if value is None:
            continue
        if key == "parts" and isinstance(value, list):
            value = ",".join(str(part) for part in value)
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise PluginConfigError(f"{where}: {key} must be a string or a number")
        arguments[key] = str(value)
    try:
        parse_arguments(**arguments)
    except BadArgument as exc:
        raise PluginConfigError(f"{where}: {exc}") from None
    settings: dict[str, str] = {}
    for key, setting in SETTING_KEYS.items():
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            raise PluginConfigError(f"{where}: {key} must be a non-empty string")
        # The rules of the setting it becomes (a secret's value is not shown).
        try:
            check_value(setting, value)
        except BadSetting as exc:
            raise PluginConfigError(f"{where}: {key}: {exc}") from None
        settings[setting] = value
    return RunConfig(arguments=arguments, settings=settings)
