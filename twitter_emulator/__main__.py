"""``python -m twitter_emulator``: a faithful local Twitter API, v1.1 and v2.

Binds ``--host``/``--port`` (port 0 picks a free one) for the API and ``--media-port`` for the
media of its world, prints exactly one line to stdout, the API's ``http://HOST:PORT`` (the media
address is in ``/_emulator/world``), and logs everything else to stderr. Stop it with Ctrl-C or
SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import Any

from aiohttp import web

from twitter_emulator import credentials
from twitter_emulator.billing import KINDS, PRICES, Billing, to_micro
from twitter_emulator.faults import FaultPlan
from twitter_emulator.media import MediaServer, RecordedCatalog, SyntheticCatalog
from twitter_emulator.oauth import Verifier
from twitter_emulator.quotas import DEFAULT_APP_LIMITS, DEFAULT_LIMITS, QuotaBook, parse_override
from twitter_emulator.server import Emulator, RequestLog
from twitter_emulator.usage import CREDITS_EXHAUSTED, Usage

logger = logging.getLogger("twitter_emulator")


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a fraction between 0 and 1")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must not be negative")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must be 0 or more")
    return value


def _usd(text: str) -> str:
    try:
        to_micro(text, "the amount")
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text}: {err}") from None
    return text


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be positive")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m twitter_emulator",
        description="A local Twitter API (v1.1 under /1.1, v2 under /2, one world) for tests, benchmarks "
                    "and the offline demo; /2 also serves /2/users/me (user context) and /2/usage/tweets "
                    "(bearer token), and bills every /2 answer as X's pay-per-use does. Prints its base URL (http://HOST:PORT) as the only line on "
                    "stdout; logs go to stderr. "
                    "Control endpoints: GET /_emulator/world, /_emulator/truth (api=2, the default as X's, or "
                    "api=1.1), /_emulator/log, "
                    "/_emulator/media, /_emulator/media/sha256?url=URL, /_emulator/usage (posts served, "
                    "the usage cap); POST /_emulator/mutate, /_emulator/quotas/reset, /_emulator/media, "
                    "/_emulator/usage ({\"cap\": null} lifts the usage cap, a number sets it; also "
                    "\"period\", \"served\", \"problem\", \"credits_exhausted\", \"credits\"); "
                    "GET /_emulator/bill (what the /2 answers cost: total and per kind, includes apart); "
                    "POST /_emulator/billing ({\"reset\": true}, {\"forget_day\": true}, "
                    "{\"prices\": {KIND: USD}}, {\"advance_days\": N}: the billing clock's next day). The media of the world (photos, videos, "
                    "avatars) are served unsigned on a second port (--media-port); its address is "
                    "media.base_url in /_emulator/world.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind")
    p.add_argument("--port", type=int, default=8080, help="port to bind (0: any free port)")
    p.add_argument("--dataset", choices=("synthetic", "recorded"), default="synthetic",
                   help="synthetic: a deterministic world sized by the options below; recorded: the real "
                        "recorded payloads, crawlable as @jack")
    p.add_argument("--log-level", default="INFO", help="logging level on stderr")
    p.add_argument("--access-log", action="store_true", help="log every HTTP request on stderr")
    p.add_argument("--log-size", type=_count, default=50_000, help="requests kept for /_emulator/log")

    w = p.add_argument_group("synthetic world")
    w.add_argument("--handle", default="alice", help="screen name of the main account")
    w.add_argument("--followers", type=_count, default=120, help="followers of the main account")
    w.add_argument("--followings", type=_count, default=40, help="accounts the main account follows")
    w.add_argument("--tweets", type=_count, default=250, help="tweets on the main account's timeline")
    w.add_argument("--following-tweets", type=_count, default=20,
                   help="tweets on every other account's timeline (followed accounts included)")
    w.add_argument("--retweet-share", type=_share, default=0.15, help="fraction of tweets that are retweets")
    w.add_argument("--quote-share", type=_share, default=0.08, help="fraction of tweets that are quotes")
    w.add_argument("--reply-share", type=_share, default=0.12, help="fraction of tweets that are replies")
    w.add_argument("--photo-share", type=_share, default=0.15, help="fraction of tweets with photos (1-4)")
    w.add_argument("--video-share", type=_share, default=0.04, help="fraction of tweets with a video")
    w.add_argument("--gif-share", type=_share, default=0.03, help="fraction of tweets with an animated GIF")
    w.add_argument("--link-share", type=_share, default=0.2, help="fraction of tweets with a link")
    w.add_argument("--mention-share", type=_share, default=0.25, help="fraction of tweets with 1-2 mentions")
    w.add_argument("--protected-followings", type=_count, default=1,
                   help="protected accounts among the followings (timeline: 401 Not authorized)")
    w.add_argument("--suspended-followings", type=_count, default=1,
                   help="suspended accounts among the followings (403 code 63; left out of lists)")
    w.add_argument("--seed", type=int, default=1, help="seed of the synthetic world")

    q = p.add_argument_group("quotas")
    q.add_argument("--quotas", choices=("on", "off"), default="on",
                   help="enforce per (token, endpoint) quotas; headers are sent either way")
    q.add_argument("--window", type=_positive, default=900.0, help="quota window in seconds")
    q.add_argument("--quota", action="append", default=[], metavar="ENDPOINT=N",
                   help="override one endpoint's quota per window, e.g. followers/ids=3 (repeatable); "
                        "defaults: " + ", ".join(f"{k}={v}" for k, v in DEFAULT_LIMITS.items())
                        + "; also sets the app-only (bearer) quota of a v2 endpoint")
    q.add_argument("--app-quota", action="append", default=[], metavar="ENDPOINT=N",
                   help="override one v2 endpoint's quota for app-only bearer tokens (after --quota), "
                        "e.g. users/tweets=10 (repeatable); defaults: "
                        + ", ".join(f"{k}={v}" for k, v in DEFAULT_APP_LIMITS.items()))

    f = p.add_argument_group("faults (only /1.1 and /2 endpoints)")
    f.add_argument("--fault-5xx", type=_share, default=0.0, help="share of requests answered 500/502/503")
    f.add_argument("--fault-drop", type=_share, default=0.0,
                   help="share of requests whose connection is closed without a response")
    f.add_argument("--fault-truncate", type=_share, default=0.0,
                   help="share of responses cut short (full Content-Length announced, part of the body sent)")
    f.add_argument("--latency", type=float, default=0.0, help="seconds added to every /1.1 and /2 response")
    f.add_argument("--fault-seed", type=int, default=0,
                   help="seed of the fault decisions (a hash of seed, request and attempt number)")
    f.add_argument("--access-level-453", action="store_true",
                   help="answer every /1.1 endpoint with 403 code 453 (access level too low)")
    f.add_argument("--v2-client-forbidden", action="store_true",
                   help="answer every /2 endpoint with 403 client-forbidden (app not enrolled / access level)")

    m = p.add_argument_group("media (a second listener on --host; never signed, never under quotas)")
    m.add_argument("--media-port", type=int, default=0,
                   help="port of the media listener (0: any free port); a request carrying an "
                        "Authorization header is answered 400")
    m.add_argument("--media", choices=("local", "remote"), default="local",
                   help="local: every media URL in the payloads and the truth points at the media listener "
                        "(http://HOST:MEDIAPORT/pbs.twimg.com/...); remote: the original twimg URLs")
    m.add_argument("--media-faults", type=_share, default=0.0,
                   help="share of media URLs that fail on every GET (hash of --seed and URL), split between "
                        "404, a truncated body and a stall of --media-timeout-delay; "
                        "POST /_emulator/media {\"faults\": 0} heals them")
    m.add_argument("--media-timeout-delay", type=_positive, default=30.0,
                   help="seconds a timeout-faulted media request is held before its connection is closed "
                        "without an answer")
    m.add_argument("--media-delay", type=_non_negative, default=0.0,
                   help="seconds every media file takes to answer (a slow media host); "
                        "POST /_emulator/media {\"delay\": 0} makes it fast again")
    m.add_argument("--media-unreachable", action="store_true",
                   help="the media listener refuses connections (a media host that cannot be reached; "
                        "payloads still name it); POST /_emulator/media {\"reachable\": true} opens it")

    v = p.add_argument_group("API v2")
    v.add_argument("--v2-source", action="store_true",
                   help="send tweet.fields=source on /2 (v2 stopped sending it for most apps: off by default)")

    u = p.add_argument_group("usage cap and credits (API v2; v1.1 is never counted nor refused)")
    u.add_argument("--usage-cap", type=_count, default=None, metavar="N",
                   help="once N posts (in data of /2 tweet answers) were served, answer every /2 data "
                        "request 429 usage-capped, as X does (the answer that crosses N is served); "
                        "POST /_emulator/usage {\"cap\": null} lifts it")
    u.add_argument("--usage-cap-period", choices=("Monthly", "Daily"), default="Monthly",
                   help="the period the usage-capped answer names")
    u.add_argument("--credits-exhausted", action="store_true",
                   help="answer every /2 data request 402 CreditsDepleted (a problem type X does not "
                        "document); POST /_emulator/usage {\"credits_exhausted\": false} ends it")

    b = p.add_argument_group(
        "pay-per-use billing (API v2 only; v1.1 is never billed): GET /_emulator/bill, "
        "POST /_emulator/billing")
    b.add_argument("--credits", type=_usd, default=None, metavar="USD",
                   help="a prepaid balance: every /2 answer's cost is taken from it, and a /2 data request "
                        "whose answer would cost more than what is left is answered 402 CreditsDepleted "
                        "(as --credits-exhausted); default: no balance (unlimited); "
                        "POST /_emulator/usage {\"credits\": USD or null} changes it")
    b.add_argument("--price", action="append", default=[], metavar="KIND=USD",
                   help="the price of one resource of a kind (repeatable); kinds and defaults: "
                        + ", ".join(f"{k}={v}" for k, v in PRICES.items())
                        + " (posts: each post in data of /2/users/:id/tweets; users: /2/users/by/username, "
                          "/2/users/me; follows: each user of a followers/following page; owned: an Owned "
                          "Read, the posts, followers and followings of the app owner's own id)")
    b.add_argument("--app-owner", default=None, metavar="HANDLE_OR_ID",
                   help="the user who owns the developer app, whose own posts, followers and followings "
                        "read with their user-context token are Owned Reads (default: the main account, "
                        "the user of the access tokens); bearer-token requests are never Owned Reads")

    c = p.add_argument_group("credentials (default: the emulator's demo credentials, "
                             "python -m twitter_emulator.credentials)")
    c.add_argument("--consumer-key", default=credentials.CONSUMER_KEY,
                   help="the accepted consumer key (others: 401 code 32)")
    c.add_argument("--consumer-secret", default=credentials.CONSUMER_SECRET,
                   help="its secret")
    c.add_argument("--access-token", default=credentials.ACCESS_TOKEN,
                   help="the accepted access token of the main account (others: 401 code 89)")
    c.add_argument("--access-secret", default=credentials.ACCESS_SECRET,
                   help="its secret")
    c.add_argument("--extra-token", action="append", default=[], metavar="TOKEN:SECRET",
                   help="another accepted access token (own quotas), repeatable")
    c.add_argument("--bearer-token", default=credentials.BEARER_TOKEN,
                   help="the accepted app-only bearer token of /2 (Authorization: Bearer ...; others: 401)")
    c.add_argument("--extra-bearer-token", action="append", default=[], metavar="TOKEN",
                   help="another accepted bearer token (an app context with its own quotas), repeatable")
    c.add_argument("--timestamp-window", type=_positive, default=300.0,
                   help="accepted oauth_timestamp difference in seconds (else 401 code 135)")
    return p


def build_emulator(args: argparse.Namespace) -> Emulator:
    from twitter_emulator.v2 import RecordedV2, SyntheticV2

    catalog: Any = RecordedCatalog() if args.dataset == "recorded" else SyntheticCatalog()
    if args.dataset == "recorded":
        from twitter_emulator.recorded import RecordedApi

        api: Any = RecordedApi()
        v2: Any = RecordedV2()
    else:
        from twitter_emulator.api import SyntheticApi
        from twitter_emulator.world import World, WorldOptions

        api = SyntheticApi(World(WorldOptions(
            handle=args.handle.lstrip("@"), followers=args.followers, followings=args.followings,
            tweets=args.tweets, following_tweets=args.following_tweets,
            retweet_share=args.retweet_share, quote_share=args.quote_share, reply_share=args.reply_share,
            photo_share=args.photo_share, video_share=args.video_share, gif_share=args.gif_share,
            link_share=args.link_share, mention_share=args.mention_share,
            protected_followings=args.protected_followings, suspended_followings=args.suspended_followings,
            seed=args.seed,
        )))
        v2 = SyntheticV2(api.world, source=args.v2_source)
    if args.fault_5xx + args.fault_drop + args.fault_truncate > 1:
        raise ValueError("--fault-5xx + --fault-drop + --fault-truncate must not exceed 1")
    limits = dict(DEFAULT_LIMITS)
    app_limits = dict(DEFAULT_APP_LIMITS)
    for spec in args.quota:
        name, n = parse_override(spec)
        limits[name] = n
        if name in app_limits:
            app_limits[name] = n
    for spec in args.app_quota:
        name, n = parse_override(spec)
        app_limits[name] = n
    bearer_tokens = tuple(t for t in (args.bearer_token, *args.extra_bearer_token) if t)
    tokens = {args.access_token: args.access_secret}
    for spec in args.extra_token:
        token, sep, secret = spec.partition(":")
        if not sep or not token:
            raise ValueError(f"--extra-token expects TOKEN:SECRET, got {spec!r}")
        tokens[token] = secret
    options = {
        "quotas": args.quotas, "window": args.window, "limits": limits,
        "faults": {"5xx": args.fault_5xx, "drop": args.fault_drop, "truncate": args.fault_truncate,
                   "latency": args.latency, "seed": args.fault_seed},
        "access_level_453": args.access_level_453, "timestamp_window": args.timestamp_window,
        "app_limits": app_limits, "v2_source": args.v2_source,
        "v2_client_forbidden": args.v2_client_forbidden, "bearer_tokens": len(bearer_tokens),
        "media": args.media, "media_faults": args.media_faults, "media_timeout_delay": args.media_timeout_delay,
        "media_delay": args.media_delay, "media_unreachable": args.media_unreachable,
    }
    prices: dict[str, str] = {}
    for spec in args.price:
        kind, sep, value = spec.partition("=")
        if not sep or kind not in KINDS:
            raise ValueError(f"--price expects KIND=USD with KIND one of {', '.join(KINDS)}, got {spec!r}")
        prices[kind] = value
    billing = Billing(prices)
    app_owner = v2.me_id()
    if args.app_owner is not None:
        app_owner = v2.resolve_user(args.app_owner)
        if app_owner is None:
            raise ValueError(f"--app-owner {args.app_owner!r} names no account of the world")
    usage = Usage(cap=args.usage_cap, period=args.usage_cap_period,
                  problem=CREDITS_EXHAUSTED if args.credits_exhausted else None,
                  credits=None if args.credits is None else to_micro(args.credits, "--credits"),
                  cap_reset_day=min(28, int(billing.today()[8:])))
    options.update(credits=args.credits, prices={k: billing.describe()["kinds"][k]["price_usd"] for k in KINDS},
                   app_owner=app_owner)
    log = RequestLog(size=args.log_size)
    return Emulator(
        api=api,
        verifier=Verifier(consumers={args.consumer_key: args.consumer_secret}, tokens=tokens,
                          window=args.timestamp_window),
        quotas=QuotaBook(limits, window=args.window, enabled=args.quotas == "on", app_limits=app_limits),
        faults=FaultPlan(share_5xx=args.fault_5xx, share_drop=args.fault_drop, share_truncate=args.fault_truncate,
                         latency=args.latency, seed=args.fault_seed),
        access_level_453=args.access_level_453,
        log=log,
        options=options,
        v2=v2,
        bearer_tokens=bearer_tokens,
        v2_client_forbidden=args.v2_client_forbidden,
        usage=usage,
        billing=billing,
        app_owner=app_owner,
        media=MediaServer(catalog=catalog, log=log, mode=args.media, faults=args.media_faults, seed=args.seed,
                          timeout_delay=args.media_timeout_delay, delay=args.media_delay,
                          reachable=not args.media_unreachable),
    )


def _bound_port(site: web.TCPSite, asked: int) -> int:
    sockets = getattr(site._server, "sockets", None) or []  # the only way to learn the bound port
    return sockets[0].getsockname()[1] if sockets else asked


async def serve(emulator: Emulator, host: str, port: int, access_log: bool, media_port: int = 0) -> None:
    access = logging.getLogger("aiohttp.access") if access_log else None
    shown = f"[{host}]" if ":" in host else host
    runners: list[web.AppRunner] = []
    try:
        # The media listener is bound first: every payload the API serves names its address.
        if emulator.media is not None:
            media_runner = web.AppRunner(emulator.media.app(), access_log=access, handle_signals=False)
            await media_runner.setup()
            runners.append(media_runner)
            media_site = web.TCPSite(media_runner, host, media_port)
            await media_site.start()
            emulator.media.bind(f"http://{shown}:{_bound_port(media_site, media_port)}")
            await emulator.media.attach(media_runner, media_site, host)
        runner = web.AppRunner(emulator.app(), access_log=access, handle_signals=False)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = _bound_port(site, port)
        sys.stdout.write(f"http://{shown}:{bound}\n")
        sys.stdout.flush()
        logger.info("serving %s dataset on http://%s:%d", emulator.api.dataset, shown, bound)
        if emulator.media is not None:
            logger.info("serving media on %s (%s URLs in payloads)", emulator.media.base_url, emulator.media.mode)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        logger.info("shutting down")
        if emulator.media is not None:
            emulator.media.stop()
        for r in reversed(runners):
            await r.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        emulator = build_emulator(args)
    except ValueError as err:
        print(f"emulator: {err}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(emulator, args.host, args.port, args.access_log, args.media_port))
    except KeyboardInterrupt:
        pass
    except OSError as err:  # the address is taken or cannot be bound
        print(f"emulator: cannot listen on {args.host}:{args.port} (media: {args.media_port}): {err}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
