"""Multi-chip configurations (`--chips N`): the hidden units split over chips, the state
exchanged over the links every step.

fp32 configurations of 2 and 3 chips agree with onnxruntime (a reference nobody here
wrote) to 1e-5 relative and with the one-chip configuration of the same model; the
configuration names its links; a model too big for N chips is refused naming the bytes
short; the links section is checked by the loader.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx_cases import RnnCase, batch1_case, rel_err, run_onnxruntime
from rnnc.backend.load import schema_errors
from rnnc.driver.cli import main
from rnnc.driver.io import load_npz, save_npz

FP32_TOLERANCE = 1e-5

CASES = [
    # (op, seed, overrides, chips): odd hidden sizes from the generator; each direction
    ("LSTM", 1, {"direction": "forward"}, 2),
    ("LSTM", 3, {"direction": "bidirectional", "activations": None}, 3),
    ("GRU", 4, {"direction": "forward", "linear_before_reset": 1}, 3),
    ("GRU", 5, {"direction": "bidirectional", "linear_before_reset": 0, "activations": None}, 2),
    ("RNN", 6, {"direction": "reverse"}, 3),
    ("RNN", 7, {"direction": "forward", "clip": 0.75}, 2),
]


def _compile(tmp: Path, case: RnnCase, *options: str) -> Path:
    onnx_path, mlir = tmp / "model.onnx", tmp / "model.mlir"
    if not mlir.exists():
        onnx.save(case.model, onnx_path)
        assert main(["import", str(onnx_path), "-o", str(mlir)]) == 0
    config = tmp / f"config{'_'.join(options)}.json"
    assert main([str(mlir), "-o", str(config), "--precision", "fp32", *options]) == 0
    assert schema_errors(json.loads(config.read_text())) == []
    return config


def _simulate(tmp: Path, config: Path, inputs: dict[str, np.ndarray]
              ) -> tuple[dict[str, np.ndarray], dict]:
    feed, out, report = tmp / "in.npz", tmp / f"{config.stem}.out.npz", tmp / "report.json"
    save_npz(feed, inputs)
    assert main(["sim", str(config), "--inputs", str(feed), "-o", str(out),
                 "--report", str(report)]) == 0
    return load_npz(str(out)), json.loads(report.read_text())


@pytest.mark.parametrize(("op", "seed", "overrides", "chips"), CASES)
def test_multichip_config_agrees_with_onnxruntime_and_one_chip(
    tmp_path: Path, op: str, seed: int, overrides: dict, chips: int
) -> None:
    case = batch1_case(op, seed, overrides)
    split = _compile(tmp_path, case, "--chips", str(chips))
    config = json.loads(split.read_text())
    assert len(config["chips"]) == chips and config["design"]["chips"] == chips
    got, report = _simulate(tmp_path, split, case.inputs)
    expected = run_onnxruntime(case)
    assert set(got) == set(expected), case.describe()
    for name, value in expected.items():
        assert rel_err(got[name], value) <= FP32_TOLERANCE, (name, case.describe())
    one, _ = _simulate(tmp_path, _compile(tmp_path, case), case.inputs)
    for name, value in one.items():
        assert rel_err(got[name], value) <= FP32_TOLERANCE, (name, case.describe())
    assert report["exchange"]["cycles_per_step"] > 0
    assert len(report["chips"]) == chips
    # the cost model (the slowest chip's prediction plus the exchange) within 10%
    assert abs(report["predicted"]["error"]) <= 0.10, report["predicted"]


# ---- the links section: the loader refuses what no set of chips could run ----------------

MODEL = "lstm 7 3 --input 4"


@pytest.fixture(scope="module")
def two_chips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-chip fp32 configuration of an LSTM of 7 hidden units: chip 0 computes [0, 4),
    chip 1 [4, 7)."""
    tmp = tmp_path_factory.mktemp("two")
    cell, hidden, steps, _, n_in = MODEL.split()
    assert main(["gen", cell, hidden, steps, "--input", n_in, "-o", str(tmp / "m.mlir")]) == 0
    assert main([str(tmp / "m.mlir"), "-o", str(tmp / "config.json"), "--precision", "fp32",
                 "--chips", "2"]) == 0
    return tmp / "config.json"


def _link(config: dict, memory: str, source: int, target: int) -> dict:
    return next(link for link in config["links"] if link["memory"] == memory
                and link["from"] == source and link["to"] == target)


