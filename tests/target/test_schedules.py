"""`enabled_schedules`: the `--schedules` grammar over the registry of schedule names."""

import pytest
from rnnc.target import schedules
from rnnc.target.schedules import enabled_schedules


@pytest.fixture(autouse=True)
def two_schedules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schedules, "SCHEDULES", {"a": "first", "b": "second"})


@pytest.mark.parametrize(("text", "expected"), [
    ("all", {"a", "b"}),
    ("none", set()),
    ("b", {"b"}),
    ("a, b", {"a", "b"}),
    ("all,-a", {"b"}),
    ("all,-a,-b", set()),
])
def test_enabled(text: str, expected: set[str]) -> None:
    assert enabled_schedules(text) == expected


@pytest.mark.parametrize("text", ["c", "all,-c", "a,none"])
def test_unknown_name_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"unknown schedule '(c|none)' \(known: a, b\)"):
        enabled_schedules(text)
