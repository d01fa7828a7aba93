"""The structure of a loop nest that decides its layout on units.

`nest_layout(nest)` reads, off one `loop.foreach`, what `spatial-partition` lays out and the
cost model counts (`rnnc.analysis.program` turns it into the cost model's `NestSpec`):

* the reductions (`loop.reduce` in its body) and how they pack onto map-reduce units;
* which foreach dimensions the weights of the reductions depend on (copies that differ
  only elsewhere, e.g. in the batch, share one weight slice);
* the element-wise chain: each datapath op's depth, and from it the PCU level and stage
  it runs in (`stages` ops deep per PCU), the widest depth, the values that cross from one
  level to the next, and the reduction results each level takes;
* the memories each level reads and writes.

A memory a nest writes is *local* when every access to it in the whole program is in this
nest's body at one and the same index (an LSTM's c: each copy reads and writes its own
elements), so each element-wise unit writes its own memory unit; any other written memory
is *global*: all writers' values reach every memory unit holding part of it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from rnnc.analysis.access import WEIGHT, access_of, counters_of, memory_role
from rnnc.dialects import loop
from rnnc.target.plan import pack_reductions
from xdsl.dialects import arith
from xdsl.ir import Operation, SSAValue


@dataclass(frozen=True)
class LevelLayout:
    """One PCU level of the element-wise chain (ops `stages` deep)."""

    ops: tuple[Operation, ...]
    """Element-wise ops and stores rooted in this level, in program order."""
    reads: tuple[SSAValue, ...]
    """Memories its ops load from."""
    read_groups: tuple[tuple[SSAValue, ...], ...]
    """The memories each of a PCU's own PMUs holds (see `read_groups`)."""
    writes: tuple[SSAValue, ...]
    global_writes: tuple[SSAValue, ...]
    incoming: tuple[SSAValue, ...]
    """Element-wise values computed by earlier levels that this level uses, or passes on
    to a later one (see `senders`)."""
    results: tuple[int, ...]
    """Indices of the reductions whose results this level uses."""
    senders: tuple[int, ...] = ()
    """Per `incoming` value, the earlier level whose stream brings it: the level computing
    it, or the level just before this one when this level relays (`_relay`)."""

    @property
    def vector_inputs(self) -> int:
        """Vector inputs one PCU of this level uses: a stream from each sending level, one
        per own PMU, and one for a lookup table if it computes a nonlinearity (counted in
        every precision, so that the layout does not depend on it)."""
        tables = any(isinstance(op, loop.ACTIVATIONS) for op in self.ops)
        return len(set(self.senders)) + len(self.read_groups) + int(tables)


@dataclass(frozen=True)
class NestLayout:
    nest: loop.ForeachOp
    reduces: tuple[loop.ReduceOp, ...]
    slots: tuple[tuple[int, ...], ...]
    """Reductions packed per map-reduce unit (indices into `reduces`)."""
    weight_dims: tuple[int, ...]
    """Foreach dimensions the reductions' weight loads depend on."""
    operand_dims: tuple[int, ...]
    """Foreach dimensions the reductions' other loads (the operand: [x, h]) depend on."""
    operand_groups: tuple[tuple[int, ...], ...]
    """Slots whose units read the same operand ranges (one PMU set per group)."""
    depth: dict[Operation, int]
    levels: tuple[LevelLayout, ...]
    stages: int

    @property
    def lengths(self) -> tuple[int, ...]:
        return tuple(r.length for r in self.reduces)

    @cached_property
    def width(self) -> int:
        """The most element-wise ops at one depth."""
        counts: dict[int, int] = {}
        for op, d in self.depth.items():
            if isinstance(op, loop.ELEMENTWISE):
                counts[d] = counts.get(d, 0) + 1
        return max(counts.values(), default=0)

    def sender(self, later: int, value: SSAValue) -> int:
        """The level whose stream brings `value` (in level `later`'s `incoming`)."""
        level = self.levels[later]
        return level.senders[level.incoming.index(value)]

    @property
    def live(self) -> int:
        return max((len(level.incoming) for level in self.levels), default=0)

    @property
    def results(self) -> int:
        """Reduction results (scalar streams, one per slot) the busiest level takes."""
        return max((len(self.slots_of(level)) for level in self.levels), default=0)

    def slots_of(self, level: LevelLayout) -> list[int]:
        return [s for s, slot in enumerate(self.slots) if set(slot) & set(level.results)]

    @property
    def global_write_levels(self) -> int:
        return sum(1 for level in self.levels if level.global_writes)

    @property
    def reads_per_level(self) -> tuple[int, ...]:
        return tuple(len(level.reads) for level in self.levels)


def is_weight(memref: SSAValue) -> bool:
    """A memory a map-reduce unit keeps a slice of: bound from a tensor, on chip, never
    written (loaded once, before the program runs)."""
    return (
        isinstance(memref.owner, loop.FromTensorOp)
        and loop.space_of(memref) == "sram"
        and memory_role(memref) in (WEIGHT,)
    )


def _top_ops(nest: loop.ForeachOp) -> list[Operation]:
    return [op for op in nest.body.block.ops if not isinstance(op, loop.YieldOp)]


