"""Every setting the project documents, checked once at start-up, before the first request.

A value that cannot work (``POD_BATCH_SIZE=0``, ``TWITTER_API_VERSION=3``,
``TWITTER_MEDIA=photos,holograms``) is a :class:`BadSetting`: the commands print it as one line
and exit 2 (``scrapy crawl``, ``scrapy store``, the Pod plugin's entry point), so a typo can
neither silently switch a component off nor end in a traceback half-way through a crawl.

:data:`RULES` is the one table of what is allowed: the name of each setting of
``docs/settings.md`` and a parser that returns the value as the components read it, or raises
:class:`ValueError` saying what is allowed. :func:`check_settings` writes the parsed values back
(``"2.0"`` becomes ``"2"``, ``"500"`` becomes ``500``), so components read values that are
already valid and never check them again.

Values of :data:`~twitter_crawler.settings.defaults.SECRET_SETTINGS` are never shown; the setting
is named all the same.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from twitter_crawler.settings.defaults import SECRET_SETTINGS

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

#: What ``TWITTER_MEDIA`` may list. The media pipeline downloads these.
MEDIA_KINDS = ("photos", "avatars", "videos")
#: ``TWITTER_API_VERSION``: the spellings of each version, and the value the crawl uses.
API_VERSIONS = {"1.1": "1.1", "2": "2", "2.0": "2"}
#: ``TWITTER_CONTACTS_STRATEGY``: how followers and followings are read.
CONTACTS_STRATEGIES = ("auto", "list", "ids")

#: A Pod key (owner or database): what the Pod accepts.
_KEY_RE = re.compile(r"^[0-9a-fA-F]{64}$")
#: No key, token or secret of Twitter or the Pod holds blanks or control characters: a value
#: with one is a paste gone wrong (a trailing newline, a quote), never a credential.
_BLANK_OR_CONTROL_RE = re.compile(r"[\s\x00-\x1f\x7f]")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
#: Longest shown value: a pasted file must not become a screenful.
_SHOWN = 80

Parser = Callable[[Any], Any]


class BadSetting(ValueError):
    """A setting's value cannot work. ``str()`` is the line the user sees: the setting's name,
    its value (unless it is a secret) and what is allowed."""

    def __init__(self, name: str, value: Any, allowed: str) -> None:
        self.name = name
        self.allowed = allowed
        super().__init__(f"{name}{_shown(name, value)}: {allowed}")


def _shown(name: str, value: Any) -> str:
    """``=value`` as the message shows it, or nothing when it must not be shown."""
    if name in SECRET_SETTINGS:
        return " (value not shown: it is a secret)"
    text = repr(value)
    if isinstance(value, str) and "://" in value and ("@" in value or "password=" in value):
        # A URL with user:password@ in it: the password is a secret even in a public setting.
        return " (value not shown: it holds credentials)"
    if len(text) > _SHOWN:
        text = text[: _SHOWN - 4] + "...'"
    return f"={text}"


# -- parsers: each returns the value the components read, or raises ValueError(what is allowed) --


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def whole(minimum: int) -> Parser:
    """A whole number of ``minimum`` or more (``"500"``, ``500``; not ``"5.5"``, not ``True``)."""
    allowed = f"must be a whole number of {minimum} or more"

    def parse(value: Any) -> int:
        if _is_bool(value):
            raise ValueError(allowed)
        if isinstance(value, float):
            # settings_local.py may say 500.0; 5.5 is not a count of anything.
            if not value.is_integer():
                raise ValueError(allowed)
            number = int(value)
        elif isinstance(value, int):
            number = value
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                raise ValueError(allowed) from None
        if number < minimum:
            raise ValueError(allowed)
        return number

    return parse


def seconds(*, zero: str | None = None) -> Parser:
    """A finite number of seconds, more than 0; ``zero`` says what 0 means when it is allowed."""
    if zero is None:
        allowed = "must be a number of seconds more than 0"
    else:
        allowed = f"must be a number of seconds, 0 ({zero}) or more"

    def parse(value: Any) -> float:
        number = _float(value, allowed)
        if number < 0 or (number == 0 and zero is None):
            raise ValueError(allowed)
        return number

    return parse


def share(value: Any) -> float:
    """A share, from 0 (none) to 1 (all)."""
    allowed = "must be a number from 0 to 1"
    number = _float(value, allowed)
    if not 0 <= number <= 1:
        raise ValueError(allowed)
    return number


def _float(value: Any, allowed: str) -> float:
    if _is_bool(value):
        raise ValueError(allowed)
    try:
        number = float(value if isinstance(value, int | float) else str(value).strip())
    except ValueError:
        raise ValueError(allowed) from None
    # "inf" and "nan" parse, but no wait or share can be either.
    if not math.isfinite(number):
        raise ValueError(allowed)
    return number


def boolean(value: Any) -> bool:
    """What Scrapy's ``getbool`` accepts, and no more: ``"2"`` or ``"yes"`` are typos here."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip() in ("1", "True", "true", "0", "False", "false"):
        return value.strip() in ("1", "True", "true")
    raise ValueError("must be True or False (or true, false, 1, 0)")


