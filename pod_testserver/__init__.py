"""A Memri Pod stand-in for tests, benchmarks and the offline demo.

``python -m pod_testserver --host 127.0.0.1 --port 0 [--data FILE]`` serves the
routes pymemri 0.1.2 calls (``/v4/account``, ``/version``, ``/v4/<owner>/{create_item, get_item,
update_item, delete_item, create_edge, delete_edge_by_source_target, get_edges, search, bulk,
upload_file, upload_file_b, get_file}``, ``/v5/<owner>/schema``) with the Pod's semantics: unique
item ids, no upsert, duplicate edges accepted, atomic bulks, the database key checked per owner
(ClientAuth, or a plugin's PluginAuth: :mod:`.pluginauth`), properties checked against the
schema. See :mod:`.server` for the test-only routes (a PluginAuth for a PluginRun among them)
and fault injection.
"""