def _pmu(config: dict, chip: int) -> str:
    return next(u["id"] for u in config["chips"][chip]["units"] if u["kind"] == "pmu"
                and all(box["memory"] != "h" for box in u["boxes"]))


def _pcu(config: dict, chip: int) -> str:
    return next(u["id"] for u in config["chips"][chip]["units"] if u["kind"] == "pcu")


def _set(path: str, value: object):
    def edit(config: dict) -> None:
        *head, last = path.split(".")
        target: object = config
        for part in head:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return edit


def _delete(key: str):
    return lambda config: config.pop(key)


LINK_EDITS = [
    # (edit, field, message)
    (_set("links.0.from", 5), "links.0.from", "chip 5 does not exist (2 chips)"),
    (_set("links.0.to", 0), "links.0.to", "a link joins two chips, got chip 0 to itself"),
    (_set("links.0.memory", "c"), "links.0.send.0", "of chip 0 does not write 'c'"),
    (_set("links.0.memory", "zz"), "links.0.memory", "chip 0 has no memory 'zz'"),
    (_set("links.0.rows", [0, 3]), "links.0.rows", "is [0, 3], chip 0 computes rows [0, 4]"),
    (_set("links.0.bytes", 17), "links.0.bytes",
     "is 17, rows [0, 4] of 'h' are 16 bytes"),
    (_set("links.0.path", [0, 0, 1]), "links.0.path",
     "is [0, 0, 1], on the ring of 2 chips chip 0 reaches chip 1 over [0, 1]"),
    (_set("links.0.after", "n9"), "links.0.after", "chip 0 has no nest 'n9'"),
    (_set("links.0.send", []), "links.0.send", "names no unit"),
    (_set("chips.1.rows", [3, 7]), "chips.1.rows",
     "is [3, 7]: the chips' rows must follow each other from 0, chip 1's from 4"),
    (_delete("links"), "links", "missing: 2 chips exchange their state over links"),
    (lambda c: c["links"].pop(1), "links", "chip 0 never receives chip 1's rows [4, 7] of 'h'"),
    (lambda c: c["links"].append({**c["links"][0], "id": "again"}), "links.2",
     "chip 1 receives chip 0's rows of 'h' twice (also link 'h.0-1')"),
    (lambda c: c["chips"][1].pop("program"), "chips.1.program",
     "missing (required: each chip of a multi-chip configuration has its own)"),
    (lambda c: c.__setitem__("program", c["chips"][0]["program"]), "program",
     "a configuration of 2 chips has a program per chip, not one at the top level"),
    # the on-chip legs of the exchange (rnnc.target.exchange_routes)
    (lambda c: _drop_leg(c, 0, "h.send.0"), "links.0",
     "chip 0 has no on-chip route taking its rows of 'h' to link port 0 (no leg 'h.send.0' "
     "in chips.0.exchange)"),
    (lambda c: _drop_leg(c, 1, "h.receive.1"), "links.0",
     "chip 1 has no on-chip route taking 'h' from link port 1 to the PMUs holding it (no leg "
     "'h.receive.1' in chips.1.exchange)"),
    (lambda c: _leg(c, 1, "h.receive.1")["sinks"].pop(), "chips.1.exchange.0.sinks",
     "the PMUs holding 'h' are"),
    (lambda c: _leg(c, 0, "h.send.0").__setitem__("port", 7), "chips.0.exchange.1.port",
     "link port 7 does not exist (a chip has 2 links)"),
    (lambda c: _leg(c, 0, "h.send.0")["paths"][0].pop(), "chips.0.exchange",
     "path to 'link0' ends at switch"),
    (lambda c: _leg(c, 1, "h.receive.1")["paths"][0].insert(1, [5, 5]), "chips.1.exchange",
     "which are not adjacent switches"),
]


def _leg(config: dict, chip: int, name: str) -> dict:
    return next(leg for leg in config["chips"][chip]["exchange"] if leg["id"] == name)


def _drop_leg(config: dict, chip: int, name: str) -> None:
    config["chips"][chip]["exchange"].remove(_leg(config, chip, name))


