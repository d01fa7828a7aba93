"""The values a spatial machine computes, from its machine description alone.

`run_machine(machine, inputs, weights, precision)` executes a `rnnc.target.machine.Machine`
(what `spatial-partition` builds, what a config.json serializes): the schedule's phases in
order, each nest's units in dataflow order, each unit computing from its own configuration
on the values that arrive over its streams:

* a map-reduce unit evaluates its ops over its reduction range (`ctr:k`) for every
  iteration of its counters and folds them (in `mixed` precision a product of two values
  folds as `precision.dot`: 8-bit factors, float16 pairs, float32 sums); its partial sums
  leave on its output port, with the partial sums arriving on its `Reduce.inputs` added
  (float32, in order) when it chains them;
* a combining unit adds the partial sums arriving on its scalar ports;
* an element-wise unit evaluates its ops per iteration of its counters and lanes (its
  copies): values arriving on its ports, reads of the memories its PMUs serve, activations
  (lookup tables in PMUs in `mixed` mode), writes, and the values it emits;
* a gather unit merges its inputs into one stream.

The interpreter is vectorized the way the hardware is parallel: a unit's values are numpy
arrays over the whole iteration space of its nest, set only at the iterations of the unit's
own copies (NaN elsewhere), so a value that reaches a unit serving other copies shows up as
NaN in the outputs rather than as a plausible number. Memories are one array per memory
(the union of the PMUs holding its parts; a read is checked to fall inside the boxes of
the PMU the read's port is fed by).

A nest is compiled the first time it runs into a `_Program`: a flat list of numpy calls
over numbered slots, which every later step replays without looking at the configuration
again. Compiling does once what does not change from step to step: it folds every value
that depends on no stream, no step counter and no memory the nest's phase writes (weights
and their 8-bit rounding, counter arithmetic, masks, index arrays with their bounds, the
checks of what each read may touch), resolves every port to the slot its source fills,
computes equal values once (the same elements read twice before a write, the same index
arithmetic) and drops values no store needs. Reads and writes whose indices are
arithmetic progressions are strided views of the memory rather than gathers (a read of a
memory the step writes is copied, so a later write does not change it).

Consecutive units with the same configuration apart from their copies and streams (the
copies of a nest's element-wise or combining units) run as one group: their values are
stacked on a leading axis, one row per unit, so one numpy call serves them all. Units of
a group run in parallel, as on the chip: within a step, a read by one sees the memory
before the group's writes. All map-reduce units of one reduction range share one fold
over the whole space, and the folds of fixed weights times the step's vectors are one
`_FoldBank`: in fp32 a matrix-vector product per vector (only the float32 summation order
differs from an element-wise sum; operands that are not all finite take the element-wise
sum, as a BLAS may skip zero factors), in mixed precision `precision.dot` on stacked
ranges, which rounds exactly as on each range alone.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rnnc.diagnostics import Diagnostic
from rnnc.dialects import loop
from rnnc.interpreters.rnn_kernels import Activation
from rnnc.numerics.precision import (
    FP32,
    NumericMode,
    activation,
    dot,
    largest_magnitude,
    quantize,
)
from rnnc.target.machine import PCU, PMU, Box, Machine, Op, Segment

_CMPI = {
    0: operator.eq, 1: operator.ne, 2: operator.lt, 3: operator.le, 4: operator.gt,
    5: operator.ge, 6: operator.lt, 7: operator.le, 8: operator.gt, 9: operator.ge,
}  # fmt: skip
_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "max": np.maximum,
    "min": np.minimum, "addi": np.add, "subi": np.subtract, "muli": np.multiply,
}  # fmt: skip
_ONNX = {cls.name.split(".", 1)[1]: cls.ONNX_NAME for cls in loop.ACTIVATIONS}
_FOLD = {"add": np.sum, "mul": np.prod, "max": np.max, "min": np.min}
_IDENTITY = {"add": 0.0, "mul": 1.0, "max": -np.inf, "min": np.inf}
#: What a reduction may fold with (`Reduce.combiner`).
COMBINERS = tuple(_FOLD)
_COMBINE = {"add": np.add, "mul": np.multiply, "max": np.maximum, "min": np.minimum}
_NAN = np.float32(np.nan)
_CACHED_PRODUCTS = 2**18
"""Products per `precision.dot` call of a fold bank (1 MiB of float32)."""

STEP = 0
"""The slot holding the step counter `t` (set before each replay)."""


class MachineError(Diagnostic):
    """A machine whose configuration does not compute (a unit reading a port nothing
    feeds, a read outside its PMU's boxes, ...)."""

    def __init__(self, message: str):
        super().__init__("<machine>", message)


class _Program:
    """Numpy calls over numbered slots: `slots[out] = function(*slots[args])` in order.

    A slot is constant (filled while compiling, never written again) or filled by one
    instruction per replay; `constant` says which. Equal small constants share a slot, and
    so do calls of one pure function (a hashable one: ufuncs and the frozen dataclasses
    below) on the same slots."""

    def __init__(self) -> None:
        self.slots: list[Any] = [0]
        self.constant: list[bool] = [False]
        self.instructions: list[tuple[Callable[..., Any], int, tuple[int, ...]]] = []
        self.known: dict[Any, int] = {}

    def const(self, value: Any) -> int:
        key = _value_key(value)
        if key is None or key not in self.known:
            self.slots.append(value)
            self.constant.append(True)
            if key is None:
                return len(self.slots) - 1
            self.known[key] = len(self.slots) - 1
        return self.known[key]

    def call(
        self, function: Callable[..., Any], *args: int, fold: bool = True, pure: bool = True
    ) -> int:
        """The slot of `function(*args)`: computed now if `fold` and every argument is
        constant, else by an instruction (shared if `pure`)."""
        if fold and all(self.constant[a] for a in args):
            return self.const(function(*(self.slots[a] for a in args)))
        key = _call_key(function, args) if pure else None
        if key is not None and key in self.known:
            return self.known[key]
        self.slots.append(None)
        self.constant.append(False)
        out = len(self.slots) - 1
        self.instructions.append((function, out, args))
        if key is not None:
            self.known[key] = out
        return out

    def prune(self, needed: Callable[[Callable[..., Any]], bool]) -> None:
        """Drop the instructions nothing `needed` (stores, reads with their checks) uses:
        the values of ports no unit receives."""
        live: set[int] = set()
        kept: list[tuple[Callable[..., Any], int, tuple[int, ...]]] = []
        for function, out, args in reversed(self.instructions):
            if out in live or needed(function):
                live.update(args)
                kept.append((function, out, args))
        self.instructions = kept[::-1]

    def run(self, t: int) -> None:
        slots = self.slots
        slots[STEP] = t
        for function, out, args in self.instructions:
            slots[out] = function(*[slots[a] for a in args])


def _value_key(value: Any) -> Any:
    """A key equal for equal small constants (None: not shared)."""
    if isinstance(value, np.ndarray) and value.size <= 4096:
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, int | float | np.generic):
        return ("scalar", type(value).__name__, np.asarray(value).tobytes())
    return None


def _call_key(function: Callable[..., Any], args: tuple[int, ...]) -> Any:
    try:
        return ("call", function, args, hash(function))
    except TypeError:  # unhashable: not known to be pure
        return None


@dataclass(frozen=True)
class _Produced:
    """Where a unit's output port leaves its values: a slot holding a tuple of fields,
    each stacked over the unit's group (the unit is row `row`)."""

    slot: int
    row: int
    group: int
    fields: int
    sums: _Sums | None = None
    """Partial sums of map-reduce units, made where they are received (`slot` is -1
    until `_NestCompiler.materialized`)."""


@dataclass(eq=False)
class _Sums:
    """The partial sums of a group of map-reduce units: `sums` of the folds in slot
    `folds`, at the units' copies (`masks`)."""

    folds: int
    sums: _PartialSums
    masks: np.ndarray
    payload: int | None = None