def api_version(value: Any) -> str:
    """``1.1`` or ``2`` (also written ``2.0``, or a number in ``settings_local.py``)."""
    text = str(value).strip()
    if _is_bool(value) or text not in API_VERSIONS:
        raise ValueError("must be 1.1 or 2")
    return API_VERSIONS[text]


def contacts_strategy(value: Any) -> str:
    text = str(value).strip().lower()
    if text not in CONTACTS_STRATEGIES:
        raise ValueError(f"must be one of {', '.join(CONTACTS_STRATEGIES)}")
    return text


def days(value: Any) -> float:
    """``TWITTER_CONTACTS_FULL_REFRESH``: a finite number of days, 0 (every run) or more."""
    allowed = "must be a number of days, 0 (a full read every run) or more"
    number = _float(value, allowed)
    if number < 0:
        raise ValueError(allowed)
    return number


def parse_kinds(value: Any) -> frozenset[str]:
    """``TWITTER_MEDIA`` as a set of :data:`MEDIA_KINDS` (empty, or ``none``, for no media);
    raises ValueError naming what is not a kind."""
    names = value if isinstance(value, list | tuple | set | frozenset) else str(value or "").split(",")
    kinds = frozenset(str(name).strip().lower() for name in names if str(name).strip())
    unknown = kinds - {*MEDIA_KINDS, "none"}
    if unknown:
        raise ValueError(
            f"must be a comma list of {', '.join(MEDIA_KINDS)}, or empty for no media; "
            f"{', '.join(sorted(unknown))} is not one of them"
        )
    return kinds - {"none"}


def media(value: Any) -> str:
    """``TWITTER_MEDIA`` as the components read it: a comma list in a fixed order, or empty."""
    kinds = parse_kinds(value)
    return ",".join(kind for kind in MEDIA_KINDS if kind in kinds)


