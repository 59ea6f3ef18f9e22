"""The one YAML reader for user files: same data as PyYAML's safe loader, errors that name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reliability_stack.errors import ConfigError, SpecError
from reliability_stack.yaml_input import parse_yaml, parse_yaml_documents

ROOT = Path(__file__).resolve().parents[2]
USER_FILES = sorted([*ROOT.glob("stacks/*.yaml"), *ROOT.glob("slos/**/*.yaml"), ROOT / "Pulumi.yaml"])


@pytest.mark.parametrize("path", USER_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_reads_every_user_file_as_the_pure_python_safe_loader_does(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert parse_yaml_documents(text, file=path, error=SpecError) == list(yaml.safe_load_all(text))


def test_malformed_yaml_names_the_file_and_the_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml("config:\n  a: 1\n  b: [1, 2\n", file="stacks/Pulumi.x.yaml", error=ConfigError)
    assert caught.value.file == "stacks/Pulumi.x.yaml"
    assert caught.value.field is not None and caught.value.field.startswith("line ")
    assert caught.value.reason.startswith("malformed YAML (")


def test_python_object_tags_are_refused_not_constructed() -> None:
    with pytest.raises(SpecError) as caught:
        parse_yaml_documents("slos: !!python/object/apply:os.system ['true']\n", file="slos/x.yaml", error=SpecError)
    assert caught.value.field == "line 1"


def test_one_document_expected_where_one_is_read() -> None:
    with pytest.raises(ConfigError, match="malformed YAML"):
        parse_yaml("a: 1\n---\nb: 2\n", file="Pulumi.yaml", error=ConfigError)
    assert parse_yaml_documents("a: 1\n---\nb: 2\n", file="slos/x.yaml", error=SpecError) == [{"a": 1}, {"b": 2}]
    assert parse_yaml("", file="Pulumi.yaml", error=ConfigError) is None
