"""The loop-level interpreter: vectorized semantics of loads, stores and reductions, and the
detection of conflicting accesses between the iterations of a parallel loop."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from loop_models import FUSED, RnnModel, compile_to, parse
from rnnc import interpreters as interpreter
from rnnc.diagnostics import Diagnostic
from rnnc.driver import pipeline
from rnnc.interpreters import loop_compiler, loop_functions
from xdsl.parser import Parser

S = "#loop.space<sram>"
D = "#loop.space<dram>"


def _run(body: str, inputs: dict[str, np.ndarray], result: str = "tensor<4xf32>") -> np.ndarray:
    """Run `body` inside `func.func @main(<inputs>) -> result`."""
    arguments = ", ".join(
        f"%{name}: tensor<{'x'.join(map(str, a.shape))}x{'i32' if a.dtype == np.int32 else 'f32'}>"
        for name, a in inputs.items()
    )
    text = f"func.func @main({arguments}) -> {result} {{\n{body}\n}}\n"
    return next(iter(interpreter.run(parse(text), inputs).values()))


BROKEN_RECURRENCE = f"""
  %x = loop.from_tensor %X : tensor<3x4xf32> -> memref<3x4xf32, {D}>
  %r = loop.from_tensor %R : tensor<4x4xf32> -> memref<4x4xf32, {S}>
  %h = loop.alloc BUFFERS: memref<4xf32, {S}>
  %y = loop.alloc : memref<4xf32, {D}>
  loop.foreach (%i) in (4) par (1) {{
    %zero = arith.constant 0.0 : f32
    loop.store %zero, %h[%i] INIT: memref<4xf32, {S}>
  }}
  loop.sequential %t in 3 {{
    loop.foreach (%i) in (4) par (1) {{
      %dot = loop.reduce add par 1 vec 1 (%k in 4) {{
        %rv = loop.load %r[%i, %k] : memref<4x4xf32, {S}>
        %hv = loop.load %h[%k] READ: memref<4xf32, {S}>
        %p = loop.mul %rv, %hv : f32
        loop.yield %p : f32
      }} : f32
      %xv = loop.load %x[%t, %i] : memref<3x4xf32, {D}>
      %a = loop.add %dot, %xv : f32
      %n = loop.tanh %a : f32
      loop.store %n, %h[%i] WRITE: memref<4xf32, {S}>
    }}
  }}
  loop.foreach (%i) in (4) par (1) {{
    %v = loop.load %h[%i] FINAL: memref<4xf32, {S}>
    loop.store %v, %y[%i] : memref<4xf32, {D}>
  }}
  %Y = loop.to_tensor %y : memref<4xf32, {D}> -> tensor<4xf32>
  func.return %Y : tensor<4xf32>
"""


def _recurrence(double_buffered: bool) -> str:
    marks = {"BUFFERS": "", "INIT": "", "READ": "", "WRITE": "", "FINAL": ""}
    if double_buffered:
        marks = {
            "BUFFERS": "buffers 2 ",
            "INIT": "buffer 0 ",
            "READ": "buffer %t ",
            "WRITE": "buffer %t + 1 ",
            "FINAL": "buffer 3 ",
        }
    text = BROKEN_RECURRENCE
    for mark, replacement in marks.items():
        text = text.replace(f"{mark}: ", replacement + ": ")
    return text


def _recurrence_inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    return {
        "X": rng.standard_normal((3, 4)).astype(np.float32),
        "R": rng.standard_normal((4, 4)).astype(np.float32),
    }


def test_single_buffered_state_updated_in_place_is_a_conflict() -> None:
    with pytest.raises(Diagnostic) as caught:
        _run(_recurrence(double_buffered=False), _recurrence_inputs())
    assert caught.value.location == "loop.foreach"
    assert caught.value.message == (
        "iterations conflict on memory 'h': iteration (i=0) writes h[0], which iteration "
        "(i=1) reads"
    )


def test_double_buffered_state_runs_the_recurrence() -> None:
    inputs = _recurrence_inputs()
    got = _run(_recurrence(double_buffered=True), inputs)
    h = np.zeros(4, np.float32)
    for t in range(3):
        h = np.tanh(inputs["R"] @ h + inputs["X"][t])
    np.testing.assert_allclose(got, h, rtol=1e-6)


def test_two_iterations_writing_one_element_conflict() -> None:
    body = f"""
  %x = loop.from_tensor %X : tensor<4xf32> -> memref<4xf32, {S}>
  %y = loop.alloc : memref<4xf32, {D}>
  loop.foreach (%i) in (4) par (1) {{
    %v = loop.load %x[%i] : memref<4xf32, {S}>
    %zero = arith.constant 0 : index
    loop.store %v, %y[%zero] : memref<4xf32, {D}>
  }}
  %Y = loop.to_tensor %y : memref<4xf32, {D}> -> tensor<4xf32>
  func.return %Y : tensor<4xf32>
