"""`rnnc --stats`: what a model costs in loop nests and storage at each level.

For the rnn level, the decomposed (BLAS-style) loop program and the fused one: how many loop
nests there are (per time step and in all), which on-chip memories the program uses and how
large they are, and -- the point of the paper -- the storage between kernels: the
intermediate buffers a nest writes and a later nest reads, and the values passed between
fused kernels in registers instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from rnnc.analysis.access import INTERMEDIATE, memory_role, time_loops
from rnnc.dialects import loop, rnn, spatial
from rnnc.target.arch import Architecture, load_architecture
from xdsl.dialects.builtin import DictionaryAttr, ModuleOp
from xdsl.ir import Operation, SSAValue

#: The levels `--stats` reports: (label, pipeline from the rnn level).
LEVELS: tuple[tuple[str, str], ...] = (
    ("rnn", ""),
    ("loop, decomposed", "rnn-decompose"),
    ("loop, fused", "rnn-decompose,loop-fuse"),
)


@dataclass(frozen=True)
class Memory:
    """One memory of a loop program."""

    name: str
    shape: tuple[int, ...]
    buffers: int
    space: str
    role: str

    @property
    def elements(self) -> int:
        count = self.buffers
        for size in self.shape:
            count *= size
        return count

    @property
    def on_chip(self) -> bool:
        return self.space != "dram"


@dataclass(frozen=True)
class NetworkUse:
    """How one network of a placed and routed design is used."""

    network: str
    streams: int
    sinks: int
    ports_in: int
    """Input ports used, over all units."""
    ports_in_available: int
    """Input ports of this network on the units the design uses."""
    ports_out: int
    ports_out_available: int
    busiest_port_unit: str
    """The unit whose inputs of this network are the most used (in / available)."""
    busiest_port_use: tuple[int, int]
    links_used: int
    """Directed links between switches that carry at least one stream."""
    links_total: int
    """Directed links of the mesh (each `links_per_switch` wide)."""
    max_link_streams: int
    link_capacity: int
    """`links_per_switch` of the network: streams one switch-to-switch link can carry."""

    @property
    def max_utilisation(self) -> float:
        return self.max_link_streams / self.link_capacity if self.link_capacity else 0.0


@dataclass(frozen=True)
class SpatialStats:
    """The figures of a `spatial.design`."""

    arch: str
    units: dict[str, int]
    """Units per kind (pcu, pmu, ag)."""
    sites: dict[str, int]
    """Sites per kind on the chip."""
    placed: int
    """Units with a site."""
    networks: tuple[NetworkUse, ...]
    routed: int
    """Streams with paths."""
    longest_route: int
    """Switch-to-switch hops of the longest path of any stream to any sink."""
    longest_stream: str
    hop_latency_cycles: int


@dataclass(frozen=True)
class LevelStats:
    """The figures of one module."""

    level: str
    recurrent_ops: tuple[str, ...]
    """`rnn.lstm` ... ops still in the module (rnn level)."""
    nests: int
    """Loop nests (outermost `loop.foreach` ops), in all."""
    nests_per_step: int
    """Of those, nests run at every step of a time loop."""
    steps: int
    memories: tuple[Memory, ...]
    reductions: int
    """Dot products (`loop.reduce` ops) in the nests of a time step (or of the function)."""
    registers: int
    """Values computed in a nest's body and used there (per iteration): what fused kernels
    pass to each other instead of writing buffers."""
    spatial: SpatialStats | None = None
    """The units, ports, links and routes of a `spatial.design`, if the module has one."""
    weights: tuple[int, int] | None = None
    """(weight bytes as PMUs hold them, bytes streamed from DRAM per step) of the time
    loops' chosen designs (`loop.cost`, after loop-assign-resources), if any."""

    @property
    def on_chip(self) -> tuple[Memory, ...]:
        return tuple(m for m in self.memories if m.on_chip)

    @property
    def intermediates(self) -> tuple[Memory, ...]:
        return tuple(m for m in self.memories if m.role == INTERMEDIATE)


def _memory(memref: SSAValue) -> Memory:
    return Memory(
        name=memref.name_hint or "?",
        shape=tuple(memref.type.get_shape()),  # type: ignore[union-attr]
        buffers=loop.buffers_of(memref),
        space=loop.space_of(memref),
        role=memory_role(memref),
    )


def _outermost_nests(module: ModuleOp) -> list[loop.ForeachOp]:
    return [
        op
        for op in module.walk()
        if isinstance(op, loop.ForeachOp) and not isinstance(op.parent_op(), loop.LOOPS[1:])
    ]


