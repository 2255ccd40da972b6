"""``python -m twitter_crawler.plugin [-s NAME=VALUE ...]``: the import, started by the Pod.

The Pod starts the plugin's container with four environment variables
(:mod:`.environment`). The entry point checks them, marks the PluginRun ``started``, and runs
the very crawl ``scrapy crawl twitter -a handle=...`` runs (Scrapy's command line, in this
process, with the project's ``crawl`` command and its exit status) into that Pod, authenticated
with the PluginAuth. While it runs the PluginRun's ``progress`` moves; at the end its
``status`` says ``done``, ``aborted`` (SIGTERM or Ctrl-C: run it again to continue) or
``error`` (with the reason in ``error``).

Arguments are passed on to ``scrapy crawl`` (for example ``-s LOG_LEVEL=DEBUG``); the spider's
arguments come from the PluginRun's config, never from the command line. Settings can also
come from ``TWITTER_*``/``POD_*`` environment variables, as for any crawl.

Exit status: 0 when the import finished; 1 when it did not (the PluginRun says why); 2 with one
line on standard error (and the same in the PluginRun's ``error``, when the Pod can be reached)
when the environment, the config or a setting (:mod:`twitter_crawler.settings.check`) is
missing or malformed (1, with one line, when the PluginRun's config has to be read from the Pod
and cannot be).

No secret of the environment or the config reaches the command line, the logs (at any level:
see :mod:`twitter_crawler.logmask`), the stats or the PluginRun.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import TYPE_CHECKING

from twitter_crawler import logmask
from twitter_crawler.plugin.environment import (
    PluginConfigError,
    PodEnvironment,
    RunConfig,
    has_config,
    read_config,
    read_environment,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from scrapy.settings import Settings

logger = logging.getLogger("twitter_crawler.plugin")

PROG = "twitter plugin"
USAGE = "usage: python -m twitter_crawler.plugin [-s NAME=VALUE ...]"
EXTENSION = "twitter_crawler.plugin.extension.PluginRunExtension"
#: Close reasons that mean "stopped, run it again" rather than "failed".
ABORTED = {"shutdown"}


def _fail(error: PluginConfigError) -> int:
    print(f"{PROG}: {logmask.mask(str(error))}", file=sys.stderr)
    return error.status


def _check_args(args: Sequence[str]) -> None:
    for arg in args:
        if arg == "-a" or (arg.startswith("-a") and not arg.startswith("--")):
            raise PluginConfigError(
                "spider arguments come from the PluginRun's config, not from the command line"
            )


def project_settings() -> Settings:
    """The project's settings as ``scrapy crawl`` resolves them: with the defaults,
    ``settings_local.py`` and the ``TWITTER_*``/``POD_*`` environment variables."""
    from scrapy.utils.project import get_project_settings

    from twitter_crawler.addon import resolve

    settings = get_project_settings()
    resolve(settings)
    return settings


def _secret_settings() -> list[str]:
    """The secrets the crawl's settings will hold (from ``settings_local.py`` or ``TWITTER_*``
    environment variables), so that they are masked too."""
    from twitter_crawler.settings.defaults import SECRET_SETTINGS

    settings = project_settings()
    return [str(settings.get(name)) for name in SECRET_SETTINGS if settings.get(name)]


def crawl_settings(env: PodEnvironment, config: RunConfig) -> Settings:
    """The project's settings, with the Pod of the environment and the run's config."""
    settings = project_settings()
    settings.setdict(
        {
            "POD_URL": env.url,
            "POD_OWNER_KEY": env.owner_key,
            "POD_DATABASE_KEY": "",
            "POD_AUTH_JSON": json.dumps(env.auth_json),
            **config.settings,
        },
        priority="cmdline",
    )
    extensions = settings.getdict("EXTENSIONS")
    extensions[EXTENSION] = 520
    settings.set("EXTENSIONS", extensions, priority="cmdline")
    return settings


def cmdline_settings(args: Sequence[str]) -> dict[str, str]:
    """The ``-s NAME=VALUE`` of the plugin's arguments, as ``scrapy crawl`` will read them."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-s", "--set", action="append", default=[])
    known, _ = parser.parse_known_args(list(args))
    # A malformed -s (no "=") is left to scrapy crawl, which says so.
    pairs = (str(item).partition("=") for item in known.set)
    return {name: value for name, equals, value in pairs if equals}


