"""Shared fixtures: the CloudWatch test stack is captured once per session."""

from __future__ import annotations

import pytest

from reliability_stack.preview.capture import CapturedStack
from tests.cloudwatch.stack_under_test import DeclaredAlarms, capture, declared_alarms


@pytest.fixture(scope="session")
def captured() -> CapturedStack:
    return capture()


@pytest.fixture(scope="session")
def declared(captured: CapturedStack) -> DeclaredAlarms:
    return declared_alarms(captured)
