"""From a placed and routed machine to the timing engine's graphs, one per phase.

Every number comes from the machine's configuration and the architecture:

* a PCU fires once per iteration of its counter chain; a map-reduce PCU fires once per
  chunk of `rv` reduction indices of each iteration (each reduction's segments' length /
  rv, rounded up) and emits one partial sum per iteration. Its latency is its pipeline: a PCU's
  `stages` (ISCA'17: a unit's latency is its stage count whatever the ops), a map-reduce
  PCU's precision prefix + log2(lanes) + 1 (paper §4.1), plus, for every activation read
  from a lookup table in a PMU, the round trip to that PMU (hops both ways + its read);
  a map-reduce PCU that adds its neighbours' partial sums (`Reduce.inputs`) has a second
  context, its add stages: one firing per iteration once its own result and its inputs
  are there, `elementwise_op_cycles` per input, and its output leaves from it;
* a PMU has a read context per output stream, firing once per token its consumers take,
  after `address_stages` + 1 cycles (synchronous SRAM), and a write context firing once
  per token that arrives, after `pmu_write_cycles`; between them, its N-buffering (a
  memory written in one step and read in the next swaps buffers in `buffer_swap_cycles`
  after the writer's last write of the step);
* an address generator moves a stream's bytes of a step, rounded up to whole DRAM
  bursts, at its share of the DRAM bandwidth (the streams that start together share it
  round-robin), after the DRAM latency; a load into a double buffer is a prefetch, one
  step ahead of its readers; all the streams of a step share the channels, so a step
  lasts at least its DRAM bytes over the bandwidth;
* the map-reduce units reading a PMU of role `ahead` fold the input projection of the
  next step: they (and their PMUs' reads) work one step ahead of the step they serve, from
  its enable, their partial sums waiting in the combining units' input FIFOs, and are not
  in the step's done set;
* every token crosses the switches of its routed path at `hop_latency_cycles` each; the
  control tokens too: a unit's contexts start after the enable has crossed its branch of
  the routed enable tree from the controller (the switch the config names), and each
  context's done token crosses the unit's routed done path to the controller, sharing
  the control links (`links_per_switch.control` tokens per link and cycle) with the
  other done tokens on them (`TimingGraph.control_routes`); the writes a loop posts
  (`Phase.posted`) send theirs too, but the step does not wait for them;
* a loop started on its state buffer's swap (`Phase.swap`, `rnnc.target.swap_start`):
  the units its swap stream reaches start each step after the first when the token of the
  step before has crossed their routed path from the state buffer, which sends it
  `buffer_swap_cycles` after its last write of h (and not before the DRAM channels have
  moved the step before's bytes); the others (address generators) when the controller,
  which the token reaches too, has relayed it over their branch of the enable tree.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass

import numpy as np
from rnnc.dialects.spatial import Network, PMUKind
from rnnc.simulator.timing import ControlRoute, Edge, Node, TimingError, TimingGraph
from rnnc.target.arch import Architecture
from rnnc.target.machine import (
    AG,
    PCU,
    PMU,
    Box,
    Machine,
    Memory,
    Phase,
    Stream,
    control_paths,
)
from rnnc.target.network import DIRECTIONS, Topology, topology
from rnnc.target.stream_buffers import kept_boxes, loaded_boxes
from rnnc.target.swap_start import relay_hops, swap_hops

Site = tuple[int, int]


@dataclass(frozen=True)
class PhaseGraph:
    phase: Phase
    graph: TimingGraph
    units: tuple[str, ...]
    """Per node, the machine unit it times."""


class _Builder:
    def __init__(self, machine: Machine, arch: Architecture, phase: Phase):
        self.m = machine
        self.arch = arch
        # Machine.unit hashes the whole unit tuple on every call; index it once
        self._units = {unit.id: unit for unit in machine.units}
        self.phase = phase
        self.topo: Topology = topology(arch)
        self.stage = {nest: k for k, nest in enumerate(phase.nests)}
        self.nodes: list[Node] = []
        self.units: list[str] = []
        self.index: dict[tuple[str, str], int] = {}
        self.edges: list[Edge] = []
        self.ahead = _ahead_units(machine)
        try:
            self.control = control_paths(machine)
        except ValueError as error:
            raise TimingError(str(error)) from None
        self.control_routes: list[ControlRoute] = []
        self.route_of: dict[str, int] = {}
        self.posted = frozenset(phase.posted or ())
        try:
            self.swap = swap_hops(machine, phase)
        except ValueError as error:
            raise TimingError(str(error)) from None

    def unit_of(self, unit_id: str) -> PCU | PMU | AG:
        return self._units[unit_id]

    # -- geometry ---------------------------------------------------------------------------

    def _switches(self, unit_id: str) -> tuple[Site, ...]:
        site = self.unit_of(unit_id).site
        if site is None:
            raise TimingError(f"unit {unit_id} is not placed")
        return tuple(
            self.topo.switch_site(s) for s in self.topo.attachments[(site[0], site[1])]
        )

    def _control_route(self, unit_id: str) -> int:
        """The index of the unit's done route in the graph's `control_routes` (added the
        first time one of its contexts needs it)."""
        if unit_id not in self.route_of:
            path = self.control.done.get(unit_id)
            if path is None:
                raise TimingError(f"unit {unit_id} has no routed control path for its done "
                                  "token")  # the loader refuses such a config first
            self.route_of[unit_id] = len(self.control_routes)
            self.control_routes.append(ControlRoute(len(path), self._links(path)))
        return self.route_of[unit_id]

    def _links(self, path: tuple[Site, ...]) -> tuple[int, ...]:
        """The directed links between the consecutive switches of a path, numbered as the
        router numbers them (4 * switch + direction)."""
        links = []
        for (r1, c1), (r2, c2) in itertools.pairwise(path):
            step = (r2 - r1, c2 - c1)
            if step not in DIRECTIONS:
                raise TimingError(f"control path crosses switches ({r1}, {c1}) and "
                                  f"({r2}, {c2}), which are not neighbours")
            links.append(4 * self.topo.switch(r1, c1) + DIRECTIONS.index(step))
        return tuple(links)

    def _enable_hops(self, unit_id: str) -> int:
        hops = self.control.enable.get(unit_id)
        if hops is None:
            raise TimingError(f"unit {unit_id} has no routed control path for the enable")
        return hops

    def _hops(self, stream: Stream, sink: int) -> int:
        if stream.paths is None:
            raise TimingError(f"stream {stream.id} is not routed")
        # a path lists the switches crossed, both ends included: one hop per switch
        return len(stream.paths[sink])

    def _distance(self, a: str, b: str) -> int:
        return min(
            abs(r1 - r2) + abs(c1 - c2) + 1
            for r1, c1 in self._switches(a)
            for r2, c2 in self._switches(b)
        )

    # -- nodes --------------------------------------------------------------------------------

    def _add(self, key: tuple[str, str], node: Node, done: bool = True) -> int:
        """A node for a context of unit key[0], which takes the enable and sends its done
        token over the unit's control paths (unless `done` is False: a context whose end
        another context of the unit follows)."""
        route = self._control_route(key[0]) if done else -1
        node = dataclasses.replace(node, enable_hops=self._enable_hops(key[0]),
                                   done_route=route, awaited=key[0] not in self.posted,
                                   swap_hops=self.swap.get(key[0], -1))
        self.index[key] = len(self.nodes)
        self.nodes.append(node)
        self.units.append(key[0])
        return self.index[key]

    def pcu_nodes(self) -> None:
        for unit in self.m.units:
            if isinstance(unit, PCU) and unit.nest in self.stage:
                iterations = math.prod(c.trips for c in unit.counters)
                if unit.role == "gather":
                    iterations = self._gathered(unit)
                count, latency = iterations, self.arch.pcu.stages
                if unit.role == "map_reduce" and unit.reduce is not None:
                    count = iterations * self._chunks(unit)
                    latency = self.arch.map_reduce_latency(self.m.precision)
                latency += self._lookup_latency(unit)
                chained = _chained(unit)
                fold = self._add(
                    (unit.id, "fire"),
                    Node(unit.id, "pcu", unit.role, count, 1.0, latency,
                         lead=int(unit.id in self.ahead), stage=self.stage[unit.nest]),
                    done=not chained,
                )
                if chained:
                    self._add_stages(unit, fold, iterations)

    def _add_stages(self, unit: PCU, fold: int, iterations: int) -> None:
        """The stages of a map-reduce unit that add partial sums arriving on its inputs
        (`Reduce.inputs`) to its own: one firing per iteration, once its own result has
        left the folded tree (an edge from the fold, no hop) and the inputs have arrived
        (`_stream_edge`), one element-wise op's cycles per input; the unit's result, and
        its done token, leave from here."""
        assert unit.reduce is not None
        cycles = len(unit.reduce.inputs) * self.arch.timing.elementwise_op_cycles
        add = self._add((unit.id, "add"), Node(unit.id, "pcu", unit.role, iterations, 1.0,
                                               cycles, stage=self.stage[unit.nest]))
        depth = self.arch.mechanisms.fifo_depth.scalar
        self.edges.append(Edge(fold, add, "scalar", 0, self._chunks(unit), 1, depth))

    def _pcu_at(self, unit_id: str, port: str) -> int | None:
        """The node of a PCU's context that uses `port`: the add stages of a unit that adds
        partial sums for its output and those inputs, else the unit's firing."""
        unit = self.unit_of(unit_id)
        if isinstance(unit, PCU) and _chained(unit):
            assert unit.reduce is not None
            if port == unit.reduce.output or f"in:{port}" in unit.reduce.inputs:
                return self.index.get((unit_id, "add"))
        return self._pcu(unit_id)

    def _gathered(self, unit: PCU) -> int:
        """A gather unit has no counters of its own: it fires once per token its writers
        send (one from each input port per firing, merged into one vector)."""
        counts = []
        for stream in self.m.streams:
            if any(sink.unit == unit.id for sink in stream.sinks):
                source = self.unit_of(stream.source.unit)
                if isinstance(source, PCU):
                    if source.role == "gather":
                        counts.append(self._gathered(source))
                    else:
                        counts.append(math.prod(c.trips for c in source.counters)
                                      // self._emit_every(source.id, stream.source.port))
        return max(counts, default=1)

    @staticmethod
    def _chunks(unit: PCU) -> int:
        """Chunks the unit folds per iteration: each reduction's segments in whole chunks
        of rv (a chunk's lanes sum to one value, so it never straddles two reductions;
        the segments of one reduction run on, `rnnc.target.joint_chunks`)."""
        assert unit.reduce is not None
        lengths: dict[str, int] = {}
        for s in unit.reduce.segments:
            lengths[s.reduction] = lengths.get(s.reduction, 0) + s.stop - s.start
        return max(1, sum(math.ceil(n / unit.reduce.rv) for n in lengths.values()))

    def _lookup_latency(self, unit: PCU) -> int:
        """Activations read from a table in a PMU: the value goes there over its routed
        stream, is looked up (the PMU's read), and comes back over the return stream; the
        lookups of one stage go together, those of later stages one after another."""
        tables = {op.param("lut") for op in unit.ops if op.param("lut")}
        stages = len({op.stage for op in unit.ops if op.param("lut")})
        if not tables:
            return 0
        trip = 0
        for table in tables:
            there = self._path_hops(unit.id, table)
            back = self._path_hops(table, unit.id)
            trip = max(trip, (there + back) * self.arch.network.hop_latency_cycles)
        return stages * (trip + self.arch.pmu_read_latency())

    def _path_hops(self, source: str, sink: str) -> int:
        """Switches on the routed path of the stream from `source` to `sink`."""
        for stream in self.m.streams:
            if stream.source.unit != source:
                continue
            for k, end in enumerate(stream.sinks):
                if end.unit == sink:
                    return self._hops(stream, k)
        return self._distance(source, sink)

    def _is_table(self, unit_id: str) -> bool:
        unit = self.unit_of(unit_id)
        return isinstance(unit, PMU) and bool(unit.lut)

    # -- streams ------------------------------------------------------------------------------

    def _pcu(self, unit_id: str) -> int | None:
        return self.index.get((unit_id, "fire"))

    def _emit_every(self, unit_id: str, port: str) -> int:
        unit = self.unit_of(unit_id)
        if isinstance(unit, PCU) and _chained(unit):
            return 1  # its add stages fire once per iteration
        if isinstance(unit, PCU) and unit.role == "map_reduce" and unit.reduce is not None:
            if unit.reduce.output == port:
                return self._chunks(unit)
        return 1

    def streams(self) -> None:
        phase_streams = [s for s in self.m.streams if self._in_phase(s)]
        # PMU and AG contexts are sized by the PCUs they serve, so PCU ends come first
        for stream in sorted(phase_streams, key=self._ag_last):
            for sink_index, sink in enumerate(stream.sinks):
                self._stream_edge(stream, sink_index, sink.unit)

    def _ag_last(self, stream: Stream) -> int:
        kinds = {self.unit_of(stream.source.unit).kind, *(self.unit_of(s.unit).kind
                                                         for s in stream.sinks)}
        return 1 if "pcu" not in kinds else 0

    def _in_phase(self, stream: Stream) -> bool:
        ends = [stream.source.unit, *(s.unit for s in stream.sinks)]
        return any(
            isinstance(self.unit_of(u), PCU) and self.unit_of(u).nest in self.stage for u in ends
        ) or self._staging(stream)

    def _staging(self, stream: Stream) -> bool:
        """An AG filling a PMU that a PCU of this phase reads."""
        src = self.unit_of(stream.source.unit)
        return isinstance(src, AG) and any(
            (s.unit, "read") in self.index or self._read_by_phase(s.unit) for s in stream.sinks
        )

    def _read_by_phase(self, pmu_id: str) -> bool:
        return any(
            isinstance(self.unit_of(s.unit), PCU) and self.unit_of(s.unit).nest in self.stage
            for st in self.m.streams if st.source.unit == pmu_id for s in st.sinks
        )

    def _stream_edge(self, stream: Stream, sink_index: int, sink_id: str) -> None:
        network = stream.network
        if network == "control":
            return  # control streams carry the tokens the engine models as control hops
        if self._is_table(stream.source.unit) or self._is_table(sink_id):
            return  # a lookup table is part of its PCU's pipeline (`_lookup_latency`)
        hops = self._hops(stream, sink_index)
        # the consumer's input FIFO plus the skid buffers of the switches on the way
        mech = self.arch.mechanisms
        depth = getattr(mech.fifo_depth, network) + mech.switch_buffer_entries * hops
        src_id = stream.source.unit
        src, dst = self.unit_of(src_id), self.unit_of(sink_id)
        if isinstance(src, PCU) and isinstance(dst, PCU):
            a = self._pcu_at(src_id, stream.source.port)
            b = self._pcu_at(sink_id, stream.sinks[sink_index].port)
            if a is None or b is None:
                return
            every = self._emit_every(src_id, stream.source.port)
            tokens = self.nodes[a].count // every
            self.edges.append(Edge(a, b, network, hops, every,
                                   self._consume_every(b, tokens, stream), depth))
        elif isinstance(src, PMU | AG) and isinstance(dst, PCU):
            b = self._pcu(sink_id)
            if b is None:
                return
            reader = self._reader(src, stream, self.nodes[b])
            self.edges.append(Edge(reader, b, network, hops, 1,
                                   self._consume_every(b, self.nodes[reader].count, stream),
                                   depth))
        elif isinstance(src, PCU) and isinstance(dst, PMU | AG):
            a = self._pcu_at(src_id, stream.source.port)
            if a is None:
                return
            every = self._emit_every(src_id, stream.source.port)
            tokens = self.nodes[a].count // every
            writer = self._writer(dst, stream, tokens, self.nodes[a].stage)
            self.edges.append(Edge(a, writer, network, hops, every,
                                   self.nodes[writer].count // tokens, depth))
        elif isinstance(src, AG) and isinstance(dst, PMU):
            self._staging_edge(src, dst, stream, hops, depth)
        elif isinstance(src, PMU) and isinstance(dst, AG):
            self._drain_edge(src, dst, stream, hops, depth)

    def _consume_every(self, node: int, tokens: int, stream: Stream) -> int:
        """Firings of the consumer per token: 1, or the chunks of a map-reduce unit that
        takes one operand per iteration. A consumer that fires a few times more than the
        stream has tokens (a copy with fewer iterations, merged by a gather) takes one
        per firing and nothing in its last firings."""
        count = self.nodes[node].count
        if tokens == 0:
            raise TimingError(f"stream {stream.id} carries nothing into {self.nodes[node].name}")
        return count // tokens if count % tokens == 0 else 1

    def _vectors(self, pmu: PMU) -> int:
        """Vectors (one word per bank) one buffer of the PMU holds for a step: a box staged
        step by step holds one step's slice of its time-indexed memory."""
        elements = sum(self._box_elements(box) for box in pmu.boxes)
        return max(1, math.ceil(elements / self.arch.pmu.banks))

    def _reader(self, unit: PMU | AG, stream: Stream, consumer: Node) -> int:
        key = (unit.id, f"read:{stream.source.port}")
        if key in self.index:
            return self.index[key]
        # a multicast serves copies that may differ by an iteration: read for the longest
        sinks = [self._pcu(sink.unit) for sink in stream.sinks]
        count = max(self.nodes[i].count for i in sinks if i is not None)
        if isinstance(unit, PMU):
            node = Node(unit.id, "pmu", _pmu_role(unit, self.m), count, 1.0,
                        self.arch.pmu_read_latency(), lead=consumer.lead, stage=consumer.stage)
        else:
            node = self._ag_node(unit, count, consumer.stage, lead=0)
        return self._add(key, node)

    def _writer(self, unit: PMU | AG, stream: Stream, tokens: int, stage: int) -> int:
        """A PMU's write context for one incoming stream (x from DRAM and h from the cell
        arrive in one operand PMU on their own schedules), or a store AG."""
        key = (unit.id, f"write:{stream.id}")
        if key in self.index:
            return self.index[key]
        if isinstance(unit, PMU):
            node = Node(unit.id, "pmu", _pmu_role(unit, self.m), tokens, 1.0,
                        self.arch.timing.pmu_write_cycles, stage=stage)
        else:
            node = self._ag_node(unit, tokens, stage, lead=0)
        return self._add(key, node)

    def _ag_node(self, unit: AG, tokens: int, stage: int, lead: int) -> Node:
        """A DRAM stream: one token (a vector, in whole bursts) per firing; its share of
        the bandwidth is set once every stream of the phase is known (`_share`)."""
        mech = self.arch.mechanisms
        return Node(unit.id, "ag", f"dram-{unit.direction}", tokens, 1.0,
                    mech.dram_latency_cycles, lead=lead,
                    stage=stage, posted=unit.direction == "store")

    def ag_bytes(self, unit_id: str, context: str) -> int:
        """Bytes one stream of an address generator moves per step: what the PMU it loads
        holds for a step (a weight slice streamed from DRAM, x(t)), or one step's slice of
        the memory it stores (y(t))."""
        unit = self.unit_of(unit_id)
        assert isinstance(unit, AG)
        memories = {m.name: m for m in self.m.memories}
        memory = memories.get(unit.memory)
        if context.startswith("load:"):
            pmu = self.unit_of(context.split(":", 1)[1])
            assert isinstance(pmu, PMU)
            # an AG streaming weight slices names the boxes it moves, which may span
            # several memories (a slice of [W R] over the [x, h] boundary); another moves
            # its memory's part of the PMU (x into an operand PMU that also holds h)
            boxes = [box for box in pmu.boxes
                     if (box in unit.boxes if unit.boxes else box.memory == unit.memory)]
            return sum(self._box_bytes(box, memories.get(box.memory))
                       for box in boxes or pmu.boxes)
        element = self._element_bytes(memory)
        if memory is None:
            return 0
        total = math.prod(memory.shape)
        steps = self.phase.steps
        per_step = total // steps if steps > 1 and steps in memory.shape else total
        if memory.init.startswith("weight:") and memory.shape:
            last = memory.shape[-1]
            return per_step // last * int(self.arch.precision(self.m.precision).row_bytes(last))
        return per_step * element

    def _box_bytes(self, box: Box, memory: Memory | None) -> int:
        """Bytes of a box as stored: weights in the precision's format (rows along the
        box's last dimension, a block-scaled format's scales included)."""
        mode = self.arch.precision(self.m.precision)
        elements = self._box_elements(box)
        if memory is None or not memory.init.startswith("weight:") or not box.slices:
            return elements * self._element_bytes(memory)
        last = len(range(*box.slices[-1]))
        fmt = mode.weight_format
        blocks = None if fmt is None else int(fmt.blocks_touched(*box.slices[-1][:2]))
        return elements // last * int(mode.row_bytes(last, blocks))

    def _element_bytes(self, memory: Memory | None) -> int:
        if memory is not None and memory.init.startswith("weight:"):
            # weights are stored, and streamed, in the precision's weight format
            return self.arch.precision(self.m.precision).weight_bytes
        return memory.element_bytes if memory else 4

    def _share_bandwidth(self) -> float:
        """DRAM streams that start together (the same nest, the same step ahead) share the
        bandwidth round-robin (processor sharing): while n streams have data to move each
        gets bandwidth / n, and a stream that is done leaves its share to the others.
        Started together, stream k is done after sum_j min(bytes_j, bytes_k) / bandwidth;
        it moves its tokens evenly over that time, at most one a cycle. Dense streams are
        coalesced into bursts (ISCA'17's coalescing units): a stream moves its step's bytes
        in whole `dram_burst_bytes` bursts. Streams of different groups may overlap in time
        too (a prefetch for the next step while this one stores), so all of them share the
        channels: returns the cycles the channels take to move every stream's bytes of a
        step, which bounds the step from below (`TimingGraph.dram_cycles`)."""
        groups: dict[tuple[int, int], list[int]] = {}
        moved = {}
        contexts = {index: ctx for (_, ctx), index in self.index.items()}
        burst = self.arch.mechanisms.dram_burst_bytes
        for k, (node, unit_id) in enumerate(zip(self.nodes, self.units, strict=True)):
            if node.kind == "ag":
                moved[k] = math.ceil(self.ag_bytes(unit_id, contexts[k]) / burst) * burst
                groups.setdefault((node.stage, node.lead), []).append(k)
        per_cycle = self.arch.dram_bytes_per_cycle()
        for members in groups.values():
            sizes = np.array([moved[k] for k in members], dtype=np.float64)
            done = np.minimum(sizes[None, :], sizes[:, None]).sum(axis=1) / per_cycle
            for k, cycles in zip(members, done, strict=True):
                node = self.nodes[k]
                self.nodes[k] = dataclasses.replace(
                    node, ii=max(1.0, float(cycles) / max(node.count, 1)))
        return sum(moved.values()) / per_cycle

    def _box_elements(self, box: Box) -> int:
        count = box.elements
        if box.per_step and count % self.phase.steps == 0:
            count //= self.phase.steps
        return count

    def _staging_edge(self, ag: AG, pmu: PMU, stream: Stream, hops: int, depth: int) -> None:
        """An AG loading a PMU that this phase reads: a double-buffered PMU is filled one
        step ahead (a prefetch); a single buffer is filled in the step that reads it."""
        readers = [
            i for (u, ctx), i in self.index.items() if u == pmu.id and ctx.startswith("read")
        ]
        if not readers:
            return
        stage = min(self.nodes[i].stage for i in readers)
        # a step ahead of its readers (which may work a step ahead themselves)
        ahead = max(self.nodes[i].lead for i in readers)
        if pmu.banking == "fifo":
            # a stream buffer (weights from DRAM): every token its reader takes, prefetched
            # as far as the buffer's room allows
            tokens, lead = self.nodes[readers[0]].count, ahead + 1
        else:
            tokens, lead = self._vectors(pmu), ahead + 1 if pmu.buffers >= 2 else ahead
        load = self._add((ag.id, f"load:{pmu.id}"), self._ag_node(ag, tokens, stage, lead))
        write = self._add(
            (pmu.id, f"write:{stream.id}"),
            Node(pmu.id, "pmu", _pmu_role(pmu, self.m), tokens, 1.0,
                 self.arch.timing.pmu_write_cycles, lead=lead,
                 stage=stage),
        )
        self.edges.append(Edge(load, write, stream.network, hops, 1, 1, depth))

    def _drain_edge(self, pmu: PMU, ag: AG, stream: Stream, hops: int, depth: int) -> None:
        writers = [i for (u, ctx), i in self.index.items()
                   if u == pmu.id and ctx.startswith("write")]
        if not writers:
            return
        writer = writers[0]
        stage = self.nodes[writer].stage
        tokens = self._vectors(pmu)
        read = self._add((pmu.id, f"read:{stream.source.port}"),
                         Node(pmu.id, "pmu", _pmu_role(pmu, self.m), tokens, 1.0,
                              self.arch.pmu_read_latency(), stage=stage))
        store = self._add((ag.id, f"store:{pmu.id}"), self._ag_node(ag, tokens, stage, 0))
        self.edges.append(Edge(read, store, stream.network, hops, 1, 1, depth))

    # -- memories -----------------------------------------------------------------------------

    def buffers(self) -> None:
        """Each PMU's writes reach its reads through its buffers."""
        for unit in self.m.units:
            if not isinstance(unit, PMU):
                continue
            contexts = [(ctx, i) for (owner, ctx), i in self.index.items() if owner == unit.id]
            writes = [i for ctx, i in contexts if ctx.startswith("write")]
            reads = [i for ctx, i in contexts if ctx.startswith("read")]
            for write, read in itertools.product(writes, reads):
                w, r = self.nodes[write], self.nodes[read]
                if unit.banking == "fifo":
                    room = max(1, self._stream_buffer_bytes(unit) // (self.arch.pmu.banks * 4)
                               // max(unit.buffers, 1))
                    self.edges.append(Edge(write, read, "memory", 0, depth=room))
                    continue
                if w.stage < r.stage or (w.lead > r.lead):
                    carry = 0  # written by an earlier nest, or prefetched, for this step
                elif unit.buffers >= 2:
                    carry = 1  # state: written this step into the buffer the next reads
                else:
                    continue  # read and rewritten in place by the same iteration (c)
                self.edges.append(Edge(write, read, "memory", 0, buffers=unit.buffers,
                                       carry=carry))

    def _stream_buffer_bytes(self, pmu: PMU) -> int:
        """Bytes of a FIFO PMU's stream buffer: its bytes less those of the rows it keeps
        (`stream_buffers.kept_boxes`, counted as stored: never more than the PMU counts
        for them, which pads rows to whole vectors)."""
        memories = {m.name: m for m in self.m.memories}
        kept = kept_boxes(pmu, loaded_boxes(self.m.units))
        return pmu.bytes - sum(self._box_bytes(box, memories.get(box.memory)) for box in kept)

    def _swap_writers(self) -> tuple[int, ...]:
        """The write contexts of the state buffer that sends the swap token (its hops
        are 0), when the phase starts its steps on one."""
        source = [unit for unit, hops in self.swap.items() if hops == 0]
        return tuple(i for (unit, ctx), i in sorted(self.index.items(), key=lambda kv: kv[1])
                     if unit in source and ctx.startswith("write"))

    def build(self) -> PhaseGraph:
        self.pcu_nodes()
        self.streams()
        self.buffers()
        dram_cycles = self._share_bandwidth()
        mech = self.arch.mechanisms
        graph = TimingGraph(
            tuple(self.nodes), tuple(self.edges), self.arch.network.hop_latency_cycles,
            controller_latency=mech.controller_cycles, buffer_swap=mech.buffer_swap_cycles,
            control_routes=tuple(self.control_routes),
            control_links=self.arch.links(Network.CONTROL), dram_cycles=dram_cycles,
            swap_writers=self._swap_writers(), swap_relay=relay_hops(self.m, self.phase),
        )
        return PhaseGraph(self.phase, graph, tuple(self.units))


def _ahead_units(machine: Machine) -> frozenset[str]:
    """The units that work a step ahead: those reading a PMU of role `ahead` (the
    map-reduce units folding the input projection of the next step)."""
    ahead = {u.id for u in machine.units if isinstance(u, PMU) and u.role == PMUKind.AHEAD}
    return frozenset(
        sink.unit for stream in machine.streams if stream.source.unit in ahead
        for sink in stream.sinks
    )


def _chained(unit: PCU) -> bool:
    """A map-reduce unit that adds partial sums arriving on its inputs to its own."""
    return unit.role == "map_reduce" and unit.reduce is not None and bool(unit.reduce.inputs)


def _pmu_role(pmu: PMU, machine: Machine) -> str:
    from rnnc.backend.emit import unit_role

    return unit_role(pmu, machine)


def phase_graphs(machine: Machine, arch: Architecture) -> list[PhaseGraph]:
    """One timing graph per phase of the machine's schedule, in order."""
    return [_Builder(machine, arch, phase).build() for phase in machine.schedule]


def streamed_weight_bytes(machine: Machine, arch: Architecture) -> int:
    """Weight bytes the time loop streams from DRAM every step (address generators
    loading slices of weight memories)."""
    weights = {m.name for m in machine.memories if m.init.startswith("weight:")}
    total = 0
    for phase in machine.schedule:
        if phase.kind != "loop":
            continue
        builder = _Builder(machine, arch, phase)
        builder.build()
        for (unit_id, context), _ in builder.index.items():
            unit = builder.unit_of(unit_id)
            if isinstance(unit, AG) and unit.memory in weights and context.startswith("load:"):
                total += builder.ag_bytes(unit_id, context)
    return total