"""
    with pytest.raises(
        Diagnostic, match=r"iteration \(i=0\) writes y\[0\], which iteration \(i=3\) writes"
    ):
        _run(body, {"X": np.arange(4, dtype=np.float32)})


def test_conflicts_are_per_buffer_and_per_iteration_of_an_outer_loop() -> None:
    """Each iteration of the outer foreach writes its own row; the inner foreach reads the
    row of the other buffer: no conflict. Reading the row being written would be one."""

    def body(read_buffer: int) -> str:
        return f"""
  %x = loop.from_tensor %X : tensor<4xf32> -> memref<4xf32, {S}>
  %m = loop.alloc buffers 2 : memref<3x4xf32, {S}>
  %y = loop.alloc : memref<3x4xf32, {D}>
  loop.foreach (%a) in (3) par (1) {{
    loop.foreach (%i) in (4) par (1) {{
      %v = loop.load %x[%i] : memref<4xf32, {S}>
      loop.store %v, %m[%a, %i] buffer 0 : memref<3x4xf32, {S}>
      loop.store %v, %m[%a, %i] buffer 1 : memref<3x4xf32, {S}>
    }}
  }}
  loop.foreach (%a) in (3) par (1) {{
    loop.foreach (%i) in (4) par (1) {{
      %s = loop.reduce add par 1 vec 1 (%k in 4) {{
        %e = loop.load %m[%a, %k] buffer {read_buffer} : memref<3x4xf32, {S}>
        loop.yield %e : f32
      }} : f32
      loop.store %s, %m[%a, %i] buffer 1 : memref<3x4xf32, {S}>
      loop.store %s, %y[%a, %i] : memref<3x4xf32, {D}>
    }}
  }}
  %Y = loop.to_tensor %y : memref<3x4xf32, {D}> -> tensor<3x4xf32>
  func.return %Y : tensor<3x4xf32>
"""

    x = np.arange(4, dtype=np.float32)
    got = _run(body(0), {"X": x}, "tensor<3x4xf32>")
    np.testing.assert_array_equal(got, np.full((3, 4), x.sum()))
    with pytest.raises(Diagnostic, match=r"iterations conflict on memory 'm'.*\(buffer 1\)"):
        _run(body(1), {"X": x}, "tensor<3x4xf32>")


def test_computed_indices_gather_and_scatter() -> None:
    body = f"""
  %x = loop.from_tensor %X : tensor<4xf32> -> memref<4xf32, {S}>
  %y = loop.alloc : memref<4xf32, {D}>
  loop.foreach (%i) in (4) par (2) {{
    %last = arith.constant 3 : index
    %j = arith.subi %last, %i : index
    %two = arith.constant 2 : index
    %k = arith.muli %i, %two : index
    %small = arith.cmpi slt, %k, %last : index
    %src = arith.select %small, %k, %j : index
    %v = loop.load %x[%src] : memref<4xf32, {S}>
    loop.store %v, %y[%j] : memref<4xf32, {D}>
  }}
  %Y = loop.to_tensor %y : memref<4xf32, {D}> -> tensor<4xf32>
  func.return %Y : tensor<4xf32>
"""
    x = np.array([10, 11, 12, 13], np.float32)
    # i = 0..3 reads x[0], x[2], x[1], x[0] and writes y[3], y[2], y[1], y[0]
    np.testing.assert_array_equal(_run(body, {"X": x}), [10, 11, 12, 10])


@pytest.mark.parametrize(
    ("combiner", "expected"),
    [("add", 10.0), ("mul", 24.0), ("max", 4.0), ("min", 1.0)],
)
def test_reduction_combiners_and_segments(combiner: str, expected: float) -> None:
    body = f"""
  %x = loop.from_tensor %X : tensor<4xf32> -> memref<4xf32, {S}>
  %y = loop.alloc : memref<4xf32, {D}>
  loop.foreach (%i) in (4) par (1) {{
    %r = loop.reduce {combiner} par 2 vec 2 (%k in 1) {{
      %a = loop.load %x[%k] : memref<4xf32, {S}>
      loop.yield %a : f32
    }} concat (%k in 3) {{
      %b = loop.load %x[%k + 1] : memref<4xf32, {S}>
      loop.yield %b : f32
    }} : f32
    loop.store %r, %y[%i] : memref<4xf32, {D}>
  }}
  %Y = loop.to_tensor %y : memref<4xf32, {D}> -> tensor<4xf32>
  func.return %Y : tensor<4xf32>
