"""The architecture model: presets, file formats and strict validation."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from rnnc.target.arch import (
    DEFAULT_ARCHITECTURE,
    ArchitectureError,
    architecture_from_dict,
    load_architecture,
    preset_names,
)


def test_presets_are_shipped() -> None:
    assert preset_names() == ("plasticine", "plasticine-rnn")
    assert DEFAULT_ARCHITECTURE == "plasticine-rnn"
    assert load_architecture().name == "plasticine-rnn"


def test_plasticine_rnn_matches_the_paper() -> None:
    arch = load_architecture("plasticine-rnn")
    assert (arch.grid.rows, arch.grid.cols) == (24, 24)
    assert (arch.pcu.count, arch.pcu.lanes, arch.pcu.stages) == (192, 16, 4)
    assert (arch.pmu.count, arch.pmu.capacity_kib, arch.pmu.banks) == (384, 84, 16)
    assert arch.clock_ghz == 1.0
    assert arch.on_chip_bytes() == 31.5 * 2**20  # Table 4: 31.5 MB
    assert arch.max_rv("mixed") == 64  # 16 lanes x 4 packed 8-bit multiplies
    assert arch.max_rv("fp32") == 16
    assert arch.map_reduce_latency("mixed") == 2 + 4 + 1  # §4.1: 2 + log2(#LANE) + 1
    assert arch.die_area_mm2() == pytest.approx(494.37, abs=1e-6)  # Table 4
    assert arch.pmu.read_bytes_per_cycle == 64  # one PMU feeds rv = 64 8-bit weights
    assert arch.dram.address_generators == 50
    assert arch.default_precision == "mixed"
    assert any("states no dram bandwidth" in note.lower() for note in arch.notes)


def test_plasticine_isca17() -> None:
    arch = load_architecture("plasticine")
    assert (arch.pcu.count, arch.pmu.count, arch.pcu.stages) == (64, 64, 6)
    assert arch.pmu.capacity_kib == 256
    assert arch.dram.bandwidth_gbs == 51.2
    assert arch.dram.address_generators == 34
    assert arch.die_area_mm2() == pytest.approx(112.77, rel=1e-3)
    assert [mode.name for mode in arch.precisions] == ["fp32"]
    with pytest.raises(ValueError, match="does not support precision 'mixed'"):
        arch.precision("mixed")


def test_layouts() -> None:
    rnn = load_architecture("plasticine-rnn")
    assert [rnn.grid.unit_at(5, col) for col in range(6)] == ["pmu", "pcu", "pmu"] * 2
    isca = load_architecture("plasticine")
    assert [isca.grid.unit_at(0, c) for c in range(4)] == ["pcu", "pmu"] * 2
    assert [isca.grid.unit_at(1, c) for c in range(4)] == ["pmu", "pcu"] * 2
    with pytest.raises(IndexError):
        isca.grid.unit_at(16, 0)


def test_round_trip_json_and_yaml(tmp_path: Path) -> None:
    arch = load_architecture("plasticine-rnn")
    assert architecture_from_dict(arch.to_dict()) == arch
    json_file = tmp_path / "chip.json"
    json_file.write_text(json.dumps(arch.to_dict()))
    yaml_file = tmp_path / "chip.yaml"
    yaml_file.write_text(yaml.safe_dump(arch.to_dict()))
    assert load_architecture(str(json_file)) == arch
    assert load_architecture(str(yaml_file)) == arch


def test_digest_identifies_the_parameters() -> None:
    arch = load_architecture("plasticine-rnn")
    assert arch.digest() == load_architecture("plasticine-rnn").digest()
    data = arch.to_dict()
    data["dram"]["bandwidth_gbs"] = 100.0
    assert architecture_from_dict(data).digest() != arch.digest()


def _preset_data() -> dict[str, Any]:
    return copy.deepcopy(load_architecture("plasticine-rnn").to_dict())


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        for key in parents:
            data = data[key]
        data[leaf] = value

    return mutate


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        for key in parents:
            data = data[key]
        del data[leaf]

    return mutate


PCU_FIELDS = (
    "area_mm2, arithmetic_bits, control_inputs, control_outputs, count, counters, lanes, power_w, "
    "registers_per_stage, scalar_inputs, scalar_outputs, stages, vector_inputs, vector_outputs"
)

MALFORMED = [
    (_set("pcu.lanes", -3), "field 'pcu.lanes': expected integer in [2, 1024], got -3"),
    (_set("pcu.lanes", "16"), "field 'pcu.lanes': expected integer in [2, 1024], got \"16\""),
    (_set("pcu.stages", 4.5), "field 'pcu.stages': expected integer in [1, 64], got 4.5"),
    (_delete("pmu.capacity_kib"), "field 'pmu.capacity_kib': missing (required)"),
    (_set("pcu.lane", 16), f"field 'pcu.lane': unknown field (allowed: {PCU_FIELDS})"),
    (_set("clock_ghz", 0), "field 'clock_ghz': expected number in [0.001, 1000], got 0"),
    (
        _set("dram.bandwidth_gbs", -51.2),
        "field 'dram.bandwidth_gbs': expected number in [0.001, 1000000], got -51.2",
    ),
    (
        _set("grid.tile", [["pmu", "alu", "pmu"]]),
        "field 'grid.tile.0.1': expected one of \"pcu\", \"pmu\", got \"alu\"",
    ),
    (
        _set("network.links_per_switch.vector", 0),
        "field 'network.links_per_switch.vector': expected integer in [1, 1024], got 0",
    ),
    (
        _set("pmu.bank_width_bits", 12),
        "field 'pmu.bank_width_bits': expected integer in [8, 4096], a multiple of 8, got 12",
    ),
    (
        _set("dram.address_generator_edges", ["left", "left"]),
        "field 'dram.address_generator_edges': expected distinct items, got [\"left\", \"left\"]",
    ),
    # Cross-field rules, checked after the schema.
    (
        _set("pcu.count", 200),
        "field 'pcu.count': expected 192 (the PCU sites of the 24x24 grid tiled with "
        "[[\"pmu\", \"pcu\", \"pmu\"]]), got 200",
    ),
    (
        _set("grid.cols", 25),
        "field 'grid.cols': expected a multiple of the tile's 3 cols, got 25",
    ),
    (
        _set("grid.tile", [["pmu", "pcu", "pmu"], ["pcu", "pmu"]]),
        "field 'grid.tile': rows of the tile differ in length",
    ),
    (
        _set("default_precision", "int3"),
        "field 'default_precision': expected one of fp32, int4, int5, mixed, mxfp4, mxfp6, "
        "got \"int3\"",
    ),
    (
        _set("precisions.int8", {"weight_bits": 8, "macs_per_lane": 4,
                                 "map_reduce_prefix_stages": 2}),
        "field 'precisions.int8': precision 'int8': weight format int8 does not widen exactly "
        "to the multiplier format float8_e4m3fn: no power-of-two scale makes all its element "
        "values values of float8_e4m3fn",
    ),
    (
        _set("precisions.int3", {"weight_bits": 4, "macs_per_lane": 4,
                                 "map_reduce_prefix_stages": 2}),
        "field 'precisions.int3': weight_bits is 4, the format int3 stores 3-bit elements",
    ),
    (
        _set("precisions.fp8", {"weight_bits": 8, "macs_per_lane": 4,
                                "map_reduce_prefix_stages": 2}),
        "field 'precisions.fp8': unknown precision 'fp8': expected fp32, mixed, a weight "
        "format (intN, intNbK, mxfp8, mxfp8e5m2, mxfp6, mxfp6e3m2, mxfp4, mxint8) or one of "
        "those but fp32 with :KEY=VALUE[,KEY=VALUE...], KEY in fmt, lut, range, interp",
    ),
    (
        _set("precisions.mixed.weight_bits", 16),
        "field 'precisions.mixed.macs_per_lane': expected at most 2 (packed 16-bit values in "
        "a 32-bit lane), got 4",
    ),
    (
        _set("pcu.arithmetic_bits", [16, 32]),
        "field 'precisions.int4': its weights are widened to 8-bit multipliers, which the "
        "PCU's arithmetic_bits [16, 32] lack",
    ),
    (
        _set("pmu.banks", 8),
        "field 'pmu.banks': expected banks x bank_width_bits >= 512 (one PMU feeds a PCU's 16 "
        "32-bit lanes every cycle), got 8 x 32",
    ),
]


@pytest.mark.parametrize(("mutate", "message"), MALFORMED)
def test_malformed_file_gives_one_clear_error(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], message: str
) -> None:
    data = _preset_data()
    mutate(data)
    path = tmp_path / "chip.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ArchitectureError) as caught:
        load_architecture(str(path))
    assert caught.value.message == message
    assert caught.value.location == str(path)
    assert str(caught.value) == f"{path}: error: {message}"


def test_yaml_file_errors_name_the_field(tmp_path: Path) -> None:
    data = _preset_data()
    data["pcu"]["lanes"] = -3
    path = tmp_path / "chip.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(
        ArchitectureError, match=r"field 'pcu.lanes': expected integer in \[2, 1024\]"
    ):
        load_architecture(str(path))


def test_several_problems_are_counted(tmp_path: Path) -> None:
    data = _preset_data()
    data["pcu"]["lanes"] = -3
    data["pmu"]["banks"] = 0
    with pytest.raises(ArchitectureError) as caught:
        architecture_from_dict(data, "chip.json")
    assert caught.value.message == (
        "field 'pcu.lanes': expected integer in [2, 1024], got -3 (and 1 more problem)"
    )


def test_syntax_errors_are_located(tmp_path: Path) -> None:
    path = tmp_path / "chip.json"
    path.write_text('{"name": "x",\n  "clock_ghz": }')
    with pytest.raises(ArchitectureError) as caught:
        load_architecture(str(path))
    assert caught.value.location == f"{path}:2:16"
    assert caught.value.message.startswith("invalid JSON")
    broken = tmp_path / "chip.yaml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(ArchitectureError, match="invalid YAML"):
        load_architecture(str(broken))


def test_not_an_object_and_unknown_names() -> None:
    with pytest.raises(ArchitectureError) as caught:
        architecture_from_dict([1, 2], "chip.json")
    assert caught.value.message == "field '<top level>': expected an object, got [1, 2]"
    with pytest.raises(ArchitectureError) as caught:
        load_architecture("plasticine-9000")
    assert caught.value.message == (
        "no such architecture file, and not a preset name (presets: plasticine, plasticine-rnn)"
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("clock_ghz", float("nan")), ("dram.bandwidth_gbs", float("inf")),
     ("pcu.area_mm2", float("-inf"))],
)
def test_non_finite_numbers_are_refused(field: str, value: float) -> None:
    data = _preset_data()
    _set(field, value)(data)
    with pytest.raises(ArchitectureError) as caught:
        architecture_from_dict(data, "chip.json")
    assert caught.value.message == f"field '{field}': expected a finite number, got {value}"


def test_one_lane_is_refused() -> None:
    """The cost model folds partial sums with a cross-lane tree: one lane never folds."""
    data = _preset_data()
    data["pcu"]["lanes"] = 1
    with pytest.raises(ArchitectureError, match=r"'pcu.lanes': expected integer in \[2, 1024\]"):
        architecture_from_dict(data, "chip.json")


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_a_file_not_in_utf8_is_named(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"chip{suffix}"
    path.write_bytes(json.dumps(_preset_data()).replace("plasticine", "caf\u00e9")
                     .encode("latin-1"))
    with pytest.raises(ArchitectureError) as caught:
        load_architecture(str(path))
    assert caught.value.location == str(path)
    assert "not a UTF-8 text file" in caught.value.message


def test_yaml_aliases_are_refused(tmp_path: Path) -> None:
    """A few lines of aliases can expand to billions of nodes ("billion laughs")."""
    path = tmp_path / "chip.yaml"
    path.write_text("a: &a [x, x]\nb: &b [*a, *a]\nnotes: *b\n")
    with pytest.raises(ArchitectureError, match="aliases"):
        load_architecture(str(path))


def test_a_user_file_adds_weight_formats(tmp_path: Path) -> None:
    """The chip's preset says which formats it supports; a user file may add others that
    widen exactly to its 8-bit multipliers, counted in their own bytes."""
    data = _preset_data()
    for name, bits in (("int3", 3), ("mxfp6", 6), ("int5b16", 5)):
        data["precisions"][name] = {"weight_bits": bits, "macs_per_lane": 4,
                                    "map_reduce_prefix_stages": 2}
    path = tmp_path / "chip.json"
    path.write_text(json.dumps(data))
    arch = load_architecture(str(path))
    assert [arch.precision(n).row_bytes(64) for n in ("int3", "mxfp6", "int5b16", "mixed")] == [
        24 + 2, 48 + 2, 40 + 4, 64]
    assert arch.precision("int3").tables and not arch.precision("fp32").tables
    assert arch.max_rv("int3") == arch.max_rv("mixed")
