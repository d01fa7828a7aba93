"""rnn-decompose: recurrent layers -> the BLAS-style loop program.

Each `rnn.lstm`, `rnn.gru` and `rnn.rnn` becomes the program a BLAS library runs, the
baseline the paper argues against: inside a `loop.sequential` time loop, one loop nest per
kernel -- a matrix-vector product per gate for W·x and for R·h, the sum of the two, the bias
add, each activation, each Hadamard product, the state update -- with a full-size on-chip
buffer (one element per direction, batch entry and hidden unit) between every two kernels.
`loop-fuse` turns it into the fused cell.

Every kernel is a `loop.foreach` over (direction, batch, hidden unit). Directions are a
parallel dimension: a reverse direction reads x at the reversed time index. The input and
recurrent biases are summed once, before the time loop (except GRU's recurrent candidate
bias under linear_before_reset, which r multiplies). `sequence_lens` masks the state update
(an entry keeps its state and outputs zeros past its length) and the final states (zero
for an empty sequence), and reverses each entry within its own length, as onnxruntime does.
The final state Y_h is stored by the kernel that writes h, every step (the last step's store
remains): a readout of the state, not a copy nest after the time loop. Y_c, and Y_h under
sequence_lens, are still copied out by a nest after the loop (their stores would need an
output port of the cell's units that a PCU may lack).

Data movement around the layers becomes indexing (`rnnc.analysis.views`), never a nest of
its own: a chain of `rnn.transpose` / `rnn.reshape` on a result (PyTorch's `Squeeze` of the
direction axis, the joining of two directions, `batch_first`) is folded into the memory the
layer writes, allocated at the chain's final shape and written at the relabelled index; a
`rnn.concat` of results of layers (PyTorch's h_n of stacked layers) is one memory each
layer writes its part of; a chain on the input X is read through, and a layer reads the
memory of the layer before it. A view that is not a relabelling (one that would need
division) is left at tensor level, where `spatial-partition` names it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rnnc.analysis.views import IndexMap
from rnnc.dialects import loop, rnn
from xdsl.builder import ImplicitBuilder
from xdsl.context import Context
from xdsl.dialects import arith
from xdsl.dialects.builtin import (
    Float16Type,
    Float32Type,
    Float64Type,
    FloatAttr,
    IndexType,
    ModuleOp,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.utils.exceptions import PassFailedException

Body = Callable[[SSAValue, SSAValue, SSAValue], None]
Vector = Callable[[SSAValue, SSAValue], Callable[[SSAValue], SSAValue]]


def _const_index(value: int) -> SSAValue:
    return arith.ConstantOp.from_int_and_width(value, IndexType()).result


@dataclass(frozen=True)
class _Read:
    """A tensor read through the views between it and the memory holding it: `view` maps
    the tensor's index to the memory's, plus `offsets` (a slice)."""

    memory: SSAValue
    view: IndexMap
    offsets: tuple[int, ...]

    def load(self, index: Sequence[SSAValue]) -> SSAValue:
        offsets = self.offsets if any(self.offsets) else None
        return loop.LoadOp(self.memory, _relabelled(self.view, index), offsets).result


@dataclass
class _Memories:
    """The memories of one recurrent op's program (absent ones are None)."""

    x: _Read
    w: SSAValue
    r: SSAValue
    b: SSAValue | None
    lens: SSAValue | None
    p: SSAValue | None
    bias: SSAValue | None  # input + recurrent bias per gate, summed before the time loop
    h: SSAValue
    c: SSAValue | None
    y: SSAValue | None


@dataclass(frozen=True)
class _Place:
    """Where a result of a recurrent op is written: `memory` (None: the lowering allocates it
    at `view.shape`), at `view` of the result's index plus `offsets` (its part of a concat)."""

    view: IndexMap
    memory: SSAValue | None = None
    offsets: tuple[int, ...] | None = None