def _registers(nests: Sequence[Operation]) -> int:
    """Datapath values (reductions, element-wise results) used inside their own nest."""
    datapath = (loop.ReduceOp, *loop.ELEMENTWISE)
    return sum(
        1
        for nest in nests
        for op in nest.body.block.ops  # type: ignore[attr-defined]
        if isinstance(op, datapath)
        for result in op.results
        if any(not isinstance(use.operation, loop.StoreOp) for use in result.uses)
    )


def level_stats(module: ModuleOp, level: str, arch: str = "") -> LevelStats:
    """The figures of `module` (at any level); a spatial design's on `arch` (a preset or
    file; default the architecture the design names)."""
    nests = _outermost_nests(module)
    steps = time_loops(module)
    in_steps = [n for n in nests if isinstance(n.parent_op(), loop.SequentialOp)]
    per_step = in_steps if steps else nests
    memories = tuple(
        _memory(op.memref)
        for op in module.walk()
        if isinstance(op, loop.AllocOp | loop.FromTensorOp)
    )
    return LevelStats(
        level=level,
        recurrent_ops=tuple(op.name for op in module.walk() if isinstance(op, rnn.RecurrentOp)),
        nests=len(nests),
        nests_per_step=len(in_steps),
        steps=max((s.step_count for s in steps), default=0),
        memories=memories,
        reductions=sum(1 for n in per_step for op in n.walk() if isinstance(op, loop.ReduceOp)),
        registers=_registers(per_step),
        spatial=_spatial_of(module, arch),
        weights=_weights_of(steps),
    )


def _weights_of(steps: Sequence[loop.SequentialOp]) -> tuple[int, int] | None:
    costs = [step.attributes.get("loop.cost") for step in steps]
    found = [c.data for c in costs if isinstance(c, DictionaryAttr) and "weight_bytes" in c.data]
    if not found:
        return None
    return (sum(c["weight_bytes"].value.data for c in found),  # type: ignore[union-attr]
            sum(c["streamed_bytes_per_step"].value.data for c in found))  # type: ignore[union-attr]


def _spatial_of(module: ModuleOp, arch: str) -> SpatialStats | None:
    design = spatial.design_of(module)
    if design is None:
        return None
    return spatial_stats(design, load_architecture(arch or design.arch.arch_name.data))


def spatial_stats(design: spatial.DesignOp, arch: Architecture) -> SpatialStats:
    """Units, ports, link use per network and the longest route of a design on `arch`."""
    units = design.units()
    kinds = {unit.unit_id: unit.KIND for unit in units}
    streams = design.streams()
    longest, longest_stream = 0, ""
    for stream in streams:
        for path in stream.path_sites or []:
            if len(path) - 1 > longest:
                longest, longest_stream = len(path) - 1, stream.stream_id
    return SpatialStats(
        arch=arch.name,
        units={kind: sum(1 for k in kinds.values() if k == kind) for kind in ("pcu", "pmu", "ag")},
        sites={"pcu": arch.pcu.count, "pmu": arch.pmu.count, "ag": arch.dram.address_generators},
        placed=sum(1 for unit in units if unit.site_value is not None),
        networks=tuple(_network_use(arch, kinds, streams, network)
                       for network in spatial.Network),
        routed=sum(1 for stream in streams if stream.paths is not None),
        longest_route=longest,
        longest_stream=longest_stream,
        hop_latency_cycles=arch.network.hop_latency_cycles,
    )


