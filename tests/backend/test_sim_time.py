"""The cost model against the simulator's cycles: the model predicts, the machine rebuilt
from the configuration's data is timed by its mechanisms, and the two must agree to 10%
on the time loop and on the whole inference (the nests that run once too), at the design
the search chooses for every DeepBench task and at 42 random legal design points (LSTM,
GRU, RNN; mixed and fp32; 6 of one time step), and at 4 points that stream weights. The
prediction is the one a configuration carries: the model with the hops of the routed design
(`rnnc.target.routed_hops`); the search's estimate before placement charges every transfer
`transfer_hops` and misses by up to 13% on designs spread over many units.

The three tasks whose weights exceed the chip stream slices from DRAM every step; the
partition builds and the model sums one plan of them (`rnnc.target.plan.nest_plan`), so
every point checks first that the machine's address generators stream the bytes the
model charges, then the time.

Then `rnnc sim` on the shipped example's configuration, its architecture perturbed (the
embedded description edited and its hash recomputed): slower hops, 1-entry FIFOs and a
slow buffer swap each simulate (no false deadlock) and take more cycles; at a low DRAM
bandwidth a step lasts at least its DRAM bytes over the bandwidth; a machine whose units
wait for one another is a diagnostic naming them.
"""

from __future__ import annotations

import json
import math
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from paper_data import PaperTask, paper_tasks
from rnnc.driver.cli import main
from rnnc.driver.design_points import Compiled, compile_at
from rnnc.frontends import deepbench
from rnnc.simulator.machine_timing import PhaseGraph, streamed_weight_bytes
from rnnc.simulator.run import machine_time, numpy_dtype
from rnnc.simulator.timing import Edge, Node, TimingGraph
from rnnc.target.arch import (
    DEFAULT_ARCHITECTURE,
    Architecture,
    architecture_from_dict,
    load_architecture,
)
from rnnc.target.cost import Factors
from rnnc.target.machine import Machine
from rnnc.target.network import topology
from rnnc.target.routing import RouteRequest, route

TOLERANCE = 0.10
EXAMPLE = Path(__file__).parents[2] / "examples" / "deepbench" / "lstm-512-25"
ARCH = load_architecture(DEFAULT_ARCHITECTURE)


def _random_points(count: int, seed: int, steps: tuple[int, ...] = (5, 10, 25)) -> list[tuple]:
    rng = random.Random(seed)
    points = []
    while len(points) < count:
        cell = rng.choice(["lstm", "gru", "rnn"])
        precision = rng.choice(["mixed", "fp32"])
        rv = rng.choice([v for v in (8, 16, 32, 64) if v <= ARCH.max_rv(precision)])
        points.append((cell, rng.choice([64, 96, 128, 200, 256, 300, 384, 512]),
                       rng.choice(steps),
                       Factors(rng.choice([1, 2, 3, 4, 5, 6]), rng.choice([1, 2, 3, 4, 6, 8]), rv),
                       precision))
    return points


def _check(compiled: Compiled) -> None:
    machine_bytes = streamed_weight_bytes(compiled.machine, ARCH)
    model_bytes = compiled.cost.streamed_bytes_per_step
    assert machine_bytes == model_bytes, (
        f"the partition streams {machine_bytes} weight bytes per step from DRAM, the cost "
        f"model {model_bytes}"
    )
    timed = machine_time(compiled.machine, ARCH)
    simulated = sum(r.total_cycles for g, r in timed if g.phase.kind == "loop")
    predicted = compiled.cost.total_cycles
    error = (predicted - simulated) / simulated
    assert abs(error) <= TOLERANCE, (
        f"predicted {predicted} cycles, simulated {simulated:.0f} ({error:+.1%}) at "
        f"{compiled.cost.nests[0].factors}"
    )
    # the whole inference: the nests that run once before and after the time loop too
    simulated = sum(r.total_cycles for _, r in timed)
    predicted += compiled.once_cycles
    error = (predicted - simulated) / simulated
    assert abs(error) <= TOLERANCE, (
        f"whole inference: predicted {predicted} cycles, simulated {simulated:.0f} "
        f"({error:+.1%}) at {compiled.cost.nests[0].factors}"
    )


@pytest.mark.parametrize(("cell", "hidden", "steps", "factors", "precision"),
                         _random_points(36, 2026))
def test_random_design_points(cell: str, hidden: int, steps: int, factors: Factors,
                              precision: str) -> None:
    text, _, _ = deepbench.generate(deepbench.Task(cell, hidden, steps), "w.npz", 0)
    _check(compile_at(text, ARCH, DEFAULT_ARCHITECTURE, [factors], precision=precision))


@pytest.mark.parametrize(("cell", "hidden", "steps", "factors", "precision"),
                         _random_points(6, 2027, steps=(1,)))