class _Lowering:
    """Builds the loop program of one recurrent op."""

    m: _Memories  # set by `build`
    finals: dict[str, SSAValue]  # Y_h: the memory the state write also stores into

    def __init__(
        self, op: rnn.RecurrentOp, places: dict[str, _Place], sources: dict[SSAValue, SSAValue]
    ):
        self.op = op
        self.places = places
        self.sources = sources
        self.steps, self.batch, self.inputs, self.nd = op.sizes()
        if self.batch == 0 or self.inputs == 0:
            raise PassFailedException(
                f"not supported at loop level: {op.name} with batch {self.batch} and input "
                f"size {self.inputs} (loops need at least one iteration)"
            )
        self.hidden = op.hidden
        self.space = (self.nd, self.batch, self.hidden)
        self.element = self._element_type()
        self.acts = op.resolved_activations()
        self.clip = op.clip_value()
        self.reverse = (op.direction_name == "reverse",) if self.nd == 1 else (False, True)
        self.before_reset = isinstance(op, rnn.GRUOp) and op.linear_before_reset.value.data != 0
        self.prelude = Block()  # ops before the time loop
        self.step = Block(arg_types=[IndexType()])  # the time loop's body
        self.step.args[0].name_hint = "t"

    def _element_type(self) -> Attribute:
        element = self.op.X.type.get_element_type()  # type: ignore[union-attr]
        if not isinstance(element, Float16Type | Float32Type | Float64Type):
            raise PassFailedException(
                f"not supported at loop level: {self.op.name} with element type {element} "
                "(expected f16, f32 or f64)"
            )
        return element

    @property
    def t(self) -> SSAValue:
        return self.step.args[0]

    # ---- the whole program -----------------------------------------------------------------

    def build(self) -> tuple[Block, dict[str, SSAValue]]:
        """The ops replacing the recurrent op, and the tensor of each used result."""
        op = self.op
        with ImplicitBuilder(self.prelude):
            self.m = self._memories()
            initial_c = op.initial_c if isinstance(op, rnn.LSTMOp) else None
            self._initialise(self._read(op.initial_h, "h0"), self._read(initial_c, "c0"))
            outputs = {
                name: self._destination(name, name.lower())
                for name, value in op.state_results()
                if value.uses
            }
            # Y_h is read out of the step's write of h; Y_c, and Y_h under sequence_lens, are
            # copied out after the time loop: their stores would need an output port of the
            # cell's element-wise units that a PCU may lack (the cell-state level's for Y_c,
            # a value of its own beside h's for a masked Y_h)
            self.finals = {n: m for n, m in outputs.items()
                           if n == "Y_h" and op.sequence_lens is None}
        cell_step = {"rnn.lstm": self._lstm_step, "rnn.gru": self._gru_step}.get(
            op.name, self._rnn_step
        )
        with ImplicitBuilder(self.step):
            cell_step()
            loop.YieldOp()
        self.prelude.add_op(loop.SequentialOp(self.steps, Region(self.step)))
        with ImplicitBuilder(self.prelude):
            self._copied_finals({n: m for n, m in outputs.items() if n not in self.finals})
            if self.m.y is not None:
                outputs["Y"] = self.m.y
            results = {
                name: loop.ToTensorOp(memory).tensor
                for name, memory in outputs.items()
                if self.places[name].memory is None  # a concat's memory is read back whole
            }
        return self.prelude, results

    def _destination(self, name: str, hint: str) -> SSAValue:
        place = self.places[name]
        if place.memory is not None:
            return place.memory
        return self._alloc(hint, place.view.shape, "dram")

    def _store(
        self, value: SSAValue, name: str, memory: SSAValue, index: Sequence[SSAValue]
    ) -> None:
        """Store result `name`'s element at `index` where its place says."""
        place = self.places[name]
        loop.StoreOp(value, memory, _relabelled(place.view, index), place.offsets)

    def _read(self, tensor: SSAValue | None, name: str) -> _Read | None:
        """An off-chip tensor (X, an initial state) read through the views and slices
        between it and its source: the memory of the layer that computes it, or one memory
        per source tensor (shared by the layers that read parts of it)."""
        if tensor is None:
            return None
        source, view, offsets = _source(tensor)
        owner = source.owner
        if isinstance(owner, loop.ToTensorOp) and loop.space_of(owner.memref) == "dram":
            return _Read(owner.memref, view, offsets)
        if source not in self.sources:
            memory = self._input(source, name)
            assert memory is not None
            self.sources[source] = memory
        return _Read(self.sources[source], view, offsets)

    def _input(self, tensor: SSAValue | None, name: str, space: str = "dram") -> SSAValue | None:
        if tensor is None:
            return None
        memory = loop.FromTensorOp(tensor, space).memref
        memory.name_hint = name
        return memory

    def _alloc(self, name: str, shape: Sequence[int], space: str = "sram") -> SSAValue:
        op = loop.AllocOp(loop.memory_type(self.element, shape, space))
        op.memref.name_hint = name
        return op.memref

    def _memories(self) -> _Memories:
        op = self.op
        b = self._input(op.B, "biases", "sram")
        x = self._read(op.X, "x")
        assert x is not None
        memories = _Memories(
            x=x,
            w=self._input(op.W, "w", "sram"),  # type: ignore[arg-type]
            r=self._input(op.R, "r", "sram"),  # type: ignore[arg-type]
            b=b,
            lens=self._input(op.sequence_lens, "lens", "sram"),
            p=self._input(op.P, "p", "sram") if isinstance(op, rnn.LSTMOp) else None,
            bias=None,
            h=self._alloc("h", self.space),
            c=self._alloc("c", self.space) if isinstance(op, rnn.LSTMOp) else None,
            y=self._destination("Y", "y") if op.Y.uses else None,
        )
        if b is not None:
            memories.bias = self._summed_bias(b)
        return memories

    def _summed_bias(self, b: SSAValue) -> SSAValue:
        """bias[d, g*H + j] = Wb + Rb of every gate whose two biases are simply added."""
        rows = (self.op.gates - (1 if self.before_reset else 0)) * self.hidden
        bias = self._alloc("bias", (self.nd, rows))
        offset = self.op.gates * self.hidden

        def body(d: SSAValue, j: SSAValue) -> None:
            wb = loop.LoadOp(b, [d, j]).result
            rb = loop.LoadOp(b, [d, j], [0, offset]).result
            loop.StoreOp(loop.AddOp(wb, rb).result, bias, [d, j])

        self._foreach((self.nd, rows), ("d", "j"), body)
        return bias

    def _initialise(self, h0: _Read | None, c0: _Read | None) -> None:
        def body(d: SSAValue, b: SSAValue, i: SSAValue) -> None:
            zero = self._zero()
            for state, initial in ((self.m.h, h0), (self.m.c, c0)):
                if state is not None:
                    value = zero if initial is None else initial.load(self._state_index(d, b, i))
                    loop.StoreOp(value, state, [d, b, i])

        self._nest(body)

    def _copied_finals(self, outputs: dict[str, SSAValue]) -> None:
        """Final states not read out of the step (Y_c; Y_h under sequence_lens) copied out
        of their memory by a nest after the time loop; zero for an empty sequence, as
        onnxruntime reports it."""
        states = {"Y_h": self.m.h, "Y_c": self.m.c}
        if not outputs:
            return

        def body(d: SSAValue, b: SSAValue, i: SSAValue) -> None:
            ran = None
            if self.m.lens is not None:
                ran = arith.CmpiOp(self._length(b), _const_index(0), "sgt").result
            for name, memory in outputs.items():
                value = self._load(states[name], (d, b, i))  # type: ignore[arg-type]
                if ran is not None:
                    value = loop.SelectOp(ran, value, self._zero()).result
                self._store(value, name, memory, self._state_index(d, b, i))

        self._nest(body)

    # ---- loop nests ----------------------------------------------------------------------------

    def _foreach(
        self, extents: Sequence[int], names: Sequence[str], body: Callable[..., None]
    ) -> None:
        block = Block(arg_types=[IndexType()] * len(extents))
        for arg, name in zip(block.args, names, strict=True):
            arg.name_hint = name
        with ImplicitBuilder(block):
            body(*block.args)
            loop.YieldOp()
        loop.ForeachOp(extents, Region(block))

    def _nest(self, body: Body) -> None:
        """One kernel: a foreach over (direction, batch entry, hidden unit)."""
        self._foreach(self.space, ("d", "b", "i"), body)

    def _load(
        self, memory: SSAValue, index: Sequence[SSAValue], offsets: Sequence[int] | None = None
    ) -> SSAValue:
        return loop.LoadOp(memory, index, offsets).result

    def _buffer(self, name: str) -> SSAValue:
        """A full-size intermediate buffer between two kernels."""
        with ImplicitBuilder(self.prelude):  # allocated before the time loop
            return self._alloc(name, self.space)

    def _map(
        self, name: str, inputs: Sequence[SSAValue], function: Callable[..., SSAValue]
    ) -> SSAValue:
        """An element-wise kernel: `name[d, b, i] = function(d, b, i, *inputs[d, b, i])`."""
        out = self._buffer(name)

        def body(d: SSAValue, b: SSAValue, i: SSAValue) -> None:
            values = [self._load(m, (d, b, i)) for m in inputs]
            loop.StoreOp(_named(function(d, b, i, *values), name), out, [d, b, i])

        self._nest(body)
        return out

    def _matvec(
        self, name: str, weight: SSAValue, gate: int, length: int, vector: Vector
    ) -> SSAValue:
        """`name[d, b, i] = sum_k weight[d, gate*H + i, k] * vector(d, b)(k)`."""
        out = self._buffer(name)

        def body(d: SSAValue, b: SSAValue, i: SSAValue) -> None:
            element = vector(d, b)
            segment = Block(arg_types=[IndexType()])
            k = segment.args[0]
            k.name_hint = "k"
            with ImplicitBuilder(segment):
                w = self._load(weight, (d, i, k), (0, gate * self.hidden, 0))
                loop.YieldOp(loop.MulOp(w, element(k)).result)
            total = loop.ReduceOp("add", [length], [Region(segment)], self.element).result
            loop.StoreOp(_named(total, name), out, [d, b, i])

        self._nest(body)
        return out

    def _x(self, d: SSAValue, b: SSAValue) -> Callable[[SSAValue], SSAValue]:
        t = self._time_index(d, b)
        return lambda k: self.m.x.load(self._x_index(t, b, k))

    def _state(self, memory: SSAValue) -> Vector:
        return lambda d, b: lambda k: self._load(memory, (d, b, k))

    # ---- indices -------------------------------------------------------------------------------

    def _state_index(self, d: SSAValue, b: SSAValue, i: SSAValue) -> tuple[SSAValue, ...]:
        return (b, d, i) if self.op.batch_first else (d, b, i)

    def _x_index(self, t: SSAValue, b: SSAValue, k: SSAValue) -> tuple[SSAValue, ...]:
        return (b, t, k) if self.op.batch_first else (t, b, k)

    def _y_index(self, t: SSAValue, d: SSAValue, b: SSAValue, i: SSAValue) -> tuple[SSAValue, ...]:
        return (b, t, d, i) if self.op.batch_first else (t, d, b, i)

    def _length(self, b: SSAValue) -> SSAValue:
        assert self.m.lens is not None
        return _named(arith.IndexCastOp(self._load(self.m.lens, (b,)), IndexType()).result, "len")

    def _valid(self, b: SSAValue) -> SSAValue | None:
        """Whether step t is within batch entry b's sequence (None: always)."""
        if self.m.lens is None:
            return None
        return _named(arith.CmpiOp(self.t, self._length(b), "slt").result, "valid")

    def _time_index(self, d: SSAValue, b: SSAValue) -> SSAValue:
        """The time index direction d processes at step t."""
        if not any(self.reverse):
            return self.t
        if self.m.lens is None:
            backward = arith.SubiOp(_const_index(self.steps - 1), self.t).result
        else:  # within the entry's own length, then the padding steps in place
            length = self._length(b)
            last = arith.SubiOp(length, _const_index(1)).result
            inside = arith.CmpiOp(self.t, length, "slt").result
            backward = arith.SelectOp(inside, arith.SubiOp(last, self.t).result, self.t).result
        if self.nd == 1:
            return _named(backward, "tx")
        forward = arith.CmpiOp(d, _const_index(0), "eq").result
        return _named(arith.SelectOp(forward, self.t, backward).result, "tx")

    # ---- element-wise helpers --------------------------------------------------------------------

    def _zero(self) -> SSAValue:
        return arith.ConstantOp(FloatAttr(0.0, self.element)).result  # type: ignore[arg-type]

    def _one(self) -> SSAValue:
        return arith.ConstantOp(FloatAttr(1.0, self.element)).result  # type: ignore[arg-type]

    def _activate(self, slot: int, d: SSAValue, value: SSAValue) -> SSAValue:
        """Activation `slot` (f, g, h) of direction d; clip bounds f's and g's inputs."""
        if self.clip is not None and slot < 2:
            low = arith.ConstantOp(FloatAttr(-self.clip, self.element)).result  # type: ignore[arg-type]
            high = arith.ConstantOp(FloatAttr(self.clip, self.element)).result  # type: ignore[arg-type]
            value = loop.MinOp(loop.MaxOp(value, low).result, high).result
        functions = [acts[slot] for acts in self.acts]
        if all(f == functions[0] for f in functions):
            return _activation(functions[0], value)
        forward = arith.CmpiOp(d, _const_index(0), "eq").result
        outputs = [_activation(f, value) for f in functions]
        return loop.SelectOp(forward, outputs[0], outputs[1]).result

    def _gate_sum(self, gate: int, name: str, vector: Vector) -> SSAValue:
        """W·x + R·(vector) + bias of one gate, in three or four kernels."""
        xw = self._matvec(f"xw_{name}", self.m.w, gate, self.inputs, self._x)
        hr = self._matvec(f"hr_{name}", self.m.r, gate, self.hidden, vector)
        total = self._map(f"s_{name}", (xw, hr), lambda d, b, i, u, v: loop.AddOp(u, v).result)
        return self._add_bias(total, gate, f"a_{name}", self.m.bias)

    def _add_bias(
        self, value: SSAValue, gate: int, name: str, bias: SSAValue | None, offset: int = 0
    ) -> SSAValue:
        """A bias-add kernel: `value + bias[d, offset + gate*H + i]` (nothing without bias)."""
        if bias is None:
            return value
        at = gate * self.hidden + offset

        def add(d: SSAValue, b: SSAValue, i: SSAValue, v: SSAValue) -> SSAValue:
            return loop.AddOp(v, self._load(bias, (d, i), (0, at))).result

        return self._map(name, (value,), add)

    def _gate(self, gate: int, name: str) -> SSAValue:
        """A gate activated by f: W·x + R·h + bias, then f (GRU's z and r)."""
        pre = self._gate_sum(gate, name, self._state(self.m.h))
        return self._map(name, (pre,), lambda d, b, i, v: self._activate(0, d, v))

    def _update(
        self, name: str, inputs: Sequence[SSAValue], function: Callable[..., SSAValue]
    ) -> None:
        """The last kernel of a step: the new hidden state into h, Y_h (every step: the last
        step's store remains) and Y (masked)."""

        def body(d: SSAValue, b: SSAValue, i: SSAValue) -> None:
            values = [self._load(m, (d, b, i)) for m in inputs]
            new = _named(function(d, b, i, *values), name)
            valid = self._valid(b)
            state, output = new, new
            if valid is not None:
                old = self._load(self.m.h, (d, b, i))
                state = loop.SelectOp(valid, new, old).result
                output = loop.SelectOp(valid, new, self._zero()).result
            loop.StoreOp(state, self.m.h, [d, b, i])
            if "Y_h" in self.finals:  # unmasked: the state is the output
                self._store(state, "Y_h", self.finals["Y_h"], self._state_index(d, b, i))
            if self.m.y is not None:
                index = self._y_index(self._time_index(d, b), d, b, i)
                self._store(output, "Y", self.m.y, index)

        self._nest(body)

    # ---- the cells -------------------------------------------------------------------------------

    def _peephole(self, value: SSAValue, gate: str, name: str) -> SSAValue:
        """value + P[gate] ∘ c, the peephole of gate `gate` (i, o or f)."""
        p, c = self.m.p, self.m.c
        if p is None:
            return value
        assert c is not None

        def body(d: SSAValue, b: SSAValue, i: SSAValue, v: SSAValue, cv: SSAValue) -> SSAValue:
            which = rnn.LSTMOp.PEEPHOLE_GATES.index(gate)
            weight = self._load(p, (d, i), (0, which * self.hidden))
            return loop.AddOp(v, loop.MulOp(weight, cv).result).result

        return self._map(name, (value, c), body)

    def _lstm_step(self) -> None:
        op = self.op
        assert isinstance(op, rnn.LSTMOp) and self.m.c is not None
        c = self.m.c
        coupled = op.input_forget.value.data != 0
        h_state = self._state(self.m.h)
        pre = {
            name: self._gate_sum(gate, name, h_state)
            for gate, name in enumerate(_LSTM_GATES)
            if not (coupled and name == "f")
        }

        def activate(slot: int) -> Callable[..., SSAValue]:
            return lambda d, b, i, v: self._activate(slot, d, v)

        i = self._map("i", (self._peephole(pre["i"], "i", "ap_i"),), activate(0))
        j = self._map("j", (pre["j"],), activate(1))
        if coupled:
            f = self._map("f", (i,), lambda d, b, i_, v: loop.SubOp(self._one(), v).result)
        else:
            f = self._map("f", (self._peephole(pre["f"], "f", "ap_f"),), activate(0))
        fc = self._map("fc", (f, c), lambda d, b, i_, u, v: loop.MulOp(u, v).result)
        ij = self._map("ij", (i, j), lambda d, b, i_, u, v: loop.MulOp(u, v).result)

        def add_c(d: SSAValue, b: SSAValue, i_: SSAValue) -> None:
            new = loop.AddOp(self._load(fc, (d, b, i_)), self._load(ij, (d, b, i_))).result
            new.name_hint = "c_new"
            valid = self._valid(b)
            if valid is not None:
                new = loop.SelectOp(valid, new, self._load(c, (d, b, i_))).result
            loop.StoreOp(new, c, [d, b, i_])

        self._nest(add_c)
        o = self._map("o", (self._peephole(pre["o"], "o", "ap_o"),), activate(0))
        tc = self._map("tc", (c,), activate(2))
        self._update("h_new", (o, tc), lambda d, b, i_, u, v: loop.MulOp(u, v).result)

    def _gru_step(self) -> None:
        h, hidden = self.m.h, self.hidden
        z = self._gate(rnn.GRUOp.gate_index("z"), "z")
        r = self._gate(rnn.GRUOp.gate_index("r"), "r")
        n_gate = rnn.GRUOp.gate_index("h")  # the candidate state, n in the paper
        xw = self._matvec("xw_n", self.m.w, n_gate, self.inputs, self._x)
        if self.before_reset:
            hr = self._matvec("hr_n", self.m.r, n_gate, hidden, self._state(h))
            xb = self._add_bias(xw, n_gate, "xb_n", self.m.b)
            hb = self._add_bias(hr, n_gate, "hb_n", self.m.b, self.op.gates * hidden)
            rh = self._map("rh_n", (r, hb), lambda d, b, i, u, v: loop.MulOp(u, v).result)
            pre = self._map("a_n", (xb, rh), lambda d, b, i, u, v: loop.AddOp(u, v).result)
        else:
            rh = self._map("rh", (r, h), lambda d, b, i, u, v: loop.MulOp(u, v).result)
            hr = self._matvec("hr_n", self.m.r, n_gate, hidden, self._state(rh))
            total = self._map("s_n", (xw, hr), lambda d, b, i, u, v: loop.AddOp(u, v).result)
            pre = self._add_bias(total, n_gate, "a_n", self.m.bias)
        n = self._map("n", (pre,), lambda d, b, i, v: self._activate(1, d, v))
        omz = self._map("omz", (z,), lambda d, b, i, v: loop.SubOp(self._one(), v).result)
        zn = self._map("zn", (omz, n), lambda d, b, i, u, v: loop.MulOp(u, v).result)
        zh = self._map("zh", (z, h), lambda d, b, i, u, v: loop.MulOp(u, v).result)
        self._update("h_new", (zn, zh), lambda d, b, i, u, v: loop.AddOp(u, v).result)

    def _rnn_step(self) -> None:
        pre = self._gate_sum(rnn.RNNOp.gate_index("i"), "h", self._state(self.m.h))
        self._update("h_new", (pre,), lambda d, b, i, v: self._activate(0, d, v))


