"""Stores: where imported items go. The embedded SQLite Pod and the real Pod, behind one interface."""
