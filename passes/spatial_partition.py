"""`spatial-partition`: a loop-level program as logical units and streams.

Every loop nest of the program (the time loop's nests, and those that run once before and
after it) becomes units, from the structure of its loops and not from knowing what cell it
computes (`rnnc.analysis.layout`). How many of each, their weight slices and where those
live, the trees and the element-wise grouping are the nest's plan at the factors on its
loops (`rnnc.target.plan.nest_plan`, which the cost model sums); the partition builds it:

* **map-reduce PCUs**: one per foreach copy (the `par` of the `loop.foreach`), per packed
  reduction slot and per part of the reduction (`ru` parts of whole `rv`-chunks; parts
  left empty are not built). Each folds its range of the reduction index with its body's
  ops, reading a **weight PMU** holding its slice (by reference: array and slices, in the
  precision's weight format; copies that differ only in dimensions the weights do not
  depend on share it, multicast) and an **operand PMU** holding its range of the operand
  vector (the [x, h] chunk; shared, multicast to every unit that reads the same range);
* **combining PCUs** adding the parts' partial sums, with at most the PCU's scalar inputs
  per unit (`plan.combine_step`);
* **element-wise PCUs**: the chain of element-wise ops in levels of `stages` ops (each op
  in the stage of its depth), each PCU serving as many copies side by side in its lanes as
  its lanes and scalar inputs allow; each level's PCU reads each memory it loads from its
  own PMU (holding the elements its copies read, e.g. their biases), and passes the values
  later levels need in one vector stream;
* writes: a memory written by several PCUs and read elsewhere (h, y) goes through a
  **gather** tree of PCUs into one stream multicast to every PMU holding part of it and, for
  off-chip memories, to a store **AG**; a memory each copy reads and writes at its own
  elements (c) is written by each PCU into its own PMU;
* off-chip inputs reach their PMUs through load AGs (multicast); the rows of a weight
  slice that its unit's two weight inputs cannot hold in PMUs (`plan.weight_placement`: one
  PMU keeps what it can, the FIFO PMU as many more as fit beside its stream buffer, only
  the rest streams) are **streamed from DRAM** through AGs into those double-buffered FIFO
  PMUs, every step -- never assumed to fit.

Lookup tables: in a precision mode whose nonlinearities are tables (`mixed`), every
element-wise PCU computing activations gets one PMU holding its tables (named by function
and table parameters).

Control (`_control`): the schedule gets a controller (`spatial.controller @ctrl`, a switch
control block, not a unit; `spatial-place` gives it its switch) with an `enable` broadcast
to every unit the schedule fires and a `done_<unit>` stream from each back to it.

The design is added beside the loop program, which stays in the module (the weights it
names and the searched cost are read from it) until `spatial-strip`; on a module that holds
a design already the pass changes nothing.

    rnnc model.mlir -p 'rnn-decompose,loop-fuse,loop-assign-resources,spatial-partition'
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from rnnc.analysis.access import counters_of
from rnnc.analysis.layout import NestLayout, is_weight, nest_layout, stage_of
from rnnc.analysis.names import argument_names, result_names
from rnnc.analysis.program import nest_plan_of
from rnnc.diagnostics import Diagnostic
from rnnc.dialects import loop, rnn
from rnnc.dialects.spatial import (
    AGOp,
    ArchAttr,
    BindingDirection,
    BindOp,
    ControllerOp,
    DesignOp,
    NestOp,
    PCUOp,
    PhaseKind,
    PhaseOp,
    PMUKind,
    PMUOp,
    PointOp,
    UnitOp,
    design_of,
)
from rnnc.numerics.precision import parse_precision
from rnnc.passes.loop_fold_constants import folded_array, is_folded
from rnnc.target import chained_sums, joint_chunks, plan
from rnnc.target.arch import Architecture
from rnnc.target.design_ops import ag_op, memory_op, pcu_op, pmu_op, stream_op
from rnnc.target.design_view import unit_view
from rnnc.target.format_blocks import held_row_bytes
from rnnc.target.machine import (
    CONTROLLER,
    DONE_PORT,
    ENABLE_PORT,
    Box,
    Counter,
    Emit,
    Endpoint,
    Holding,
    Memory,
    Op,
    Reduce,
    Segment,
    Stream,
    fired_units,
)
from rnnc.target.plan import WORD_BYTES, NestPlan
from rnnc.target.registry import architectures
from rnnc.target.step_ahead import AheadPlan
from xdsl.context import Context
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import (
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    TensorType,
)
from xdsl.ir import Block, BlockArgument, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException

_BINARY = {loop.AddOp: "add", loop.SubOp: "sub", loop.MulOp: "mul", loop.MaxOp: "max",
           loop.MinOp: "min"}  # fmt: skip
_INDEX = {arith.AddiOp: "addi", arith.SubiOp: "subi", arith.MuliOp: "muli"}


class PartitionError(ValueError):
    """A program the partition cannot lay out on the chip (names the resource)."""


class UnsupportedProgram(PartitionError):
    """A program the partition does not take at any design point (an op it has no units
    for): a search for another point would fail the same way."""


class UnsupportedProgramFailure(PassFailedException):
    """`spatial-partition`'s diagnostic for an `UnsupportedProgram`: not about resources,
    so the driver reports it as it is instead of searching another point
    (`rnnc.driver.routable`)."""


# ----------------------------------------------------------------------------------------
# Units under construction
# ----------------------------------------------------------------------------------------


@dataclass
class _Unit:
    """A PCU being built: its ops (with a value -> reference map), ports and emits."""

    id: str
    nest: str
    role: str
    lanes: int
    copies: tuple[int, ...]
    counters: tuple[Counter, ...]
    ops: list[Op] = field(default_factory=list)
    refs: dict[SSAValue, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    emits: list[Emit] = field(default_factory=list)
    reduce: Reduce | None = None
    read_ports: dict[str, str] = field(default_factory=dict)
    """memory -> the input port its values arrive on."""
    reserved: int = 0
    """Vector inputs reserved by earlier levels' streams into this unit."""
    limits: dict[str, int] = field(default_factory=dict)
    mode: str = ""
    """`map_reduce` or `elementwise`, set when the unit is complete."""

    def port(self, network: str, direction: str) -> str:
        key = f"{network[0]}{direction[0]}"
        index = self.ports.get(key, self.reserved if key == "vi" else 0)
        self.ports[key] = index + 1
        limit = self.limits.get(f"{network}_{direction}puts")
        if limit is not None and index >= limit:
            raise PartitionError(
                f"unit {self.id} needs {index + 1} {network} {direction}puts, a PCU has {limit}"
            )
        return f"{key}{index}"

    def add(self, stage: int, name: str, args: Sequence[str], **params: object) -> str:
        self.ops.append(Op(stage, name, tuple(args), tuple(params.items())))
        return f"%{len(self.ops) - 1}"

    def build(self) -> PCUOp:
        """The unit's op."""
        return pcu_op(self.id, nest=self.nest, role=self.role, mode=self.mode,
                      lanes=self.lanes, counters=self.counters, copies=self.copies,
                      ops=self.ops, emits=self.emits, reduce=self.reduce)