#: The buffer name of each LSTM gate, in ONNX gate order: the candidate gate c is j, since
#: c names the cell state.
_LSTM_GATES = tuple("j" if gate == "c" else gate for gate in rnn.LSTMOp.GATE_NAMES)


def _named(value: SSAValue, name: str) -> SSAValue:
    value.name_hint = name
    return value


def _activation(function: rnn.ActivationFunction, value: SSAValue) -> SSAValue:
    op_type = loop.ACTIVATION_BY_ONNX_NAME[function.name]
    return op_type(value, alpha=function.alpha, beta=function.beta).result


def _shape(value: SSAValue) -> tuple[int, ...]:
    return tuple(value.type.get_shape())  # type: ignore[union-attr]


def _relabelled(view: IndexMap, index: Sequence[SSAValue]) -> Sequence[SSAValue]:
    """The index `view` maps `index` (values of its atoms) to, as index arithmetic."""
    if view.is_identity:
        return index
    indices = []
    for expr in view.exprs:
        total: SSAValue | None = None
        for atom, coefficient in expr:
            term = index[atom]
            if coefficient != 1:
                term = arith.MuliOp(term, _const_index(coefficient)).result
            total = term if total is None else arith.AddiOp(total, term).result
        indices.append(_const_index(0) if total is None else total)
    return indices


