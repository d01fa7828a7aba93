"""The values a spatial machine computes, from its machine description alone.

`run_machine(machine, inputs, weights, precision)` executes a `rnnc.target.machine.Machine`
(what `spatial-partition` builds, what a config.json serializes): the schedule's phases in
order, each nest's units in dataflow order, each unit computing from its own configuration
on the values that arrive over its streams:

* a map-reduce unit evaluates its ops over its reduction range (`ctr:k`) for every
  iteration of its counters and folds them (in `mixed` precision a product of two values
  folds as `precision.dot`: 8-bit factors, float16 pairs, float32 sums); its partial sums
  leave on its output port;
* a combining unit adds the partial sums arriving on its scalar ports;
* an element-wise unit evaluates its ops per iteration of its counters and lanes (its
  copies): values arriving on its ports, reads of the memories its PMUs serve, activations
  (lookup tables in PMUs in `mixed` mode), writes, and the values it emits;
* a gather unit merges its inputs into one stream.

The interpreter is vectorized the way the hardware is parallel: a unit's values are numpy
arrays over the whole iteration space of its nest, set only at the iterations of the unit's
own copies (NaN elsewhere), so a value that reaches a unit serving other copies shows up as
NaN in the outputs rather than as a plausible number; all map-reduce units of one
reduction range are evaluated in one array operation, and each unit then takes its copies'
partial sums from it. Memories are one array per memory (the union of the PMUs holding its
parts; a read is checked to fall inside the boxes of the PMU the read's port is fed by).

What does not change from step to step is made once per run: counters are sparse grids
(a value depending on few counters stays small until it meets the others), reads of
memories nothing writes, the index arrays of a read or write that do not depend on the
step (with their bounds), masks. An fp32 fold of products over k is a matrix-vector
product (only the float32 summation order differs from an element-wise sum; operands that
are not all finite take the element-wise sum, as a BLAS may skip zero factors).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from rnnc.diagnostics import Diagnostic
from rnnc.dialects import loop
from rnnc.interpreters.rnn_kernels import Activation
from rnnc.numerics.precision import FP32, NumericMode, activation, dot, quantize
from rnnc.target.machine import PCU, PMU, Box, Machine, Op

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
_COMBINE = {"add": np.add, "mul": np.multiply, "max": np.maximum, "min": np.minimum}

Payload = tuple[np.ndarray, ...]


class MachineError(Diagnostic):
    """A machine whose configuration does not compute (a unit reading a port nothing
    feeds, a read outside its PMU's boxes, ...)."""

    def __init__(self, message: str):
        super().__init__("<machine>", message)


@dataclass
class _NestRun:
    """One execution of a nest: its counters, copies and the payloads of its ports."""

    shape: tuple[int, ...]
    counters: dict[str, np.ndarray]
    copy_of: np.ndarray
    t: int
    payloads: dict[tuple[str, str], Payload]


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
        for memory in machine.memories:
            self.memory[memory.name] = self._initial(memory, inputs, weights)
        self.feeds: dict[tuple[str, str], tuple[str, str]] = {}
        for stream in machine.streams:
            for sink in stream.sinks:
                self.feeds[(sink.unit, sink.port)] = (stream.source.unit, stream.source.port)
        self.by_nest: dict[str, list[PCU]] = {}
        for unit in machine.units:
            if isinstance(unit, PCU):
                self.by_nest.setdefault(unit.nest, []).append(unit)
        self.pmus = {u.id: u for u in machine.units if isinstance(u, PMU)}
        self._masks: dict[str, np.ndarray] = {}
        self._stacks: dict[tuple[str, ...], np.ndarray] = {}
        self._functions: dict[int, Activation] = {}
        self._spaces: dict[str, tuple[tuple[int, ...], dict[str, np.ndarray], np.ndarray]] = {}
        written = {
            op.param("memory")
            for unit in machine.units
            if isinstance(unit, PCU)
            for op in unit.ops
            if op.op == "write"
        }
        self.constant = {m.name for m in machine.memories if m.name not in written}
        """Memories nothing writes (weights): a read of one that does not depend on the
        step gives the same values every step, and is made once."""
        self.reads: dict[tuple[str, int, object], np.ndarray] = {}
        self._finite_arrays: dict[tuple[str, int, int], tuple[np.ndarray, bool]] = {}
        self.steady_indices: dict[tuple[Any, ...], list[_Index | None]] = {}
        """Per (unit, op[, scope]) of a read or write, its index arrays that do not depend
        on the step (None for those that do)."""
        self.checked: set[tuple[Any, ...]] = set()
        """(unit, op, scope) reads already checked against their PMUs' boxes (the first
        time a unit runs: what a read may touch does not depend on the step, but an op
        folded over several reduction ranges reads a range per scope)."""

    def mask(self, run: _NestRun, unit: PCU) -> np.ndarray:
        """The iterations of a unit's copies (fixed for a unit: computed once)."""
        mask = self._masks.get(unit.id)
        if mask is None:
            # a table of the copies looked up by copy: np.isin costs ~100x more
            member = np.zeros(int(run.copy_of.max(initial=-1)) + 1, dtype=bool)
            member[[c for c in unit.copies if 0 <= c < member.size]] = True
            mask = self._masks[unit.id] = member[run.copy_of]
        return mask

    def activation(self, op: Op) -> Activation:
        """The function of an activation op (made once per op)."""
        function = self._functions.get(id(op))
        if function is None:
            params = {k: v for k, v in op.params if k in ("alpha", "beta")}
            function = self._functions[id(op)] = Activation(_ONNX[op.op], **params)
        return function

    @staticmethod
    def _initial(
        memory: Any, inputs: Mapping[str, np.ndarray], weights: Mapping[str, np.ndarray]
    ) -> np.ndarray:
        """A memory's contents before the program runs: a model input or weight array,
        else NaN (so that a read of what nothing wrote shows in the outputs)."""
        kind, _, name = memory.init.partition(":")
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
            array = np.empty((memory.buffers, *memory.shape), dtype=dtype)
            array[...] = value
            return array
        return np.full((memory.buffers, *memory.shape), np.nan, dtype=np.float32)

    # ---- the schedule ------------------------------------------------------------------

    def run(self) -> dict[str, np.ndarray]:
        nests = {n.id: n for n in self.machine.nests}
        for phase in self.machine.schedule:
            steps = phase.steps if phase.kind == "loop" else 1
            for t in range(steps):
                for nest_id in phase.nests:
                    self._nest(nests[nest_id], t)
        return {
            b.name: self.memory[b.memory][0].astype(np.float32, copy=True)
            for b in self.machine.outputs
        }

    def _nest(self, nest: Any, t: int) -> None:
        shape, counters, copy_of = self._space(nest)
        run = _NestRun(shape, counters, copy_of, t, {})
        units = self.by_nest.get(nest.id, [])
        # iterations outside a unit's copies hold NaN: functions of them may warn
        with np.errstate(invalid="ignore", over="ignore"):
            self._map_reduce(run, [u for u in units if u.role == "map_reduce"])
            for unit in units:
                if unit.role != "map_reduce":
                    self._unit(run, unit)

    def _space(self, nest: Any) -> tuple[tuple[int, ...], dict[str, np.ndarray], np.ndarray]:
        """A nest's iteration space: its shape, its counters as sparse grids (each counter
        varies along its own axis only, so a value that depends on few counters stays
        small until it meets the others) and the copy each iteration belongs to (fixed
        for a nest: computed once)."""
        space = self._spaces.get(nest.id)
        if space is None:
            shape = tuple(nest.extents)
            grids = np.indices(shape, sparse=True) if shape else ()
            counters = {f"d{j}": grids[j] for j in range(len(shape))}
            copy_index = np.broadcast_arrays(*(g % p for g, p in zip(grids, nest.par, strict=True)))
            copy_of = np.ravel_multi_index(tuple(copy_index), tuple(nest.par))
            space = self._spaces[nest.id] = (shape, counters, copy_of)
        return space

    # ---- map-reduce units ----------------------------------------------------------------

    def _map_reduce(self, run: _NestRun, units: list[PCU]) -> None:
        """Every distinct range of a reduction is folded once over the whole iteration
        space; each unit's partial sums are its ranges' folds at its copies (for the units
        of one range, all in one array operation)."""
        folds: dict[tuple[str, int, int], np.ndarray] = {}
        by_fold: dict[tuple[str, int, int], list[PCU]] = {}
        for unit in units:
            assert unit.reduce is not None
            sums: dict[str, np.ndarray] = {}
            for segment in unit.reduce.segments:
                key = (segment.reduction, segment.start, segment.stop)
                if key not in folds:
                    folds[key] = self._fold(run, unit, segment)
                value = folds[key]
                previous = sums.get(segment.reduction)
                sums[segment.reduction] = value if previous is None else _COMBINE[
                    unit.reduce.combiner](previous, value)
            if len(unit.reduce.segments) == 1:
                by_fold.setdefault(key, []).append(unit)
                continue
            mask = self.mask(run, unit)
            run.payloads[(unit.id, unit.reduce.output)] = tuple(
                _at(mask, value) for value in sums.values()
            )
        for key, members in by_fold.items():
            rows = _at(self._stacked_masks(run, members), folds[key])
            for unit, row in zip(members, rows, strict=True):
                run.payloads[(unit.id, unit.reduce.output)] = (row,)  # type: ignore[union-attr]

    def _stacked_masks(self, run: _NestRun, units: list[PCU]) -> np.ndarray:
        """The masks of `units`, one per row (fixed for a group: made once)."""
        key = tuple(unit.id for unit in units)
        stacked = self._stacks.get(key)
        if stacked is None:
            stacked = self._stacks[key] = np.stack([self.mask(run, unit) for unit in units])
        return stacked

    def _fold(self, run: _NestRun, unit: PCU, segment: Any) -> np.ndarray:
        combiner = unit.reduce.combiner  # type: ignore[union-attr]
        if segment.start == segment.stop:  # an empty range folds to the identity
            return np.full(run.shape, _IDENTITY[combiner], dtype=np.float32)
        k = np.arange(segment.start - segment.base, segment.stop - segment.base)
        extra = {name: value[..., None] for name, value in run.counters.items()}
        env = _Env(run, unit, {**extra, "k": k}, self, (segment.start, segment.stop))
        op = unit.ops[int(segment.value[1:])] if segment.value.startswith("%") else None
        if combiner == "add" and op is not None and op.op == "mul" and self.precision.mixed:
            a, b = (env.factor(arg) for arg in op.args)
            return dot(self.precision, a, b, axis=-1, a_quantized=True, b_quantized=True)
        if combiner == "add" and op is not None and op.op == "mul":
            key = (unit.id, segment.start, segment.stop)
            folded = self._matvec(run, key, *(env.value(arg) for arg in op.args))
            if folded is not None:
                return folded
        values = env.value(segment.value)
        values = np.broadcast_to(values, (*run.shape, k.size))
        return np.asarray(_FOLD[combiner](values, axis=-1), dtype=np.float32)

    def _matvec(
        self, run: _NestRun, key: tuple[str, int, int], a: Any, b: Any
    ) -> np.ndarray | None:
        """`sum(a * b)` over k (the last axis) as one matrix-vector product, when one
        factor is a float32 array over the whole space and the other a float32 vector over
        k alone (the weights of a reduction range and the step's operand); None otherwise.

        Only the order of the float32 additions differs from `np.sum`'s. Non-finite
        values take the element-wise path, so that NaN and inf combine exactly as
        there (a BLAS may skip a zero factor)."""
        a, b = np.asarray(a), np.asarray(b)
        rank = len(run.shape) + 1
        if a.ndim != rank or a.shape[:-1] != run.shape:
            a, b = b, a
        if not (a.ndim == rank and a.shape[:-1] == run.shape and 1 <= b.ndim <= rank
                and a.dtype == b.dtype == np.float32 and b.size == a.shape[-1] == b.shape[-1]):
            return None
        if not (self._finite(key, a) and np.isfinite(b).all()):
            return None
        return a @ b.reshape(b.size)

    def _finite(self, key: tuple[str, int, int], array: np.ndarray) -> bool:
        """Whether every element of `array`, a fold's matrix, is finite: measured once
        while the fold keeps getting the same (steady) array."""
        known = self._finite_arrays.get(key)
        if known is None or known[0] is not array:
            known = self._finite_arrays[key] = (array, bool(np.isfinite(array).all()))
        return known[1]

    # ---- other units ---------------------------------------------------------------------

    def _unit(self, run: _NestRun, unit: PCU) -> None:
        env = _Env(run, unit, dict(run.counters), self)
        mask = self.mask(run, unit) if unit.copies else None
        written: dict[str, list[np.ndarray]] = {}
        for n, op in enumerate(unit.ops):
            if op.op == "write":
                value = self._write(env, op, mask)
                written.setdefault(op.param("port"), []).append(value)
            else:
                env.results[n] = env.compute(op)
        for port, values in written.items():
            run.payloads[(unit.id, port)] = tuple(values)
        for emit in unit.emits:
            fields: list[np.ndarray] = []
            for ref in emit.values:
                if ref.startswith("in:") and "." not in ref and "," not in ref:
                    fields.extend(env.port(ref[3:]))  # a gather passes whole streams on
                    continue
                value = np.broadcast_to(env.value(ref), run.shape).astype(np.float32)
                fields.append(value if mask is None else np.where(mask, value, np.float32(np.nan)))
            run.payloads[(unit.id, emit.port)] = tuple(fields)

    def _write(self, env: _Env, op: Op, mask: np.ndarray | None) -> np.ndarray:
        """Store the op's value at its copies' iterations; return it (what its port sends)."""
        memory = self.memory[op.param("memory")]
        value = env.value(op.args[0])
        shape = env.run.shape
        where = np.ones(shape, dtype=bool) if mask is None else mask
        parts = env.indices(op, op.args[1:], memory, (env.unit.id, id(op)), where)
        data = np.broadcast_to(np.asarray(value), shape)[where]
        _check_ranges(memory.shape, [part.bounds() for part in parts], op.param("memory"), "write")
        memory[tuple(part.array for part in parts)] = data
        full = np.broadcast_to(np.asarray(value, dtype=np.float32), shape)
        return np.where(where, full, np.float32(np.nan))


@functools.lru_cache(maxsize=4096)
def _stream_ref(ref: str) -> tuple[tuple[str, ...], int | None]:
    """`in:p[,q...][.field]`: the ports merged and the field taken (None: the only one)."""
    ports, _, field = ref[3:].partition(".")
    return tuple(ports.split(",")), int(field) if field else None


def _at(mask: np.ndarray, value: np.ndarray) -> np.ndarray:
    """`value` (float32) at the iterations `mask` selects, NaN elsewhere."""
    return np.where(mask, value, np.float32(np.nan)).astype(np.float32, copy=False)


def _buffer(op: Op, selector: list[Any], buffers: int) -> Any:
    offset = op.param("buffer_offset", 0)
    base = selector[0] if selector else 0
    return (np.asarray(base) + offset) % buffers


@dataclass
class _Index:
    """One index array of a read or write (the N-buffer's or a memory dimension's),
    with its least and greatest value once known (None: empty)."""

    array: np.ndarray
    known: tuple[int, int] | None = None
    measured: bool = False

    def bounds(self) -> tuple[int, int] | None:
        if not self.measured:
            if self.array.ndim == 0:
                self.known = (int(self.array), int(self.array))
            elif self.array.size:
                self.known = (int(self.array.min()), int(self.array.max()))
            self.measured = True
        return self.known


def _check_ranges(
    shape: tuple[int, ...], ranges: list[tuple[int, int] | None], memory: str, what: str
) -> None:
    """Each dimension's (least, greatest) index (None: no index) against its size."""
    for dim, (span, size) in enumerate(zip(ranges, shape, strict=True)):
        if span is not None and (span[0] < 0 or span[1] >= size):
            raise MachineError(
                f"a {what} of memory '{memory}' is out of bounds in dimension {dim} "
                f"(index {span[0]}..{span[1]}, size {size})"
            )


class _Env:
    """The values of one unit's ops during one execution."""

    def __init__(
        self, run: _NestRun, unit: PCU, counters: dict[str, Any], machine: _Machine,
        scope: object = None,
    ):
        self.run, self.unit, self.machine = run, unit, machine
        self.counters = {**counters, "t": run.t}
        self.results: dict[int, Any] = {}
        self.scope = scope
        """What else the counters depend on (a fold's reduction range), for cached reads."""

    def factor(self, ref: str) -> np.ndarray:
        """A multiplier input in the 8-bit format; a weight read that does not change
        between steps is rounded once (as the chip holds its weights)."""
        value = self.value(ref)
        op = self.unit.ops[int(ref[1:])] if ref.startswith("%") else None
        if op is None or op.op != "read" or self._on_step(op):
            return quantize(self.machine.precision, value)
        key = (self.unit.id, self.unit.ops.index(op), ("8-bit", self.scope))
        cached = self.machine.reads.get(key)
        if cached is None:
            cached = self.machine.reads[key] = quantize(self.machine.precision, value)
        return cached

    def port(self, port: str) -> Payload:
        source = self.machine.feeds.get((self.unit.id, port))
        if source is None:
            raise MachineError(f"unit {self.unit.id}: nothing feeds port {port}")
        payload = self.run.payloads.get(source)
        if payload is None:
            raise MachineError(
                f"unit {self.unit.id}: port {port} reads {source[0]}.{source[1]}, which has not "
                "produced values yet"
            )
        return payload

    def value(self, ref: str) -> Any:
        if ref.startswith("%"):
            index = int(ref[1:])
            if index not in self.results:
                self.results[index] = self.compute(self.unit.ops[index])
            return self.results[index]
        if ref.startswith("ctr:"):
            return self.counters[ref[4:]]
        if ref.startswith("in:"):
            ports, field = _stream_ref(ref)
            merged: np.ndarray | None = None
            for port in ports:
                payload = self.port(port)
                if field is None and len(payload) != 1:
                    raise MachineError(
                        f"unit {self.unit.id}: port {port} carries {len(payload)} values; "
                        "name one"
                    )
                value = payload[field or 0]
                merged = value if merged is None else np.where(np.isnan(merged), value, merged)
            return merged
        raise MachineError(f"unit {self.unit.id}: bad operand reference '{ref}'")

    def compute(self, op: Op) -> Any:
        name = op.op
        if name == "const":
            value = op.param("value")
            return np.float32(value) if op.param("type") == "float" else value
        if name == "read":
            return self._read(op)
        args = [self.value(a) for a in op.args]
        if name in _BINARY:
            return _BINARY[name](*args)
        if name == "select":
            return np.where(*args)
        if name == "cmpi":
            return _CMPI[op.param("predicate")](np.asarray(args[0]), np.asarray(args[1]))
        if name == "index_cast":
            return np.asarray(args[0]).astype(np.int64)
        if name in _ONNX:
            function = self.machine.activation(op)
            if self.machine.precision.mixed and op.param("lut"):
                return activation(self.machine.precision, function, args[0])
            return np.asarray(function(np.asarray(args[0], dtype=np.float32)), dtype=np.float32)
        raise MachineError(f"unit {self.unit.id}: unknown op '{name}'")

    def _read(self, op: Op) -> Any:
        name = op.param("memory")
        steady = name in self.machine.constant and not self._on_step(op)
        key = (self.unit.id, self.unit.ops.index(op), self.scope)
        if steady and key in self.machine.reads:
            return self.machine.reads[key]
        value = self._gather(op, name)
        if steady:
            self.machine.reads[key] = value
        return value

    def _on_step(self, op: Op) -> bool:
        """Whether an op's value may change from one step to the next."""
        for arg in op.args:
            if arg in ("ctr:t",) or arg.startswith("in:"):
                return True
            if arg.startswith("%") and self._on_step(self.unit.ops[int(arg[1:])]):
                return True
        return op.op == "read" and op.param("memory") not in self.machine.constant

    def _gather(self, op: Op, name: str) -> Any:
        memory = self.machine.memory[name]
        parts = self.indices(op, op.args, memory, (self.unit.id, id(op), self.scope), None)
        arrays = [part.array for part in parts]
        # the index arrays are checked as they are (sparse): broadcasting them repeats
        # their values, unless it empties them
        if np.prod(np.broadcast_shapes(*(a.shape for a in arrays))):
            _check_ranges(memory.shape, [part.bounds() for part in parts], name, "read")
        key = (self.unit.id, id(op), self.scope)
        if key not in self.machine.checked:
            self._check_served(op, name, arrays[1:])
            self.machine.checked.add(key)
        return memory[tuple(arrays)]

    def indices(
        self, op: Op, refs: tuple[str, ...], memory: np.ndarray, key: tuple[Any, ...],
        where: np.ndarray | None,
    ) -> list[_Index]:
        """The index arrays of a read or write (`refs`: its operands after the value it
        writes), the N-buffer's first; for a write, at the iterations `where` selects.

        An index that does not depend on the step (counters, k, constants) is made and
        measured once per (unit, op, scope) and reused; the others each step."""
        rank = memory.ndim - 1
        steady = self.machine.steady_indices.get(key)
        if steady is None:
            # the first time: every operand evaluated, as the op computes
            args = [self.value(a) for a in refs]
            raw = [_buffer(op, args[rank:], memory.shape[0]), *(
                np.asarray(i) + o for i, o in zip(args[:rank], op.param("offsets"), strict=True)
            )]
            parts = [_Index(self._select(np.asarray(a), where)) for a in raw]
            on_step = [bool(refs[rank:]) and self._ref_on_step(refs[rank])]
            on_step += [self._ref_on_step(ref) for ref in refs[:rank]]
            self.machine.steady_indices[key] = [
                None if moving else part for part, moving in zip(parts, on_step, strict=True)
            ]
            return parts
        parts = []
        for dim, known in enumerate(steady):
            if known is not None:
                parts.append(known)
                continue
            if dim == 0:
                raw = _buffer(op, [self.value(refs[rank])], memory.shape[0])
            else:
                raw = np.asarray(self.value(refs[dim - 1])) + op.param("offsets")[dim - 1]
            parts.append(_Index(self._select(np.asarray(raw), where)))
        return parts

    def _select(self, array: np.ndarray, where: np.ndarray | None) -> np.ndarray:
        return array if where is None else np.broadcast_to(array, self.run.shape)[where]

    def _ref_on_step(self, ref: str) -> bool:
        """Whether an operand's value may change from one step to the next."""
        if ref == "ctr:t" or ref.startswith("in:"):
            return True
        return ref.startswith("%") and self._on_step(self.unit.ops[int(ref[1:])])

    def _check_served(self, op: Op, memory: str, indices: list[np.ndarray]) -> None:
        """The read's port must be fed by a PMU or AG holding `memory`, and (for a PMU)
        every element read at the unit's copies must lie in one of its boxes."""
        boxes: list[Box] = []
        for port in op.param("port").split(","):
            source = self.machine.feeds.get((self.unit.id, port))
            if source is None:
                raise MachineError(f"unit {self.unit.id}: nothing feeds port {port}")
            pmu = self.machine.pmus.get(source[0])
            if pmu is None:
                return
            held = [b for b in pmu.boxes if b.memory == memory]
            if not held:
                raise MachineError(
                    f"unit {self.unit.id}: reads '{memory}' on port {port}, fed by PMU "
                    f"{pmu.id}, which holds {', '.join(pmu.memories) or 'tables'}"
                )
            boxes += held
        # evaluated on the sparse index arrays: a box test is per dimension, only the
        # union of boxes and the unit's copies take the whole space
        inside = np.zeros((), dtype=bool)
        for box in boxes:
            inside = inside | _in_box(box, indices)
        if self.unit.copies and indices:
            mask = self.machine.mask(self.run, self.unit)
            inside = inside | ~mask.reshape(mask.shape + (1,) * (inside.ndim - mask.ndim))
        if not inside.all():
            raise MachineError(
                f"unit {self.unit.id}: reads '{memory}' outside the boxes of the PMUs feeding "
                f"port(s) {op.param('port')}"
            )


def _in_box(box: Box, indices: list[np.ndarray]) -> np.ndarray:
    inside = np.ones((), dtype=bool)
    for index, (start, stop, step) in zip(indices, box.slices, strict=True):
        inside = inside & (index >= start) & (index < stop) & ((index - start) % step == 0)
    return inside


def run_machine(
    machine: Machine,
    inputs: Mapping[str, np.ndarray],
    weights: Mapping[str, np.ndarray] | None = None,
    precision: NumericMode = FP32,
) -> dict[str, np.ndarray]:
    """The outputs of `machine` (by the model's output names) on `inputs` (by the model's
    input names) and the weight arrays its memories reference."""
    return _Machine(machine, inputs, weights or {}, precision).run()


__all__ = ["MachineError", "run_machine"]
