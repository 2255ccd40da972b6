"""A faithful local Twitter API v1.1 (``python -m twitter_crawler.emulator``).

A separate process that tests, benchmarks and the offline demo share: a deterministic synthetic
world (or the recorded payloads), OAuth 1.0a verification, quotas, faults, and a ground truth of
what a correct crawl exports. See ``README.md`` in this package.
"""
