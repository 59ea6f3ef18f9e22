"""One policy-pack analyzer per test session, started from policies/__main__.py like the engine does."""

from __future__ import annotations

import pytest

from reliability_stack.preview.analyzer import PolicyAnalyzer


@pytest.fixture(scope="session")
def analyzer():
    """The pack with its default config (every policy at its default level and thresholds)."""
    with PolicyAnalyzer() as running:
        yield running
