"""``python -m twitter_crawler.plugin``: see :mod:`twitter_crawler.plugin.run`."""

from twitter_crawler.plugin.run import main

raise SystemExit(main())