class _Machine:
    def __init__(
        self,
        machine: Machine,
        inputs: Mapping[str, np.ndarray],
        weights: Mapping[str, np.ndarray],
        precision: NumericMode,
    ):
        self.machine = machine
        self.precision = precision
        self.memory: dict[str, np.ndarray] = {}
        writes = _writes_per_nest(machine)
        written = set().union(*writes.values())
        for memory in machine.memories:
            self.memory[memory.name] = self._initial(
                memory, inputs, weights, memory.name in written)
        self.feeds: dict[tuple[str, str], tuple[str, str]] = {}
        for stream in machine.streams:
            for sink in stream.sinks:
                self.feeds[(sink.unit, sink.port)] = (stream.source.unit, stream.source.port)
        self.sources: dict[str, set[str]] = {}
        """Per unit, the units whose streams it receives."""
        self.ports_in: dict[str, list[str]] = {}
        """Per unit, its input ports that a stream feeds."""
        for (unit, port), (source, _) in self.feeds.items():
            self.sources.setdefault(unit, set()).add(source)
            self.ports_in.setdefault(unit, []).append(port)
        self._sent: dict[tuple[str, str], int] = {}
        self.by_nest: dict[str, list[PCU]] = {}
        for unit in machine.units:
            if isinstance(unit, PCU):
                self.by_nest.setdefault(unit.nest, []).append(unit)
        self.pmus = {u.id: u for u in machine.units if isinstance(u, PMU)}
        self.pcus = {u.id: u for u in machine.units if isinstance(u, PCU)}
        self.constant = _unwritten_per_nest(machine, writes)
        """Per nest, the memories no unit of its phase writes (weights, and what an
        earlier phase wrote): a read of one that does not depend on the step gives the
        same values every step, and is made once."""
        self.programs: dict[str, _Program] = {}

    @staticmethod
    def _initial(
        memory: Any, inputs: Mapping[str, np.ndarray], weights: Mapping[str, np.ndarray],
        written: bool,
    ) -> np.ndarray:
        """A memory's contents before the program runs: a model input or weight array,
        zeros, else NaN (so that a read of what nothing wrote shows in the outputs).
        `written`: whether a unit writes it."""
        kind, _, name = memory.init.partition(":")
        if kind == "zero":
            return np.zeros((memory.buffers, *memory.shape), dtype=np.float32)
        if kind in {"input", "weight"}:
            source = inputs if kind == "input" else weights
            if name not in source:
                raise MachineError(f"memory '{memory.name}' needs {kind} '{name}', not given")
            value = np.asarray(source[name])
            if tuple(value.shape) != memory.shape:
                raise MachineError(
                    f"{kind} '{name}' has shape {value.shape}, memory '{memory.name}' "
                    f"{memory.shape}"
                )
            dtype = value.dtype if np.issubdtype(value.dtype, np.integer) else np.float32
            if not written and memory.buffers == 1 and value.dtype == dtype:
                view = np.ascontiguousarray(value)[None]  # nothing writes it: no copy
                view.flags.writeable = False
                return view
            array = np.empty((memory.buffers, *memory.shape), dtype=dtype)
            array[...] = value
            return array
        return np.full((memory.buffers, *memory.shape), np.nan, dtype=np.float32)

    def received(self, unit: PCU) -> tuple[tuple[str, int], ...]:
        """What a unit receives: per input port, how many values its stream carries."""
        return tuple(sorted(
            (port, self.values_sent(*self.feeds[(unit.id, port)]))
            for port in self.ports_in.get(unit.id, ())
        ))  # fmt: skip

    def values_sent(self, unit_id: str, port: str) -> int:
        """How many values a unit's output port sends (none from a PMU or an AG: their
        contents are read by address)."""
        key = (unit_id, port)
        if key not in self._sent:
            unit = self.pcus.get(unit_id)
            self._sent[key] = 0 if unit is None else self._count_sent(unit, port)
        return self._sent[key]

    def _count_sent(self, unit: PCU, port: str) -> int:
        """Values sent on a PCU's port as `_NestCompiler._map_reduce` and
        `_UnitCompiler.compile` send them: one per reduction of its partial sums, else one
        per value its (last) emit on the port names, a whole stream passed on counting its
        values, else one per write on the port."""
        if unit.reduce is not None and port == unit.reduce.output:
            return len({segment.reduction for segment in unit.reduce.segments})
        emits = [emit for emit in unit.emits if emit.port == port]
        if not emits:
            return sum(1 for op in unit.ops if op.op == "write" and op.param("port") == port)
        count = 0
        for ref in emits[-1].values:
            source = self.feeds.get((unit.id, ref[3:])) if _whole_stream(ref) else None
            count += 1 if source is None else self.values_sent(*source)
        return count

    def run(self) -> dict[str, np.ndarray]:
        nests = {n.id: n for n in self.machine.nests}
        # iterations outside a unit's copies hold NaN: functions of them may warn
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            for phase in self.machine.schedule:
                steps = phase.steps if phase.kind == "loop" else 1
                for t in range(steps):
                    for nest_id in phase.nests:
                        self._program(nests[nest_id]).run(t)
        return self.outputs()

    def outputs(self) -> dict[str, np.ndarray]:
        return {
            b.name: self.memory[b.memory][0].astype(np.float32, copy=True)
            for b in self.machine.outputs
        }

    def _program(self, nest: Any) -> _Program:
        """A nest's program, compiled when it first runs: what it folds reads the memories
        as the earlier phases left them."""
        program = self.programs.get(nest.id)
        if program is None:
            program = self.programs[nest.id] = _NestCompiler(self, nest).compile()
        return program


def _writes_per_nest(machine: Machine) -> dict[str, set[str]]:
    """Per nest, the memories its units write."""
    writes: dict[str, set[str]] = {nest.id: set() for nest in machine.nests}
    for unit in machine.units:
        if isinstance(unit, PCU):
            writes[unit.nest] |= _memories(unit, "write")
    return writes


def _unwritten_per_nest(
    machine: Machine, writes: Mapping[str, set[str]]
) -> dict[str, frozenset[str]]:
    """Per nest, the memories that no unit of a nest sharing a phase with it writes
    (`writes`: per nest, the memories its units write)."""
    written: dict[str, set[str]] = {nest.id: set() for nest in machine.nests}
    for phase in machine.schedule:
        in_phase = set().union(*(writes[nest] for nest in phase.nests))
        for nest in phase.nests:
            written[nest] |= in_phase
    names = {memory.name for memory in machine.memories}
    return {nest: frozenset(names - memories) for nest, memories in written.items()}


