"""Configurations in a block-scaled weight format (int4, mxfp4, int5, mxfp6 on
plasticine-rnn): the weight file holds the format's values, `rnnc sim` and the loop
interpreter's emulation of the same mode agree bit for bit, the format is recorded and
checked on load, and a format the chip does not support is a diagnostic."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from rnnc.backend.load import ConfigError, load_config
from rnnc.driver.cli import main
from rnnc.driver.io import load_npz, save_npz
from rnnc.numerics.precision import parse_precision
from rnnc.target.arch import load_architecture
from rnnc.target.checks import pmu_bytes

#: (cell, hidden, input, precision, bit for bit): the RNN's design (rv = 50) adds its float32
#: partial sums in another order than the loop interpreter, as `mixed` does on it
#: (test_sim_values: MIXED_TOLERANCE); the other two designs add them in the same order.
CASES = [("lstm", 40, 24, "int4", True), ("gru", 40, 24, "mxfp4", True),
         ("rnn", 33, 17, "mxfp4", False), ("gru", 40, 24, "int5", True),
         ("lstm", 40, 24, "mxfp6", True)]
MIXED_TOLERANCE = 1e-4


def _model(tmp: Path, cell: str, hidden: int, inputs: int) -> Path:
    model = tmp / "m.mlir"
    assert main(["gen", cell, str(hidden), "4", "--input", str(inputs), "-o", str(model)]) == 0
    return model


def _compile(tmp: Path, model: Path, precision: str) -> Path:
    config = tmp / f"{precision}.json"
    assert main([str(model), "-o", str(config), "--precision", precision]) == 0
    return config


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_format_config_simulates_as_the_interpreter_emulates(
    tmp_path: Path, case: tuple[str, int, int, str, bool]
) -> None:
    cell, hidden, inputs, precision, bitwise = case
    model = _model(tmp_path, cell, hidden, inputs)
    config = _compile(tmp_path, model, precision)
    mode = parse_precision(precision)
    loaded = load_config(config)
    record = loaded.data["precision"]
    assert (record["name"], record["weight_bits"]) == (precision, mode.weight_format.bits)
    assert record["weight_format"] == mode.weight_format.record(mode.scale_range)
    # the weight file: W and R as the format stores them, bit for bit; the bias as given
    given = load_npz(str(tmp_path / "m.npz"))
    for name in ("W", "R"):
        stored = mode.quantize_matrix(given[name])
        assert np.array_equal(loaded.weights[name].view(np.uint32), stored.view(np.uint32))
        assert not np.array_equal(stored, given[name])
    assert np.array_equal(loaded.weights["B"], given["B"])
    # the PMUs holding W and R say so, and count the format's bytes
    held = {h["quantization"] for chip in loaded.data["chips"] for u in chip["units"]
            for h in u.get("holds", ()) if h["array"] in ("W", "R")}
    assert held == {precision}
    # values: `rnnc sim` against `rnnc run` of the same mode, bit for bit
    feed = tmp_path / "m.inputs.npz"
    sim_out, run_out = tmp_path / "sim.npz", tmp_path / "run.npz"
    assert main(["sim", str(config), "--inputs", str(feed), "-o", str(sim_out)]) == 0
    assert main(["run", str(model), "--inputs", str(feed), "-p",
                 "rnn-decompose,loop-fuse,loop-assign-resources", "--precision", precision,
                 "-o", str(run_out)]) == 0
    got, expected = load_npz(str(sim_out)), load_npz(str(run_out))
    for name, value in expected.items():
        if bitwise:
            assert np.array_equal(got[name].view(np.uint32), value.view(np.uint32)), name
        else:
            assert np.max(np.abs(got[name] - value)) <= MIXED_TOLERANCE, name


#: Formats plasticine-rnn does not list, which a user architecture may declare.
USER_FORMATS = ("int2", "int3", "mxfp6e3m2", "mxfp8")


def test_user_formats_simulate_as_the_interpreter_emulates(tmp_path: Path) -> None:
    """Every other format that widens exactly to E4M3, declared by a user architecture:
    `rnnc sim` and `rnnc run` of the mode agree bit for bit."""
    preset = Path(__file__).parents[2] / "compiler" / "target" / "presets" / "plasticine-rnn.json"
    arch = json.loads(preset.read_text())
    arch["name"] = "more-formats"
    for name in USER_FORMATS:
        arch["precisions"][name] = {**arch["precisions"]["int4"],
                                    "weight_bits": parse_precision(name).weight_format.bits}
    user = tmp_path / "arch.json"
    user.write_text(json.dumps(arch))
    model = _model(tmp_path, "lstm", 16, 8)
    feed = tmp_path / "m.inputs.npz"
    for name in USER_FORMATS:
        config, sim_out, run_out = (tmp_path / f"{name}.{end}" for end in
                                    ("json", "sim.npz", "run.npz"))
        assert main([str(model), "-o", str(config), "--precision", name, "--arch",
                     str(user)]) == 0
        assert main(["sim", str(config), "--inputs", str(feed), "-o", str(sim_out)]) == 0
        assert main(["run", str(model), "--inputs", str(feed), "-p",
                     "rnn-decompose,loop-fuse,loop-assign-resources", "--precision", name,
                     "--arch", str(user), "-o", str(run_out)]) == 0
        got, expected = load_npz(str(sim_out)), load_npz(str(run_out))
        for output, value in expected.items():
            assert np.array_equal(got[output].view(np.uint32), value.view(np.uint32)), (
                name, output)


def test_weight_pmus_count_the_formats_bytes(tmp_path: Path) -> None:
    """A weight PMU of a map-reduce unit holds its rows in the format: half a byte a weight
    plus a scale byte per 32, against a byte a weight in mixed."""
    from rnnc.backend.load import machine_of

    model = _model(tmp_path, "lstm", 64, 64)
    arch = load_architecture()
    found = {}
    for precision in ("mixed", "int4"):
        loaded = load_config(_compile(tmp_path, model, precision))
        machine = machine_of(loaded.data)
        sizes = pmu_bytes(arch, machine)
        weight = [u for u in machine.units if u.kind == "pmu"
                  and any(h.array in ("W", "R") for h in u.holds)]
        found[precision] = sorted(int(sizes[u.id]) for u in weight)
        # the premise of the count below: each slice row starts at a block (64-wide chunks)
        assert {p["rv"] for p in loaded.data["design"]["nests"] if p["rv"] > 1} == {64}
    assert len(found["int4"]) == len(found["mixed"])
    assert found["int4"] == [n // 2 + n // 32 for n in found["mixed"]]


def _rehash_weights(config: Path, change) -> None:
    data = json.loads(config.read_text())
    file = config.parent / data["weights"]["path"]
    arrays = load_npz(str(file))
    change(arrays)
    save_npz(file, arrays)
    data["weights"]["sha256"] = hashlib.sha256(file.read_bytes()).hexdigest()
    config.write_text(json.dumps(data))


def _problem(config: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    return caught.value.render()


def test_load_refuses_weights_off_the_format(tmp_path: Path) -> None:
    config = _compile(tmp_path, _model(tmp_path, "gru", 40, 24), "mxfp4")

    def nudge(arrays: dict) -> None:
        arrays["R"][0, 1, 2] = np.nextafter(arrays["R"][0, 1, 2], np.float32(1))

    original = float(load_config(config).weights["R"][0, 1, 2])
    _rehash_weights(config, nudge)
    nudged = float(np.nextafter(np.float32(original), np.float32(1)))
    assert _problem(config) == (
        f"{config}: error: field 'weights.arrays.R': holds {nudged!r} at [0, 1, 2], which is "
        f"not a mxfp4 value (it stores {original!r} there; blocks of 32 along the last axis)"
    )


def test_load_refuses_an_inconsistent_format_record(tmp_path: Path) -> None:
    config = _compile(tmp_path, _model(tmp_path, "gru", 40, 24), "int4")
    data = json.loads(config.read_text())
    data["precision"]["weight_format"]["block"] = 16
    config.write_text(json.dumps(data))
    message = _problem(config)
    assert f"{config}: error: field 'precision.weight_format': is " in message
    assert "the spec 'int4' on plasticine-rnn makes it" in message


def test_a_format_the_chip_does_not_support(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    model = _model(tmp_path, "gru", 40, 24)
    assert main([str(model), "-o", str(tmp_path / "c.json"), "--precision", "int3"]) == 1
    assert capsys.readouterr().err.strip().endswith(
        "loop-assign-resources: architecture 'plasticine-rnn' does not support precision "
        "'int3' (supported: fp32, int4, int5, mixed, mxfp4, mxfp6)")
    assert main([str(model), "-o", str(tmp_path / "c.json"), "--precision", "int12"]) == 1
    assert capsys.readouterr().err.startswith("--precision: error: unknown precision 'int12'")


def test_sim_compares_with_fp32_on_the_given_weights(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    """`rnnc sim --compare fp32`: the same machine in float32 on the model's given weights
    (kept in the weight file beside the rounded ones), against `rnnc run --precision fp32`."""
    model = _model(tmp_path, "gru", 40, 24)
    config = _compile(tmp_path, model, "mxfp4")
    loaded = load_config(config)
    given = load_npz(str(tmp_path / "m.npz"))
    assert loaded.data["weights"]["given"] == {"R": "R.given", "W": "W.given"}
    assert np.array_equal(loaded.weights["W.given"], given["W"])
    feed, report, sim_out = tmp_path / "m.inputs.npz", tmp_path / "r.json", tmp_path / "s.npz"
    capsys.readouterr()
    assert main(["sim", str(config), "--inputs", str(feed), "--compare", "fp32",
                 "-o", str(sim_out), "--report", str(report)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("error of mxfp4 against fp32 (the same machine in float32, "
                              "given weights)\n  output       range  max abs err")
    fp32_out = tmp_path / "fp32.npz"
    assert main(["run", str(model), "--inputs", str(feed), "-p",
                 "rnn-decompose,loop-fuse,loop-assign-resources", "--precision", "fp32",
                 "-o", str(fp32_out)]) == 0
    errors = json.loads(report.read_text())["error"]
    got, reference = load_npz(str(sim_out)), load_npz(str(fp32_out))
    for name, value in reference.items():
        measured = float(np.max(np.abs(got[name] - value)))
        assert abs(errors[name]["max_abs"] - measured) <= 1e-5, name
        assert errors[name]["max_abs"] > 1e-3  # mxfp4 is not exact
        spread = float(value.max() - value.min())
        assert abs(errors[name]["max_abs_over_range"] - measured / spread) <= 1e-4, name


def test_load_refuses_a_given_array_of_another_array(tmp_path: Path) -> None:
    config = _compile(tmp_path, _model(tmp_path, "gru", 40, 24), "int4")
    data = json.loads(config.read_text())
    data["weights"]["given"]["B"] = "W.given"
    config.write_text(json.dumps(data))
    assert _problem(config) == (
        f"{config}: error: field 'weights.given.B': expected an array held in the weight "
        "format (R, W) and a weight array of its shape, got 'W.given'")


def test_precision_auto_picks_the_fastest_within_the_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Every mode of the chip is predicted and emulated on the inputs; the fastest within
    the error budget is compiled. Each mode's error is `rnnc run`'s against fp32."""
    from rnnc.driver.auto_precision import Candidate, choice_lines

    model = _model(tmp_path, "gru", 40, 24)
    feed, config = tmp_path / "m.inputs.npz", tmp_path / "auto.json"
    capsys.readouterr()
    assert main([str(model), "-o", str(config), "--precision", "auto", "--max-error", "0.03",
                 "--inputs", str(feed)]) == 0
    lines = capsys.readouterr().out.splitlines()
    table = [line.split() for line in lines[1:7]]
    rows = {row[-6]: (float(row[-5]), float(row[-1])) for row in table}
    assert set(rows) == {"fp32", "mixed", "int4", "mxfp4", "int5", "mxfp6"}
    for mode in ("mixed", "int4"):
        out, ref = tmp_path / f"{mode}.npz", tmp_path / "fp32.npz"
        for precision, path in ((mode, out), ("fp32", ref)):
            assert main(["run", str(model), "--inputs", str(feed), "-p",
                         "rnn-decompose,loop-fuse,loop-assign-resources", "--precision",
                         precision, "-o", str(path)]) == 0
        got, expected = load_npz(str(out)), load_npz(str(ref))
        error = max(float(np.max(np.abs(got[k] - expected[k]))) for k in got)
        assert rows[mode][1] == pytest.approx(error, rel=1e-3)
    within = {m: latency for m, (latency, error) in rows.items() if error <= 0.03}
    chosen = min(within, key=lambda m: (within[m], rows[m][1]))
    candidates = [Candidate(m, latency, error) for m, (latency, error) in rows.items()]
    assert lines[0] == choice_lines(chosen, candidates, 0.03).splitlines()[0]
    assert load_config(config).data["precision"]["name"] == chosen