def _viewed(view: IndexMap, op: Operation) -> IndexMap | None:
    """`view` followed by the view op `op` (None: `op` is no view, or not a relabelling)."""
    if isinstance(op, rnn.TransposeOp):
        return view.permute(op.permutation())
    if isinstance(op, rnn.ReshapeOp):
        return view.reshape(_shape(op.result))
    return None


def _chain(result: SSAValue) -> tuple[SSAValue, IndexMap]:
    """The end of the chain of views of `result` that are its only use, each a relabelling,
    and the map from `result`'s index to the end's."""
    end, view = result, IndexMap.identity(_shape(result))
    while (user := end.get_user_of_unique_use()) is not None:
        step = _viewed(view, user)
        if step is None:
            break
        end, view = user.results[0], step
    return end, view


def _source(tensor: SSAValue) -> tuple[SSAValue, IndexMap, tuple[int, ...]]:
    """The tensor `tensor` is a view or slice of through relabellings, the map from
    `tensor`'s index to the source's, and the offsets to add to it (of the slices)."""
    view = IndexMap.identity(_shape(tensor))
    offsets = [0] * len(view.shape)
    while isinstance(owner := tensor.owner, rnn.TransposeOp | rnn.ReshapeOp | rnn.SliceOp):
        shape = _shape(owner.input)
        if isinstance(owner, rnn.SliceOp):
            step = dataclasses.replace(view, shape=shape)
            moved = list(offsets)
            moved[owner.axis.value.data] += owner.start.value.data
        elif isinstance(owner, rnn.TransposeOp):
            step = view.inverse_permute(owner.permutation())
            moved = [0] * len(shape)
            for i, p in enumerate(owner.permutation()):
                moved[p] = offsets[i]
        else:  # a reshape after a slice not at 0 would need the offset inside the division
            step = None if any(offsets) else view.reshape(shape)
            moved = [0] * len(shape)
        if step is None:
            break
        tensor, view, offsets = owner.input, step, moved
    return tensor, view, tuple(offsets)