class _NestCompiler:
    """Compiles one nest: its map-reduce units (one fold per reduction range), then its
    other units in order, consecutive units of one configuration as a group."""

    def __init__(self, machine: _Machine, nest: Any):
        self.machine, self.nest = machine, nest
        self.program = _Program()
        self.shape = tuple(nest.extents)
        grids = np.indices(self.shape, sparse=True) if self.shape else ()
        # counters are sparse grids: each varies along its own axis only, so a value that
        # depends on few counters stays small until it meets the others
        self.counters: dict[str, Any] = {f"d{j}": grids[j] for j in range(len(self.shape))}
        copy_index = np.broadcast_arrays(*(g % p for g, p in zip(grids, nest.par, strict=True)))
        self.copy_of = np.ravel_multi_index(tuple(copy_index), tuple(nest.par))
        self.produced: dict[tuple[str, str], _Produced] = {}
        self.reads: dict[tuple[str, tuple[int, ...]], tuple[int, _Gather]] = {}
        """The reads made so far since the last write of their memory, by memory and
        index slots."""
        self._masks: dict[str, np.ndarray] = {}

    def compile(self) -> _Program:
        units = self.machine.by_nest.get(self.nest.id, [])
        self._map_reduce([u for u in units if u.role == "map_reduce"])
        others = [u for u in units if u.role != "map_reduce"]
        for group in _groups(others, self.machine.sources, self.machine.received):
            _UnitCompiler(self, group).compile()
        self.program.prune(lambda function: isinstance(function, _Gather | _Store))
        return self.program

    def mask(self, unit: PCU) -> np.ndarray:
        """The iterations of a unit's copies."""
        mask = self._masks.get(unit.id)
        if mask is None:
            # a table of the copies looked up by copy: np.isin costs ~100x more
            member = np.zeros(int(self.copy_of.max(initial=-1)) + 1, dtype=bool)
            member[[c for c in unit.copies if 0 <= c < member.size]] = True
            mask = self._masks[unit.id] = member[self.copy_of]
        return mask

    def stacked_masks(self, units: Sequence[PCU]) -> np.ndarray:
        return np.stack([self.mask(unit) for unit in units])

    def produce(self, units: Sequence[PCU], port: str, slot: int, fields: int) -> None:
        for row, unit in enumerate(units):
            self.produced[(unit.id, port)] = _Produced(slot, row, len(units), fields)

    # ---- map-reduce units --------------------------------------------------------------

    def _map_reduce(self, units: list[PCU]) -> None:
        """Every distinct range of a reduction is folded once over the whole iteration
        space; each unit's partial sums are its ranges' folds at its copies, combined (for
        all units whose folds lie in one stacked array, in one `_PartialSums`)."""
        folds: dict[tuple[str, int, int], _Fold] = {}
        for unit in units:
            for segment in unit.reduce.segments:  # type: ignore[union-attr]
                key = (segment.reduction, segment.start, segment.stop)
                if key not in folds:
                    folds[key] = _UnitCompiler(self, [unit]).fold(segment)
        rows = self._fold_rows(folds)
        together: dict[tuple[Any, ...], list[tuple[PCU, tuple[int, ...]]]] = {}
        for unit in units:
            assert unit.reduce is not None
            segments = unit.reduce.segments
            places = [rows[(seg.reduction, seg.start, seg.stop)] for seg in segments]
            if len({seg.reduction for seg in segments}) == 1 and len({p[0] for p in places}) == 1:
                key = (places[0][0], len(places), unit.reduce.combiner)
                together.setdefault(key, []).append((unit, tuple(p[1] for p in places)))
            else:
                self._partial_sums_alone(unit, places)
        for (slot, _, combiner), members in together.items():
            masks = self.stacked_masks([unit for unit, _ in members])
            sums = _Sums(slot, _PartialSums(_COMBINE[combiner], np.array([r for _, r in members])),
                         masks)
            for n, (unit, _) in enumerate(members):
                output = unit.reduce.output  # type: ignore[union-attr]
                self.produced[(unit.id, output)] = _Produced(-1, n, len(members), 1, sums)
        self._chained_sums([unit for unit in units if unit.reduce.inputs])  # type: ignore[union-attr]

    def _chained_sums(self, units: list[PCU]) -> None:
        """Map-reduce units that add partial sums arriving on their inputs to their own
        (`Reduce.inputs`, the `chained-sums` schedule): a unit sends its own partial sums
        combined, field by field, with each input's in order; it does so after the units
        feeding it have (they form a chain or tree, never a cycle)."""
        own = {unit.id: self.produced[(unit.id, unit.reduce.output)]  # type: ignore[union-attr]
               for unit in units}
        pending = list(units)
        while pending:
            ready = [unit for unit in pending
                     if not {self._feeder(unit, ref) for ref in unit.reduce.inputs} & set(own)]
            if not ready:
                names = ", ".join(unit.id for unit in pending)
                raise MachineError(f"map-reduce units {names} add one another's partial sums "
                                   "in a cycle")
            for unit in ready:
                self._add_inputs(unit, own.pop(unit.id))
            pending = [unit for unit in pending if unit.id in own]

    def _feeder(self, unit: PCU, ref: str) -> str:
        """The unit whose stream feeds the input `ref` (`in:PORT`) of a map-reduce unit."""
        source = self.machine.feeds.get((unit.id, ref[3:]))
        if source is None:
            raise MachineError(f"unit {unit.id}: nothing feeds port {ref[3:]}")
        return source[0]

    def _add_inputs(self, unit: PCU, own: _Produced) -> None:
        reduce = unit.reduce
        assert reduce is not None
        mine = self.materialized(own)
        reader = _UnitCompiler(self, [unit])
        fields = []
        for field in range(own.fields):
            value = self.program.call(_Rows(field, np.array([mine.row])), mine.slot)
            for ref in reduce.inputs:
                sent = reader._source(unit, ref[3:], field).fields
                if sent != own.fields:
                    raise MachineError(f"unit {unit.id}: port {ref[3:]} carries {sent} values, "
                                       f"its reduction sends {own.fields}")
                arriving = reader._port(ref[3:], field if own.fields > 1 else None)
                value = self.program.call(_COMBINE[reduce.combiner], value, arriving)
            fields.append(value)
        self.produce([unit], reduce.output, self.program.call(_fields, *fields), own.fields)

    def materialized(self, produced: _Produced) -> _Produced:
        """`produced` with its slot made: partial sums are otherwise made where they are
        received (only the rows a receiver takes)."""
        sums = produced.sums
        if sums is None:
            return produced
        if sums.payload is None:
            masks = self.program.const(sums.masks)
            sums.payload = self.program.call(_fields, self.program.call(sums.sums, masks,
                                                                        sums.folds))
        return dataclasses.replace(produced, slot=sums.payload, sums=None)

    def _partial_sums_alone(self, unit: PCU, places: list[tuple[int, int]]) -> None:
        """A unit whose folds lie in several stacked arrays, or which sends the sums of
        several reductions."""
        assert unit.reduce is not None
        sums: dict[str, int] = {}
        for segment, (slot, row) in zip(unit.reduce.segments, places, strict=True):
            value = self.program.call(operator.itemgetter(row), slot)
            previous = sums.get(segment.reduction)
            sums[segment.reduction] = value if previous is None else self.program.call(
                _COMBINE[unit.reduce.combiner], previous, value)
        mask = self.program.const(self.stacked_masks([unit]))
        payload = self.program.call(_masked_fields, mask, *sums.values())
        self.produce([unit], unit.reduce.output, payload, len(sums))

    def _fold_rows(self, folds: dict[tuple[str, int, int], _Fold]) -> dict[Any, tuple[int, int]]:
        """Where each fold's values are: (slot, row) of an array stacking folds. The sums
        of fixed weights times the step's vector are all one `_FoldBank`."""
        banked: dict[Any, tuple[np.ndarray, int]] = {}
        others: dict[Any, int] = {}
        for key, fold in folds.items():
            if fold.factors is None:
                others[key] = fold.slot  # type: ignore[assignment]
                continue
            weights = self._weights_and_vector(fold.factors)
            if weights is not None:
                banked[key] = weights
            elif self.machine.precision.mixed:
                rounded = functools.partial(quantize, self.machine.precision)
                a, b = (self.program.call(rounded, factor) for factor in fold.factors)
                others[key] = self.program.call(functools.partial(
                    dot, self.machine.precision, axis=-1, a_quantized=True, b_quantized=True), a, b)
            else:
                others[key] = self.program.call(_SumOfProducts(self.shape), *fold.factors)
        rows: dict[Any, tuple[int, int]] = {}
        if banked:
            matrices = [matrix for matrix, _ in banked.values()]
            vectors = list(dict.fromkeys(vector for _, vector in banked.values()))
            vector_of = [vectors.index(vector) for _, vector in banked.values()]
            bank = _FoldBank(self.machine.precision, self.shape, matrices, vector_of)
            slot = self.program.call(bank, *vectors)
            rows.update({key: (slot, n) for n, key in enumerate(banked)})
        if others:
            slot = self.program.call(_Stacked(self.shape), *others.values())
            rows.update({key: (slot, n) for n, key in enumerate(others)})
        return rows

    def _weights_and_vector(self, factors: tuple[int, int]) -> tuple[np.ndarray, int] | None:
        """A fixed float32 matrix over the space and k, and the slot of the other factor
        (which changes with the step), if the factors are that."""
        for matrix, vector in (factors, factors[::-1]):
            if self.program.constant[matrix] and not self.program.constant[vector]:
                array = np.asarray(self.program.slots[matrix])
                if array.dtype == np.float32 and array.shape[:-1] == self.shape and (
                        array.ndim == len(self.shape) + 1):
                    return array, vector
        return None


