"""DeepBench-style RNN inference models with random weights (`rnnc gen`).

A task is one recurrent layer: cell, hidden size H, sequence length T, batch and input size
(H unless given, as in the paper). `generate` gives the three files that `rnnc gen` writes
for `NAME.mlir`:

    NAME.mlir          func @main(X) -> (Y, Y_h): one rnn.lstm / rnn.gru / rnn.rnn
    NAME.npz           its weights W, R, B (the module attribute `rnn.weights`)
    NAME.inputs.npz    a random input X, ready for `rnnc run NAME.mlir --inputs ...`

GRUs use `linear_before_reset = 1`, the variant cuDNN (and so DeepBench) computes.
Weights are drawn like PyTorch's initialisation, uniform in +-1/sqrt(H), but rounded to
255 levels (an 8-bit grid with one scale per model): exact in float32 and in the 8-bit
weight precision the accelerator uses, and they compress well. The same arguments and
seed give the same bytes.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import numpy as np
from rnnc.analysis.names import NAME_ATTR
from rnnc.diagnostics import Diagnostic, check_fits_in_memory
from rnnc.dialects import rnn
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    TensorType,
    f32,
    i64,
)
from xdsl.ir import Block, Region
from xdsl.printer import Printer

#: The DeepBench inference-server RNN problems, a copy of the suite's table.
CSV_PATH = (
    Path(__file__).resolve().parents[2]
    / "examples"
    / "deepbench"
    / "deepbench-inference-server.csv"
)

#: Weight levels on each side of zero: the 8-bit grid k / 127 * limit, |k| <= 127.
_LEVELS = 127


@dataclass(frozen=True)
class Task:
    """One DeepBench problem: a single layer, sizes as in the suite."""

    cell: str
    hidden: int
    steps: int
    batch: int = 1
    input_size: int | None = None  # None: the hidden size

    @property
    def inputs(self) -> int:
        return self.hidden if self.input_size is None else self.input_size

    @property
    def name(self) -> str:
        """`lstm-512-25`, with `-b4` for batch 4 and `-i256` for input size 256."""
        name = f"{self.cell}-{self.hidden}-{self.steps}"
        if self.batch != 1:
            name += f"-b{self.batch}"
        if self.input_size is not None and self.input_size != self.hidden:
            name += f"-i{self.input_size}"
        return name


#: The eleven batch-1 tasks of Zhao et al. (MLSys 2019), Tables 6 and 7, in the paper's
#: order: the project's one table of them. (Input size D = H, as the paper's FLOP counts
#: imply.) What the paper measured on them is data for the benchmarks and tests.
PAPER_TASKS = (
    Task("lstm", 256, 150),
    Task("lstm", 512, 25),
    Task("lstm", 1024, 25),
    Task("lstm", 1536, 50),
    Task("lstm", 2048, 25),
    Task("gru", 512, 1),
    Task("gru", 1024, 1500),
    Task("gru", 1536, 375),
    Task("gru", 2048, 375),
    Task("gru", 2560, 375),
    Task("gru", 2816, 750),
)


#: The largest task table read: a DeepBench table has a few dozen rows.
MAX_TABLE_BYTES = 16 << 20


def csv_task(row: int, path: Path | str = CSV_PATH) -> Task:
    """Data row `row` (counted from 1, the line after the header) of a DeepBench table with
    columns cell, hidden, batch, steps."""
    try:
        with open(path, newline="") as stream:
            rows = list(csv.DictReader(stream))
    except OSError as error:
        raise Diagnostic(str(path), f"cannot read the task table: {error.strerror}") from None
    except UnicodeDecodeError:
        raise Diagnostic(str(path), "the task table is not a UTF-8 text file") from None
    except csv.Error as error:
        raise Diagnostic(str(path), f"not a CSV table: {error}") from None
    if not 1 <= row <= len(rows):
        raise Diagnostic(
            str(path), f"row {row} does not exist (the table has rows 1 to {len(rows)})"
        )
    line = rows[row - 1]
    where = f"{path}:{row + 1}"
    try:
        task = Task(
            line["cell"].strip(), int(line["hidden"]), int(line["steps"]), int(line["batch"])
        )
    except (KeyError, AttributeError, TypeError, ValueError):
        raise Diagnostic(where, "expected the columns cell, hidden, batch, steps") from None
    check_task(task, where)
    return task


def check_task(task: Task, where: str) -> None:
    """A task that `generate` can build: a known cell, sizes of at least 1, and weights and
    inputs that fit in memory (refused before anything is allocated)."""
    if task.cell not in rnn.CELLS:
        raise Diagnostic(where, f"unknown cell '{task.cell}' (expected {', '.join(rnn.CELLS)})")
    sizes = {
        "hidden size": task.hidden,
        "sequence length": task.steps,
        "batch": task.batch,
        "input size": task.inputs,
    }
    for what, size in sizes.items():
        if size < 1:
            raise Diagnostic(where, f"the {what} must be at least 1, got {size}")
    elements = sum(math.prod(shape) for shape in _weight_shapes(task).values())
    elements += task.steps * task.batch * task.inputs
    # weights are drawn as int8 and kept as float32, inputs drawn as float64: 13 bytes each
    check_fits_in_memory(elements * 13, where, f"the weights and inputs of {task.name}")


# ---- the model ------------------------------------------------------------------------------


def build_module(task: Task, weights_name: str) -> ModuleOp:
    """`func.func @main(X) -> (Y, Y_h)` around one recurrent layer with weights W, R, B."""
    op_type = rnn.CELLS[task.cell]
    x_type = TensorType(f32, [task.steps, task.batch, task.inputs])
    block = Block(arg_types=[x_type])
    block.args[0].name_hint = "X"
    weights = [
        rnn.WeightOp(name, TensorType(f32, shape)) for name, shape in _weight_shapes(task).items()
    ]
    for weight in weights:
        weight.result.name_hint = weight.key.data
        block.add_op(weight)
    properties = {"hidden_size": IntegerAttr(task.hidden, i64)}
    if op_type is rnn.GRUOp:
        properties["linear_before_reset"] = IntegerAttr(1, i64)
    state = TensorType(f32, [1, task.batch, task.hidden])
    y = TensorType(f32, [task.steps, 1, task.batch, task.hidden])
    results = len(op_type.get_irdl_definition().results)  # Y, Y_h and for LSTM Y_c
    layer = op_type.build(
        operands=[[block.args[0]], *[[w.result] for w in weights], *[[]] * _absent(op_type)],
        result_types=[y, *[state] * (results - 1)],
        properties=properties,
    )
    for result, name in zip(layer.results, ("Y", "Y_h", "Y_c"), strict=False):
        result.name_hint = name
    block.add_op(layer)
    block.add_op(func.ReturnOp(layer.results[0], layer.results[1]))
    main = func.FuncOp(
        "main",
        ([x_type], [y, state]),
        Region(block),
        arg_attrs=_names(["X"]),
        res_attrs=_names(["Y", "Y_h"]),
    )
    module = ModuleOp([main])
    module.attributes["rnn.weights"] = StringAttr(weights_name)
    module.verify()
    return module


def _absent(op_type: type[rnn.RecurrentOp]) -> int:
    """How many optional operands follow B (sequence_lens, initial states, peepholes)."""
    return len(op_type.get_irdl_definition().operands) - 4


def _names(names: Sequence[str]) -> ArrayAttr[DictionaryAttr]:
    return ArrayAttr([DictionaryAttr({NAME_ATTR: StringAttr(n)}) for n in names])


def _weight_shapes(task: Task) -> dict[str, tuple[int, ...]]:
    gates = rnn.CELLS[task.cell].gate_count() * task.hidden
    return {
        "W": (1, gates, task.inputs),
        "R": (1, gates, task.hidden),
        "B": (1, 2 * gates),
    }


def random_weights(task: Task, seed: int) -> dict[str, np.ndarray]:
    """W, R and B uniform in +-1/sqrt(H) on a 255-level grid (see the module docstring)."""
    rng = np.random.default_rng([seed, 0])
    step = np.float32(1.0 / (_LEVELS * np.sqrt(task.hidden)))
    return {
        name: rng.integers(-_LEVELS, _LEVELS + 1, shape, dtype=np.int8).astype(np.float32) * step
        for name, shape in _weight_shapes(task).items()
    }


def random_inputs(task: Task, seed: int) -> dict[str, np.ndarray]:
    """X uniform in [-1, 1), drawn from a stream independent of the weights'."""
    rng = np.random.default_rng([seed, 1])
    shape = (task.steps, task.batch, task.inputs)
    return {"X": rng.uniform(-1.0, 1.0, shape).astype(np.float32)}


def generate(
    task: Task, weights_name: str, seed: int
) -> tuple[str, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The model text (its weights in `weights_name`), its random weights and inputs."""
    check_task(task, "rnnc gen")
    module = build_module(task, weights_name)
    buffer = StringIO()
    Printer(stream=buffer).print_op(module)
    return buffer.getvalue() + "\n", random_weights(task, seed), random_inputs(task, seed)
