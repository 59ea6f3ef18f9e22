"""build_dataclass: the provider's plain dict inputs become a component's typed args."""

from dataclasses import dataclass, field
from enum import StrEnum

import pytest

from reliability_stack.config import AlertTarget
from reliability_stack.dataclass_inputs import build_dataclass
from reliability_stack.errors import InputError


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Inner:
    name: str
    weight: int = 1


@dataclass(frozen=True)
class Outer:
    title: str
    inner: Inner
    many: list[Inner] = field(default_factory=list)
    by_region: dict[str, Inner] = field(default_factory=dict)
    colour: Colour = Colour.RED
    optional: Inner | None = None
    pair: tuple[int, ...] = ()
    target: AlertTarget | None = None


def test_nested_dataclasses_lists_dicts_enums_tuples_and_models_are_rebuilt():
    value = build_dataclass(Outer, {
        "title": "t", "inner": {"name": "a", "weight": 2.0}, "many": [{"name": "b"}],
        "by_region": {"eu": {"name": "c"}}, "colour": "blue", "optional": {"name": "d"}, "pair": [1.0, 2.0],
        "target": {"protocol": "email", "endpoint": "ops@example.com"},
    })
    assert value == Outer(title="t", inner=Inner("a", 2), many=[Inner("b")], by_region={"eu": Inner("c")},
                          colour=Colour.BLUE, optional=Inner("d"), pair=(1, 2),
                          target=AlertTarget(protocol="email", endpoint="ops@example.com"))
    assert isinstance(value.inner.weight, int) and isinstance(value.pair[0], int)


def test_missing_values_take_the_dataclass_defaults_and_instances_pass_through():
    value = build_dataclass(Outer, {"title": "t", "inner": Inner("a"), "optional": None})
    assert value.colour is Colour.RED and value.many == [] and value.optional is None
    assert build_dataclass(Outer, value) is value


@pytest.mark.parametrize(("value", "field_path"), [
    ({"title": "t", "inner": {"name": "a"}, "colour": "green"}, "args.colour"),
    ({"title": "t", "inner": {"name": "a"}, "shape": "round"}, "args.shape"),
    ({"title": "t", "inner": {"name": "a", "size": 3}}, "args.inner.size"),
    ({"title": "t", "inner": "a"}, "args.inner"),
    ({"inner": {"name": "a"}}, "args"),
])
def test_bad_inputs_name_the_field(value, field_path):
    with pytest.raises(InputError) as error:
        build_dataclass(Outer, value)
    assert error.value.field == field_path
