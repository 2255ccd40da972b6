"""Stores: where imported items go. The embedded SQLite Pod, a shared PostgreSQL database and the
real Pod, behind one interface.

``base`` (the interface and ``open_store``), ``records`` (a batch read and checked, and the merge
rule of an upsert, shared by the stores), ``ids`` (Pod ids), ``sqlite`` (the embedded store),
``postgres`` (the store many writers share), ``relational`` (what those two read back, in the
SQL they share); the Pod store is ``pod`` (lifecycle and I/O),
``podplan`` (the write planner, without I/O), ``podschema`` (the Pod's types, derived from
``twitter_crawler.items``), ``podlog`` (pymemri imported without touching logging), ``podhttp``
(timeouts, socket options, PluginAuth secrets) and ``podlease`` (its one writer).
"""
