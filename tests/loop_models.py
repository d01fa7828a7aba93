"""Recurrent models for the loop-level tests: one rnn op with every operand an argument.

`RnnModel(...).mlir()` is the rnn-level module, `.inputs(seed)` random arrays for every
argument, and `compile_levels(model)` the module at the rnn level, after `rnn-decompose`,
and after `rnn-decompose,loop-fuse`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from rnnc.dialects import rnn
from rnnc.driver import pipeline
from xdsl.dialects.builtin import ModuleOp

#: Pipelines of the two loop-level programs.
DECOMPOSED = "rnn-decompose"
FUSED = "rnn-decompose,loop-fuse"


def _shape(shape: tuple[int, ...], element: str = "f32") -> str:
    return f"tensor<{'x'.join(map(str, shape))}x{element}>"


@dataclass(frozen=True)
class RnnModel:
    """One rnn.lstm / rnn.gru / rnn.rnn whose operands are all function arguments."""

    cell: str
    hidden: int
    inputs_size: int
    steps: int
    batch: int = 1
    direction: str = "forward"
    layout: int = 0
    bias: bool = True
    sequence_lens: bool = False
    initial: bool = False
    peepholes: bool = False
    clip: float | None = None
    activations: tuple[str, ...] | None = None
    alpha: tuple[float, ...] | None = None
    beta: tuple[float, ...] | None = None
    input_forget: int = 0
    linear_before_reset: int = 0
    results: tuple[str, ...] = field(default=("Y", "Y_h"))

    @property
    def nd(self) -> int:
        return 2 if self.direction == "bidirectional" else 1

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Every operand's shape, in ONNX operand order."""
        g, h, nd = rnn.CELLS[self.cell].gate_count(), self.hidden, self.nd
        seq_batch = (self.batch, self.steps) if self.layout else (self.steps, self.batch)
        state = (self.batch, nd, h) if self.layout else (nd, self.batch, h)
        shapes: dict[str, tuple[int, ...]] = {
            "X": (*seq_batch, self.inputs_size),
            "W": (nd, g * h, self.inputs_size),
            "R": (nd, g * h, h),
        }
        if self.bias:
            shapes["B"] = (nd, 2 * g * h)
        if self.sequence_lens:
            shapes["sequence_lens"] = (self.batch,)
        if self.initial:
            shapes["initial_h"] = state
            if self.cell == "lstm":
                shapes["initial_c"] = state
        if self.peepholes:
            shapes["P"] = (nd, len(rnn.LSTMOp.PEEPHOLE_GATES) * h)
        return shapes

    def result_shapes(self) -> dict[str, tuple[int, ...]]:
        h, nd = self.hidden, self.nd
        y = (self.batch, self.steps, nd, h) if self.layout else (self.steps, nd, self.batch, h)
        state = (self.batch, nd, h) if self.layout else (nd, self.batch, h)
        shapes = {"Y": y, "Y_h": state}
        if self.cell == "lstm":
            shapes["Y_c"] = state
        return shapes

    def _properties(self) -> str:
        props = [f"hidden_size = {self.hidden} : i64"]
        if self.direction != "forward":
            props.append(f'direction = "{self.direction}"')
        if self.layout:
            props.append("layout = 1 : i64")
        if self.clip is not None:
            props.append(f"clip = {self.clip!r} : f32")
        if self.activations is not None:
            props.append("activations = [" + ", ".join(f'"{a}"' for a in self.activations) + "]")
        for name, values in (("activation_alpha", self.alpha), ("activation_beta", self.beta)):
            if values is not None:
                props.append(f"{name} = [" + ", ".join(f"{v!r} : f32" for v in values) + "]")
        if self.input_forget:
            props.append("input_forget = 1 : i64")
        if self.linear_before_reset:
            props.append("linear_before_reset = 1 : i64")
        return "{" + ", ".join(props) + "}"

    def mlir(self) -> str:
        shapes = self.shapes()
        types = {n: _shape(s, "i32" if n == "sequence_lens" else "f32") for n, s in shapes.items()}
        keywords = {
            "B": "bias", "sequence_lens": "sequence_lens", "initial_h": "initial_h",
            "initial_c": "initial_c", "P": "peepholes",
        }  # fmt: skip
        operands = "%X, %W, %R" + "".join(
            f" {keywords[n]} %{n}" for n in shapes if n not in ("X", "W", "R")
        )
        all_results = self.result_shapes()
        names = ", ".join(f"%{n}" for n in all_results)
        result_types = ", ".join(_shape(s) for s in all_results.values())
        returned = ", ".join(f"%{n}" for n in self.results)
        returned_types = ", ".join(_shape(all_results[n]) for n in self.results)
        arguments = ", ".join(f"%{n}: {t}" for n, t in types.items())
        return (
            f"func.func @main({arguments}) -> ({returned_types}) {{\n"
            f"  {names} = rnn.{self.cell} {operands} {self._properties()}\n"
            f"      : ({', '.join(types.values())}) -> ({result_types})\n"
            f"  func.return {returned} : {returned_types}\n"
            "}\n"
        )

    def inputs(self, seed: int = 0) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        arrays: dict[str, np.ndarray] = {}
        for name, shape in self.shapes().items():
            if name == "sequence_lens":
                arrays[name] = rng.integers(0, self.steps + 1, shape).astype(np.int32)
            else:
                arrays[name] = rng.uniform(-1, 1, shape).astype(np.float32)
        return arrays


def parse(text: str) -> ModuleOp:
    ctx = pipeline.make_context()
    module, _ = pipeline.parse_module(ctx, text, "<model>")
    return module


def compile_to(text: str, passes: str) -> ModuleOp:
    """`text` parsed and put through `passes`."""
    ctx = pipeline.make_context()
    module, _ = pipeline.parse_module(ctx, text, "<model>")
    if passes:
        spec = pipeline.build_pipeline(passes, pipeline.available_passes())
        pipeline.run_pipeline(ctx, module, spec, "<model>")
    module.verify()  # the pipeline does not verify what the passes produce
    return module


def compile_levels(model: RnnModel) -> dict[str, ModuleOp]:
    """The model at the rnn level, decomposed, and fused."""
    text = model.mlir()
    return {
        "rnn": parse(text),
        "decomposed": compile_to(text, DECOMPOSED),
        "fused": compile_to(text, FUSED),
    }


def relative_error(got: np.ndarray, expected: np.ndarray) -> float:
    """max |got - expected| / max |expected| (outputs below 1e-3 compare absolutely)."""
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-3)
    return float(np.max(np.abs(got - expected), initial=0.0)) / scale