def test_random_design_points_of_one_step(cell: str, hidden: int, steps: int,
                                          factors: Factors, precision: str) -> None:
    """T = 1: the loop's ends (x(0) in, the last y out) weigh as much as the step."""
    text, _, _ = deepbench.generate(deepbench.Task(cell, hidden, steps), "w.npz", 0)
    _check(compile_at(text, ARCH, DEFAULT_ARCHITECTURE, [factors], precision=precision))


#: Points whose weight slices (partly) stream from DRAM every step: sizes whose weights
#: exceed the chip, and LSTM-1536 at one copy, whose slices two PMUs cannot hold.
STREAMING_POINTS = [
    ("lstm", 2048, 5, Factors(2, 8, 64)),
    ("gru", 2560, 5, Factors(3, 6, 32)),
    ("lstm", 1536, 5, Factors(1, 12, 64)),
    ("gru", 2816, 5, Factors(5, 6, 40)),
]


@pytest.mark.parametrize(("cell", "hidden", "steps", "factors"), STREAMING_POINTS)
def test_streaming_design_points(cell: str, hidden: int, steps: int, factors: Factors) -> None:
    text, _, _ = deepbench.generate(deepbench.Task(cell, hidden, steps), "w.npz", 0)
    compiled = compile_at(text, ARCH, DEFAULT_ARCHITECTURE, [factors])
    assert compiled.cost.streamed_bytes_per_step > 0
    _check(compiled)


@pytest.mark.parametrize("task", paper_tasks(), ids=lambda task: task.label)
def test_deepbench_chosen_points(task: PaperTask,
                                 deepbench_design: Callable[[str], Compiled]) -> None:
    # the shipped model of the task at the search's point (compiled once per session:
    # tests/transforms/test_spatial_pnr.py places and routes the same designs)
    _check(deepbench_design(deepbench.Task(task.cell, task.hidden, task.steps).name))


# -- the simulator's mechanisms, perturbed on the shipped example -------------------------


def _perturbed(config: Path, directory: Path, changes: dict[str, object]) -> Path:
    """`config` on a chip whose architecture differs by `changes` (dotted fields of the
    description): the embedded description edited and its sha256 recomputed, as the
    loader checks it; the weights copied alongside."""
    data = json.loads(config.read_text())
    description = data["arch"]["description"]
    for dotted, value in changes.items():
        *path, name = dotted.split(".")
        entry = description
        for part in path:
            entry = entry[part]
        entry[name] = value
    data["arch"]["sha256"] = architecture_from_dict(description).digest()
    directory.mkdir(exist_ok=True)
    shutil.copy(config.parent / data["weights"]["path"], directory / data["weights"]["path"])
    out = directory / "config.json"
    out.write_text(json.dumps(data))
    return out


def _sim_report(config: Path) -> dict:
    report = config.parent / "report.json"
    assert main(["sim", str(config), "--inputs", f"{EXAMPLE}.inputs.npz", "-o",
                 str(config.parent / "out.npz"), "--report", str(report)]) == 0
    return json.loads(report.read_text())


@pytest.fixture(scope="module")
def baseline(example_config: Path) -> dict:
    return _sim_report(example_config)


@pytest.mark.parametrize("changes", [
    {"network.hop_latency_cycles": 2},
    {"network.hop_latency_cycles": 4},
    {"mechanisms.fifo_depth": {"scalar": 1, "vector": 1}, "mechanisms.switch_buffer_entries": 1},
    {"mechanisms.buffer_swap_cycles": 50},
], ids=["hop-latency-2", "hop-latency-4", "fifo-depth-1", "buffer-swap-50"])
def test_a_slower_mechanism_simulates_and_takes_more_cycles(
    example_config: Path, baseline: dict, tmp_path: Path, changes: dict[str, object]
) -> None:
    report = _sim_report(_perturbed(example_config, tmp_path / "perturbed", changes))
    assert report["cycles_per_step"] > baseline["cycles_per_step"]
    assert report["total_cycles"] > baseline["total_cycles"]


def _controller_moved(config: Path, site: tuple[int, int]) -> Path:
    """`config` (rewritten in place) with its controller at switch `site` and its control
    routes routed again there by rnnc's router (the data routes are left as they were)."""
    data = json.loads(config.read_text())
    chip = data["chips"][0]
    topo = topology(architecture_from_dict(data["arch"]["description"]))
    chip["controller"].update(row=site[0], col=site[1])
    wired = {unit["id"]: topo.attachments[(unit["row"], unit["col"])] for unit in chip["units"]}
    wired[chip["controller"]["id"]] = (topo.switch(*site),)
    control = [r for r in chip["routes"] if r["network"] == "control"]
    requests = [RouteRequest(r["id"], "control", wired[r["source"]["unit"]],
                             tuple(wired[sink["unit"]] for sink in r["sinks"]))
                for r in control]
    for entry, paths in zip(control, route(topo, requests).paths, strict=True):
        entry["paths"] = [[list(topo.switch_site(s)) for s in path] for path in paths]
    config.write_text(json.dumps(data))
    return config


