"""`enabled_schedules`: the `--schedules` grammar over the registry of schedule names;
`pass_schedules`: a pass's `schedules` option."""

import pytest
from rnnc.target import schedules
from rnnc.target.schedules import enabled_schedules, pass_schedules
from xdsl.utils.exceptions import PassFailedException


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


def test_a_pass_option_is_parsed_once_for_every_pass() -> None:
    """Each pass with a `schedules` option reads it through `pass_schedules`: a bad word
    fails the pass with its name and the option's."""
    assert pass_schedules("spatial-place", "all,-a") == {"b"}
    with pytest.raises(PassFailedException) as failure:
        pass_schedules("spatial-place", "a,c")
    assert str(failure.value) == "spatial-place: schedules: unknown schedule 'c' (known: a, b)"
