"""A configuration is checked before anything runs it: every corruption is one diagnostic
naming the field, from `load_config` (what `rnnc sim` and `rnnc show` call first)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rnnc.backend.load import ConfigError, load_config, schema_errors
from rnnc.backend.schema import schema_text
from rnnc.driver.cli import main
from rnnc.driver.io import save_npz
from rnnc.target.arch import architecture_from_dict

SCHEMA_FILE = Path(__file__).parents[2] / "compiler" / "backend" / "config.schema.json"


def _rewrite(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))


def _rehash_arch(config: dict[str, Any]) -> None:
    config["arch"]["sha256"] = architecture_from_dict(config["arch"]["description"]).digest()


def _unit(config: dict[str, Any], unit_id: str) -> dict[str, Any]:
    return next(u for u in config["chips"][0]["units"] if u["id"] == unit_id)


def _route(config: dict[str, Any], route_id: str) -> dict[str, Any]:
    return next(r for r in config["chips"][0]["routes"] if r["id"] == route_id)


def test_the_checked_in_schema_is_the_generated_one() -> None:
    # regenerate with `python -m rnnc.backend.schema` (and raise FORMAT_VERSION)
    assert SCHEMA_FILE.read_text() == schema_text()


def test_a_written_config_validates_and_loads(strip_config: Path) -> None:
    data = json.loads(strip_config.read_text())
    assert schema_errors(data) == []
    loaded = load_config(strip_config)
    assert loaded.arch.name == "strip"
    assert {u["kind"] for u in data["chips"][0]["units"]} == {"pcu", "pmu", "ag"}
    assert (strip_config.parent / "config.weights.npz").is_file()


def test_a_design_without_a_program_loads_but_does_not_simulate(
    strip_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The strip design has units and routes but no memories, nests or schedule: it can be
    checked and drawn, and `rnnc sim` says there is nothing to simulate."""
    inputs = strip_config.parent / "in.npz"
    save_npz(inputs, {})
    assert main(["sim", str(strip_config), "--inputs", str(inputs)]) == 1
    assert capsys.readouterr().err == (
        f"{strip_config}: error: field 'program': the design has no program (no memories, "
        "nests or schedule): there is nothing to simulate\n")


def _problem(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.render()


def test_a_schema_violation_names_the_field(strip_config: Path) -> None:
    _rewrite(strip_config, lambda c: _unit(c, "a").__setitem__("row", "zero"))
    assert "field 'chips.0.units." in _problem(strip_config)
    assert ".row': expected" in _problem(strip_config)


def test_an_unknown_field_is_refused(strip_config: Path) -> None:
    _rewrite(strip_config, lambda c: c.__setitem__("colour", "red"))
    assert "field 'colour': unknown field" in _problem(strip_config)


def test_a_newer_major_version_is_refused(strip_config: Path) -> None:
    _rewrite(strip_config, lambda c: c.__setitem__("format_version", "2.9"))
    assert "field 'format_version': this rnnc reads format 2.0 to 2.2, got 2.9" in _problem(
        strip_config)


def test_a_config_of_format_1_is_refused(strip_config: Path) -> None:
    # format 1 had no control routes: its time loop's tokens could not be timed
    _rewrite(strip_config, lambda c: c.__setitem__("format_version", "1.0"))
    assert "field 'format_version': expected a string matching ^2\\.[0-9]+$, got \"1.0\"" in (
        _problem(strip_config))


def test_an_altered_architecture_is_refused(strip_config: Path) -> None:
    _rewrite(strip_config, lambda c: c["arch"]["description"].__setitem__("clock_ghz", 2.0))
    assert "field 'arch.sha256': does not match the architecture description" in _problem(
        strip_config)


def test_a_unit_on_a_site_of_the_wrong_kind(strip_config: Path) -> None:
    # column 0 of the strip holds a PMU
    _rewrite(strip_config, lambda c: _unit(c, "a").update(row=0, col=0))
    assert _problem(strip_config).endswith(
        "error: field 'chips.0.units.4': unit 'a': PCU at (0, 0), which is a PMU site")


def test_two_units_on_one_site(strip_config: Path) -> None:
    def stack(config: dict[str, Any]) -> None:
        w0, w1 = _unit(config, "w_0"), _unit(config, "w_1")
        w1.update(row=w0["row"], col=w0["col"])

    _rewrite(strip_config, stack)
    message = _problem(strip_config)
    assert "w_" in message and "site" in message


def test_a_route_with_a_gap(strip_config: Path) -> None:
    def gap(config: dict[str, Any]) -> None:
        route = _route(config, "s2")
        longest = max(route["paths"], key=len)
        del longest[len(longest) // 2]

    _rewrite(strip_config, gap)
    message = _problem(strip_config)
    assert "field 'chips.0.routes." in message and "s2" in message


def test_over_used_links(strip_config: Path) -> None:
    # the routed strip needs two scalar links where @a's three partial sums cross
    def one_link(config: dict[str, Any]) -> None:
        config["arch"]["description"]["network"]["links_per_switch"]["scalar"] = 1
        _rehash_arch(config)

    _rewrite(strip_config, one_link)
    message = _problem(strip_config)
    assert "field 'chips.0.routes." in message and "link" in message


def test_a_weight_file_that_does_not_match_its_hash(strip_config: Path) -> None:
    save_npz(strip_config.parent / "config.weights.npz", {"W": np.zeros(3, np.float32)})
    assert "field 'weights.sha256': does not match the file" in _problem(strip_config)


def test_rnnc_sim_refuses_a_corrupted_config_with_one_diagnostic(
    strip_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _rewrite(strip_config, lambda c: _unit(c, "a").update(row=0, col=0))
    inputs = tmp_path / "in.npz"
    save_npz(inputs, {})
    out = tmp_path / "out.npz"
    assert main(["sim", str(strip_config), "--inputs", str(inputs), "-o", str(out)]) == 1
    error = capsys.readouterr().err
    assert error.count("error:") == 1 and "Traceback" not in error
    assert error.startswith(f"{strip_config}: error: field 'chips.0.units.")
    assert not out.exists()


def test_invalid_json_has_a_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"format": "rnnc-config",\n  oops}')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.render().startswith(f"{path}:2:3: error: invalid JSON")


def test_the_weight_hash_is_of_the_file(strip_config: Path) -> None:
    data = json.loads(strip_config.read_text())
    npz = (strip_config.parent / data["weights"]["path"]).read_bytes()
    assert data["weights"]["sha256"] == hashlib.sha256(npz).hexdigest()