@dataclass(frozen=True)
class _Fold:
    """A fold being compiled: its slot, or (a sum of products) its two factors, which the
    nest may fold with others in one `_FoldBank`."""

    slot: int | None = None
    factors: tuple[int, int] | None = None


def _groups(
    units: list[PCU], sources: Mapping[str, set[str]], received: Callable[[PCU], Any]
) -> list[list[PCU]]:
    """The units in groups of one configuration apart from their copies and the streams
    feeding them (`received`: what a unit receives, which must be alike in a group: the
    values on each port are stacked, and a gather passes them on whole), in an order that
    keeps every unit after the units feeding it and, between units that share a memory one
    of them writes, their order.

    A unit joins the last group of its configuration that it can move up to: one after
    every group holding a unit that feeds it or that it shares a written memory with
    (sharing one with a unit of the group itself is allowed: its copies)."""
    groups: list[list[PCU]] = []
    at: dict[str, int] = {}
    accesses: list[tuple[set[str], set[str]]] = []  # per group: memories read, written
    for unit in units:
        reads, writes = _memories(unit, "read"), _memories(unit, "write")
        after = max((at[s] + 1 for s in sources.get(unit.id, ()) if s in at), default=0)
        after = max([after, *(
            g for g, (read, written) in enumerate(accesses)
            if written & (reads | writes) or read & writes
        )])
        # a unit taking an index from a stream runs alone: its index arrays differ by unit
        target = None if _addresses_from_streams(unit) else next(
            (g for g in range(len(groups) - 1, after - 1, -1)
             if _same_configuration(groups[g][0], unit)
             and received(groups[g][0]) == received(unit)), None)
        if target is None:
            groups.append([])
            accesses.append((set(), set()))
            target = len(groups) - 1
        groups[target].append(unit)
        accesses[target][0].update(reads)
        accesses[target][1].update(writes)
        at[unit.id] = target
    return groups


def _memories(unit: PCU, access: str) -> set[str]:
    return {op.param("memory") for op in unit.ops if op.op == access}


def _same_configuration(a: PCU, b: PCU) -> bool:
    return (a.role, a.ops, a.emits, a.reduce, bool(a.copies)) == (
        b.role, b.ops, b.emits, b.reduce, bool(b.copies))


def _addresses_from_streams(unit: PCU) -> bool:
    """Whether a read or write of the unit takes an index from a stream."""

    def from_stream(ref: str) -> bool:
        if ref.startswith("in:"):
            return True
        return ref.startswith("%") and any(from_stream(a) for a in unit.ops[int(ref[1:])].args)

    return any(
        from_stream(ref)
        for op in unit.ops if op.op in ("read", "write")
        for ref in op.args[op.op == "write":]
    )