def _depths(nest: loop.ForeachOp) -> dict[Operation, int]:
    """Depth of each top-level op: element-wise ops one more than their deepest operand;
    loads, index arithmetic and reductions pass their operands' depth on (reductions 0)."""
    value_depth: dict[SSAValue, int] = {}
    depth: dict[Operation, int] = {}
    for op in _top_ops(nest):
        here = 0 if isinstance(op, loop.ReduceOp) else max(
            (value_depth.get(v, 0) for v in op.operands), default=0
        )
        if isinstance(op, loop.ELEMENTWISE):
            here += 1
        depth[op] = here
        for result in op.results:
            value_depth[result] = here
    return depth


def level_of(op: Operation, depth: dict[Operation, int], stages: int) -> int:
    """The PCU level of an element-wise op or store: (depth - 1) // stages."""
    if isinstance(op, loop.StoreOp):
        producer = op.value.owner
        if isinstance(producer, Operation) and isinstance(producer, loop.ELEMENTWISE):
            return level_of(producer, depth, stages)
        return 0
    return (depth[op] - 1) // stages


def stage_of(op: Operation, depth: dict[Operation, int], stages: int) -> int:
    if isinstance(op, loop.StoreOp):
        producer = op.value.owner
        if isinstance(producer, Operation) and isinstance(producer, loop.ELEMENTWISE):
            return stage_of(producer, depth, stages)
        return 0
    if isinstance(op, loop.ELEMENTWISE):
        return (depth[op] - 1) % stages
    return 0


def _local_deps(op: Operation, nest: loop.ForeachOp, seen: set[Operation]) -> list[Operation]:
    """The non-element-wise ops (loads, index arithmetic, constants) of the nest's body
    that `op` needs, transitively, stopping at element-wise ops and reductions."""
    found: list[Operation] = []
    for value in op.operands:
        owner = value.owner
        if not isinstance(owner, Operation) or owner in seen:
            continue
        if owner.parent_op() is not nest:
            continue
        if isinstance(owner, (*loop.ELEMENTWISE, loop.ReduceOp)):
            continue
        seen.add(owner)
        found += _local_deps(owner, nest, seen)
        found.append(owner)
    return found


def _index_key(access_op: loop.AccessOp, nest: loop.ForeachOp) -> object:
    access = access_of(access_op, nest)
    return None if access.index is None else (access.index, access.selector is not None)


def _local_memory(memref: SSAValue, nest: loop.ForeachOp) -> bool:
    """Whether every load of `memref` in the program is in `nest`'s body, at the index at
    which `nest` stores it: each copy then reads only what it writes itself."""
    if loop.space_of(memref) == "dram":
        return False
    keys, loaded = set(), False
    for use in memref.uses:
        user = use.operation
        if isinstance(user, loop.ToTensorOp):
            return False
        if not isinstance(user, loop.LoadOp | loop.StoreOp):
            continue
        loaded = loaded or (isinstance(user, loop.LoadOp) and user.parent_op() is nest)
        if user.parent_op() is not nest:
            if isinstance(user, loop.LoadOp):
                return False
            continue
        key = _index_key(user, nest)
        if key is None:
            return False
        keys.add(key[0])
    return loaded and len(keys) == 1


def writer_streams(memref: SSAValue) -> int:
    """Streams that write a memory's PMUs: one per nest storing to it (its writers merge
    into one), one from an AG for an off-chip memory loaded from DRAM."""
    nests = {u.operation.parent_op() for u in memref.uses if isinstance(u.operation, loop.StoreOp)}
    return len(nests) + (1 if loop.space_of(memref) == "dram" and not nests else 0)


def read_groups(
    reads: tuple[SSAValue, ...], pmu_inputs: int
) -> tuple[tuple[SSAValue, ...], ...]:
    """An element-wise PCU's reads, grouped into its own PMUs: memories share a PMU while
    the streams writing them fit the PMU's vector inputs (first fit, in program order)."""
    groups: list[list[SSAValue]] = []
    load: list[int] = []
    for memref in reads:
        need = writer_streams(memref)
        fit = next((k for k, used in enumerate(load) if used + need <= pmu_inputs), None)
        if fit is None:
            groups.append([memref])
            load.append(need)
        else:
            groups[fit].append(memref)
            load[fit] += need
    return tuple(tuple(g) for g in groups)


def _relay(
    levels: list[LevelLayout], depth: dict[Operation, int], stages: int, pcu_inputs: int
) -> list[LevelLayout]:
    """Levels whose streams from earlier levels, own PMUs and table need more vector
    inputs than a PCU has take all their incoming values from the level just before,
    which receives the ones it does not compute and passes them on (in its one stream to
    this level). Decided from the last level back, so a relaying level that overflows in
    turn relays too; levels that fit keep one stream from each sending level."""
    for here in range(len(levels) - 1, 0, -1):
        level = levels[here]
        if level.vector_inputs <= pcu_inputs or set(level.senders) == {here - 1}:
            continue
        before = levels[here - 1]
        incoming, senders = list(before.incoming), list(before.senders)
        for value in level.incoming:
            owner = level_of(value.owner, depth, stages)  # type: ignore[arg-type]
            if owner != here - 1 and value not in incoming:
                incoming.append(value)
                senders.append(owner)
        levels[here - 1] = replace(before, incoming=tuple(incoming), senders=tuple(senders))
        levels[here] = replace(level, senders=(here - 1,) * len(level.incoming))
    return levels


