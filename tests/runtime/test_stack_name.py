"""`relstack stack-name`: review stack names are valid, bounded, stable and never collide."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from reliability_stack.cli.main import app
from reliability_stack.errors import InputError
from reliability_stack.runtime.stack_name import MAX_LENGTH, STACK_NAME_PATTERN, stack_name_for_branch

#: Pulumi's own rule for stack names (and the one config.read_stack_file enforces).
PULUMI_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")

AWKWARD = [
    "feature/login",
    "Feature/Login",
    "feature-login",
    "feature--login",
    "users/jdoe/fix#123",
    "dependabot/npm_and_yarn/lodash-4.17.21",
    "fix/größe-ändern",
    "修复/登录",
    "🚀-launch",
    "x" * 200,
    "release/" + "v1.2.3-" * 30,
    "!!!",
    "/",
    "-",
    "...",
    "main",
    "UPPER",
    "trailing-",
]


@pytest.mark.parametrize("branch", AWKWARD)
def test_awkward_branches_give_valid_bounded_names(branch: str) -> None:
    name = stack_name_for_branch(branch)
    assert PULUMI_STACK_NAME.match(name), name
    assert STACK_NAME_PATTERN.match(name), name
    assert name.startswith("review-")
    assert len(name) <= MAX_LENGTH


def test_names_are_readable_and_verbatim_when_nothing_is_lost() -> None:
    assert stack_name_for_branch("fix-42") == "review-fix-42"
    assert stack_name_for_branch("main") == "review-main"
    slashed = stack_name_for_branch("feature/login")
    assert slashed.startswith("review-feature-login--")
    assert re.fullmatch(r"review-feature-login--[0-9a-f]{10}", slashed)


def test_all_awkward_names_are_distinct_and_stable() -> None:
    first = [stack_name_for_branch(b) for b in AWKWARD]
    again = [stack_name_for_branch(b) for b in AWKWARD]
    assert first == again
    assert len(set(first)) == len(AWKWARD)


def test_sanitizing_collisions_are_split_by_the_hash() -> None:
    # The same readable text from three different branches: three stacks.
    names = {stack_name_for_branch(b) for b in ("feature-login", "feature/login", "Feature/Login")}
    assert len(names) == 3
    # A verbatim branch that looks like a hashed name cannot take another branch's stack.
    hashed = stack_name_for_branch("feature/login")
    assert stack_name_for_branch(hashed.removeprefix("review-")) != hashed


def test_long_names_are_truncated_with_a_hash() -> None:
    long_a = "a" * 200
    long_b = "a" * 199 + "b"
    assert stack_name_for_branch(long_a) != stack_name_for_branch(long_b)
    assert len(stack_name_for_branch(long_a)) == MAX_LENGTH


def test_stable_across_processes() -> None:
    """No per-process hash seed: another interpreter derives the same name."""
    branch = "feature/ünïcode/λ"
    code = ("from reliability_stack.runtime.stack_name import stack_name_for_branch as f;"
            f"print(f({branch!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "123"}).stdout.strip()
    assert out == stack_name_for_branch(branch)


@pytest.mark.parametrize("branch", ["", "   "])
def test_empty_branch_is_bad_input(branch: str) -> None:
    with pytest.raises(InputError, match="branch name is required"):
        stack_name_for_branch(branch)


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=250).filter(lambda s: s.strip()))
def test_property_any_branch_gives_a_valid_name(branch: str) -> None:
    name = stack_name_for_branch(branch)
    assert STACK_NAME_PATTERN.match(name) and PULUMI_STACK_NAME.match(name)
    assert len(name) <= MAX_LENGTH
    assert name == stack_name_for_branch(branch)


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=120), st.text(min_size=1, max_size=120))
def test_property_different_branches_never_share_a_stack(first: str, second: str) -> None:
    if first == second or not first.strip() or not second.strip():
        return
    assert stack_name_for_branch(first) != stack_name_for_branch(second)


def test_cli_prints_the_name_and_rejects_empty_branches() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["stack-name", "users/jdoe/Fix#123"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == stack_name_for_branch("users/jdoe/Fix#123")
    empty = runner.invoke(app, ["stack-name", ""])
    assert empty.exit_code == 2
    assert "branch name is required" in empty.output
