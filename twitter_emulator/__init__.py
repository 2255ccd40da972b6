"""A faithful local Twitter API, v1.1 and v2 (``python -m twitter_emulator``).

A separate process that tests, benchmarks and the offline demo share: a deterministic synthetic
world (or the recorded payloads) served under /1.1 and /2, OAuth 1.0a and bearer-token
verification, quotas, faults, and a ground truth of what a correct crawl exports. See
``README.md`` in this package.
"""