def test_control_tokens_cross_their_routed_paths(
    example_config: Path, baseline: dict, tmp_path: Path
) -> None:
    # the controller moved from the centre switch to a corner: every enable and done token
    # crosses more switches; the loop's first step and its end wait for them, the steps
    # after the first start on the state buffer's swap (`swap-start`), not on the controller
    corner = _controller_moved(_perturbed(example_config, tmp_path / "corner", {}), (0, 0))
    report = _sim_report(corner)
    # so the whole run is longer, but by less than one step: no step after the first paid
    extra = report["total_cycles"] - baseline["total_cycles"]
    assert 0 < extra < baseline["cycles_per_step"]


def test_done_tokens_contend_for_the_control_links(
    fused_example_config: Path, tmp_path: Path
) -> None:
    # at a corner, the done tokens reach the controller over two of its links: with one
    # link per direction instead of four they queue on them, and the steps take longer
    # (in the fused design: with the input projection a step ahead, the example's steps
    # are as long as its projection units take, which hides the queue)
    four = _controller_moved(_perturbed(fused_example_config, tmp_path / "four", {}), (0, 0))
    one = _perturbed(four, tmp_path / "one", {"network.links_per_switch.control": 1})
    assert json.loads(one.read_text())["chips"] == json.loads(four.read_text())["chips"]
    assert _sim_report(one)["cycles_per_step"] > _sim_report(four)["cycles_per_step"]


def _dram_bytes_per_step(config: dict) -> int:
    """Bytes the time loop moves to and from DRAM per step: every model input and output
    in DRAM with a time axis, one step's slice of it, from the configuration's shapes."""
    steps = config["time_loop"]["steps"]
    total = 0
    for entry in [*config["inputs"], *config["outputs"]]:
        if entry["location"]["space"] == "dram" and entry["shape"][0] == steps:
            total += math.prod(entry["shape"]) // steps * numpy_dtype(entry["dtype"]).itemsize
    return total


def test_a_step_is_no_faster_than_its_dram_bytes_at_the_bandwidth(
    example_config: Path, tmp_path: Path
) -> None:
    config = _perturbed(example_config, tmp_path / "slow-dram", {"dram.bandwidth_gbs": 0.4})
    data = json.loads(config.read_text())
    moved = _dram_bytes_per_step(data)
    assert moved == 2 * 512 * 4  # x(t) in, y(t) out
    per_cycle = 0.4 / data["arch"]["description"]["clock_ghz"]
    report = _sim_report(config)
    (loop,) = [phase for phase in report["phases"] if phase["kind"] == "loop"]
    assert loop["cycles_per_step"] >= moved / per_cycle
    assert report["cycles_per_step"] >= moved / per_cycle


def test_a_deadlocked_machine_is_a_diagnostic_naming_its_units(
    example_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # the example's timing graphs replaced by one whose units wait for one another: A's
    # second token needs room in its 1-entry FIFO to B, B's first firing needs C's first
    # token, which needs A's fourth
    from rnnc.simulator import run

    def deadlocked(machine: Machine, arch: Architecture) -> list[PhaseGraph]:
        graph = TimingGraph(
            (Node("pmu1", "pmu", "weights", 8, 1, 1), Node("pcu2", "pcu", "map_reduce", 8, 1, 1),
             Node("pcu3", "pcu", "reduce", 8, 1, 1)),
            (Edge(0, 1, "vector", 1, depth=1), Edge(0, 2, "vector", 1),
             Edge(2, 1, "scalar", 1, produce_every=4, consume_every=4)),
            hop_latency=1,
        )
        return [PhaseGraph(machine.schedule[0], graph, ("pmu1", "pcu2", "pcu3"))]

    monkeypatch.setattr(run, "phase_graphs", deadlocked)
    assert main(["sim", str(example_config), "--inputs", f"{EXAMPLE}.inputs.npz", "-o",
                 str(tmp_path / "out.npz")]) == 1
    assert capsys.readouterr().err == (
        f"{example_config}: error: the machine cannot run: time step 0 deadlocks: "
        "pmu1 (weights) waits for room in its full FIFO to pcu2 (map_reduce); "
        "pcu2 (map_reduce) waits for an input from pcu3 (reduce); "
        "pcu3 (reduce) waits for an input from pmu1 (weights); none of them can fire again\n"
    )