def test_precision_auto_needs_a_budget_and_inputs(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    model = _model(tmp_path, "gru", 40, 24)
    capsys.readouterr()
    assert main([str(model), "-o", str(tmp_path / "a.json"), "--precision", "auto",
                 "--inputs", str(tmp_path / "m.inputs.npz")]) == 1
    assert capsys.readouterr().err.strip() == (
        "--precision: error: auto needs --max-error E and --inputs IN.npz (the inputs on "
        "which each mode's error against fp32 is measured)")
    assert not (tmp_path / "a.json").exists()


def test_the_scales_a_slice_holds_by_hand() -> None:
    """Blocks restart at each array of a reduction ([W R]); a part that starts inside a
    block touches one more (kinds: whole parts, the last part, none)."""
    from rnnc.numerics.formats import parse_format
    from rnnc.target.format_blocks import kind_blocks

    int4 = parse_format("int4")
    # 2816 in 13 parts of 4 chunks of 57: whole parts of 228 start at 0, 228, 456, ...
    # (456 = 14 x 32 + 8: 228 elements over 8 blocks); the last, [2736, 2816), over 3
    assert [int(b) for b in kind_blocks([(2816,)], 13, 57, int4)] == [8, 3, 0]
    # one whole part of [x h] = [17 | 33]: 1 block of W and 2 of R
    assert [int(b) for b in kind_blocks([(17, 33)], 1, 50, int4)] == [3, 0, 0]
    # aligned: 64-wide parts of a 128-long reduction, 2 blocks each
    assert [int(b) for b in kind_blocks([(128,)], 2, 64, int4)] == [2, 0, 0]


def test_a_fifo_pmu_counts_the_scales_of_its_rows_once(tmp_path: Path) -> None:
    """A FIFO PMU's slice is cut in two boxes of each memory over the same columns (the rows
    it keeps, the rows an AG loads): a row's scales are stored once, so spatial-verify and
    `pmu_bytes` count what the partition declared (they counted the scales twice and
    refused the design)."""
    from rnnc.backend.load import machine_of
    from rnnc.target.stream_buffers import kept_boxes, loaded_boxes
    from test_stream_overflow import _small_chip

    chip = _small_chip(tmp_path, 6, 16)
    model = tmp_path / "m.mlir"
    assert main(["gen", "lstm", "128", "3", "--input", "2200", "--seed", "1",
                 "-o", str(model)]) == 0
    config = tmp_path / "int4.json"
    assert main([str(model), "-o", str(config), "--precision", "int4", "--arch",
                 str(chip)]) == 0
    machine = machine_of(load_config(config).data)
    sizes = pmu_bytes(load_architecture(str(chip)), machine)
    loaded = loaded_boxes(machine.units)
    fifos = [u for u in machine.units if u.kind == "pmu" and u.banking == "fifo"]
    assert fifos and all(kept_boxes(u, loaded) for u in fifos)
    for unit in fifos:
        columns = [(box.memory, box.slices[-1]) for box in unit.boxes]
        assert len(set(columns)) < len(columns), unit.id  # the premise: split rows
        assert sizes[unit.id] == unit.bytes <= 16 * 1024, unit.id


def test_a_multichip_config_stores_the_format(tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    """Over 2 chips the weight file holds the format's values too (it held the given
    weights, which the loader refused), and the given ones for `--compare fp32`; the
    values are the one-chip configuration's."""
    model = _model(tmp_path, "gru", 40, 24)
    feed = tmp_path / "m.inputs.npz"
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    assert main([str(model), "-o", str(one), "--precision", "int4"]) == 0
    assert main([str(model), "-o", str(two), "--precision", "int4", "--chips", "2"]) == 0
    loaded = load_config(two)
    stored = parse_precision("int4").quantize_matrix(load_npz(str(tmp_path / "m.npz"))["R"])
    assert np.array_equal(loaded.weights["R"], stored)
    outs, errors = {}, {}
    for config in (one, two):
        outs[config] = tmp_path / f"{config.stem}.out.npz"
        report = tmp_path / f"{config.stem}.report.json"
        capsys.readouterr()
        assert main(["sim", str(config), "--inputs", str(feed), "-o", str(outs[config]),
                     "--compare", "fp32", "--report", str(report)]) == 0
        assert "against fp32 (the same machine in float32, given weights)" in (
            capsys.readouterr().out)
        errors[config] = {name: e["max_abs"]
                          for name, e in json.loads(report.read_text())["error"].items()}
    got, expected = load_npz(str(outs[two])), load_npz(str(outs[one]))
    for name, value in expected.items():
        assert np.max(np.abs(got[name] - value)) <= MIXED_TOLERANCE, name
        assert 0 < errors[two][name] == pytest.approx(errors[one][name], abs=MIXED_TOLERANCE)
