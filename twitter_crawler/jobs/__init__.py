"""Jobs run outside a crawl by a queue's workers: ``crawl`` (one handle's import, run by RQ)."""