@pytest.mark.parametrize("case", LINK_EDITS)
def test_an_impossible_links_section_is_refused(
    tmp_path: Path, two_chips: Path, case: tuple, capsys: pytest.CaptureFixture[str],
) -> None:
    edit, field, message = case
    config = json.loads(two_chips.read_text())
    edit(config)
    broken = tmp_path / "config.json"
    broken.write_text(json.dumps(config))
    (tmp_path / two_chips.with_suffix(".weights.npz").name).write_bytes(
        two_chips.with_suffix(".weights.npz").read_bytes())
    capsys.readouterr()
    assert main(["sim", str(broken), "--inputs", str(tmp_path / "none.npz")]) == 1
    err = capsys.readouterr().err
    assert f"field '{field}': " in err and message in err, err
    assert err.count("error:") == 1 and "Traceback" not in err


def test_a_send_or_receive_unit_must_write_or_hold_the_memory(
    tmp_path: Path, two_chips: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = json.loads(two_chips.read_text())
    pmu, pcu = _pmu(config, 0), _pcu(config, 1)
    config["links"][0]["send"] = [pmu]
    config["links"][0]["receive"] = [pcu]
    broken = tmp_path / "config.json"
    broken.write_text(json.dumps(config))
    capsys.readouterr()
    assert main(["sim", str(broken), "--inputs", str(tmp_path / "none.npz")]) == 1
    err = capsys.readouterr().err
    assert f"field 'links.0.send.0': unit '{pmu}' of chip 0 does not write 'h' (and 1 more)" \
        in err, err


def test_the_exchange_is_routed_on_each_chip(two_chips: Path) -> None:
    """Each chip's slice of h is tapped from the stream that writes it and routed to the
    port of the link to the next chip (the right edge's middle switch, [12, 24]); what
    arrives by the link from the previous chip (the left edge's, [12, 0]) is routed to
    every PMU holding h, on a vector input no other stream uses."""
    config = json.loads(two_chips.read_text())
    for index, chip in enumerate(config["chips"]):
        assert [leg["id"] for leg in chip["exchange"]] == ["h.receive.1", "h.send.0"]
        units = {unit["id"]: unit for unit in chip["units"]}
        routes = {route["id"]: route for route in chip["routes"]}
        send = _leg(config, index, "h.send.0")
        for name, path in zip(send["routes"], send["paths"], strict=True):
            assert any(sink["unit"] in _link(config, "h", index, 1 - index)["receive"]
                       for sink in routes[name]["sinks"])
            source = units[routes[name]["source"]["unit"]]
            assert abs(path[0][0] - source["row"] - 0.5) <= 0.5
            assert path[-1] == [12, 24]
        receive = _leg(config, index, "h.receive.1")
        assert sorted(sink["unit"] for sink in receive["sinks"]) == \
            _link(config, "h", 1 - index, index)["receive"]
        used = {(sink["unit"], sink["port"]) for route in chip["routes"]
                for sink in route["sinks"]}
        assert not used & {(sink["unit"], sink["port"]) for sink in receive["sinks"]}
        assert all(path[0] == [12, 0] for path in receive["paths"])


def test_the_simulator_times_the_exchange_over_the_routed_legs(tmp_path: Path,
                                                                two_chips: Path) -> None:
    """A step's exchange: a slice of b bytes takes its send leg's hops, ceil(b / 12.5)
    cycles on the link, its 500 cycles of latency and its receive leg's hops (one cycle a
    hop); the later of the two slices ends it."""
    config = json.loads(two_chips.read_text())
    _, report = _simulate(tmp_path, two_chips, load_npz(str(two_chips.parent / "m.inputs.npz")))

    def hops(chip: int, name: str) -> int:
        return max(len(path) - 1 for path in _leg(config, chip, name)["paths"])

    slices = [hops(a, "h.send.0") + -(-link_bytes // 12.5) + 500 + hops(1 - a, "h.receive.1")
              for a, link_bytes in ((0, 16), (1, 12))]
    assert report["exchange"]["cycles_per_step"] == max(slices)
    assert min(hops(a, kind) for a in (0, 1) for kind in ("h.send.0", "h.receive.1")) > 0


def test_the_configuration_lists_each_transfer(two_chips: Path) -> None:
    config = json.loads(two_chips.read_text())
    assert config["format_version"] == "2.2"
    assert [chip["rows"] for chip in config["chips"]] == [[0, 4], [4, 7]]
    link = _link(config, "h", 1, 0)
    assert (link["rows"], link["bytes"], link["path"]) == ([4, 7], 12, [1, 0])
    assert link["send"] and link["receive"]
    assert "program" not in config


DEEPBENCH = Path(__file__).parents[2] / "examples" / "deepbench"


def test_a_model_too_big_for_the_chips_names_the_bytes_short(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GRU-2816 at 8 bits is 45.4 MiB of weights; two chips of half plasticine-rnn's PMU
    # capacity hold 2 x 15.75 MiB
    preset = Path(__file__).parents[2] / "compiler" / "target" / "presets" / "plasticine-rnn.json"
    arch = json.loads(preset.read_text())
    arch["name"], arch["pmu"]["capacity_kib"] = "half-pmu", 42
    (tmp_path / "half.json").write_text(json.dumps(arch))
    config = tmp_path / "config.json"
    capsys.readouterr()
    assert main([str(DEEPBENCH / "gru-2816-750.mlir"), "-o", str(config), "--chips", "2",
                 "--arch", str(tmp_path / "half.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("--chips: error: the model does not fit 2 chips: each chip is "), err
    short = int(err.split("each chip is ")[1].split()[0])
    assert short > 0 and f"would stream {short} bytes of weights from DRAM every step" in err
    assert not config.exists()


def test_chips_auto_picks_two_chips_for_lstm_2048(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main([str(DEEPBENCH / "lstm-2048-25.mlir"), "--emit=loop", "--chips", "auto"]) == 0
    out = capsys.readouterr().out
    assert "chips = 2 : i64" in out and "streamed_bytes_per_step = 0 : i64" in out


def test_chips_takes_a_number_or_auto(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main([str(DEEPBENCH / "lstm-2048-25.mlir"), "--emit=loop", "--chips", "many"]) == 1
    assert "expected a number of chips or auto, got 'many'" in capsys.readouterr().err


def test_show_draws_every_chip_and_its_links(
    tmp_path: Path, two_chips: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    picture = tmp_path / "chips.svg"
    capsys.readouterr()
    assert main(["show", str(two_chips), "-o", str(picture)]) == 0
    assert capsys.readouterr().out == f"{picture}: 2 chips of {two_chips}, 2 links\n"
    svg = picture.read_text()
    config = json.loads(two_chips.read_text())
    for index, chip in enumerate(config["chips"]):
        for unit in chip["units"]:
            assert f'id="unit-chip{index}.{unit["id"]}"' in svg
    assert "h[0:4] 16 B" in svg and "h[4:7] 12 B" in svg
    one = tmp_path / "one.svg"
    assert main(["show", str(two_chips), "-o", str(one), "--chip", "1"]) == 0
    assert f"chip 1 of {two_chips}" in capsys.readouterr().out


def test_the_same_model_gives_the_same_bytes(tmp_path: Path, two_chips: Path) -> None:
    again = tmp_path / "config.json"
    assert main([str(two_chips.parent / "m.mlir"), "-o", str(again), "--precision", "fp32",
                 "--chips", "2"]) == 0
    assert again.read_bytes() == two_chips.read_bytes()
    assert again.with_suffix(".weights.npz").read_bytes() == \
        two_chips.with_suffix(".weights.npz").read_bytes()


def test_a_model_of_several_layers_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from onnx_graphs import stacked

    onnx.save(stacked(), tmp_path / "m.onnx")
    assert main(["import", str(tmp_path / "m.onnx"), "-o", str(tmp_path / "m.mlir")]) == 0
    capsys.readouterr()
    assert main([str(tmp_path / "m.mlir"), "-o", str(tmp_path / "c.json"), "--chips", "2"]) == 1
    err = capsys.readouterr().err
    assert err == ("--chips: error: a model of 2 time loops (layers) is compiled for one chip "
                   "only: a split layer's output would need gathering before the next\n"), err


def test_chips_auto_keeps_a_model_one_chip_holds_on_one_chip(
    tmp_path: Path, two_chips: Path
) -> None:
    config = tmp_path / "config.json"
    assert main([str(two_chips.parent / "m.mlir"), "-o", str(config), "--chips", "auto"]) == 0
    data = json.loads(config.read_text())
    assert data["design"]["chips"] == 1 and "links" not in data and "program" in data


def test_without_the_exchange_the_chips_compute_other_values(two_chips: Path) -> None:
    from rnnc.backend.load import load_config, machine_of
    from rnnc.simulator.multichip import chip_values

    loaded = load_config(two_chips)
    config = dict(loaded.data)
    machines = [machine_of(config, k) for k in range(2)]
    inputs = load_npz(str(two_chips.parent / "m.inputs.npz"))
    exchanged = chip_values(config, machines, loaded.weights, inputs)
    alone = chip_values(config | {"links": []}, machines, loaded.weights, inputs)
    # step 0 reads the zero initial state on both; later steps need the other chip's h
    assert np.array_equal(exchanged["Y"][0], alone["Y"][0])
    assert not np.allclose(exchanged["Y"][1:], alone["Y"][1:])


def test_max_chips_takes_the_fastest_count_that_holds_the_weights(
    capsys: pytest.CaptureFixture[str]
) -> None:
    """LSTM-2048 at 8 bits needs 2 chips; the model predicts 3 and 4 slower (a longer
    exchange than the step it shortens), so up to 4 it keeps 2."""
    capsys.readouterr()
    assert main([str(DEEPBENCH / "lstm-2048-25.mlir"), "--emit=loop", "--chips", "auto",
                 "--max-chips", "4"]) == 0
    out = capsys.readouterr().out
    assert "chips = 2 : i64" in out and "streamed_bytes_per_step = 0 : i64" in out


@pytest.mark.parametrize(("options", "message"), [
    (["--chips", "auto", "--max-chips", "1"],
     "lstm-2048-25.mlir: error: loop-assign-resources: the weights do not stay on chip over "
     "any number of chips up to 1\n"),
    (["--chips", "2", "--max-chips", "3"],
     "--max-chips: error: takes a number of chips of at least 1, with --chips auto (got "
     "--max-chips 3 with --chips 2)\n"),
    (["--max-chips", "3"],
     "--max-chips: error: takes a number of chips of at least 1, with --chips auto (got "
     "--max-chips 3 without --chips)\n"),
    (["--chips", "auto", "--max-chips", "0"],
     "--max-chips: error: takes a number of chips of at least 1, with --chips auto (got "
     "--max-chips 0)\n"),
])
def test_max_chips_refusals(options: list[str], message: str,
                            capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main([str(DEEPBENCH / "lstm-2048-25.mlir"), "--emit=loop", *options]) == 1
    assert capsys.readouterr().err.endswith(message)


def test_a_pmu_without_a_free_vector_input_receives_on_the_scalar_network(
    tmp_path: Path
) -> None:
    """A small LSTM keeps x and h in one PMU whose three vector inputs other streams use:
    the slices arrive on a scalar input, one word a cycle (the values equal onnxruntime's
    in `test_multichip_config_agrees_with_onnxruntime_and_one_chip`, this case)."""
    case = batch1_case("LSTM", 1, {"direction": "forward"})
    config = json.loads(_compile(tmp_path, case, "--chips", "2").read_text())
    for chip in config["chips"]:
        (receive,) = [leg for leg in chip["exchange"] if leg["kind"] == "receive"]
        assert receive["network"] == "scalar"
        assert all(sink["port"].startswith("si") for sink in receive["sinks"])
        full = [u for u in chip["units"] if u["id"] in {s["unit"] for s in receive["sinks"]}
                and {s["port"] for r in chip["routes"] for s in r["sinks"]
                     if s["unit"] == u["id"] and s["port"].startswith("vi")}
                == {"vi0", "vi1", "vi2"}]
        assert full


def test_sim_compares_a_multichip_configuration_with_fp32(two_chips: Path,
                                                          tmp_path: Path) -> None:
    """`rnnc sim --compare fp32` on several chips: the reference runs every chip in float32
    in lockstep, so the error it reports is the distance to the fp32 configuration's
    outputs (the same model split the same way), not NaN from one chip's rows."""
    model, feed = two_chips.parent / "m.mlir", two_chips.parent / "m.inputs.npz"
    mixed, report = tmp_path / "mixed.json", tmp_path / "r.json"
    assert main([str(model), "-o", str(mixed), "--precision", "mixed", "--chips", "2"]) == 0
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["sim", str(mixed), "--inputs", str(feed), "--compare", "fp32",
                     "-o", str(tmp_path / "mixed.npz"), "--report", str(report)]) == 0
        assert main(["sim", str(two_chips), "--inputs", str(feed),
                     "-o", str(tmp_path / "fp32.npz")]) == 0
    errors = json.loads(report.read_text())["error"]
    got, reference = load_npz(str(tmp_path / "mixed.npz")), load_npz(str(tmp_path / "fp32.npz"))
    assert set(errors) == set(reference)
    for name, value in reference.items():
        measured = float(np.max(np.abs(got[name] - value)))
        assert 0 < errors[name]["max_abs"] == pytest.approx(measured, rel=1e-6), name
