"""`spatial-swap-choose`: a routed design keeps its swap start only where the cost model
predicts it no slower than the controller's start, and `rnnc sim` agrees on both sides.

One model (GRU, H = 96, T = 10, in fp32) on two chips:
* the default preset, at 2/6/16: the swap start saves the controller's round trip every
  step, the model predicts it faster and the design keeps it;
* the preset with buffers that take 60 cycles to swap, at 5/6/16: the token that starts a step
  leaves the state buffer only after its swap, and then holds every first reader (those
  reading x too), where the controller's enable lets them start on x while h's buffer
  swaps. The model predicts the swap start slower, the pass removes it, and the
  simulator measures the swap-started design slower too.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from rnnc.dialects.spatial import design_of
from rnnc.driver import pipeline
from rnnc.driver.design_points import Compiled, compile_at
from rnnc.frontends import deepbench
from rnnc.passes import spatial_swap_choose
from rnnc.passes.spatial_predict import routed_costs
from rnnc.passes.spatial_swap_choose import (
    SpatialSwapChoosePass,
    drop_swap_starts,
    swap_start_pays,
)
from rnnc.simulator.run import machine_time
from rnnc.target.arch import DEFAULT_ARCHITECTURE, Architecture, load_architecture
from rnnc.target.cost import Factors
from rnnc.target.machine import Machine, machine_from_module
from rnnc.target.registry import architectures
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp

PRESET = Path(__file__).parents[2] / "compiler" / "target" / "presets" / "plasticine-rnn.json"


def _slow_swap(directory: Path) -> tuple[Architecture, str]:
    """The default preset with buffers that take 60 cycles to swap, as a file."""
    data = json.loads(PRESET.read_text())
    data["name"] = "slow-swap"
    data["mechanisms"]["buffer_swap_cycles"] = 60
    path = directory / "slow-swap.json"
    path.write_text(json.dumps(data))
    return load_architecture(str(path)), str(path)


def _compiled(arch: Architecture, arch_name: str, factors: Factors) -> Compiled:
    text, _, _ = deepbench.generate(deepbench.Task("gru", 96, 10), "w.npz", 0)
    return compile_at(text, arch, arch_name, [factors], precision="fp32")


def _loop_cycles(module: ModuleOp, arch: Architecture) -> tuple[int, int]:
    """The model's time-loop cycles of the module's routed design as it is, and without
    its swap starts."""
    design = design_of(module)
    assert design is not None
    controller = design.clone()
    drop_swap_starts(controller)
    with_swap, without = (sum(c.total_cycles for c in routed_costs(module, each, arch))
                          for each in (design, controller))
    return with_swap, without


def _simulated(machine: Machine, arch: Architecture) -> float:
    return sum(r.total_cycles for g, r in machine_time(machine, arch) if g.phase.kind == "loop")


def _without_swap(machine: Machine) -> Machine:
    """The same placed and routed machine started by the controller every step."""
    return dataclasses.replace(
        machine, schedule=tuple(dataclasses.replace(p, swap=None) for p in machine.schedule),
        control=tuple(s for s in machine.control if not s.id.startswith("swap_")))


def _context(arch: Architecture) -> Context:
    ctx = pipeline.make_context()
    architectures(ctx).add(arch)
    return ctx


def test_the_swap_start_is_kept_where_the_model_predicts_it_faster() -> None:
    arch = load_architecture(DEFAULT_ARCHITECTURE)
    compiled = _compiled(arch, DEFAULT_ARCHITECTURE, Factors(2, 6, 16))
    (loop,) = [p for p in compiled.machine.schedule if p.kind == "loop"]
    assert loop.swap == "swap_n0"
    assert any(s.id == "swap_n0" for s in compiled.machine.control)
    design = design_of(compiled.module)
    assert design is not None and swap_start_pays(compiled.module, design, arch)
    with_swap, controller = _loop_cycles(compiled.module, arch)
    assert with_swap < controller
    assert _simulated(compiled.machine, arch) < _simulated(_without_swap(compiled.machine), arch)


def test_the_swap_start_is_removed_where_the_model_predicts_it_slower(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arch, arch_name = _slow_swap(tmp_path)
    # the design as spatial-swap-start and the router leave it: the pass held back
    monkeypatch.setattr(spatial_swap_choose.SpatialSwapChoosePass, "apply",
                        lambda self, ctx, op: None)
    compiled = _compiled(arch, arch_name, Factors(5, 6, 16))
    monkeypatch.undo()
    module, swapped = compiled.module, compiled.machine
    (loop,) = [p for p in swapped.schedule if p.kind == "loop"]
    assert loop.swap == "swap_n0"
    with_swap, controller = _loop_cycles(module, arch)
    assert with_swap > controller
    design = design_of(module)
    assert design is not None and not swap_start_pays(module, design, arch)
    SpatialSwapChoosePass().apply(_context(arch), module)
    chosen = machine_from_module(design)
    assert all(p.swap is None for p in chosen.schedule)
    assert not any(s.id.startswith("swap_") for s in chosen.control)
    assert chosen == _without_swap(swapped)
    # the model's choice is the simulator's: the swap start would have been slower
    assert _simulated(swapped, arch) > _simulated(chosen, arch)
