"""Fixtures of the API tests that read a real emulator's answers with the API modules (the v2
reference walk of ``test_v2_truth.py``): the shared emulator world of ``tests/emulator``."""

from __future__ import annotations

from tests.emulator.conftest import emulator, world

__all__ = ["emulator", "world"]
