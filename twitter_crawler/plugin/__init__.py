"""The Pod plugin: ``python -m twitter_crawler.plugin``, the entry point of the container image.

A Memri Pod starts a plugin container when a PluginRun item is created, with the Pod's address,
the owner key, a PluginAuth and the PluginRun item in environment variables. This package reads
them (:mod:`.environment`), runs the project's ``twitter`` crawl into that Pod
(:mod:`.run`, :mod:`.pipeline`), and keeps the PluginRun's status and progress up to date
(:mod:`.reporter`, :mod:`.extension`). ``docs/plugin.md`` describes it for people.
"""
