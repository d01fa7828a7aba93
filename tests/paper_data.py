"""What Zhao et al. (MLSys 2019) published about its DeepBench tasks, for the tests and the
benchmarks that calibrate rnnc against the paper (not part of the compiler).

The tasks themselves (cell, hidden, input, steps) are `rnnc.frontends.deepbench.PAPER_TASKS`;
the paper's measurements on them (Table 6 latencies, Table 7 design points) are read from
`compiler/target/paper_deepbench.json` (`rnnc.target.arch.PAPER_DEEPBENCH`, which
`rnnc plot` also reads), whose rows must be the same tasks in the same order.
Benchmark scripts import this module after putting `tests/` on `sys.path`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cell_programs import decomposed_cell_program, fused_cell_program
from rnnc.dialects import rnn
from rnnc.frontends import deepbench
from rnnc.target.arch import PAPER_DEEPBENCH
from rnnc.target.cost import Factors, ProgramSpec

# Table 7 prints hu = 2 for every GRU task, but 2 x 3 gates x 8 x 64 MACs a cycle cannot
# reach the reported 15 TFLOPS; hu = 5 reproduces every GRU latency (paper-notes §5.5).
GRU_TABLE7_HU = 5


def paper_flops(cell: str, hidden: int, input: int, steps: int) -> int:
    """The paper's FLOP count: 2 G H (H + D) T, the matrix-vector multiply-adds only."""
    return 2 * rnn.CELLS[cell].gate_count() * hidden * (hidden + input) * steps


@dataclass(frozen=True)
class PaperTask:
    """One DeepBench task as the paper reports it."""

    cell: str
    hidden: int
    input: int
    steps: int
    latency_ms: dict[str, float]
    """Published latencies: plasticine, brainwave_stratix10, v100_cudnn_fp16, xeon_tf."""
    table7: Factors
    """The paper's Plasticine design point (GRU hu corrected to 5)."""

    @property
    def label(self) -> str:
        return f"{self.cell.upper()}-{self.hidden} T={self.steps}"

    def fused(self) -> ProgramSpec:
        return fused_cell_program(self.cell, self.hidden, self.input, self.steps)

    def decomposed(self) -> ProgramSpec:
        return decomposed_cell_program(self.cell, self.hidden, self.input, self.steps)

    @property
    def flops(self) -> int:
        return paper_flops(self.cell, self.hidden, self.input, self.steps)


def published_rows() -> list[dict]:
    """The rows of the paper's data file, one per task of Table 6, in its order."""
    return json.loads(PAPER_DEEPBENCH.read_text())["tasks"]


def _table7(cell: str, printed: dict[str, int]) -> Factors:
    hu = GRU_TABLE7_HU if cell == "gru" else printed["hu"]
    return Factors(hu=hu, ru=printed["ru"], rv=printed["rv"])


def paper_tasks() -> tuple[PaperTask, ...]:
    """The 11 DeepBench tasks of the paper's Table 6, in its order, with what it measured."""
    rows = published_rows()
    return tuple(
        PaperTask(
            cell=task.cell,
            hidden=task.hidden,
            input=task.inputs,
            steps=task.steps,
            latency_ms=dict(row["latency_ms"]),
            table7=_table7(task.cell, row["plasticine_params_as_printed"]),
        )
        for task, row in zip(deepbench.PAPER_TASKS, rows, strict=True)
    )


__all__ = ["GRU_TABLE7_HU", "PaperTask", "paper_flops", "paper_tasks", "published_rows"]