def _network_use(arch: Architecture, kinds: dict[str, str], streams: Sequence[spatial.StreamOp],
                 network: str) -> NetworkUse:
    mine = [stream for stream in streams if stream.network.data == network]
    inputs: dict[str, int] = {}
    outputs = 0
    links: dict[tuple[tuple[int, int], tuple[int, int]], int] = {}
    for stream in mine:
        outputs += 1
        for unit, _ in stream.sink_endpoints:
            inputs[unit] = inputs.get(unit, 0) + 1
        used = {(a, b) for path in stream.path_sites or [] for a, b in pairwise(path)}
        for link in sorted(used):
            links[link] = links.get(link, 0) + 1
    used_units = sorted(kinds)
    available_in = {unit: arch.ports(kinds[unit], network, "inputs") for unit in used_units}
    busiest = max(used_units, key=lambda u: (inputs.get(u, 0) / max(1, available_in[u]),
                                             inputs.get(u, 0)), default="")
    rows, cols = arch.grid.rows + 1, arch.grid.cols + 1
    return NetworkUse(
        network=network,
        streams=len(mine),
        sinks=sum(len(stream.sink_endpoints) for stream in mine),
        ports_in=sum(inputs.values()),
        ports_in_available=sum(available_in.values()),
        ports_out=outputs,
        ports_out_available=sum(arch.ports(kinds[u], network, "outputs") for u in used_units),
        busiest_port_unit=busiest,
        busiest_port_use=(inputs.get(busiest, 0), available_in.get(busiest, 0)),
        links_used=len(links),
        links_total=2 * (rows * (cols - 1) + cols * (rows - 1)),
        max_link_streams=max(links.values(), default=0),
        link_capacity=arch.links(network),
    )


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def format_stats(levels: Sequence[LevelStats]) -> str:
    """The report `rnnc --stats` prints."""
    lines: list[str] = []
    for stats in levels:
        lines.append(f"== {stats.level} ==")
        if stats.spatial is not None and not stats.nests:  # a design without its loops
            lines.extend(format_spatial(stats.spatial))
            continue
        if stats.recurrent_ops:
            lines.append(f"  recurrent ops             {', '.join(stats.recurrent_ops)}")
        lines.append(
            f"  loop nests                {stats.nests}"
            + (
                f" ({stats.nests_per_step} per time step, {stats.steps} steps)"
                if stats.steps
                else ""
            )
        )
        on_chip = stats.on_chip
        total = sum(m.elements for m in on_chip)
        lines.append(f"  on-chip memories          {len(on_chip)}, {total} elements")
        for m in on_chip:
            copies = f" x{m.buffers} buffers" if m.buffers > 1 else ""
            shape = "x".join(map(str, m.shape))
            lines.append(
                f"    {m.name:<12} {shape:<14} {m.space:<5} {m.role:<13} {m.elements}{copies}"
            )
        buffers = stats.intermediates
        sizes = sorted({m.elements for m in buffers})
        each = f" of {', '.join(map(str, sizes))} elements" if sizes else ""
        lines.append(
            f"  intermediate buffers      {_count(len(buffers), 'buffer')}{each}, "
            f"{sum(m.elements for m in buffers)} elements"
        )
        per_dot = (
            f", {stats.registers / stats.reductions:.2f} per dot product"
            if stats.reductions
            else ""
        )
        lines.append(
            f"  intermediate registers    {stats.registers} per iteration{per_dot} "
            f"({_count(stats.reductions, 'dot product')} per iteration)"
        )
        if stats.weights is not None:
            held, streamed = stats.weights
            share = streamed / held if held else 0.0
            lines.append(f"  weights                   {held} bytes, {streamed} streamed from "
                         f"DRAM every step ({share:.1%})")
        if stats.spatial is not None:
            lines.extend(format_spatial(stats.spatial))
    return "\n".join(lines) + "\n"


def format_spatial(stats: SpatialStats) -> list[str]:
    """The lines `--stats` prints for a spatial design."""
    units = ", ".join(
        f"{stats.units[kind]}/{stats.sites[kind]} {kind.upper()}s" for kind in ("pcu", "pmu", "ag")
    )
    total = sum(stats.units.values())
    lines = [
        f"  units                     {units} ({stats.placed} of {total} placed)",
        f"  streams                   {sum(n.streams for n in stats.networks)} "
        f"({stats.routed} routed)",
    ]
    for use in stats.networks:
        busiest_in, busiest_of = use.busiest_port_use
        lines.append(
            f"  {use.network:<7} network           {_count(use.streams, 'stream')}, "
            f"{_count(use.sinks, 'sink')}; ports in {use.ports_in}/{use.ports_in_available}, "
            f"out {use.ports_out}/{use.ports_out_available} (busiest inputs: "
            f"{use.busiest_port_unit or '-'} {busiest_in}/{busiest_of})"
        )
        lines.append(
            f"  {'':<7}   links           {use.links_used}/{use.links_total} switch-to-switch "
            f"links used, at most {use.max_link_streams} of {use.link_capacity} tracks "
            f"({use.max_utilisation:.0%})"
        )
    latency = stats.longest_route * stats.hop_latency_cycles
    lines.append(
        f"  longest route             {_count(stats.longest_route, 'hop')} "
        f"({latency} cycles{', stream ' + stats.longest_stream if stats.longest_stream else ''})"
    )
    return lines
