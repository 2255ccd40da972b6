"""OAuth 1.0a (HMAC-SHA1) verification, as Twitter does it (RFC 5849, TWITTER_API.md §1.7).

Written from the RFC rather than with oauthlib, so that the emulator checks the crawler's signer
instead of agreeing with it by construction. The signature base string covers the method, the
base URL as received (scheme, host and port, path) and every query parameter, every
``application/x-www-form-urlencoded`` body parameter and every ``oauth_*`` header parameter
except the signature, each percent-encoded per RFC 3986 and sorted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

logger = logging.getLogger(__name__)

REQUIRED = ("oauth_consumer_key", "oauth_nonce", "oauth_signature", "oauth_signature_method", "oauth_timestamp")


def pct(value: str) -> str:
    """RFC 3986 percent-encoding: only ``A-Z a-z 0-9 - . _ ~`` stay as they are, UTF-8 bytes,
    upper-case hex (``quote`` keeps ``~`` unreserved since Python 3.7)."""
    return quote(value, safe="")


def normalized_params(params: Iterable[tuple[str, str]]) -> str:
    """Parameters encoded, sorted by encoded name then value, joined as ``k=v&k=v``."""
    pairs = sorted((pct(k), pct(v)) for k, v in params)
    return "&".join(f"{k}={v}" for k, v in pairs)


def base_string(method: str, base_url: str, params: Iterable[tuple[str, str]]) -> str:
    """``METHOD&pct(base URL)&pct(normalized parameters)``."""
    return "&".join((method.upper(), pct(base_url), pct(normalized_params(params))))


def signature(base: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{pct(consumer_secret)}&{pct(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base.encode(), hashlib.sha1).digest()).decode()


def base_url(scheme: str, host: str, path: str) -> str:
    """Scheme and host lower-cased, default ports dropped, path as received (RFC 5849 3.4.1.2)."""
    scheme = scheme.lower()
    host = host.lower()
    if (scheme == "http" and host.endswith(":80")) or (scheme == "https" and host.endswith(":443")):
        host = host.rsplit(":", 1)[0]
    return f"{scheme}://{host}{path}"


def parse_authorization(header: str) -> dict[str, str] | None:
    """The parameters of an ``Authorization: OAuth k="v", ...`` header (values decoded), or None."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "oauth":
        return None
    out: dict[str, str] = {}
    for part in rest.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep:
            return None
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        out[unquote(name.strip())] = unquote(value)
    return out


class AuthError(Exception):
    """Twitter's answer to a request that fails authentication."""

    def __init__(self, status: int, code: int, message: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.code = code
        self.message = message
        self.reason = reason  # for the log only: never returned to the client

    def body(self) -> dict:
        return {"errors": [{"code": self.code, "message": self.message}]}


def bad_auth_data(reason: str) -> AuthError:
    # The message as in TWITTER_API.md §1.6 (Twitter itself capitalises it "Bad Authentication data.").
    return AuthError(400, 215, "Bad authentication data.", reason)


def could_not_authenticate(reason: str) -> AuthError:
    return AuthError(401, 32, "Could not authenticate you.", reason)


@dataclass
class Verifier:
    """Checks signed requests against known consumer keys and access tokens."""

    consumers: dict[str, str]  # consumer key -> secret
    tokens: dict[str, str]  # access token -> secret
    window: float = 300.0  # accepted clock difference (s); nonces are remembered this long
    clock: object = time.time
    _nonces: dict[tuple[str, str, str], float] = field(default_factory=dict)
    _order: deque = field(default_factory=deque)

    def verify(
        self, method: str, url: str, authorization: str | None, params: list[tuple[str, str]]
    ) -> dict[str, str]:
        """The OAuth parameters of a valid request; raises :class:`AuthError` otherwise.

        ``params`` are the decoded query and form-body parameters (not the oauth header ones)."""
        if not authorization:
            raise bad_auth_data("no Authorization header")
        oauth = parse_authorization(authorization)
        if oauth is None:
            raise bad_auth_data("Authorization is not an OAuth header")
        missing = [k for k in REQUIRED if not oauth.get(k)]
        if missing:
            raise bad_auth_data(f"missing {', '.join(missing)}")
        consumer_secret = self.consumers.get(oauth["oauth_consumer_key"])
        if consumer_secret is None:
            raise could_not_authenticate("unknown consumer key")
        if oauth["oauth_signature_method"] != "HMAC-SHA1":
            raise could_not_authenticate(f"unsupported signature method {oauth['oauth_signature_method']}")
        if oauth.get("oauth_version", "1.0") != "1.0":
            raise could_not_authenticate("oauth_version is not 1.0")
        token = oauth.get("oauth_token", "")
        token_secret = self.tokens.get(token) if token else None
        if token_secret is None:
            raise AuthError(401, 89, "Invalid or expired token.", "unknown access token")
        signed = [(k, v) for k, v in oauth.items() if k not in ("oauth_signature", "realm")]
        base = base_string(method, url, [*params, *signed])
        expected = signature(base, consumer_secret, token_secret)
        if not hmac.compare_digest(expected, oauth["oauth_signature"]):
            logger.debug("signature mismatch; base string was %s", base)
            raise could_not_authenticate("signature mismatch")
        now = self.clock()  # type: ignore[operator]
        try:
            ts = int(oauth["oauth_timestamp"])
        except ValueError:
            raise bad_auth_data("oauth_timestamp is not a number") from None
        if abs(now - ts) > self.window:
            raise AuthError(401, 135, "Timestamp out of bounds.", f"timestamp {now - ts:+.0f}s away")
        self._remember(token, oauth["oauth_consumer_key"], oauth["oauth_nonce"], now)
        return oauth

    def _remember(self, token: str, consumer: str, nonce: str, now: float) -> None:
        """Reject a nonce seen within the window; only requests that pass are remembered, so a
        forged request cannot burn a legitimate nonce. Memory is bounded by the window."""
        order, nonces = self._order, self._nonces
        horizon = now - 2 * self.window
        while order and order[0][0] < horizon:
            _, key = order.popleft()
            if nonces.get(key, now) < horizon:
                del nonces[key]
        key = (consumer, token, nonce)
        if key in nonces:
            raise could_not_authenticate("nonce already used")
        nonces[key] = now
        order.append((now, key))