class _UnitCompiler:
    """Compiles the ops of a group of units with one configuration (values stacked one
    row per unit) or, with `fold`, one unit's fold over a reduction range."""

    def __init__(self, nest: _NestCompiler, units: list[PCU]):
        self.nest, self.units, self.unit = nest, units, units[0]
        self.machine, self.program = nest.machine, nest.program
        self.counters: dict[str, Any] = nest.counters
        self.folding = False
        """Whether the values have a trailing axis k (a fold), else a leading axis of
        units (a group)."""
        self.results: dict[int, int] = {}
        self.named: dict[str, int] = {}
        self.rows = (len(units), *nest.shape)

    # ---- a group of element-wise, combining or gather units ----------------------------

    def compile(self) -> None:
        unit = self.unit
        masks = self.program.const(self.nest.stacked_masks(self.units)) if unit.copies else None
        written: dict[str, list[int]] = {}
        for n, op in enumerate(unit.ops):
            if op.op == "write":
                written.setdefault(op.param("port"), []).append(self._write(op, masks))
            elif n not in self.results:
                self.results[n] = self.compute(op)
        for port, values in written.items():
            self.nest.produce(self.units, port, self.program.call(_fields, *values), len(values))
        for emit in unit.emits:
            fields: list[int] = []
            for ref in emit.values:
                if _whole_stream(ref):
                    fields.extend(self._stream(ref[3:]))  # a gather passes whole streams on
                    continue
                extra = () if masks is None else (masks,)
                fields.append(self.program.call(_Emitted(self.rows), self.value(ref), *extra))
            self.nest.produce(self.units, emit.port, self.program.call(_fields, *fields),
                              len(fields))

    # ---- one unit's fold over a reduction range ------------------------------------------

    def fold(self, segment: Segment) -> _Fold:
        combiner = self.unit.reduce.combiner  # type: ignore[union-attr]
        shape = self.nest.shape
        if segment.start == segment.stop:  # an empty range folds to the identity
            return _Fold(self.program.const(np.full(shape, _IDENTITY[combiner], dtype=np.float32)))
        k = np.arange(segment.start - segment.base, segment.stop - segment.base)
        self.counters = {name: value[..., None] for name, value in self.nest.counters.items()}
        self.counters["k"] = k
        self.folding = True
        op = self.unit.ops[int(segment.value[1:])] if segment.value.startswith("%") else None
        if combiner == "add" and op is not None and op.op == "mul":
            return _Fold(factors=(self.value(op.args[0]), self.value(op.args[1])))
        fold = functools.partial(_fold_values, _FOLD[combiner], (*shape, k.size))
        return _Fold(self.program.call(fold, self.value(segment.value)))

    # ---- operands and ops ----------------------------------------------------------------

    def value(self, ref: str) -> int:
        """The slot of an operand reference."""
        if ref.startswith("%"):
            index = int(ref[1:])
            if index not in self.results:
                self.results[index] = self.compute(self.unit.ops[index])
            return self.results[index]
        if ref == "ctr:t":
            return STEP
        if ref not in self.named:
            self.named[ref] = self._named(ref)
        return self.named[ref]

    def _named(self, ref: str) -> int:
        if ref.startswith("ctr:"):
            if ref[4:] not in self.counters:
                raise MachineError(f"unit {self.unit.id}: no counter '{ref[4:]}'")
            return self.program.const(self.counters[ref[4:]])
        if ref.startswith("in:"):
            ports, field = _stream_ref(ref)
            merged: int | None = None
            for port in ports:
                value = self._port(port, field)
                merged = value if merged is None else self.program.call(_merge, merged, value)
            return merged  # type: ignore[return-value]
        raise MachineError(f"unit {self.unit.id}: bad operand reference '{ref}'")

    def compute(self, op: Op) -> int:
        name = op.op
        if name == "const":
            value = op.param("value")
            return self.program.const(np.float32(value) if op.param("type") == "float" else value)
        if name == "read":
            return self._read(op)
        args = [self.value(a) for a in op.args]
        if name in _BINARY:
            return self.program.call(_BINARY[name], *args)
        if name == "select":
            return self.program.call(np.where, *args)
        if name == "cmpi":
            return self.program.call(_Compare(_CMPI[op.param("predicate")]), *args)
        if name == "index_cast":
            return self.program.call(_index_cast, *args)
        if name in _ONNX:
            params = {k: v for k, v in op.params if k in ("alpha", "beta")}
            function = Activation(_ONNX[name], **params)
            if self.machine.precision.mixed and op.param("lut"):
                return self.program.call(
                    functools.partial(activation, self.machine.precision, function), *args)
            return self.program.call(_Float32(function), *args)
        raise MachineError(f"unit {self.unit.id}: unknown op '{name}'")

    # ---- streams -------------------------------------------------------------------------

    def _port(self, port: str, field: int | None) -> int:
        """The slot of one field arriving on `port`, one row per unit of the group."""
        sources = [self._source(unit, port, field) for unit in self.units]
        sums = sources[0].sums
        if sums is not None and all(s.sums is sums for s in sources):
            rows = np.array([s.row for s in sources])
            masks = self.program.const(sums.masks[rows])
            taken = _PartialSums(sums.sums.combiner, sums.sums.rows[rows])
            return self.program.call(taken, masks, sums.folds)
        sources = [self.nest.materialized(s) for s in sources]
        index, first = field or 0, sources[0]
        rows = [s.row for s in sources]
        if any(s.slot != first.slot for s in sources):
            return self.program.call(_Restack(index, tuple(rows)), *(s.slot for s in sources))
        if rows == list(range(first.group)):  # one group's rows in order: as they are
            return self.program.call(operator.itemgetter(index), first.slot)
        if rows == list(range(rows[0], rows[0] + len(rows))):
            return self.program.call(_Slice(index, rows[0], rows[0] + len(rows)), first.slot)
        return self.program.call(_Rows(index, np.array(rows)), first.slot)

    def _stream(self, port: str) -> list[int]:
        """The slots of every field arriving on `port`."""
        fields = self._source(self.unit, port, 0).fields
        return [self._port(port, field) for field in range(fields)]

    def _source(self, unit: PCU, port: str, field: int | None) -> _Produced:
        source = self.machine.feeds.get((unit.id, port))
        if source is None:
            raise MachineError(f"unit {unit.id}: nothing feeds port {port}")
        produced = self.nest.produced.get(source)
        if produced is None:
            raise MachineError(
                f"unit {unit.id}: port {port} reads {source[0]}.{source[1]}, which has not "
                "produced values yet"
            )
        if field is None and produced.fields != 1:
            raise MachineError(
                f"unit {unit.id}: port {port} carries {produced.fields} values; name one"
            )
        if (field or 0) >= produced.fields:
            raise MachineError(
                f"unit {unit.id}: port {port} carries {produced.fields} values, not value {field}"
            )
        return produced

    # ---- memories ------------------------------------------------------------------------

    def _read(self, op: Op) -> int:
        """A read; the same elements read again before a write of the memory are the same
        slot (the read's own check of the PMUs serving it still runs)."""
        name = op.param("memory")
        memory = self.machine.memory[name]
        parts = self._index_parts(op, op.args, memory)
        check = functools.partial(self._check_served, op, name)
        known = self.nest.reads.get((name, tuple(parts)))
        if known is not None:
            slot, read = known
            if self.program.constant[slot]:
                check([np.asarray(self.program.slots[part]) for part in parts[1:]])
            else:
                read.checks.append(check)
            return slot
        access = _Access(name, memory, [self._fixed(part) for part in parts], None)
        steady = name in self.machine.constant[self.nest.nest.id]
        read = _Gather(access, check, snapshot=not steady)
        moving = [part for part in parts if not self.program.constant[part]]
        slot = self.program.call(read, *moving, fold=steady, pure=False)
        self.nest.reads[(name, tuple(parts))] = (slot, read)
        return slot

    def _write(self, op: Op, masks: int | None) -> int:
        """Store the op's value at its units' copies; the slot of what its port sends."""
        name = op.param("memory")
        self.nest.reads = {key: read for key, read in self.nest.reads.items() if key[0] != name}
        memory = self.machine.memory[name]
        where = np.ones(self.rows, dtype=bool) if masks is None else self.program.slots[masks]
        parts = self._index_parts(op, op.args[1:], memory)
        access = _Access(name, memory, [self._fixed(part) for part in parts], where)
        moving = [part for part in parts if not self.program.constant[part]]
        return self.program.call(_Store(access), self.value(op.args[0]), *moving, fold=False,
                                 pure=False)

    def _index_parts(self, op: Op, refs: tuple[str, ...], memory: np.ndarray) -> list[int]:
        """The slots of a read's or write's index arrays (`refs`: its operands after the
        value it writes): the N-buffer's, then one per memory dimension."""
        rank = memory.ndim - 1
        args = [self.value(a) for a in refs]
        buffer = _BufferIndex(op.param("buffer_offset", 0), memory.shape[0])
        parts = [self.program.call(buffer, *args[rank:rank + 1])]
        for index, offset in zip(args[:rank], op.param("offsets"), strict=True):
            parts.append(self.program.call(_Plus(offset), index))
        return parts

    def _fixed(self, slot: int) -> np.ndarray | None:
        return np.asarray(self.program.slots[slot]) if self.program.constant[slot] else None

    def _check_served(self, op: Op, memory: str, indices: list[np.ndarray]) -> None:
        """The read's port must be fed by a PMU or AG holding `memory`, and (for a PMU)
        every element each unit reads at its copies must lie in one of its boxes."""
        rank = max((index.ndim for index in indices), default=0)
        for unit in self.units:
            boxes = self._boxes(unit, op, memory)
            if boxes is None:
                continue
            mask = None
            if unit.copies and indices:
                mask = self.nest.mask(unit)
                extra = (1,) * max(0, rank - mask.ndim)
                mask = mask.reshape(mask.shape + extra if self.folding else extra + mask.shape)
            if not _inside_boxes(boxes, indices, mask):
                raise MachineError(
                    f"unit {unit.id}: reads '{memory}' outside the boxes of the PMUs feeding "
                    f"port(s) {op.param('port')}"
                )

    def _boxes(self, unit: PCU, op: Op, memory: str) -> list[Box] | None:
        """The boxes of `memory` the PMUs feeding the read's ports hold (None: an AG
        serves it from DRAM)."""
        boxes: list[Box] = []
        for port in op.param("port").split(","):
            source = self.machine.feeds.get((unit.id, port))
            if source is None:
                raise MachineError(f"unit {unit.id}: nothing feeds port {port}")
            pmu = self.machine.pmus.get(source[0])
            if pmu is None:
                return None
            held = [b for b in pmu.boxes if b.memory == memory]
            if not held:
                raise MachineError(
                    f"unit {unit.id}: reads '{memory}' on port {port}, fed by PMU "
                    f"{pmu.id}, which holds {', '.join(pmu.memories) or 'tables'}"
                )
            boxes += held
        return boxes


# ---- the functions instructions call ---------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _stream_ref(ref: str) -> tuple[tuple[str, ...], int | None]:
    """`in:p[,q...][.field]`: the ports merged and the field taken (None: the only one)."""
    ports, _, field = ref[3:].partition(".")
    return tuple(ports.split(",")), int(field) if field else None


def _whole_stream(ref: str) -> bool:
    """Whether an emitted reference is every value arriving on one port (`in:p`)."""
    return ref.startswith("in:") and "." not in ref and "," not in ref


def _fields(*values: Any) -> tuple[Any, ...]:
    return values


