"""twitter_crawler: import a Twitter account's world into a Memri Pod with Scrapy."""

__version__ = "0.1.0"