@dataclass
class _Reader:
    """A PMU serving reads: the boxes it holds, the units reading it (one multicast
    stream) and who writes it."""

    id: str
    boxes: tuple[Box, ...]
    consumers: list[Endpoint]
    banking: str = "strided"
    bytes: int = 0
    buffers: int = 1
    holds: tuple[Holding, ...] = ()
    writers: list[str] = field(default_factory=list)
    """Streams (ids) that write into it."""
    lut: str = ""
    streamed: tuple[Box, ...] = ()
    """Weight slices: the boxes (of `boxes`) loaded from DRAM every step into its stream
    buffer; the others it holds."""
    owner: tuple[str, tuple[int, ...]] | None = None
    """(nest, copies) of the element-wise unit this PMU belongs to, for local writes."""
    kind: str = "operand"
    """`weight` (a map-reduce slice), `operand`, `ahead` (the operand of units folding the
    input projection a step ahead), `element` (an element-wise unit's), `lut`."""
    row_bytes: int = 0
    """Weight slices: bytes of one row (what a streamed slice buffers, twice)."""
    nest: str = ""
    group: tuple[int, tuple[int, ...]] = (0, ())
    """Who may share it: the operand group of the slots it serves
    (`NestLayout.operand_groups`) and the copy's indices along the dimensions the operand
    (or weight) depends on -- two directions read x at different time steps."""


# ----------------------------------------------------------------------------------------
# The partition
# ----------------------------------------------------------------------------------------


