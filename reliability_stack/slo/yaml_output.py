"""YAML text of generated rule files: keys in the order written, multi-line PromQL as `|` blocks."""

from __future__ import annotations

from typing import Any

import yaml


class _RuleDumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line strings as literal blocks, readable in reviews and diffs."""

    def ignore_aliases(self, data: Any) -> bool:
        # Shared lists (e.g. `equal:`) must be written out, not as &id001 anchors.
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_RuleDumper.add_representer(str, _str)


def dump_yaml(data: Any, header: str | None = None) -> str:
    """`data` as YAML; `header` lines become leading comments."""
    text = yaml.dump(data, Dumper=_RuleDumper, sort_keys=False, allow_unicode=True, width=120)
    if header:
        text = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines()) + text
    return text