@dataclass
class _Concat:
    """A `rnn.concat` of (views of) results of recurrent ops: one memory they all write."""

    op: rnn.ConcatOp
    memory: SSAValue | None = None
    waiting: int = 0
    """Operands whose recurrent op is not lowered yet."""


class _Decomposer:
    """Lowers the recurrent ops of a module in order, folding the views around them."""

    def __init__(self) -> None:
        self.concats: dict[rnn.ConcatOp, _Concat] = {}
        self.sources: dict[SSAValue, SSAValue] = {}
        """The memory of each tensor the layers read off chip (X, initial states)."""

    def _concat(self, end: SSAValue) -> _Concat | None:
        """The concat `end` is an operand of, if every operand is the end of the chain of
        a recurrent op's result (so that the layers can write it in place)."""
        user = end.get_user_of_unique_use()
        if not isinstance(user, rnn.ConcatOp):
            return None
        if user not in self.concats:
            for operand in user.inputs:
                source, _, _ = _source(operand)
                if not (isinstance(source.owner, rnn.RecurrentOp) and _chain(source)[0] is operand):
                    return None
            self.concats[user] = _Concat(user, waiting=len(user.inputs))
        return self.concats[user]

    def _places(self, op: rnn.RecurrentOp) -> dict[str, tuple[_Place, SSAValue, _Concat | None]]:
        """Per used result: its place, the end of its chain, and the concat it is part of."""
        places = {}
        for name, result in (("Y", op.Y), *op.state_results()):
            if not result.uses:
                continue
            end, view = _chain(result)
            concat = self._concat(end)
            if concat is None:
                places[name] = (_Place(view), end, None)
                continue
            if concat.memory is None:  # allocated before the first layer writing it
                whole = concat.op.result
                element = whole.type.get_element_type()  # type: ignore[union-attr]
                alloc = loop.AllocOp(loop.memory_type(element, _shape(whole), "dram"))
                alloc.memref.name_hint = (whole.name_hint or "concat").lower()
                Rewriter.insert_op(alloc, InsertPoint.before(op))
                concat.memory = alloc.memref
            axis = concat.op.axis.value.data
            position = list(concat.op.inputs).index(end)
            offsets = [0] * len(view.shape)
            offsets[axis] = sum(_shape(v)[axis] for v in list(concat.op.inputs)[:position])
            places[name] = (_Place(view, concat.memory, tuple(offsets)), end, concat)
        return places

    def lower(self, op: rnn.RecurrentOp) -> None:
        places = self._places(op)
        chosen = {n: p for n, (p, _, _) in places.items()}
        program, results = _Lowering(op, chosen, self.sources).build()
        Rewriter.inline_block(program, InsertPoint.before(op))
        for name, (_, end, concat) in places.items():
            if concat is None:
                end.replace_all_uses_with(results[name])
                continue
            concat.waiting -= 1
            if concat.waiting == 0:  # every part written: read the memory back whole
                assert concat.memory is not None
                whole = loop.ToTensorOp(concat.memory)
                Rewriter.insert_op(whole, InsertPoint.before(concat.op))
                concat.op.result.replace_all_uses_with(whole.tensor)


def _erase_dead(module: ModuleOp) -> None:
    """Erase the recurrent ops, views, slices and concats whose results are no longer used (users
    first), and the reads of a layer's output memory as a tensor that the next layer now
    reads as memory."""
    dead = (rnn.RecurrentOp, rnn.TransposeOp, rnn.ReshapeOp, rnn.ConcatOp, rnn.SliceOp,
            loop.ToTensorOp)
    for op in reversed(list(module.walk())):
        if isinstance(op, dead) and not any(result.uses for result in op.results):
            Rewriter.erase_op(op)


@dataclass(frozen=True)
class RnnDecomposePass(ModulePass):
    """Lower every recurrent op to the BLAS-style loop program (one nest per kernel)."""

    name = "rnn-decompose"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        decomposer = _Decomposer()
        for recurrent in [o for o in op.walk() if isinstance(o, rnn.RecurrentOp)]:
            if any(result.uses for result in recurrent.results):
                decomposer.lower(recurrent)
        _erase_dead(op)