class _Partitioner:
    def __init__(self, module: ModuleOp, arch: Architecture, precision: str):
        self.arch = arch
        self.mode = arch.precision(precision)
        self.numerics = parse_precision(precision)
        self.module = module
        self.memories: dict[SSAValue, Memory] = {}
        self.inputs: list[BindOp] = []
        self.outputs: list[BindOp] = []
        self.pcus: list[_Unit] = []
        """The complete PCUs, in the order of the design."""
        self.readers: list[_Reader] = []
        self.ags: list[AGOp] = []
        self.streams: list[Stream] = []
        self.nests: list[NestOp] = []
        self.design: list[PointOp] = []
        self.schedule: list[PhaseOp] = []
        self.writes: list[tuple[str, str, SSAValue, str, tuple[int, ...]]] = []
        """(nest, unit, memory, port, copies) of local writes."""
        self.global_writes: list[tuple[Endpoint, tuple[SSAValue, ...]]] = []
        self._reserved: dict[str, int] = {}
        self.check = True
        self._step_dims: dict[Box, tuple[int, ...]] = {}
        self._fixed_buffer: set[Box] = set()
        """Dimensions of a per-step box indexed by the time step (one element held)."""

    # ---- names ---------------------------------------------------------------------------

    def mem(self, memref: SSAValue) -> str:
        return self.memories[memref].name

    def unit(self, *args: object) -> _Unit:
        unit = _Unit(*args)  # type: ignore[arg-type]
        pcu = self.arch.pcu
        unit.limits = {
            "scalar_inputs": pcu.scalar_inputs, "scalar_outputs": pcu.scalar_outputs,
            "vector_inputs": pcu.vector_inputs, "vector_outputs": pcu.vector_outputs,
        }  # fmt: skip
        return unit

    def stream(self, network: str, source: Endpoint, sinks: Sequence[Endpoint]) -> str:
        stream_id = f"s{len(self.streams)}"
        self.streams.append(Stream(stream_id, network, source, tuple(sinks)))
        return stream_id

    def _check_dram_ports(self) -> None:
        """Every design loads x and stores y through address generators, one vector stream
        each way."""
        for direction in ("inputs", "outputs"):
            if self.arch.ports("ag", "vector", direction) < 1:
                raise PartitionError(
                    f"the architecture's address generators have no vector {direction} "
                    f"(ag.vector_{direction}): a design moves its inputs and outputs "
                    "between DRAM and the chip through them"
                )

    # ---- the function --------------------------------------------------------------------

    def run(self) -> DesignOp:
        self._check_dram_ports()
        function = next(
            (op for op in self.module.ops if isinstance(op, func.FuncOp)
             and op.sym_name.data == "main"), None,
        )  # fmt: skip
        if function is None:
            raise PartitionError("no function @main to partition")
        model_level = next((op for op in function.walk() if isinstance(op, rnn.RecurrentOp)), None)
        if model_level is not None:
            raise PartitionError(
                f"expected a loop-level program, found {model_level.name} (run rnn-decompose "
                "first)"
            )
        self._refuse_tensor_ops(function)
        self._bind(function)
        for op in function.body.block.ops:
            if isinstance(op, loop.ForeachOp) and is_folded(op):
                continue  # it ran when compiling: its memories are constants
            if isinstance(op, loop.ForeachOp):
                self._phase("once", 1, [self._nest(op, None)])
            elif isinstance(op, loop.SequentialOp):
                nests = [n for n in op.body.block.ops if isinstance(n, loop.ForeachOp)]
                others = [
                    o for o in op.body.block.ops if not isinstance(o, loop.ForeachOp | loop.YieldOp)
                ]
                if any(not _pure_index(o) for o in others):
                    raise UnsupportedProgram(f"unsupported op {others[0].name} in a time loop body")
                self._phase("loop", op.step_count, [self._nest(n, op) for n in nests])
            elif not isinstance(op, _BINDING_OPS):
                raise UnsupportedProgram(f"unsupported op {op.name} at the top of @main")
        self._finish()
        return self._design_op()

    @staticmethod
    def _refuse_tensor_ops(function: func.FuncOp) -> None:
        """Tensor-level ops left between the memories (views rnn-decompose could not fold
        into indexing) have no units: name the first, with its types."""
        for op in function.body.block.ops:
            if isinstance(op, _TENSOR_OPS):
                operands = ", ".join(str(v.type) for v in op.operands)
                raise UnsupportedProgram(
                    f"unsupported op {op.name} ({operands} -> {op.results[0].type}) at tensor "
                    "level in @main: the partition takes loop nests over memories, and "
                    "rnn-decompose folds only the transposes, reshapes and concats that "
                    "relabel a whole input or result of a layer"
                )

    def _phase(self, kind: str, steps: int, nests: list[str]) -> None:
        if kind == "once" and self.schedule and self.schedule[-1].kind.data == PhaseKind.ONCE:
            last = self.schedule.pop()
            nests = [*last.nest_ids, *nests]
        self.schedule.append(PhaseOp(PhaseKind(kind), steps, nests))

    def _bind(self, function: func.FuncOp) -> None:
        args = dict(zip(function.body.block.args, argument_names(function), strict=True))
        names: set[str] = set()
        for op in function.walk():
            if not isinstance(op, loop.FromTensorOp | loop.AllocOp):
                continue
            memref = op.memref
            base = memref.name_hint or "m"
            name, n = base, 1
            while name in names:
                name, n = f"{base}_{n}", n + 1
            names.add(name)
            ty = memref.type
            assert isinstance(ty, MemRefType)
            init = _alloc_init(op) if isinstance(op, loop.AllocOp) else "undefined"
            if isinstance(op, loop.FromTensorOp):
                source = op.tensor
                if source in args:
                    init = f"input:{args[source]}"
                elif isinstance(source.owner, rnn.WeightOp):
                    init = f"weight:{source.owner.key.data}"
                else:
                    raise UnsupportedProgram(f"memory '{name}' is bound to a tensor that is "
                                             "neither an argument nor an rnn.weight")
            self.memories[memref] = Memory(
                name=name,
                shape=tuple(ty.get_shape()),
                element_bytes=_element_bytes(ty.get_element_type()),
                buffers=loop.buffers_of(memref),
                space=loop.space_of(memref),
                init=init,
            )
        for arg, name in args.items():
            ty = arg.type
            assert isinstance(ty, TensorType)
            bound = [u.operation for u in arg.uses if isinstance(u.operation, loop.FromTensorOp)]
            self.inputs.append(BindOp(BindingDirection.INPUT, name, ty.get_shape(),
                                      str(ty.get_element_type()),
                                      self.mem(bound[0].memref) if bound else None))
        returned = function.body.block.last_op
        assert returned is not None
        for value, name in zip(returned.operands, result_names(function), strict=True):
            owner = value.owner
            if not isinstance(owner, loop.ToTensorOp):
                raise UnsupportedProgram(f"result '{name}' is not read back from a memory")
            ty = value.type
            assert isinstance(ty, TensorType)
            self.outputs.append(BindOp(BindingDirection.OUTPUT, name, ty.get_shape(),
                                       str(ty.get_element_type()), self.mem(owner.memref)))

    # ---- one nest ------------------------------------------------------------------------

    _ctx: _NestContext

    def _nest(self, nest: loop.ForeachOp, time: loop.SequentialOp | None) -> str:
        nest_id = f"n{len(self.nests)}"
        layout = nest_layout(nest, self.arch.pcu.stages, self.arch.pmu.vector_inputs,
                             self.arch.pcu.vector_inputs)
        try:
            nest_plan = nest_plan_of(nest, self.arch, self.mode, layout)
        except ValueError as error:
            raise PartitionError(f"nest {nest_id}: {error}") from None
        if nest_plan.spec.chained_sums and layout.reduces and not nest_plan.sum_inputs:
            raise PartitionError(self._no_room_to_chain(nest_id))
        extents, par = nest.shape, nest.par_factors
        self.nests.append(NestOp(nest_id, extents, par))
        ru, rv = int(nest_plan.ru), int(nest_plan.rv)
        self.design.append(PointOp(nest_id, math.prod(par), ru, rv))
        grid = list(itertools.product(*(range(p) for p in par)))
        ctx = _NestContext(nest_id, nest, layout, nest_plan, extents, par, grid, ru, rv, time)
        self._ctx = ctx
        results = self._map_reduce(ctx) if layout.reduces else {}
        self._elementwise(ctx, results)
        return nest_id

    def _no_room_to_chain(self, nest_id: str) -> str:
        """Why a nest marked `loop.chained_sums` cannot chain on this chip."""
        stages, prefix = self.arch.pcu.stages, self.mode.map_reduce_prefix_stages
        return (f"nest {nest_id}: its partial sums are chained in its map-reduce units "
                f"({chained_sums.ATTRIBUTE}), but a PCU of {self.arch.name} in {self.mode.name} "
                f"has no stage left to add them ({stages} stages: {prefix} prefix, 1 folded "
                "tree)")

    def _counters(self, ctx: _NestContext, copy: tuple[int, ...]) -> tuple[Counter, ...]:
        return tuple(
            Counter(f"d{j}", c, e, p)
            for j, (c, e, p) in enumerate(zip(copy, ctx.extents, ctx.par, strict=True))
        )

    # ---- map-reduce and combining units ----------------------------------------------------

    def _map_reduce(self, ctx: _NestContext) -> dict[tuple[int, int], tuple[Endpoint, int]]:
        """Build the map-reduce and combining units; return, per (copy, slot), the port
        the slot's results leave on, with the number of fields (one per reduction)."""
        layout = ctx.layout
        finals: dict[tuple[int, int], tuple[Endpoint, int]] = {}
        for s, slot in enumerate(layout.slots):
            bounds = self._slot_bounds(ctx, s)
            parts = int(ctx.plan.parts[s])
            partials: dict[int, list[Endpoint]] = {}
            for c, copy in enumerate(ctx.grid):
                partials[c] = [
                    self._map_reduce_unit(ctx, c, copy, s=s, slot=slot, r=r, bounds=bounds)
                    for r in range(parts)
                ]
            if ctx.plan.sum_inputs and parts > 1:
                combined = self._chain_sums(partials, ctx.plan.sum_inputs)
            else:
                combined = self._combine(ctx, s, partials, len(slot))
            for c, endpoint in combined.items():
                finals[(c, s)] = (endpoint, len(slot))
        return finals

    @staticmethod
    def _slot_bounds(ctx: _NestContext, s: int) -> dict[int, list[tuple[int, int]]]:
        """Per reduction of slot `s`, [start, stop) of each part: its own parts, or the
        parts of the slot's one chunk sequence (`rnnc.target.joint_chunks`)."""
        slot = ctx.layout.slots[s]
        if not ctx.plan.spec.joint(s):
            return {g: _Partitioner._part_bounds(ctx, g) for g in slot}
        lengths = [ctx.layout.reduces[g].length for g in slot]
        return dict(zip(slot, joint_chunks.bounds(lengths, ctx.ru, ctx.rv), strict=True))

    @staticmethod
    def _part_bounds(ctx: _NestContext, g: int) -> list[tuple[int, int]]:
        """[start, stop) of each part of reduction `g`: the leading range's parts first when
        the input projection runs a step ahead (`rnnc.target.step_ahead`)."""
        if isinstance(ctx.plan, AheadPlan):
            first, rest = ctx.plan.bounds(g)
            return first + rest
        return plan.part_bounds(ctx.layout.reduces[g].length, ctx.ru, ctx.rv)

    def _map_reduce_unit(
        self, ctx: _NestContext, c: int, copy: tuple[int, ...], *, s: int,
        slot: tuple[int, ...], r: int, bounds: dict[int, list[tuple[int, int]]],
    ) -> Endpoint:
        unit = self.unit(f"{ctx.id}_mr{c}_s{s}_p{r}", ctx.id, "map_reduce", 0, (c,),
                     self._counters(ctx, copy))
        segments: list[Segment] = []
        weight_loads: list[tuple[loop.LoadOp, tuple[int, int], SSAValue]] = []
        operand_boxes: list[Box] = []
        weight_port, operand_port = unit.port("vector", "in"), unit.port("vector", "in")
        outer: dict[SSAValue, str] = {}
        for g in slot:
            if r >= len(bounds[g]) or bounds[g][r][0] == bounds[g][r][1]:
                # a shorter reduction of the slot has no part here: an empty range, so the
                # unit still sends one value (the combiner's identity) per reduction
                length = ctx.layout.reduces[g].length
                segments.append(Segment(f"r{g}", length, length, "", 0))
                continue
            start, stop = bounds[g][r]
            reduce = ctx.layout.reduces[g]
            base = 0
            for region, length in zip(reduce.segments, reduce.lengths, strict=True):
                lo, hi = max(start, base), min(stop, base + length)
                if lo < hi:
                    block = region.block
                    local = {**outer, block.args[0]: "ctr:k"}
                    for op in block.ops:
                        # values of the nest's body a segment uses (an index computed
                        # from a loaded sequence length): loads through the operand PMU
                        for dep in _deps(op, ctx.nest, local):
                            if isinstance(dep, loop.LoadOp):
                                operand_boxes.append(self._box(ctx, dep, copy, None, None))
                                ref = self._read(unit, dep, local, operand_port, 0)
                            else:
                                ref = self._transcribe(unit, dep, local, 0)
                            local[dep.results[0]] = outer[dep.results[0]] = ref
                        if isinstance(op, loop.LoadOp):
                            k_range = (lo - base, hi - base)
                            box = self._box(ctx, op, copy, k_range, block.args[0])
                            if is_weight(op.memref):
                                weight_loads.append((op, k_range, block.args[0]))
                                port = weight_port
                            else:
                                operand_boxes.append(box)
                                port = operand_port
                            local[op.result] = self._read(unit, op, local, port, 0)
                        elif isinstance(op, loop.YieldOp):
                            segments.append(Segment(f"r{g}", lo, hi, local[op.values[0]], base))
                        else:
                            local[op.results[0]] = self._transcribe(unit, op, local, 0)
                base += length
        unit.reduce = Reduce(reduce.kind, unit.port("scalar", "out"), tuple(segments), rv=ctx.rv)
        unit.lanes = min(self.arch.pcu.lanes, ctx.rv)
        self._weights(ctx, unit, copy, loads=weight_loads, kind=ctx.plan.kind_of(s, r),
                      port=weight_port)
        if operand_boxes:
            group = next(k for k, g in enumerate(ctx.layout.operand_groups) if s in g)
            sharing = tuple(copy[j] for j in ctx.layout.operand_dims)
            ahead = isinstance(ctx.plan, AheadPlan) and ctx.plan.ahead_part(s, r)
            self._serve(tuple(operand_boxes), Endpoint(unit.id, operand_port),
                        kind="ahead" if ahead else "operand", group=(group, sharing))
        self._add_pcu(unit, "map_reduce")
        return Endpoint(unit.id, unit.reduce.output)

    def _weights(
        self, ctx: _NestContext, unit: _Unit, copy: tuple[int, ...], *,
        loads: list[tuple[loop.LoadOp, tuple[int, int], SSAValue]], kind: int, port: str,
    ) -> None:
        """The unit's weight slice, of the plan's slice kind `kind`, placed where the plan
        says: in one PMU, split by rows over two, or a head in one and, in a FIFO PMU, as
        many rows more as it holds beside its stream buffer, the rest streamed from DRAM
        (`_stream_weights`)."""
        dims = ctx.layout.weight_dims
        last = dims[-1] if dims else None
        slices = ctx.plan.weights
        last_rows, cut = int(slices.last_rows[kind]), int(slices.piece_rows[kind])
        held = int(slices.held_rows[kind])
        split = int(slices.pmus[kind]) == 2
        # (rows held, rows streamed) of each piece: all rows in one PMU, halves in two, a
        # head in one and a tail and the rest streamed in the other, or all streamed
        pieces = ([((0, cut), (cut, cut)), ((cut, held), (held, last_rows))] if split
                  else [((0, held), (held, last_rows))])
        ports = [port] + ([unit.port("vector", "in")] if split else [])

        def boxes_of(lo: int, hi: int) -> tuple[Box, ...]:
            """The boxes of the copy's rows lo..hi-1 along the last dimension (none)."""
            if lo == hi:
                return ()
            return tuple(self._box(ctx, op, copy, k_range, counter,
                                   rows=(last, lo, hi) if split else None)
                         for op, k_range, counter in loads)

        for ((lo, mid), (_, hi)), piece_port in zip(pieces, ports, strict=True):
            kept, streamed = boxes_of(lo, mid), boxes_of(mid, hi)
            row_bytes = int(slices.row_bytes[kind])
            if self.mode.weight_format is not None:  # the scales of the blocks it touches
                row_bytes = held_row_bytes(self.mode, int(slices.row_words[kind]),
                                           [box.slices[-1][:2] for box in kept or streamed])
            self._serve((*kept, *streamed), Endpoint(unit.id, piece_port), kind="weight",
                        bytes_=_copy_rows(ctx, copy, dims, (lo, mid)) * row_bytes,
                        row_bytes=row_bytes,
                        group=(0, tuple(copy[j] for j in dims)), streamed=streamed)
        if split:
            unit.ops = [
                _with_port(op, ",".join(ports)) if op.op == "read" and op.param("port") == port
                else op
                for op in unit.ops
            ]

    def _chain_sums(
        self, partials: dict[int, list[Endpoint]], fan_in: int
    ) -> dict[int, Endpoint]:
        """Each copy's parts add their neighbours' partial sums in their free stages
        (`chained_sums.chain_inputs`: part j those of parts j*fan_in + 1 ..., arriving on
        its scalar inputs si0, si1, ..., named in `Reduce.inputs`); part 0 sends the dot
        product."""
        inputs: dict[str, tuple[str, ...]] = {}
        for items in partials.values():
            for j, sources in enumerate(chained_sums.chain_inputs(len(items), fan_in)):
                ports = [f"si{n}" for n in range(len(sources))]
                for k, port in zip(sources, ports, strict=True):
                    self.stream("scalar", items[k], [Endpoint(items[j].unit, port)])
                if ports:
                    inputs[items[j].unit] = tuple(f"in:{port}" for port in ports)
        for pcu in self.pcus:
            if pcu.id in inputs and pcu.reduce is not None:
                pcu.reduce = replace(pcu.reduce, inputs=inputs[pcu.id])
        return {c: items[0] for c, items in partials.items()}

    def _combine(
        self, ctx: _NestContext, s: int, partials: dict[int, list[Endpoint]], fields: int
    ) -> dict[int, Endpoint]:
        """The combining tree of every copy's partial sums, level by level as
        `plan.combine_step` says."""
        fan_in, outputs = self.arch.pcu.scalar_inputs, self.arch.pcu.scalar_outputs
        level = 0
        current = partials
        while any(len(p) > 1 for p in current.values()):
            p = len(next(iter(current.values())))
            groups: list[tuple[int, list[Endpoint]]] = []  # (copy, inputs) -> one sum
            passed: dict[int, list[Endpoint]] = {c: [] for c in current}
            for c, items in current.items():
                if p > fan_in:
                    merged, single = plan.merge_groups(len(items), fan_in)
                    passed[c] += [items[k] for k in single]
                    groups += [(c, [items[k] for k in group]) for group in merged]
                else:
                    groups.append((c, items))
            per_pcu = int(plan.combine_step(p, fan_in, outputs)[1])
            for n in range(0, len(groups), per_pcu):
                shared = groups[n : n + per_pcu]
                unit = self.unit(f"{ctx.id}_cb{s}_l{level}_{n // per_pcu}", ctx.id, "combine",
                             len(shared), tuple(sorted({c for c, _ in shared})), ())
                unit.counters = self._counters(ctx, ctx.grid[shared[0][0]])
                for c, inputs in shared:
                    ports = []
                    for source in inputs:
                        port = unit.port("scalar", "in")
                        self.stream("scalar", source, [Endpoint(unit.id, port)])
                        ports.append(port)
                    values = []
                    for f in range(fields):
                        refs = [f"in:{port}.{f}" if fields > 1 else f"in:{port}" for port in ports]
                        values.append(_add_tree(unit, refs))
                    out = unit.port("scalar", "out")
                    unit.emits.append(Emit(out, tuple(values)))
                    passed[c].append(Endpoint(unit.id, out))
                self._add_pcu(unit, "elementwise")
            current = passed
            level += 1
        return {c: items[0] for c, items in current.items()}

    # ---- element-wise units --------------------------------------------------------------

    def _elementwise(
        self, ctx: _NestContext, results: dict[tuple[int, int], tuple[Endpoint, int]]
    ) -> None:
        layout = ctx.layout
        lanes_per = int(ctx.plan.per_pcu)
        groups = [tuple(range(k, min(k + lanes_per, len(ctx.grid))))
                  for k in range(0, len(ctx.grid), lanes_per)]
        passing: dict[tuple[int, int], dict[SSAValue, str]] = {}
        """(level, group) -> values an earlier level sends, by reference on that unit."""
        sent: dict[Endpoint, int] = {}
        for here, level in enumerate(layout.levels):
            writers: list[Endpoint] = []
            for n, copies in enumerate(groups):
                unit = self.unit(f"{ctx.id}_ew{here}_{n}", ctx.id, "elementwise", len(copies),
                             copies, self._counters(ctx, ctx.grid[copies[0]]))
                unit.reserved = self._reserved.get(unit.id, 0)
                refs: dict[SSAValue, str] = dict(passing.get((here, n), {}))
                for s in layout.slots_of(level):
                    ports = []
                    for c in copies:
                        port = unit.port("scalar", "in")
                        self._result_to(results[(c, s)][0], Endpoint(unit.id, port), sent)
                        ports.append(port)
                    fields = len(layout.slots[s])
                    for f, g in enumerate(layout.slots[s]):
                        refs[layout.reduces[g].result] = (
                            f"in:{','.join(ports)}" + (f".{f}" if fields > 1 else "")
                        )
                outs: dict[str, str] = {}
                for op in level.ops:
                    self._chain_op(ctx, unit, op, refs, copies=copies,
                                   global_writes=level.global_writes, outs=outs)
                if "global" in outs:
                    writers.append(Endpoint(unit.id, outs["global"]))
                self._send_forward(ctx, unit, refs, here=here, n=n, passing=passing)
                if ctx.plan.tables:
                    self._tables(unit)
                self._add_pcu(unit, "elementwise")
            if writers:
                root = self._gather(ctx, here, writers)
                self.global_writes.append((root, level.global_writes))

    def _result_to(self, source: Endpoint, sink: Endpoint, sent: dict[Endpoint, int]) -> None:
        """A slot's results reach `sink`: a slot packing reductions that different levels
        take (a GRU's x and h products of the candidate gate, when clip puts them at
        different depths) feeds them all, and its port carries one stream, so a later
        level joins the earlier level's stream as one more sink (multicast). `sent`: the
        index in `streams` of the stream leaving each result port so far."""
        k = sent.get(source)
        if k is None:
            sent[source] = len(self.streams)
            self.stream("scalar", source, [sink])
        else:
            self.streams[k] = replace(self.streams[k], sinks=(*self.streams[k].sinks, sink))

    def _chain_op(
        self, ctx: _NestContext, unit: _Unit, op: Operation, refs: dict[SSAValue, str], *,
        copies: tuple[int, ...], global_writes: tuple[SSAValue, ...], outs: dict[str, str],
    ) -> None:
        """Transcribe one element-wise op or store (with the loads and index arithmetic it
        needs) into `unit`; `outs` collects its write ports (`global`, or a memory name)."""
        stage = stage_of(op, ctx.layout.depth, self.arch.pcu.stages)
        for dep in _deps(op, ctx.nest, refs):
            if isinstance(dep, loop.LoadOp):
                # the memories the unit reads are in its own PMUs, grouped by the layout
                group = next(
                    str(k) for level in ctx.layout.levels for k, g in enumerate(level.read_groups)
                    if dep.memref in g and level.ops and op in level.ops
                )
                port = unit.read_ports.get(group)
                boxes = tuple(self._box(ctx, dep, ctx.grid[c], None, None) for c in copies)
                if dep.has_selector and dep.buffer is None:
                    self._fixed_buffer.update(boxes)
                if port is None:
                    port = unit.port("vector", "in")
                    unit.read_ports[group] = port
                    self._serve(boxes, Endpoint(unit.id, port), kind="element",
                                owner=(ctx.id, copies))
                else:
                    self._add_boxes(Endpoint(unit.id, port), boxes)
                refs[dep.result] = self._read(unit, dep, refs, port, 0)
            else:
                refs[dep.results[0]] = self._transcribe(unit, dep, refs, 0)
        if not isinstance(op, loop.StoreOp):
            refs[op.results[0]] = self._transcribe(unit, op, refs, stage)
            return
        name = self.mem(op.memref)
        key = "global" if op.memref in global_writes else name
        if key not in outs:
            outs[key] = unit.port("vector", "out")
            if key != "global":
                self.writes.append((ctx.id, unit.id, op.memref, outs[key], copies))
        args = [_ref(unit, op.value, refs, self), *self._indices(unit, op, refs)]
        params: dict[str, object] = {"memory": name, "offsets": list(op.index_offsets)}
        if op.has_selector:
            params["buffer_offset"] = op.selector_offset
            if op.buffer is not None:
                args.append(_ref(unit, op.buffer, refs, self))
        unit.add(stage, "write", args, port=outs[key], **params)

    def _send_forward(
        self, ctx: _NestContext, unit: _Unit, refs: dict[SSAValue, str], *, here: int, n: int,
        passing: dict[tuple[int, int], dict[SSAValue, str]],
    ) -> None:
        """One vector stream per later level carrying the values this level sends it (its
        own, and those it relays: `NestLayout.sender`)."""
        for later in range(here + 1, len(ctx.layout.levels)):
            needed = [v for v in ctx.layout.levels[later].incoming
                      if v in refs and ctx.layout.sender(later, v) == here]
            if not needed:
                continue
            out = unit.port("vector", "out")
            unit.emits.append(Emit(out, tuple(refs[v] for v in needed)))
            target = f"{ctx.id}_ew{later}_{n}"
            port = f"vi{self._next_vector_in(target)}"
            self.stream("vector", Endpoint(unit.id, out), [Endpoint(target, port)])
            fields = len(needed)
            passing.setdefault((later, n), {}).update(
                {v: f"in:{port}.{f}" if fields > 1 else f"in:{port}" for f, v in enumerate(needed)}
            )

    def _next_vector_in(self, target: str) -> int:
        """Vector inputs of a unit not built yet (a later level) are reserved in order;
        the unit numbers its own vector inputs after them."""
        count = self._reserved.get(target, 0)
        self._reserved[target] = count + 1
        return count

    def _tables(self, unit: _Unit) -> None:
        tables = [op for op in unit.ops if op.op in _ACTIVATIONS]
        if not tables:
            return
        p = self.numerics
        distinct = list(dict.fromkeys(
            f"{op.op}{_params_text(op)}:{p.lut_entries}:{p.lut_range:g}:{p.lut_interp}"
            for op in tables
        ))  # fmt: skip
        names = ",".join(distinct)
        # counted before joining: a table's parameters, `(alpha=..,beta=..)`, hold a comma
        entries = len(distinct) * p.lut_entries * WORD_BYTES
        size = entries * (2 if p.lut_interp == "linear" else 1)
        port_out, port_in = unit.port("vector", "out"), unit.port("vector", "in")
        reader = _Reader(f"{unit.id}_lut", (), [Endpoint(unit.id, port_in)], bytes=size,
                         lut=names, kind="lut")
        self.readers.append(reader)
        stream = self.stream("vector", Endpoint(unit.id, port_out), [Endpoint(reader.id, "vi0")])
        reader.writers.append(stream)
        for k, op in enumerate(unit.ops):
            if op.op in _ACTIVATIONS:
                unit.ops[k] = Op(op.stage, op.op, op.args, (*op.params, ("lut", reader.id)))

    def _gather(self, ctx: _NestContext, here: int, writers: list[Endpoint]) -> Endpoint:
        """Merge the writers' streams `fan_in` at a time until one remains (the groups of
        `plan.merge_groups`, which the plan's `gather_step` counts)."""
        fan_in = self.arch.pcu.vector_inputs
        level = 0
        while len(writers) > 1:
            merged: list[Endpoint] = []
            groups, single = plan.merge_groups(len(writers), fan_in)
            for group in groups:
                unit = self.unit(f"{ctx.id}_ga{here}_l{level}_{group[0] // fan_in}", ctx.id,
                                 "gather", 1, (), ())
                ports = []
                for source in (writers[k] for k in group):
                    port = unit.port("vector", "in")
                    self.stream("vector", source, [Endpoint(unit.id, port)])
                    ports.append(port)
                out = unit.port("vector", "out")
                unit.emits.append(Emit(out, tuple(f"in:{p}" for p in ports)))
                self._add_pcu(unit, "elementwise")
                merged.append(Endpoint(unit.id, out))
            writers = merged + [writers[k] for k in single]
            level += 1
        return writers[0]

    # ---- memories --------------------------------------------------------------------------

    def _box(
        self, ctx: _NestContext, op: loop.AccessOp, copy: tuple[int, ...],
        k_range: tuple[int, int] | None = None, k_counter: SSAValue | None = None, *,
        rows: tuple[int, int, int] | None = None,
    ) -> Box:
        """The elements one copy's access touches, per dimension; `rows` = (dim, lo, hi)
        keeps only the copy's iterations lo..hi-1 of foreach dimension dim."""
        memory = self.memories[op.memref]
        slices, per_step, step_dims = [], False, []
        for dim, (index, offset) in enumerate(zip(op.indices, op.index_offsets, strict=True)):
            size = memory.shape[dim]
            if index in ctx.nest.counters:
                j = ctx.nest.counters.index(index)
                start, stop = copy[j], ctx.extents[j]
                if rows is not None and rows[0] == j:
                    start = copy[j] + rows[1] * ctx.par[j]
                    stop = min(stop, copy[j] + rows[2] * ctx.par[j])
                slices.append((start + offset, stop + offset, ctx.par[j]))
            elif k_counter is not None and index is k_counter:
                assert k_range is not None
                slices.append((k_range[0] + offset, k_range[1] + offset, 1))
            elif isinstance(index.owner, arith.ConstantOp):
                value = index.owner.value.value.data  # type: ignore[union-attr]
                slices.append((int(value) + offset, int(value) + offset + 1, 1))
            else:
                # an index computed from the time step (or a loaded value): the whole
                # dimension, of which one step's element is held at a time
                slices.append((0, size, 1))
                if ctx.time is not None and any(c is ctx.time.counter for c in counters_of(index)):
                    per_step = True
                    step_dims.append(dim)
        box = Box(memory.name, tuple(slices), per_step)
        self._step_dims[box] = tuple(step_dims)
        return box

    def _serve(
        self, boxes: tuple[Box, ...], consumer: Endpoint, *, kind: str, bytes_: int = 0,
        owner: tuple[str, tuple[int, ...]] | None = None, row_bytes: int = 0,
        group: tuple[int, tuple[int, ...]] = (0, ()), streamed: tuple[Box, ...] = (),
    ) -> None:
        """A PMU holding `boxes` feeds `consumer`. Map-reduce units reading identical boxes
        share one PMU (one multicast stream); element-wise units each get their own. The
        `streamed` boxes of a weight slice are loaded from DRAM every step
        (`_stream_weights`); `bytes_` are those of the others."""
        boxes = tuple(dict.fromkeys(boxes))
        if kind != "element":
            for reader in self.readers:
                if (reader.kind, reader.boxes, reader.nest, reader.group) == (
                    kind, boxes, self._ctx.id, group
                ):
                    reader.consumers.append(consumer)
                    return
        reader = _Reader(f"pmu{len(self.readers)}", boxes, [consumer], kind=kind, owner=owner,
                         nest=self._ctx.id, group=group)
        if kind == "weight":
            reader.bytes, reader.row_bytes, reader.streamed = bytes_, row_bytes, streamed
        self.readers.append(reader)
        self._size(reader)

    def _add_boxes(self, consumer: Endpoint, boxes: tuple[Box, ...]) -> None:
        reader = next(r for r in self.readers if consumer in r.consumers and r.kind == "element")
        reader.boxes = tuple(dict.fromkeys((*reader.boxes, *boxes)))
        self._size(reader)

    def _size(self, reader: _Reader) -> None:
        """Bytes, buffers and initial contents of a PMU from its boxes."""
        memories = {b.memory: self._memory(b.memory) for b in reader.boxes}
        if reader.kind == "weight":
            reader.holds = tuple(
                Holding(memories[b.memory].init.split(":", 1)[1], b.slices, self._quant())
                for b in reader.boxes
            )
            return
        per_step = any(b.per_step for b in reader.boxes)
        # a box read at a fixed buffer (the final state after the time loop) needs that
        # buffer only
        reader.buffers = max([
            2 if per_step else 1,
            *(1 if b in self._fixed_buffer else memories[b.memory].buffers for b in reader.boxes),
        ])
        reader.bytes = reader.buffers * sum(
            _elements(b, self._step_dims.get(b, ())) * WORD_BYTES for b in reader.boxes
        )
        reader.holds = tuple(
            Holding(memories[b.memory].init.split(":", 1)[1], b.slices, "fp32")
            for b in reader.boxes
            if memories[b.memory].init.partition(":")[0] in ("weight", "input")
            and memories[b.memory].space != "dram" and not self._written(b.memory)
        )

    def _memory(self, name: str) -> Memory:
        return next(m for m in self.memories.values() if m.name == name)

    def _written(self, name: str) -> bool:
        """Whether a unit writes the memory (a nest run when compiling is no unit)."""
        memref = next(v for v, m in self.memories.items() if m.name == name)
        return any(isinstance(u.operation, loop.StoreOp) and not _in_folded_nest(u.operation)
                   for u in memref.uses)

    def _quant(self) -> str:
        if self.numerics.weight_format is not None:
            return self.numerics.name  # stored block-scaled, widened to float8 when read
        return self.numerics.float8 if self.numerics.mixed else "fp32"

    # ---- ops -------------------------------------------------------------------------------

    def _read(self, unit: _Unit, op: loop.LoadOp, refs: dict[SSAValue, str], port: str,
              stage: int) -> str:
        args = self._indices(unit, op, refs)
        params: dict[str, object] = {"memory": self.mem(op.memref), "port": port,
                                     "offsets": list(op.index_offsets)}
        if op.has_selector:
            params["buffer_offset"] = op.selector_offset
            if op.buffer is not None:
                args.append(_ref(unit, op.buffer, refs, self))
        return unit.add(stage, "read", args, **params)

    def _indices(self, unit: _Unit, op: loop.AccessOp, refs: dict[SSAValue, str]) -> list[str]:
        return [_ref(unit, index, refs, self) for index in op.indices]

    def _transcribe(self, unit: _Unit, op: Operation, refs: dict[SSAValue, str],
                    stage: int) -> str:
        args = [_ref(unit, v, refs, self) for v in op.operands]
        if type(op) in _BINARY:
            return unit.add(stage, _BINARY[type(op)], args)
        if isinstance(op, loop.SelectOp | arith.SelectOp):
            return unit.add(stage, "select", args)
        if isinstance(op, loop.ActivationOp):
            return unit.add(stage, op.name.split(".", 1)[1], args, **op.parameter_values())
        if type(op) in _INDEX:
            return unit.add(0, _INDEX[type(op)], args)
        if isinstance(op, arith.CmpiOp):
            return unit.add(0, "cmpi", args, predicate=op.predicate.value.data)
        if isinstance(op, arith.IndexCastOp):
            return unit.add(0, "index_cast", args)
        if isinstance(op, arith.ConstantOp):
            attr = op.value
            if isinstance(attr, FloatAttr):
                return unit.add(0, "const", [], value=float(attr.value.data), type="float")
            if isinstance(attr, IntegerAttr):
                one_bit = isinstance(attr.type, IntegerType) and attr.type.width.data == 1
                kind = "bool" if one_bit else "int"
                return unit.add(0, "const", [], value=int(attr.value.data), type=kind)
        raise UnsupportedProgram(f"no unit can run {op.name}")

    # ---- the rest of the machine ---------------------------------------------------------

    def _finish(self) -> None:
        """Wire the writes into the PMUs holding what they write, load the off-chip
        inputs through AGs, and stream the weight slices that do not fit."""
        for nest, unit, memref, port, copies in self.writes:
            name = self.mem(memref)
            sinks = [r for r in self.readers
                     if r.owner == (nest, copies) and name in {b.memory for b in r.boxes}]
            if sinks:
                self._feed(Endpoint(unit, port), sinks)
        for root, memrefs in self.global_writes:
            names = {self.mem(m) for m in memrefs}
            sinks = [r for r in self.readers if names & {b.memory for b in r.boxes}]
            stores = [Endpoint(self._ag("store", self.mem(m)), "vi0") for m in memrefs
                      if self.memories[m].space == "dram"]
            self._feed(root, sinks, stores)
        self._stream_weights()
        for memory in self.memories.values():
            sinks = [r for r in self.readers if r.kind != "weight"
                     and memory.name in {b.memory for b in r.boxes}]
            if memory.space == "dram" and sinks and not self._written(memory.name):
                self._feed(Endpoint(self._ag("load", memory.name), "vo0"), sinks)
        for reader in self.readers:
            self.stream("vector", Endpoint(reader.id, "vo0"), reader.consumers)

    def _feed(self, source: Endpoint, sinks: list[_Reader], more: Sequence[Endpoint] = ()) -> None:
        """One stream from `source` into every PMU of `sinks` (and `more`)."""
        limit = self.arch.pmu.vector_inputs
        targets = []
        for reader in sinks:
            if len(reader.writers) >= limit:
                raise PartitionError(
                    f"PMU {reader.id} is written by {len(reader.writers) + 1} streams, "
                    f"a PMU has {limit} vector inputs"
                )
            targets.append(Endpoint(reader.id, f"vi{len(reader.writers)}"))
        targets += list(more)
        if not targets:
            return
        stream = self.stream("vector", source, targets)
        for reader in sinks:
            reader.writers.append(stream)

    def _stream_weights(self) -> None:
        """Weight rows placed in DRAM (`_weights`) stream from it every step into a FIFO
        PMU (double-buffered rows beside the rows it holds), fed by AGs on the edges
        (several slices per AG, one multicast stream each, when there are more slices than
        AGs); an AG names the boxes it moves."""
        streamed = [r for r in self.readers if r.streamed]
        if not streamed:
            return
        free = self.arch.dram.address_generators - self._io_ags()
        if free < 1:
            raise PartitionError("no address generator is left to stream weights from DRAM")
        for reader in streamed:
            reader.banking, reader.buffers = "fifo", plan.STREAM_BUFFERS
            reader.bytes += plan.STREAM_BUFFERS * reader.row_bytes
        # an AG moves one memory (a slice over the [W R] boundary is fed by one of each);
        # the free AGs are shared among the memories by their slices, round-robin
        by_memory: dict[str, list[_Reader]] = {}
        for reader in streamed:
            for memory in dict.fromkeys(box.memory for box in reader.streamed):
                by_memory.setdefault(memory, []).append(reader)
        total = sum(len(readers) for readers in by_memory.values())
        per_ag: dict[tuple[str, int], list[_Reader]] = {}
        for memory, readers in sorted(by_memory.items()):
            share = max(1, free * len(readers) // total)
            for k, reader in enumerate(readers):
                per_ag.setdefault((memory, k % share), []).append(reader)
        for (memory, _), group in per_ag.items():
            boxes = tuple(b for r in group for b in r.streamed if b.memory == memory)
            self._feed(Endpoint(self._ag("load", memory, boxes), "vo0"), group)

    def _add_pcu(self, unit: _Unit, mode: str) -> None:
        """`unit` is complete: it runs in `mode` and takes its place in the design."""
        unit.mode = mode
        self.pcus.append(unit)

    def _io_ags(self) -> int:
        """AGs the off-chip inputs and outputs take: one per DRAM memory read, one per
        written memory per writing level (an upper bound before they are built)."""
        return sum(1 for m in self.memories.values() if m.space == "dram") + len(
            self.global_writes
        )

    def _ag(self, direction: str, memory: str, boxes: tuple[Box, ...] = ()) -> str:
        ag_id = f"ag{len(self.ags)}"
        edge = "left" if len(self.ags) % 2 == 0 else "right"
        self.ags.append(ag_op(ag_id, edge=edge, direction=direction, memory=memory, boxes=boxes))
        return ag_id

    def _pmu_kind(self, reader: _Reader) -> PMUKind:
        """What a PMU holds, decided here once (the emitter and the simulator read it):
        lookup tables; weights (held by reference, or a memory the weight file fills);
        a staged model input, or the operand vector of several memories; the recurrent
        state (N-buffered); else a buffer. A map-reduce unit's operand vector is never
        weights (its weights have PMUs of their own) even when it holds a model input it
        addresses x by (a reverse layer's sequence lengths)."""
        if reader.lut:
            return PMUKind.LOOKUP_TABLE
        if reader.kind == "ahead":
            return PMUKind.AHEAD
        known = {memory.name: memory for memory in self.memories.values()}
        memories = tuple(dict.fromkeys(box.memory for box in reader.boxes))
        inits = [known[name].init for name in memories if name in known]
        held = bool(reader.holds) and reader.kind != "operand"
        if held or any(init.startswith("weight:") for init in inits):
            return PMUKind.WEIGHTS
        if any(box.per_step for box in reader.boxes) or any(i.startswith("input:") for i in inits):
            return PMUKind.OPERAND if len(memories) > 1 else PMUKind.INPUT
        return PMUKind.STATE if reader.buffers > 1 else PMUKind.BUFFER

    def _pmu(self, reader: _Reader) -> PMUOp:
        """The PMU of `reader`; a PartitionError if it holds more than a PMU's capacity."""
        cap = self.arch.pmu.capacity_bytes
        if reader.bytes > cap:
            memories = "+".join(dict.fromkeys(b.memory for b in reader.boxes))
            raise PartitionError(
                f"PMU {reader.id} ({reader.kind} of {memories}) must hold {reader.bytes} "
                f"bytes, {reader.bytes - cap} more than a PMU's {cap}"
            )
        return pmu_op(reader.id, role=self._pmu_kind(reader), banking=reader.banking,
                      bytes=reader.bytes, buffers=reader.buffers, boxes=reader.boxes,
                      holds=reader.holds, lut=reader.lut)

    def _design_op(self) -> DesignOp:
        """The design: the program (memories, bindings, nests, design points, schedule),
        the units (PCUs, PMUs, AGs), the controller, the data and the control streams."""
        pmus = [self._pmu(reader) for reader in self.readers]
        if self.check and (len(self.pcus) > self.arch.pcu.count or len(pmus) > self.arch.pmu.count):
            raise PartitionError(
                f"the design needs {len(self.pcus)} PCUs and {len(pmus)} PMUs; the chip has "
                f"{self.arch.pcu.count} and {self.arch.pmu.count}"
                + (f" ({len(self.pcus) - self.arch.pcu.count} PCUs short)"
                   if len(self.pcus) > self.arch.pcu.count else "")
                + (f" ({len(pmus) - self.arch.pmu.count} PMUs short)"
                   if len(pmus) > self.arch.pmu.count else "")
            )
        units = [*(pcu.build() for pcu in self.pcus), *pmus, *self.ags]
        block = Block([
            *(memory_op(memory) for memory in self.memories.values()),
            *self.inputs, *self.outputs, *self.nests, *self.design, *self.schedule,
            *units, ControllerOp(CONTROLLER),
            *(stream_op(stream) for stream in (*self.streams, *self._control(units))),
        ])  # fmt: skip
        return DesignOp("main", arch=ArchAttr(self.arch.name, self.arch.digest()),
                        precision=self.numerics.spec, body=Region(block))

    @staticmethod
    def _control(units: Sequence[UnitOp]) -> tuple[Stream, ...]:
        """The control streams of the schedule (see `rnnc.target.machine`): the controller
        broadcasts the enable of every nest over one tree, `enable`, to each unit the
        schedule fires (`fired_units`), and each of them sends its done token of every nest
        it serves back over its own stream, `done_<unit>`. One tree and one route per unit
        serve all the nests: a unit's control box counts the enables (the RTL's UDCs on a
        selected control input), so the wires do not depend on which nests it serves, and a
        unit needs one control input and output whatever its kind (an AG has one)."""
        fired = fired_units([unit_view(unit) for unit in units])
        controller = Endpoint(CONTROLLER, "co0")
        enable = Stream("enable", "control", controller,
                        tuple(Endpoint(unit.id, ENABLE_PORT) for unit in fired))
        done = tuple(Stream(f"done_{unit.id}", "control", Endpoint(unit.id, DONE_PORT),
                            (Endpoint(CONTROLLER, f"ci{k}"),))
                     for k, unit in enumerate(fired))
        return (enable, *done) if fired else ()


@dataclass(frozen=True)
class _NestContext:
    id: str
    nest: loop.ForeachOp
    layout: NestLayout
    plan: NestPlan
    """What the partition builds for the nest (`rnnc.target.plan`)."""
    extents: tuple[int, ...]
    par: tuple[int, ...]
    grid: list[tuple[int, ...]]
    ru: int
    rv: int
    time: loop.SequentialOp | None


_TENSOR_OPS = (rnn.TransposeOp, rnn.ReshapeOp, rnn.ConcatOp, rnn.SliceOp)
_BINDING_OPS = (loop.FromTensorOp, loop.AllocOp, loop.ToTensorOp, rnn.WeightOp, func.ReturnOp,
                arith.ConstantOp)
_ACTIVATIONS = {cls.name.split(".", 1)[1] for cls in loop.ACTIVATIONS}


def _alloc_init(op: loop.AllocOp) -> str:
    """How an allocated memory starts: the weight-file array a nest run when compiling
    filled (`loop-fold-constants`), zeros, or undefined."""
    array = folded_array(op)
    if array is not None:
        return f"weight:{array}"
    return "zero" if op.zeroed else "undefined"


def _in_folded_nest(op: Operation) -> bool:
    parent = op.parent_op()
    while parent is not None:
        if isinstance(parent, loop.ForeachOp) and is_folded(parent):
            return True
        parent = parent.parent_op()
    return False


def _pure_index(op: Operation) -> bool:
    return isinstance(op, arith.ConstantOp | arith.AddiOp | arith.SubiOp | arith.MuliOp
                      | arith.CmpiOp | arith.SelectOp | arith.IndexCastOp)


def _element_bytes(element: object) -> int:
    if isinstance(element, IndexType):
        return 8
    width = getattr(element, "bitwidth", None)
    if width is None:
        width = getattr(getattr(element, "width", None), "data", 32)
    return max(1, int(width) // 8)


def _elements(box: Box, step_dims: tuple[int, ...]) -> int:
    """Elements a PMU holds of a box: one along each dimension indexed by the time step."""
    count = 1
    for dim, (start, stop, step) in enumerate(box.slices):
        count *= 1 if dim in step_dims else len(range(start, stop, step))
    return count


def _copy_rows(
    ctx: _NestContext, copy: tuple[int, ...], dims: tuple[int, ...], piece: tuple[int, int]
) -> int:
    """Weight rows a PMU of copy `copy` holds: the copy's iterations along the weights'
    dimensions `dims`, along the last only its iterations piece[0]..piece[1]-1."""
    rows = 1
    for j in dims:
        count = len(range(copy[j], ctx.extents[j], ctx.par[j]))
        if j == dims[-1]:
            count = max(0, min(count, piece[1]) - piece[0])
        rows *= count
    return rows


def _params_text(op: Op) -> str:
    values = [f"{k}={v:g}" for k, v in op.params if k in ("alpha", "beta")]
    return f"({','.join(values)})" if values else ""


def _with_port(op: Op, port: str) -> Op:
    params = tuple((k, port if k == "port" else v) for k, v in op.params)
    return Op(op.stage, op.op, op.args, params)


def _add_tree(unit: _Unit, refs: list[str]) -> str:
    """Add `refs` pairwise, one tree level per pipeline stage."""
    stage = 0
    while len(refs) > 1:
        refs = [
            unit.add(stage, "add", refs[k : k + 2]) if k + 1 < len(refs) else refs[k]
            for k in range(0, len(refs), 2)
        ]
        stage += 1
    return refs[0]


def _deps(op: Operation, nest: loop.ForeachOp, refs: dict[SSAValue, str]) -> list[Operation]:
    """The loads and index ops in the nest's body `op` needs that this unit has not got."""
    found: list[Operation] = []
    seen: set[Operation] = set()

    def visit(value: SSAValue) -> None:
        owner = value.owner
        if value in refs or not isinstance(owner, Operation) or owner in seen:
            return
        if owner.parent_op() is not nest or isinstance(owner, (*loop.ELEMENTWISE, loop.ReduceOp)):
            return
        seen.add(owner)
        for operand in owner.operands:
            visit(operand)
        found.append(owner)

    for operand in op.operands:
        visit(operand)
    return found


def _ref(unit: _Unit, value: SSAValue, refs: dict[SSAValue, str], p: _Partitioner) -> str:
    """The reference of `value` in `unit`: known, a counter, or index arithmetic defined
    outside the nest, transcribed into the unit."""
    if value in refs:
        return refs[value]
    if isinstance(value, BlockArgument):
        parent = value.owner.parent_op()  # type: ignore[union-attr]
        if isinstance(parent, loop.ForeachOp):
            refs[value] = f"ctr:d{parent.counters.index(value)}"
        elif isinstance(parent, loop.SequentialOp):
            refs[value] = "ctr:t"
        else:
            raise PartitionError(f"value %{value.name_hint or '?'} is not available to a unit")
        return refs[value]
    owner = value.owner
    if isinstance(owner, Operation) and _pure_index(owner):
        refs[value] = p._transcribe(unit, owner, refs, 0)
        return refs[value]
    raise PartitionError(f"value %{value.name_hint or '?'} is not available to a unit")


def partition(
    module: ModuleOp, arch: Architecture, precision: str | None = None, *, check: bool = True
) -> DesignOp:
    """The logical spatial design of a loop-level module. With `check`, a design with more
    PCUs or PMUs than the chip has is a `PartitionError` naming the shortfall."""
    name = precision or _chosen_precision(module) or arch.default_precision
    if name not in {m.name for m in arch.precisions}:
        raise PartitionError(f"architecture '{arch.name}' has no precision '{name}'")
    partitioner = _Partitioner(module, arch, name)
    partitioner.check = check
    return partitioner.run()


def _chosen_precision(module: ModuleOp) -> str | None:
    for op in module.walk():
        if isinstance(op, loop.SequentialOp) and "loop.cost" in op.attributes:
            cost = op.attributes["loop.cost"]
            value = cost.data.get("precision")  # type: ignore[union-attr]
            if value is not None:
                return value.data  # type: ignore[union-attr]
    return None


@dataclass(frozen=True)
class SpatialPartitionPass(ModulePass):
    """Lower a loop-level module to a logical `spatial.design` (see the module doc).

    Options: `arch` (the name of an architecture of the context's registry -- a preset,
    or the driver's `--arch` -- or an architecture file), `precision` (a mode of the
    architecture; empty: the one `loop-assign-resources` chose, else the default)."""

    name = "spatial-partition"

    arch: str = "plasticine-rnn"
    precision: str = ""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if design_of(op) is not None:  # its own output: the design is built already
            return
        try:
            arch = architectures(ctx).get(self.arch)
            design = partition(op, arch, self.precision or None)
        except Diagnostic as error:
            raise PassFailedException(f"{self.name}: {error.location}: {error.message}") from None
        except UnsupportedProgram as error:
            raise UnsupportedProgramFailure(f"{self.name}: {error}") from None
        except PartitionError as error:
            raise PassFailedException(f"{self.name}: {error}") from None
        # the loop level stays beside the design until spatial-strip (see spatial-predict)
        op.body.block.add_op(design)


__all__ = [
    "PartitionError",
    "SpatialPartitionPass",
    "UnsupportedProgram",
    "UnsupportedProgramFailure",
    "partition",
]
