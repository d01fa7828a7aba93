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

from rnnc.analysis.access import INTERMEDIATE, memory_role, time_loops
from rnnc.dialects import loop, rnn
from xdsl.dialects.builtin import ModuleOp
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


def level_stats(module: ModuleOp, level: str) -> LevelStats:
    """The figures of `module` (at any level)."""
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
    )


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def format_stats(levels: Sequence[LevelStats]) -> str:
    """The report `rnnc --stats` prints."""
    lines: list[str] = []
    for stats in levels:
        lines.append(f"== {stats.level} ==")
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
    return "\n".join(lines) + "\n"