"""
    got = _run(body, {"X": np.array([1, 2, 3, 4], np.float32)})
    np.testing.assert_array_equal(got, np.full(4, expected, np.float32))


def test_a_reduction_body_that_ignores_its_counter() -> None:
    body = f"""
  %x = loop.from_tensor %X : tensor<4xf32> -> memref<4xf32, {S}>
  %y = loop.alloc : memref<4xf32, {D}>
  loop.foreach (%i) in (4) par (1) {{
    %r = loop.reduce add par 1 vec 1 (%k in 5) {{
      %a = loop.load %x[%i] : memref<4xf32, {S}>
      loop.yield %a : f32
    }} : f32
    loop.store %r, %y[%i] : memref<4xf32, {D}>
  }}
  %Y = loop.to_tensor %y : memref<4xf32, {D}> -> tensor<4xf32>
  func.return %Y : tensor<4xf32>
"""
    x = np.array([1, 2, 3, 4], np.float32)
    np.testing.assert_array_equal(_run(body, {"X": x}), 5 * x)


def test_batched_contraction() -> None:
    """Dot products whose operands both vary with an outer counter: a batched product."""
    body = f"""
  %a = loop.from_tensor %A : tensor<2x3x5xf32> -> memref<2x3x5xf32, {S}>
  %x = loop.from_tensor %X : tensor<2x5xf32> -> memref<2x5xf32, {S}>
  %y = loop.alloc : memref<3x2xf32, {D}>
  loop.foreach (%b, %i) in (2, 3) par (1, 1) {{
    %r = loop.reduce add par 1 vec 1 (%k in 5) {{
      %av = loop.load %a[%b, %i, %k] : memref<2x3x5xf32, {S}>
      %xv = loop.load %x[%b, %k] : memref<2x5xf32, {S}>
      %p = loop.mul %av, %xv : f32
      loop.yield %p : f32
    }} : f32
    loop.store %r, %y[%i, %b] : memref<3x2xf32, {D}>
  }}
  %Y = loop.to_tensor %y : memref<3x2xf32, {D}> -> tensor<3x2xf32>
  func.return %Y : tensor<3x2xf32>
"""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3, 5)).astype(np.float32)
    x = rng.standard_normal((2, 5)).astype(np.float32)
    got = _run(body, {"A": a, "X": x}, "tensor<3x2xf32>")
    np.testing.assert_allclose(got, np.einsum("bik,bk->ib", a, x), rtol=1e-5)


@pytest.mark.parametrize(("combiner", "fold"), [("max", np.max), ("min", np.min), ("mul", np.prod)])
def test_other_reductions_of_products_are_no_matrix_products(
    combiner: str, fold: Callable[..., np.ndarray]
) -> None:
    """Only `loop.reduce add` of products is a matrix product; the other kinds fold the
    products themselves (a max of products once came out as their sum)."""
    body = f"""
  %a = loop.from_tensor %A : tensor<4x3xf32> -> memref<4x3xf32, {S}>
  %x = loop.from_tensor %X : tensor<3xf32> -> memref<3xf32, {S}>
  %y = loop.alloc : memref<4xf32, {D}>
  loop.foreach (%i) in (4) par (1) {{
    %r = loop.reduce {combiner} par 1 vec 1 (%k in 3) {{
      %av = loop.load %a[%i, %k] : memref<4x3xf32, {S}>
      %xv = loop.load %x[%k] : memref<3xf32, {S}>
      %p = loop.mul %av, %xv : f32
      loop.yield %p : f32
    }} : f32
    loop.store %r, %y[%i] : memref<4xf32, {D}>
  }}
  %Y = loop.to_tensor %y : memref<4xf32, {D}> -> tensor<4xf32>
  func.return %Y : tensor<4xf32>
