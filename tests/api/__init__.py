"""Tests of the API modules."""