def nest_layout(
    nest: loop.ForeachOp, stages: int, pmu_inputs: int = 3, pcu_inputs: int = 3
) -> NestLayout:
    """The layout structure of one loop nest for PCUs of `stages` stages and
    `pcu_inputs` vector inputs, and PMUs of `pmu_inputs` vector inputs."""
    top = _top_ops(nest)
    reduces = tuple(op for op in top if isinstance(op, loop.ReduceOp))
    depth = _depths(nest)
    deepest = max((d for op, d in depth.items() if isinstance(op, loop.ELEMENTWISE)), default=0)
    count = max(1, -(-deepest // stages))
    rooted: list[list[Operation]] = [[] for _ in range(count)]
    for op in top:
        if isinstance(op, (*loop.ELEMENTWISE, loop.StoreOp)):
            rooted[level_of(op, depth, stages)].append(op)
    levels = []
    for here, ops in enumerate(rooted):
        seen: set[Operation] = set()
        deps = [d for op in ops for d in _local_deps(op, nest, seen)]
        reads = tuple(dict.fromkeys(d.memref for d in deps if isinstance(d, loop.LoadOp)))
        writes = tuple(dict.fromkeys(op.memref for op in ops if isinstance(op, loop.StoreOp)))
        incoming: dict[SSAValue, None] = {}
        results: dict[int, None] = {}
        for op in [*ops, *deps]:
            for value in op.operands:
                owner = value.owner
                if isinstance(owner, loop.ReduceOp):
                    results[reduces.index(owner)] = None
                elif (
                    isinstance(owner, loop.ELEMENTWISE)
                    and owner.parent_op() is nest
                    and level_of(owner, depth, stages) != here
                ):
                    incoming[value] = None
        levels.append(
            LevelLayout(
                ops=tuple(ops),
                reads=reads,
                read_groups=read_groups(reads, pmu_inputs),
                writes=writes,
                global_writes=tuple(m for m in writes if not _local_memory(m, nest)),
                incoming=tuple(incoming),
                results=tuple(sorted(results)),
                senders=tuple(level_of(v.owner, depth, stages) for v in incoming),  # type: ignore[arg-type]
            )
        )
    levels = _relay(levels, depth, stages, pcu_inputs)
    weight_dims: set[int] = set()
    operand_dims: set[int] = set()
    for reduce in reduces:
        for load in reduce.walk():
            if isinstance(load, loop.LoadOp):
                dims = weight_dims if is_weight(load.memref) else operand_dims
                dims |= _dims_of(load, nest)
    slots = pack_reductions(tuple(r.length for r in reduces))
    return NestLayout(
        nest=nest,
        reduces=reduces,
        slots=slots,
        weight_dims=tuple(sorted(weight_dims)),
        operand_dims=tuple(sorted(operand_dims)),
        operand_groups=_operand_groups(nest, reduces, slots),
        depth=depth,
        levels=tuple(levels),
        stages=stages,
    )


def _dims_of(access: loop.AccessOp, nest: loop.ForeachOp) -> set[int]:
    """The nest's foreach dimensions an access's index depends on (through index
    arithmetic, and through loads of the nest's body the index uses)."""
    found: set[int] = set()
    for index in access.indices:
        for counter in counters_of(index):
            if counter in nest.counters:
                found.add(nest.counters.index(counter))
    return found


def _operand_groups(
    nest: loop.ForeachOp, reduces: tuple[loop.ReduceOp, ...], slots: tuple[tuple[int, ...], ...]
) -> tuple[tuple[int, ...], ...]:
    """Slots grouped by what their units read besides weights: the segments' lengths and
    their non-weight loads (memory and index); slots reading nothing else form no group."""
    groups: dict[object, list[int]] = {}
    for s, slot in enumerate(slots):
        signature = []
        for g in slot:
            reduce = reduces[g]
            segments = []
            for region, length in zip(reduce.segments, reduce.lengths, strict=True):
                loads = tuple(
                    (load.memref, access_of(load, nest).index)
                    for load in region.block.ops
                    if isinstance(load, loop.LoadOp) and not is_weight(load.memref)
                )
                segments.append((length, loads))
            signature.append(tuple(segments))
        if any(loads for segments in signature for _, loads in segments):
            groups.setdefault(tuple(signature), []).append(s)
    return tuple(tuple(g) for g in groups.values())


def is_index_op(op: Operation) -> bool:
    return isinstance(op, arith.ConstantOp | arith.AddiOp | arith.SubiOp | arith.MuliOp
                      | arith.CmpiOp | arith.SelectOp | arith.IndexCastOp)


__all__ = ["LevelLayout", "NestLayout", "is_weight", "nest_layout", "pack_reductions"]