def _masked_fields(masks: np.ndarray, *values: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each value (float32) at the iterations `masks` selects (one row per unit), NaN
    elsewhere."""
    return tuple(np.where(masks, value, _NAN).astype(np.float32, copy=False) for value in values)


def _merge(merged: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Two streams merged: each iteration's value from the one that sent it."""
    return np.where(np.isnan(merged), value, merged)


def _index_cast(value: Any) -> np.ndarray:
    return np.asarray(value).astype(np.int64)


@dataclass(frozen=True)
class _Plus:
    """An index plus the op's offset in that dimension."""

    offset: int

    def __call__(self, index: Any) -> np.ndarray:
        return np.asarray(index) + self.offset


@dataclass(frozen=True)
class _BufferIndex:
    """The N-buffer a read or write uses: its selector (0 if none) plus the op's buffer
    offset, modulo the buffers."""

    offset: int
    buffers: int

    def __call__(self, base: Any = 0) -> np.ndarray:
        return (np.asarray(base) + self.offset) % self.buffers


def _fold_values(fold: Callable[..., Any], shape: tuple[int, ...], values: Any) -> np.ndarray:
    return np.asarray(fold(np.broadcast_to(values, shape), axis=-1), dtype=np.float32)


@dataclass(frozen=True)
class _Compare:
    relation: Callable[[Any, Any], Any]

    def __call__(self, a: Any, b: Any) -> Any:
        return self.relation(np.asarray(a), np.asarray(b))


@dataclass(frozen=True)
class _Float32:
    """An activation in float32."""

    function: Activation

    def __call__(self, x: Any) -> np.ndarray:
        return np.asarray(self.function(np.asarray(x, dtype=np.float32)), dtype=np.float32)


@dataclass(frozen=True)
class _Emitted:
    """A value sent on a port: float32 over the group's rows, NaN outside its copies."""

    rows: tuple[int, ...]

    def __call__(self, value: Any, masks: np.ndarray | None = None) -> np.ndarray:
        if masks is None:
            return np.broadcast_to(value, self.rows).astype(np.float32)
        return np.where(masks, np.asarray(value, dtype=np.float32), _NAN)


@dataclass(frozen=True)
class _Restack:
    """One field of several units' payloads, stacked one row per receiving unit."""

    field: int
    rows: tuple[int, ...]

    def __call__(self, *payloads: tuple[np.ndarray, ...]) -> np.ndarray:
        return np.stack([p[self.field][r] for p, r in zip(payloads, self.rows, strict=True)])


@dataclass(frozen=True)
class _Slice:
    """Consecutive rows of one field of a group's payload (a view)."""

    field: int
    start: int
    stop: int

    def __call__(self, payload: tuple[np.ndarray, ...]) -> np.ndarray:
        return payload[self.field][self.start:self.stop]


@dataclass(frozen=True, eq=False)
class _Rows:
    """Some rows of one field of a group's payload."""

    field: int
    rows: np.ndarray

    def __call__(self, payload: tuple[np.ndarray, ...]) -> np.ndarray:
        return payload[self.field][self.rows]


@dataclass(frozen=True, eq=False)
class _PartialSums:
    """The partial sums of map-reduce units, one row per unit: each unit's folds (`rows`
    of an array stacking folds) combined in order, at its copies (NaN elsewhere)."""

    combiner: Callable[[Any, Any], Any]
    rows: np.ndarray

    def __call__(self, masks: np.ndarray, folds: np.ndarray) -> np.ndarray:
        value = folds[self.rows[:, 0]]
        for segment in range(1, self.rows.shape[1]):
            value = self.combiner(value, folds[self.rows[:, segment]])
        return np.where(masks, value, _NAN)


@dataclass(frozen=True)
class _Stacked:
    """Folds stacked, each over the whole space, in float32."""

    shape: tuple[int, ...]

    def __call__(self, *folds: Any) -> np.ndarray:
        return np.stack([np.broadcast_to(np.asarray(f, dtype=np.float32), self.shape)
                         for f in folds])


class _FoldBank:
    """The sums of products of several reduction ranges at once: each range's fixed
    weights (a float32 matrix over the space and k) times one of the step's vectors over k
    (`vector_of`: which of the call's arguments).

    fp32: the ranges that multiply one vector are one matrix-vector product, their
    matrices' rows one after another (a view when they are consecutive rows of one
    memory). Mixed precision: all ranges of one length are one `precision.dot` on stacked
    operands (which computes each row as it would alone), the weights rounded to 8 bits
    once. Vectors of another shape take each range's own fold; in fp32 so do operands that
    are not all finite (so that NaN and inf combine as in an element-wise sum)."""

    def __init__(
        self, precision: NumericMode, shape: tuple[int, ...], matrices: list[np.ndarray],
        vector_of: list[int],
    ):
        self.precision, self.shape, self.vector_of = precision, shape, vector_of
        self.sums = [_SumOfProducts(shape) for _ in matrices]
        batches: dict[Any, list[int]] = {}
        seen: dict[int, int] = {}
        # in memory order, so that consecutive row blocks of one memory make one view
        for n in sorted(range(len(matrices)), key=lambda n: _address(matrices[n])):
            if not precision.mixed:
                batches.setdefault(vector_of[n], []).append(n)
                continue
            # ranges of one length, as many as keep the products in a core's cache (a
            # product array of every range at once is slower: 2.6 against 2.0 ms per step)
            length = matrices[n].shape[-1]
            seen[length] = seen.get(length, 0) + 1
            chunk = (seen[length] - 1) * matrices[n].size // _CACHED_PRODUCTS
            batches.setdefault((length, chunk), []).append(n)
        self.matrices = list(matrices)
        """Each range's weights as the units hold them (8-bit values in mixed precision)."""
        self.batches: list[tuple[np.ndarray, np.ndarray, bool]] = []
        for ranges in batches.values():
            batched = self._batched([matrices[n] for n in ranges])
            if precision.mixed:
                for i, n in enumerate(ranges):
                    self.matrices[n] = batched[i].reshape(matrices[n].shape)
            self.batches.append((np.array(ranges), batched, bool(np.isfinite(batched).all())))
        self.largest = [largest_magnitude(batched) if precision.mixed else np.nan
                        for _, batched, _ in self.batches]
        """Each batch's largest weight magnitude, which bounds `precision.dot`'s products."""
        self.vectors_fit: bool | None = None

    def _batched(self, matrices: list[np.ndarray]) -> np.ndarray:
        """Mixed: the matrices stacked (ranges, rows, k) and rounded to 8 bits; fp32:
        their rows one after another (ranges * rows, k)."""
        rows = [m.reshape(-1, m.shape[-1]) for m in matrices]
        if self.precision.mixed:
            return quantize(self.precision, np.stack(rows))
        return _consecutive_rows(rows)

    def __call__(self, *vectors: Any) -> np.ndarray:
        vectors = tuple(vectors[v] for v in self.vector_of)
        if self.vectors_fit is None:
            self.vectors_fit = all(
                _matrix_layout(self.shape, m, np.asarray(v)) == "ab"
                for n, (m, v) in enumerate(zip(self.matrices, vectors, strict=True)))
        out = np.empty((len(self.matrices), int(np.prod(self.shape))), dtype=np.float32)
        for (ranges, batched, finite), largest in zip(self.batches, self.largest, strict=True):
            if self.vectors_fit and self.precision.mixed:
                block = quantize(self.precision, np.stack([np.reshape(vectors[n], -1)
                                                           for n in ranges]))
                out[ranges] = dot(self.precision, batched, block[:, None, :], axis=-1,
                                  a_quantized=True, b_quantized=True, a_largest=largest)
                continue
            vector = np.reshape(vectors[ranges[0]], -1)
            if self.vectors_fit and finite and np.isfinite(vector).all():
                out[ranges] = (batched @ vector).reshape(len(ranges), -1)
                continue
            for n in ranges:
                out[n] = np.reshape(self._fold(n, vectors[n]), -1)
        return out.reshape((len(self.matrices), *self.shape))

    def _fold(self, n: int, vector: Any) -> np.ndarray:
        """Range n's fold alone."""
        if self.precision.mixed:
            return dot(self.precision, self.matrices[n], quantize(self.precision, vector),
                       axis=-1, a_quantized=True, b_quantized=True)
        return self.sums[n](self.matrices[n], vector)


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


def _root(array: np.ndarray) -> np.ndarray:
    """The array owning the memory `array` views."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _consecutive_rows(blocks: list[np.ndarray]) -> np.ndarray:
    """2-D blocks' rows one after another: a view when each block follows the last in
    one memory with the same strides, else a copy."""
    first = blocks[0]
    address = _address(first)
    for block in blocks[1:]:
        address += first.shape[0] * first.strides[0]
        if not (_root(block) is _root(first) and block.strides == first.strides
                and block.shape == first.shape and _address(block) == address):
            return np.concatenate(blocks)
    rows = np.lib.stride_tricks.as_strided(
        first, (first.shape[0] * len(blocks), first.shape[1]), first.strides, writeable=False)
    return rows


class _SumOfProducts:
    """`sum(a * b)` over k (the last axis) in float32: one matrix-vector product when one
    factor is a float32 array over the whole space and the other a float32 vector over k
    alone (the weights of a reduction range and the step's operand).

    Only the order of the float32 additions differs from `np.sum`'s. Non-finite values
    take the element-wise sum, so that NaN and inf combine exactly as there (a BLAS may
    skip a zero factor); whether the matrix is finite is measured once while it stays the
    same (steady) array. Which factor is the matrix is decided on the first call: shapes
    do not change from step to step."""

    def __init__(self, shape: tuple[int, ...]):
        self.shape = shape
        self.layout: str | None = None
        """"ab" (a is the matrix), "ba", or "" (no matrix-vector product)."""
        self.finite: tuple[np.ndarray, bool] | None = None

    def __call__(self, a: Any, b: Any) -> np.ndarray:
        if self.layout is None:
            self.layout = _matrix_layout(self.shape, np.asarray(a), np.asarray(b))
        if self.layout:
            matrix, vector = (a, b) if self.layout == "ab" else (b, a)
            if self._finite(matrix) and np.isfinite(vector).all():
                return matrix @ vector.reshape(vector.size)
        products = np.multiply(a, b)
        values = np.broadcast_to(products, (*self.shape, np.shape(products)[-1]))
        return np.asarray(np.sum(values, axis=-1), dtype=np.float32)

    def _finite(self, matrix: np.ndarray) -> bool:
        if self.finite is None or self.finite[0] is not matrix:
            self.finite = (matrix, bool(np.isfinite(matrix).all()))
        return self.finite[1]


def _matrix_layout(shape: tuple[int, ...], a: np.ndarray, b: np.ndarray) -> str:
    """"ab" if `a` is a float32 matrix over the space (`shape`) and k and `b` a float32
    vector over k alone, "ba" the other way round, else "" (no matrix-vector product)."""
    rank = len(shape) + 1
    for matrix, vector, layout in ((a, b, "ab"), (b, a, "ba")):
        if (matrix.ndim == rank and matrix.shape[:-1] == shape
                and 1 <= vector.ndim <= rank and matrix.dtype == vector.dtype == np.float32
                and vector.size == matrix.shape[-1] == vector.shape[-1]):
            return layout
    return ""


def _bounds(array: np.ndarray) -> tuple[int, int] | None:
    """An index array's least and greatest value (None: empty)."""
    if array.ndim == 0:
        return (int(array), int(array))
    return (int(array.min()), int(array.max())) if array.size else None


class _Access:
    """The index arrays of one read or write, the N-buffer's first: those that do not
    depend on the step (`fixed`) made and measured once, the others each replay; for a
    write, taken at the iterations `where` selects."""

    def __init__(
        self, name: str, memory: np.ndarray, fixed: list[np.ndarray | None],
        where: np.ndarray | None,
    ):
        self.name, self.memory, self.where = name, memory, where
        self.unselected = fixed
        self.fixed = [None if a is None else self._selected(a) for a in fixed]
        self.fixed_bounds = [None if a is None else _bounds(a) for a in self.fixed]

    def _selected(self, array: np.ndarray) -> np.ndarray:
        return array if self.where is None else np.broadcast_to(array, self.where.shape)[self.where]

    def parts(self, moving: Sequence[Any]) -> tuple[list[np.ndarray], list[Any]]:
        """The index arrays and their bounds, given the values of the moving ones."""
        values = iter(moving)
        arrays, bounds = [], []
        for fixed, known in zip(self.fixed, self.fixed_bounds, strict=True):
            array = self._selected(np.asarray(next(values))) if fixed is None else fixed
            arrays.append(array)
            bounds.append(_bounds(array) if fixed is None else known)
        return arrays, bounds

    def check(self, bounds: list[Any], what: str) -> None:
        """Each dimension's (least, greatest) index (None: no index) against its size."""
        for dim, (span, size) in enumerate(zip(bounds, self.memory.shape, strict=True)):
            if span is not None and (span[0] < 0 or span[1] >= size):
                raise _out_of_bounds(what, self.name, dim, span, size)


def _out_of_bounds(
    what: str, name: str, dim: int, span: tuple[int, int], size: int
) -> MachineError:
    return MachineError(
        f"a {what} of memory '{name}' is out of bounds in dimension {dim} "
        f"(index {span[0]}..{span[1]}, size {size})"
    )


class _Gather:
    """A read: checked against the memory's bounds each time, against the boxes of the
    PMUs serving it the first time (what it may touch does not depend on the step).
    Where it can, a strided view of the memory (`_Strided`) rather than a gather; with
    `snapshot` (a memory the step writes: a later write must not change what was read),
    a copy of the view."""

    def __init__(
        self, access: _Access, check_served: Callable[[list[np.ndarray]], None], snapshot: bool
    ):
        self.access, self.snapshot = access, snapshot
        self.checks = [check_served]
        """The checks of the PMUs serving each op this read is (the same elements)."""
        self.first = True
        self.strided: _Strided | None = None

    def __call__(self, *moving: Any) -> np.ndarray:
        if self.strided is not None:
            view = self.strided.view(moving)
            return view.copy() if self.snapshot else view
        return self._gather(moving)

    def _gather(self, moving: Sequence[Any]) -> np.ndarray:
        arrays, bounds = self.access.parts(moving)
        # the index arrays are checked as they are (sparse): broadcasting them repeats
        # their values, unless it empties them
        if np.prod(np.broadcast_shapes(*(a.shape for a in arrays))):
            self.access.check(bounds, "read")
        if self.first:
            for check in self.checks:
                check(arrays[1:])
            self.first = False
            self.strided = _Strided.of(self.access, arrays)
            if self.strided is not None:
                return self(*moving)
        return self.access.memory[tuple(arrays)]


@dataclass(frozen=True)
class _Strided:
    """A read whose fixed indices are each an arithmetic progression along one axis of
    the result (or a number) and whose moving indices are numbers (the step's row): a
    read-only strided view of the memory, made without copying. Its moving indices are
    checked against the memory's bounds the first time they take a value (the view at
    those values is kept: the memory's buffer does not move)."""

    access: _Access
    shape: tuple[int, ...]
    strides: tuple[int, ...]
    offset: int
    moving: tuple[int, ...]
    """The memory dimension of each moving index."""
    views: dict[tuple[Any, ...], np.ndarray] = dataclasses.field(default_factory=dict)

    @staticmethod
    def of(access: _Access, arrays: list[np.ndarray]) -> _Strided | None:
        memory = access.memory
        shape = tuple(np.broadcast_shapes(*(a.shape for a in arrays)))
        if not all(shape) or not memory.flags.c_contiguous:
            return None
        strides, offset, moving = [0] * len(shape), 0, []
        for dim, (array, fixed) in enumerate(zip(arrays, access.fixed, strict=True)):
            if array.dtype.kind not in "iu" or (fixed is None and array.ndim):
                return None
            if fixed is None:
                moving.append(dim)
                continue
            progression = _progression(array, len(shape))
            if progression is None:
                return None
            start, axis, step = progression
            offset += start * memory.strides[dim]
            if axis is not None:
                strides[axis] += step * memory.strides[dim]
        if min(strides, default=0) < 0:
            return None
        return _Strided(access, shape, tuple(strides), offset, tuple(moving))

    def view(self, moving: Sequence[Any], what: str = "read") -> np.ndarray:
        """The view at the moving indices' values (a read's is read-only)."""
        key = (what, *map(int, moving))
        view = self.views.get(key)
        if view is None:
            view = self.views[key] = self._view(moving, what)
        return view

    def _view(self, moving: Sequence[Any], what: str) -> np.ndarray:
        memory, offset = self.access.memory, self.offset
        for value, dim in zip(moving, self.moving, strict=True):
            index, size = int(value), memory.shape[dim]
            if not 0 <= index < size:
                raise _out_of_bounds(what, self.access.name, dim, (index, index), size)
            offset += index * memory.strides[dim]
        view = np.ndarray(self.shape, memory.dtype, buffer=memory, offset=offset,
                          strides=self.strides)
        view.flags.writeable = what == "write"
        return view


def _progression(array: np.ndarray, rank: int) -> tuple[int, int | None, int] | None:
    """`(start, axis, step)` if `array` (aligned to `rank` axes on the right) is
    `start + step * i` along one axis `i` and constant along the others (axis None: a
    number); else None."""
    shape = (1,) * (rank - array.ndim) + array.shape
    axes = [axis for axis, size in enumerate(shape) if size > 1]
    flat = array.reshape(-1)
    if not axes:
        return int(flat[0]), None, 0
    if len(axes) > 1:
        return None
    step = int(flat[1]) - int(flat[0])
    if not np.array_equal(flat, flat[0] + step * np.arange(flat.size)):
        return None
    return int(flat[0]), axes[0], step


class _Store:
    """A write at the iterations its access selects; returns the value its port sends
    (NaN elsewhere). Where it can, it writes through a strided view of the memory, one
    unit (row) after another, so a later unit's value wins as in a scattered write."""

    def __init__(self, access: _Access):
        self.access = access
        self.first = True
        self.strided: _Strided | None = None
        where = access.where
        assert where is not None
        flat = where.reshape(where.shape[0], -1)
        self.covered = where.any(axis=0)
        """The iterations some unit writes at, and (flat) which unit writes last there."""
        self.last = where.shape[0] - 1 - np.argmax(flat[::-1], axis=0)
        self.columns = np.arange(flat.shape[1])

    def __call__(self, value: Any, *moving: Any) -> np.ndarray:
        where = self.access.where
        assert where is not None
        if self.first:
            self.first = False
            self.strided = self._plan(moving)
        if self.strided is None:
            arrays, bounds = self.access.parts(moving)
            data = np.broadcast_to(np.asarray(value), where.shape)[where]
            self.access.check(bounds, "write")
            self.access.memory[tuple(arrays)] = data
        else:
            rows = np.broadcast_to(np.asarray(value), where.shape).reshape(where.shape[0], -1)
            merged = rows[self.last, self.columns].reshape(where.shape[1:])
            np.copyto(self.strided.view(moving, "write"), merged, casting="unsafe",
                      where=self.covered)
        full = np.broadcast_to(np.asarray(value, dtype=np.float32), where.shape)
        return np.where(where, full, _NAN)

    def _plan(self, moving: Sequence[Any]) -> _Strided | None:
        """A strided view for a write that addresses each iteration of the space once
        (and some), all inside the memory (the iterations it skips too)."""
        access, where = self.access, self.access.where
        assert where is not None
        if not where.any():
            return None
        for array, size in zip(access.unselected, access.memory.shape, strict=True):
            bounds = None if array is None else _bounds(array)
            if bounds is not None and not 0 <= bounds[0] <= bounds[1] < size:
                return None
        values = iter(moving)
        arrays = [np.asarray(next(values)) if a is None else a for a in access.unselected]
        strided = _Strided.of(access, arrays)
        return strided if strided is not None and strided.shape == where.shape[1:] else None


def _inside_boxes(boxes: list[Box], indices: list[np.ndarray], mask: np.ndarray | None) -> bool:
    """Whether every element the (sparse) index arrays address where `mask` holds (or
    everywhere) lies in one of the boxes.

    Boxes that differ in at most one dimension are tested a dimension at a time, each on
    its index's own axes and the mask folded onto them (an element is inside iff each of
    its indices is inside the boxes' side in that dimension); other unions take the
    whole space."""
    sides = list(zip(*(box.slices for box in boxes), strict=True))
    if sum(len(set(dim)) > 1 for dim in sides) <= 1:
        return all(
            _within(index, dim[0]) or _all_where(
                functools.reduce(np.logical_or, (_box_side(s, index) for s in set(dim))), mask)
            for index, dim in zip(indices, sides, strict=True)
        )
    inside = np.zeros((), dtype=bool)
    for box in boxes:
        inside_box = np.ones((), dtype=bool)
        for index, side in zip(indices, box.slices, strict=True):
            inside_box = inside_box & _box_side(side, index)
        inside = inside | inside_box
    return _all_where(inside, mask)


def _within(index: np.ndarray, side: tuple[int, int, int]) -> bool:
    """Whether every value of `index` lies in a side of unit step (whatever the mask)."""
    start, stop, step = side
    return step == 1 and bool(index.size) and start <= index.min() and index.max() < stop


def _box_side(side: tuple[int, int, int], index: np.ndarray) -> np.ndarray:
    start, stop, step = side
    return (index >= start) & (index < stop) & ((index - start) % step == 0)


def _all_where(condition: np.ndarray, mask: np.ndarray | None) -> bool:
    """Whether `condition` holds wherever `mask` does (both broadcast), with the mask
    first folded (any) over the axes the condition does not vary along."""
    if mask is None:
        return bool(np.all(condition))
    rank = max(condition.ndim, mask.ndim)
    condition = condition.reshape((1,) * (rank - condition.ndim) + condition.shape)
    mask = mask.reshape((1,) * (rank - mask.ndim) + mask.shape)
    axes = tuple(a for a in range(rank) if condition.shape[a] == 1 and mask.shape[a] > 1)
    if axes:
        mask = mask.any(axis=axes, keepdims=True)
    return bool(np.all(condition | ~mask))


def run_machine(
    machine: Machine,
    inputs: Mapping[str, np.ndarray],
    weights: Mapping[str, np.ndarray] | None = None,
    precision: NumericMode = FP32,
) -> dict[str, np.ndarray]:
    """The outputs of `machine` (by the model's output names) on `inputs` (by the model's
    input names) and the weight arrays its memories reference."""
    return _Machine(machine, inputs, weights or {}, precision).run()


def run_machines(
    machines: Sequence[Machine],
    inputs: Mapping[str, np.ndarray],
    weights: Mapping[str, np.ndarray],
    precision: NumericMode,
    after_nest: Callable[[str, list[dict[str, np.ndarray]]], None],
) -> list[dict[str, np.ndarray]]:
    """The outputs of several machines of one schedule (the chips of a split model) run in
    lockstep: phase by phase, step by step, each nest on every machine, then
    `after_nest(nest, memories)` with every machine's memories (what the chips exchange)."""
    runs = [_Machine(machine, inputs, weights, precision) for machine in machines]
    nests = [{n.id: n for n in machine.nests} for machine in machines]
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        for phase in machines[0].schedule:
            for t in range(phase.steps if phase.kind == "loop" else 1):
                for nest_id in phase.nests:
                    for run, own in zip(runs, nests, strict=True):
                        run._program(own[nest_id]).run(t)
                    after_nest(nest_id, [run.memory for run in runs])
    return [run.outputs() for run in runs]


__all__ = ["COMBINERS", "MachineError", "run_machine", "run_machines"]
