"""``python -m pod_testserver --host 127.0.0.1 --port 0 [--data FILE]``

Starts the test Pod and prints its address (``http://127.0.0.1:PORT``) as the only line on
standard output; logs go to standard error. Data lives in memory, or in the SQLite file given
with ``--data`` so that a restarted server (same ``--data``, same ``--port``) keeps it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from aiohttp import web

from pod_testserver.server import PodServer
from pod_testserver.storage import Storage

logger = logging.getLogger("pod_testserver")


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m pod_testserver",
        description="A Memri Pod stand-in for tests: the v4 API that pymemri 0.1.2 calls.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3030, help="0 picks a free port")
    parser.add_argument(
        "--data", metavar="FILE", help="keep the data in this SQLite file (default: in memory)"
    )
    parser.add_argument(
        "--fail-writes",
        type=_share,
        default=0.0,
        metavar="SHARE",
        help="answer this share (0..1) of write requests with 500, changing nothing",
    )
    parser.add_argument(
        "--lose-answers",
        type=_share,
        default=0.0,
        metavar="SHARE",
        help="apply this share (0..1) of write requests, then answer 500 as if the answer was lost",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault injection")
    parser.add_argument(
        "--schema",
        choices=("strict", "loose"),
        default="strict",
        help="strict (the Pod's way): a property must be declared in the schema before use",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    storage = Storage(args.data or ":memory:", strict_schema=args.schema == "strict")
    server = PodServer(
        storage, fail_writes=args.fail_writes, lose_answers=args.lose_answers, seed=args.seed
    )
    runner = web.AppRunner(server.app(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    await site.start()
    port = runner.addresses[0][1]
    host = args.host if ":" not in args.host else f"[{args.host}]"
    print(f"http://{host}:{port}", flush=True)  # noqa: T201 (the one stdout line)
    logger.info(
        "Pod test server on http://%s:%s, data %s, schema %s, refusing %.0f%% of writes, "
        "losing %.0f%% of answers",
        host,
        port,
        args.data or "in memory",
        args.schema,
        args.fail_writes * 100,
        args.lose_answers * 100,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        storage.close()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s [podserver] %(levelname)s: %(message)s",
    )
    logging.getLogger("aiohttp").setLevel(logging.WARNING)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