"""
    a = np.arange(12, dtype=np.float32).reshape(4, 3)
    x = np.array([1, -1, 2], np.float32)
    np.testing.assert_array_equal(_run(body, {"A": a, "X": x}), fold(a * x, axis=1))


def test_index_out_of_bounds() -> None:
    body = f"""
  %x = loop.from_tensor %X : tensor<4xf32> -> memref<4xf32, {S}>
  %y = loop.alloc : memref<4xf32, {D}>
  loop.foreach (%i) in (4) par (1) {{
    %v = loop.load %x[%i + 1] : memref<4xf32, {S}>
    loop.store %v, %y[%i] : memref<4xf32, {D}>
  }}
  %Y = loop.to_tensor %y : memref<4xf32, {D}> -> tensor<4xf32>
  func.return %Y : tensor<4xf32>
"""
    # The verifier refuses a counter-plus-offset index that leaves its dimension ...
    with pytest.raises(
        Diagnostic, match=r"loop.load: index 0 ranges over \[1, 4\], outside dimension 0"
    ):
        _run(body, {"X": np.zeros(4, np.float32)})
    # ... and the interpreter, given the module unverified, refuses it as well.
    text = f"func.func @main(%X: tensor<4xf32>) -> tensor<4xf32> {{\n{body}\n}}\n"
    unverified = Parser(pipeline.make_context(), text).parse_module()
    with pytest.raises(
        Diagnostic,
        match=r"index out of bounds in memory 'x': dimension 0 is indexed over \[1, 4\], "
        r"its size is 4",
    ):
        interpreter.run(unverified, {"X": np.zeros(4, np.float32)})


def test_reading_memory_never_written_gives_nan() -> None:
    body = f"""
  %m = loop.alloc : memref<4xf32, {S}>
  %y = loop.alloc : memref<4xf32, {D}>
  loop.foreach (%i) in (4) par (1) {{
    %v = loop.load %m[%i] : memref<4xf32, {S}>
    loop.store %v, %y[%i] : memref<4xf32, {D}>
  }}
  %Y = loop.to_tensor %y : memref<4xf32, {D}> -> tensor<4xf32>
  func.return %Y : tensor<4xf32>
"""
    assert np.isnan(_run(body, {})).all()


def test_time_invariant_reductions_are_found_in_the_fused_lstm() -> None:
    """The x part of every gate reads nothing the time loop writes, so it is evaluated for
    all steps at once; the h part reads the state and is not."""
    module = compile_to(RnnModel("lstm", 4, 3, 5).mlir(), FUSED)
    (step,) = [op for op in module.walk() if op.name == "loop.sequential"]
    found = loop_compiler._time_invariant_segments(step)
    assert len(found) == 4
    for _, segment, _ in found:
        loaded = {o.memref.name_hint for o in segment.ops if o.name == "loop.load"}
        assert loaded == {"w", "x"}


def _counting_compilations(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every loop program compiled from now on (the compilers, in order)."""
    compiled: list[object] = []

    class Counting(loop_compiler.LoopCompiler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            compiled.append(self)

    monkeypatch.setattr(loop_functions, "LoopCompiler", Counting)
    return compiled


def test_a_module_changed_in_place_is_compiled_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """A runner reuses its compiled loop program across runs of an unchanged module only."""

    compiled = _counting_compilations(monkeypatch)
    model = RnnModel("gru", 4, 3, 3)
    inputs = model.inputs(0)
    expected = interpreter.run(parse(model.mlir()), inputs)["Y"]
    module = compile_to(model.mlir(), "rnn-decompose")
    runner = interpreter.Runner(module)
    first = runner(inputs)["Y"]
    assert runner(inputs)["Y"].tobytes() == first.tobytes()
    assert runner(model.inputs(1))["Y"].tobytes() != first.tobytes()
    assert len(compiled) == 1
    ctx = pipeline.make_context()
    spec = pipeline.build_pipeline("loop-fuse", pipeline.available_passes())
    pipeline.run_pipeline(ctx, module, spec, "<model>")  # in place
    assert sum(op.name == "loop.foreach" for op in module.walk()) < 10
    np.testing.assert_allclose(runner(inputs)["Y"], expected, rtol=1e-5)
    assert len(compiled) == 2


def test_runs_share_no_compiled_program(monkeypatch: pytest.MonkeyPatch) -> None:
    """`run` compiles for each call: nothing is kept in a global between runs, so a module
    built at the address of a freed one cannot pick up its program."""
    compiled = _counting_compilations(monkeypatch)
    model = RnnModel("rnn", 3, 2, 2)
    inputs = model.inputs(0)
    results = [
        interpreter.run(compile_to(model.mlir(), "rnn-decompose"), inputs)["Y"] for _ in range(3)
    ]
    assert len(compiled) == 3
    assert results[0].tobytes() == results[1].tobytes() == results[2].tobytes()