def check(settings: Settings, args: Sequence[str]) -> None:
    """The crawl's settings, with the ``-s`` of ``args``, checked as ``scrapy crawl`` checks
    them: here too, so that a bad one is also the PluginRun's error and the run never starts."""
    from twitter_crawler.settings.check import BadSetting, check_settings

    checked = settings.copy()
    checked.setdict(cmdline_settings(args), priority="cmdline")
    try:
        check_settings(checked)
    except BadSetting as exc:
        raise PluginConfigError(f"bad setting: {exc}") from None


def crawl(settings: Settings, config: RunConfig, args: Sequence[str]) -> int:
    """``scrapy crawl twitter`` with these settings, in this process; its exit status."""
    from scrapy.cmdline import execute

    argv = ["scrapy", "crawl", "twitter"]
    for name, value in config.arguments.items():
        argv += ["-a", f"{name}={value}"]
    try:
        execute([*argv, *args], settings)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


def outcome(code: int, reason: str | None) -> tuple[str, str | None]:
    """The PluginRun's final ``status`` and ``error``."""
    from twitter_crawler.plugin.reporter import RUN_ABORTED, RUN_COMPLETED, RUN_FAILED

    if code == 0:
        return RUN_COMPLETED, None
    if reason in ABORTED:
        return RUN_ABORTED, f"stopped before the import finished ({reason}): run it again"
    if reason:
        return RUN_FAILED, f"the import stopped: {reason}"
    return RUN_FAILED, f"the import did not start (exit status {code})"


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    environ = os.environ if environ is None else environ
    if args[:1] in (["-h"], ["--help"]):
        print(f"{USAGE}\n\n{__doc__}")
        return 0
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "twitter_crawler.settings")
    try:
        _check_args(args)
        env = read_environment(environ)
    except PluginConfigError as exc:
        return _fail(exc)
    logmask.add_secrets(env.secrets())

    from twitter_crawler.plugin.extension import use_reporter
    from twitter_crawler.plugin.reporter import RUN_ABORTED, RUN_FAILED, PluginRunReporter

    try:
        logmask.add_secrets(_secret_settings())
        reporter = PluginRunReporter(env)
        run = env.run if has_config(env.run) else reporter.fetch_run()
        try:
            config = read_config(run)
        except PluginConfigError as exc:
            # The Pod shows the run's status to its owner: say there what is wrong too.
            reporter.finished(RUN_FAILED, str(exc), quiet=True)
            raise
    except PluginConfigError as exc:
        return _fail(exc)
    logmask.add_secrets(config.secrets())

    from scrapy.utils.log import install_scrapy_root_handler

    settings = crawl_settings(env, config)
    try:
        check(settings, args)
    except PluginConfigError as exc:
        reporter.finished(RUN_FAILED, str(exc), quiet=True)
        return _fail(exc)
    # Scrapy's log handler from the start (the crawl installs it again, with the arguments'
    # settings): what happens before the crawl is logged as what happens during it.
    install_scrapy_root_handler(settings)
    reporter.started()
    try:
        with use_reporter(reporter):
            code = crawl(settings, config, args)
    except BaseException as exc:
        # Not the crawl's way to end (it exits with a status): say so, then let it propagate.
        status = RUN_ABORTED if isinstance(exc, KeyboardInterrupt) else RUN_FAILED
        reporter.finished(status, f"the plugin stopped: {type(exc).__name__}")
        raise
    status, error = outcome(code, reporter.reason)
    if reporter.finished(status, error):
        logger.info("PluginRun %(run)s: %(status)s", {"run": env.run_id, "status": status})
    return code
