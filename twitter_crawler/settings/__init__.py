"""Scrapy project settings of twitter_crawler (``scrapy.cfg`` names this module).

The crawler itself (its components, the Scrapy settings it relies on, the defaults of every
``TWITTER_*``/``POD_*`` setting) is the add-on :class:`twitter_crawler.addon.Addon`; this module
names it and holds what belongs to the project only. Importing it runs nothing of the user's:
``settings_local.py`` (next to ``scrapy.cfg``, git-ignored) and the environment variables are
read when a command or a crawler resolves its settings (:func:`twitter_crawler.addon.resolve`).
Each setting can be set, from weakest to strongest, in ``settings_local.py``, in an environment
variable of the same name, or on the command line with ``-s NAME=value``.
"""

from __future__ import annotations

BOT_NAME = "twitter_crawler"
SPIDER_MODULES = ["twitter_crawler.spiders"]
NEWSPIDER_MODULE = "twitter_crawler.spiders"
COMMANDS_MODULE = "twitter_crawler.commands"

ADDONS = {"twitter_crawler.addon.Addon": 0}

LOG_LEVEL = "INFO"