def _http_url(value: Any, allowed: str) -> str:
    if not isinstance(value, str):
        raise ValueError(allowed)
    parts = urlsplit(value.strip())
    try:
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        raise ValueError(f"has a malformed port; {allowed}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(allowed)
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError(f"{allowed}, without credentials, query or fragment")
    return value.strip()


def api_url(value: Any) -> str:
    return _http_url(value, "must be an http(s)://host URL (a path may follow)")


def pod_url(value: Any) -> str:
    allowed = (
        "must be sqlite:///path/to/file (the embedded store), "
        "postgresql://user:password@host:port/database (a shared PostgreSQL store) "
        "or http(s)://host:port (a Pod)"
    )
    if isinstance(value, str) and value.strip().startswith(("postgresql:", "postgres:")):
        parts = urlsplit(value.strip())
        try:
            _ = parts.port  # raises ValueError on a malformed port
        except ValueError:
            raise ValueError(f"has a malformed port; {allowed}") from None
        # Whether the server answers and lets us in is the store's to say when it connects.
        if parts.scheme not in ("postgresql", "postgres") or not parts.path.strip("/"):
            raise ValueError(f"{allowed}: name the database")
        return value.strip()
    if isinstance(value, str) and value.strip().startswith("sqlite:"):
        path = value.strip().removeprefix("sqlite:///")
        if not value.strip().startswith("sqlite:///") or not path:
            raise ValueError(allowed)
        # Whether the file can be used (a directory, corrupt, someone else's) is the store's
        # to say when it opens it: pod_config_error, exit 1.
        return value.strip()
    return _http_url(value, allowed)


def redis_url(value: Any) -> str:
    """``redis://[:password@]host[:port][/db]``, ``rediss://`` (TLS), ``unix:///path``; empty:
    budgets stay in this process."""
    allowed = ("must be redis://[:password@]host[:port][/db], rediss://... or unix:///path/to/socket "
               "(or empty: budgets in this process)")
    if not isinstance(value, str) or _CONTROL_RE.search(value):
        raise ValueError(allowed)
    url: str = value.strip()
    if not url:
        return url
    parts = urlsplit(url)
    try:
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        raise ValueError(f"has a malformed port; {allowed}") from None
    if parts.scheme in ("redis", "rediss") and parts.hostname:
        db = parts.path.strip("/")
        if db and not db.isdigit():
            raise ValueError(f"has a database that is not a number; {allowed}")
        return url
    if parts.scheme == "unix" and parts.path:
        return url
    raise ValueError(allowed)


def queue_name(value: Any) -> str:
    """An RQ queue's name: letters, digits and ``_.:-``, as Redis keys hold it."""
    allowed = "must be 1 to 64 letters, digits or _ . : -"
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", value.strip()):
        raise ValueError(allowed)
    return value.strip()


def job_directory(value: Any) -> str:
    """Where a queue job's JOBDIR and log go: a directory path, never empty."""
    if not isinstance(value, str) or not value.strip() or _CONTROL_RE.search(value):
        raise ValueError("must be a directory path (relative to the worker's folder, or absolute)")
    return value.strip()


def credential(value: Any) -> str:
    """A key, token or secret; empty when not set."""
    allowed = "must be a string without blanks or control characters (or empty when not set)"
    if not isinstance(value, str) or _BLANK_OR_CONTROL_RE.search(value):
        raise ValueError(allowed)
    return value


def pod_key(value: Any) -> str:
    if not isinstance(value, str) or (value and not _KEY_RE.match(value)):
        raise ValueError("must be 64 hexadecimal characters (or empty when not set)")
    return value


def auth_json(value: Any) -> str:
    """The Pod's PluginAuth as JSON text; the store decodes it."""
    allowed = (
        'must be a JSON object, {"data": {"nonce": ..., "encryptedPermissions": ...}} '
        "(or empty when not set)"
    )
    if isinstance(value, dict):
        value = json.dumps(value)
    if not isinstance(value, str):
        raise ValueError(allowed)
    if not value.strip():
        return ""
    try:
        decoded = json.loads(value)
    except ValueError:
        raise ValueError(allowed) from None
    if not isinstance(decoded, dict) or not isinstance(decoded.get("data"), dict):
        raise ValueError(allowed)
    return value


def prices(value: Any) -> str:
    """``TWITTER_PRICES`` as a full comma list of every kind (``posts=0.005,...``), or empty for
    X's prices: a text, so that checking it again reads the same prices."""
    from twitter_crawler.api.prices import MICRO, parse_prices  # the API's table, not settings'

    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    parsed = parse_prices(value)
    return ",".join(f"{kind}={_usd_text(micro, MICRO)}" for kind, micro in parsed.items())


def _usd_text(micro: int, unit: int) -> str:
    return format(Decimal(micro) / unit, "f")


def max_cost(value: Any) -> str:
    """``TWITTER_MAX_COST``: USD more than 0 (a leading ``$`` allowed), or empty for no limit."""
    from twitter_crawler.api.prices import MICRO, to_micro

    allowed = "must be a number of USD more than 0 (at most 6 decimals), or empty for no limit"
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    try:
        micro = to_micro(value)
    except ValueError:
        raise ValueError(allowed) from None
    if micro <= 0:
        raise ValueError(allowed)
    return _usd_text(micro, MICRO)


def directory(value: Any) -> str:
    """A directory path (relative: inside Scrapy's ``.scrapy`` data directory), or empty."""
    if not isinstance(value, str) or _CONTROL_RE.search(value):
        raise ValueError("must be a directory path without control characters (or empty for none)")
    return value.strip()


#: Every setting of ``docs/settings.md``, in its order, and how its value is read.
RULES: Mapping[str, Parser] = {
    # Twitter API
    "TWITTER_API_URL": api_url,
    "TWITTER_API_VERSION": api_version,
    "TWITTER_BEARER_TOKEN": credential,
    "TWITTER_CONSUMER_KEY": credential,
    "TWITTER_CONSUMER_SECRET": credential,
    "TWITTER_ACCESS_TOKEN": credential,
    "TWITTER_ACCESS_SECRET": credential,
    "TWITTER_CONTACTS_STRATEGY": contacts_strategy,
    "TWITTER_CONTACTS_FULL_REFRESH": days,
    # Cost: a limit of 0 would stop before the first request (empty is "no limit").
    "TWITTER_PRICES": prices,
    "TWITTER_MAX_COST": max_cost,
    "TWITTER_COST_LEDGER_DIR": directory,
    "TWITTER_COST_OWNED_READS": boolean,
    # Rate limits: a margin of 0 releases at the reset itself; a longest wait of 0 would release
    # every parked request at once into more 429s (TWITTER_RATELIMIT_ENABLED=False turns it off).
    "TWITTER_RATELIMIT_ENABLED": boolean,
    "TWITTER_RATELIMIT_MARGIN": seconds(zero="release at the reset"),
    "TWITTER_RATELIMIT_MAX_WAIT": seconds(),
    # A lease of 0 would let every waiting request probe at once.
    "TWITTER_RATELIMIT_PROBE_LEASE": seconds(),
    "TWITTER_RATELIMIT_REDIS_URL": redis_url,
    # The queue (scrapy queue, the jobs rq workers run)
    "TWITTER_QUEUE_REDIS_URL": redis_url,
    "TWITTER_QUEUE_NAME": queue_name,
    "TWITTER_QUEUE_RETRIES": whole(0),
    "TWITTER_QUEUE_JOBDIR": job_directory,
    # Retries: BASE=0 is the documented way to turn the backoff off; a MAX of 0 would be a
    # second, undocumented one.
    "TWITTER_RETRY_BACKOFF_BASE": seconds(zero="no backoff"),
    "TWITTER_RETRY_BACKOFF_MAX": seconds(),
    "TWITTER_RETRY_BACKOFF_JITTER": share,
    # Dedupe: a window of 0 would remember nothing and rotate on every item.
    "TWITTER_DEDUPE_WINDOW": whole(1),
    # Media: no download can be at most 0 bytes, or take 0 seconds.
    "TWITTER_MEDIA": media,
    "TWITTER_MEDIA_CONCURRENCY": whole(1),
    "TWITTER_MEDIA_MAX_BYTES": whole(1),
    "TWITTER_MEDIA_RETRY_TIMES": whole(0),
    "TWITTER_MEDIA_TIMEOUT": seconds(),
    # Progress
    "TWITTER_PROGRESS_INTERVAL": seconds(zero="no progress lines"),
    # Store: a batch of 0 items would never be written; 0 seconds between batch checks would
    # spin the reactor.
    "POD_URL": pod_url,
    "POD_OWNER_KEY": pod_key,
    "POD_DATABASE_KEY": pod_key,
    "POD_AUTH_JSON": auth_json,
    "POD_PLUGIN_PROGRESS_INTERVAL": seconds(),
    "POD_BATCH_SIZE": whole(1),
    "POD_ARCHIVE_BATCH_SIZE": whole(1),
    "POD_BATCH_SECONDS": seconds(),
    "POD_RETRY_TIMES": whole(0),
    "POD_RETRY_BACKOFF": seconds(zero="retry at once"),
    # Scrapy's own settings that docs/settings.md documents and the crawl relies on.
    "RETRY_TIMES": whole(0),
    "CONCURRENT_REQUESTS": whole(1),
}

#: Scrapy's settings among :data:`RULES` (the others are the project's ``TWITTER_*``/``POD_*``).
SCRAPY_SETTINGS = ("RETRY_TIMES", "CONCURRENT_REQUESTS")


def check_value(name: str, value: Any) -> Any:
    """``value`` of the setting ``name`` as the components read it, or :class:`BadSetting`."""
    try:
        return RULES[name](value)
    except ValueError as exc:
        raise BadSetting(name, value, str(exc)) from None


def check_settings(settings: BaseSettings, names: Iterable[str] | None = None) -> None:
    """Checks ``names`` (all of :data:`RULES` by default) and writes their parsed values back,
    at the priority they were set with. Raises :class:`BadSetting` on the first bad one."""
    for name in RULES if names is None else names:
        value = settings.get(name)
        if value is None:
            continue  # not a setting of this project's settings (a unit test's crawler)
        parsed = check_value(name, value)
        if parsed != value or type(parsed) is not type(value):
            settings.set(name, parsed, priority=settings.getpriority(name) or "project")
