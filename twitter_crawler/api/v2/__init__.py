"""api/v2: requests and parsers of the Twitter API v2 (the backend beside ``api/v1``)."""
