"""A corpus of bad inputs to the `rnnc` command line, one table row per input.

Every case writes the files it needs into an empty working folder and returns the command
line (paths relative to that folder). Run there, each must fail clean: exit status 1,
exactly one `location: error: message` line whose location names `file` (the file at
fault, or the flag when no file is), no traceback, and no new or changed file in the
folder (`test_bad_inputs.py` checks all four).

The categories follow issue 7's list of inputs that once failed dirty: model syntax,
outputs, architecture files, npz files, run-time inputs that violate the model, sizes
that cannot fit in memory, pipelines, plug-ins, command-line values and ONNX files.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

Setup = Callable[[Path], list[str]]


@dataclass(frozen=True)
class Case:
    """One bad input: `setup(folder)` writes its files and returns the argv."""

    category: str
    name: str
    setup: Setup
    file: str  # what the diagnostic's location must start with
    message: str = ""  # a fragment the message must contain
    detail: str = ""  # another fragment, after it (the field, then what is wrong with it)

    @property
    def id(self) -> str:
        return f"{self.category}: {self.name}"


# ---- fixtures ------------------------------------------------------------------------------

#: A GRU layer; its weights are in model.npz.
MODEL = """\
builtin.module attributes {rnn.weights = "model.npz"} {
  func.func @main(%X: tensor<3x2x4xf32>, %h0: tensor<1x2x5xf32>) -> tensor<1x2x5xf32> {
    %W = rnn.weight "W" : tensor<1x15x4xf32>
    %R = rnn.weight "R" : tensor<1x15x5xf32>
    %Y, %Y_h = rnn.gru %X, %W, %R initial_h %h0 {hidden_size = 5 : i64}
        : (tensor<3x2x4xf32>, tensor<1x15x4xf32>, tensor<1x15x5xf32>, tensor<1x2x5xf32>)
        -> (tensor<3x1x2x5xf32>, tensor<1x2x5xf32>)
    func.return %Y_h : tensor<1x2x5xf32>
  }
}
"""

#: The GRU at batch 1, which the cost model takes (loop-assign-resources refuses batch > 1).
MODEL_B1 = MODEL.replace("3x2x4", "3x1x4").replace("1x2x5", "1x1x5").replace("3x1x2x5", "3x1x1x5")

#: An LSTM layer with per-batch sequence lengths and a clip; its weights are in seq.npz.
SEQ_MODEL = """\
builtin.module attributes {rnn.weights = "seq.npz"} {
  func.func @main(%X: tensor<3x2x4xf32>, %lens: tensor<2xi32>) -> tensor<1x2x5xf32> {
    %W = rnn.weight "W" : tensor<1x20x4xf32>
    %R = rnn.weight "R" : tensor<1x20x5xf32>
    %Y, %Y_h, %Y_c = rnn.lstm %X, %W, %R sequence_lens %lens {hidden_size = 5 : i64, clip = CLIP}
        : (tensor<3x2x4xf32>, tensor<1x20x4xf32>, tensor<1x20x5xf32>, tensor<2xi32>)
        -> (tensor<3x1x2x5xf32>, tensor<1x2x5xf32>, tensor<1x2x5xf32>)
    func.return %Y_h : tensor<1x2x5xf32>
  }
}
"""

#: A loop-level program: copy a 4-vector, element by element. `INDEX` is the load's index.
LOOP_MODEL = """\
builtin.module {
  func.func @main(%X: tensor<4xf32>) -> tensor<4xf32> {
    %x = loop.from_tensor %X : tensor<4xf32> -> memref<4xf32, #loop.space<sram>>
    %y = loop.alloc : memref<4xf32, #loop.space<sram>>
    loop.foreach (%i) in (4) par (1) {
      %v = loop.load %x[INDEX] : memref<4xf32, #loop.space<sram>>
      loop.store %v, %y[STORE] : memref<4xf32, #loop.space<sram>>
    }
    %Y = loop.to_tensor %y : memref<4xf32, #loop.space<sram>> -> tensor<4xf32>
    func.return %Y : tensor<4xf32>
  }
}
"""

VALID_ARCH = Path(__file__).resolve().parents[2] / "compiler" / "target" / "presets"

RNG = np.random.default_rng(0)
GRU_WEIGHTS = {
    "W": RNG.uniform(-1, 1, (1, 15, 4)).astype(np.float32),
    "R": RNG.uniform(-1, 1, (1, 15, 5)).astype(np.float32),
}
SEQ_WEIGHTS = {
    "W": RNG.uniform(-1, 1, (1, 20, 4)).astype(np.float32),
    "R": RNG.uniform(-1, 1, (1, 20, 5)).astype(np.float32),
}
GRU_INPUTS = {"X": np.zeros((3, 2, 4), np.float32), "h0": np.zeros((1, 2, 5), np.float32)}
B1_INPUTS = {"X": np.zeros((3, 1, 4), np.float32), "h0": np.zeros((1, 1, 5), np.float32)}


def _npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as stream:  # np.savez would add .npz to a name without it
        np.savez(stream, **arrays)


def gru(folder: Path, text: str = MODEL, weights: dict[str, np.ndarray] | None = None) -> str:
    """model.mlir and its weights model.npz."""
    (folder / "model.mlir").write_text(text)
    _npz(folder / "model.npz", GRU_WEIGHTS if weights is None else weights)
    return "model.mlir"


def seq(folder: Path, clip: str = "3.0 : f32") -> str:
    """seq.mlir (an LSTM with sequence_lens) and its weights seq.npz."""
    (folder / "seq.mlir").write_text(SEQ_MODEL.replace("CLIP", clip))
    _npz(folder / "seq.npz", SEQ_WEIGHTS)
    return "seq.mlir"


def lowered(folder: Path, model: str, passes: str) -> str:
    """`model` put through `passes` by rnnc itself, as a file of its own (low.mlir)."""
    from rnnc.driver import cli

    assert cli.main([str(folder / model), "-p", passes, "-o", str(folder / "low.mlir")]) == 0
    return "low.mlir"


def inputs(folder: Path, arrays: dict[str, np.ndarray] | None = None, name: str = "in.npz") -> str:
    _npz(folder / name, GRU_INPUTS if arrays is None else arrays)
    return name


def write(name: str, content: str | bytes) -> Callable[[Path], str]:
    """A setup step that writes one file."""

    def step(folder: Path) -> str:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return name

    return step


def folder(name: str) -> Callable[[Path], str]:
    """A setup step that makes an empty folder."""

    def step(base: Path) -> str:
        (base / name).mkdir(parents=True)
        return name

    return step


def npy_member(header: dict[str, object], data: bytes = b"") -> bytes:
    """A `.npy` file with a hand-written header: it may claim anything."""
    text = repr(header).encode("latin1")
    pad = 64 - (10 + len(text) + 1) % 64
    text += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + data


def zip_of(members: dict[str, bytes], compress: bool = False) -> bytes:
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def compression_method(archive: bytes, method: int) -> bytes:
    """`archive` with every member claiming compression `method` (99: none that exists)."""
    data = bytearray(archive)
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = data.find(signature)
        while start >= 0:
            data[start + offset : start + offset + 2] = struct.pack("<H", method)
            start = data.find(signature, start + 4)
    return bytes(data)


def zip_bomb(name: str = "X.npy", **others: np.ndarray) -> bytes:
    """A 2 MB npz whose member `name` inflates to 2 GB: a header claiming a 500M-element
    float32 array, then its zeros. Built from one deflated block of zeros repeated (each
    ends with a full flush, so the copies concatenate into one valid stream)."""
    count, chunk = 500_000_000, bytes(1 << 22)
    header = npy_member({"descr": "<f4", "fortran_order": False, "shape": (count,)})
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = deflate.compress(header) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    repeats = count * 4 // len(chunk)
    data = head + block * repeats + deflate.flush(zlib.Z_FINISH)
    crc = zlib.crc32(header)
    for _ in range(repeats):
        crc = zlib.crc32(chunk, crc)
    size = len(header) + repeats * len(chunk)
    rest = []
    for other, array in others.items():
        plain = npy(array)
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        rest.append((f"{other}.npy", zlib.crc32(plain), len(plain),
                     packer.compress(plain) + packer.flush()))
    return raw_zip([(name, crc, size, data), *rest])


def raw_zip(members: list[tuple[str, int, int, bytes]]) -> bytes:
    """A zip archive of already-deflated members (name, CRC-32, inflated size, data)."""
    out, central = bytearray(), bytearray()
    for name, crc, size, data in members:
        fields = struct.pack("<HHHHHIII", 20, 0, 8, 0, 0x21, crc, len(data), size)
        encoded = name.encode()
        central += struct.pack("<IH", 0x02014B50, 20) + fields + struct.pack(
            "<HHHHHII", len(encoded), 0, 0, 0, 0, 0, len(out)) + encoded
        out += struct.pack("<I", 0x04034B50) + fields + struct.pack(
            "<HH", len(encoded), 0) + encoded + data
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central),
                      len(out), 0)
    return bytes(out + central + end)


def arch_json(**changes: object) -> str:
    """The plasticine-rnn preset with `changes` ("pcu.lanes": 1) applied, as JSON text;
    a value that is a `Raw` is spliced in verbatim (NaN, 1e400, ...)."""
    data = json.loads((VALID_ARCH / "plasticine-rnn.json").read_text())
    raws: dict[str, str] = {}
    for dotted, value in changes.items():
        *parents, key = dotted.split(".")
        node = data
        for part in parents:
            node = node[part]
        if isinstance(value, Raw):
            marker = f"@@RAW{len(raws)}@@"
            raws[f'"{marker}"'] = value.text
            node[key] = marker
        else:
            node[key] = value
    text = json.dumps(data, indent=1, ensure_ascii=False)
    for marker, raw in raws.items():
        text = text.replace(marker, raw)
    return text


@dataclass(frozen=True)
class Raw:
    """Text spliced verbatim into a JSON document."""

    text: str


def compile_loop(folder: Path, *extra: str) -> list[str]:
    """Compile the batch-1 GRU to the loop level (runs loop-assign-resources) into out.mlir."""
    return [gru(folder, MODEL_B1), "--emit=loop", "-o", "out.mlir", *extra]


# ---- the cases -----------------------------------------------------------------------------


def _syntax() -> Iterator[Case]:
    def model(text: str | bytes, *extra: str) -> Setup:
        return lambda d: [write("model.mlir", text)(d), "-o", "out.mlir", *extra]

    for fraction in (0.1, 0.25, 0.5, 0.75, 0.9, 0.99):
        cut = MODEL[: int(len(MODEL) * fraction)]
        yield Case("syntax", f"truncated at {fraction:.0%}", model(cut), "model.mlir:")
    yield Case("syntax", "truncated inside a block", model(MODEL[: MODEL.index("func.return")]),
               "model.mlir:")
    yield Case("syntax", "empty file with a brace", model("builtin.module {"), "model.mlir:")
    yield Case("syntax", "binary garbage", model(bytes(range(256)) * 4), "model.mlir",
               "UTF-8")
    yield Case("syntax", "latin-1 comment", model(b"// caf\xe9\n" + MODEL.encode()),
               "model.mlir", "UTF-8")
    yield Case("syntax", "model is a directory",
               lambda d: [folder("m.mlir")(d)], "m.mlir")
    yield Case("syntax", "missing model", lambda d: ["nothere.mlir"], "nothere.mlir")
    huge = "99999999999999999999"
    yield Case("syntax", "hidden_size beyond i64",
               model(MODEL.replace("hidden_size = 5", f"hidden_size = {huge}")), "model.mlir:")
    yield Case("syntax", "tensor dimension beyond i64",
               model(MODEL.replace("tensor<3x2x4xf32>", f"tensor<{huge}x2x4xf32>")),
               "model.mlir:")
    yield Case("syntax", "dense array beyond i64",
               model(LOOP_MODEL.replace("par (1)", f"par ({huge})").replace("INDEX", "%i")
                     .replace("STORE", "%i")), "model.mlir:")
    yield Case("syntax", "i32 attribute beyond i32",
               model(MODEL.replace("{hidden_size = 5 : i64}",
                                   "{hidden_size = 5 : i64, user.x = 5000000000 : i32}")),
               "model.mlir:")
    deep = "[" * 20000 + "]" * 20000
    yield Case("syntax", "20000 nested brackets",
               model(MODEL.replace("{hidden_size = 5 : i64}",
                                   f"{{hidden_size = 5 : i64, user.x = {deep}}}")),
               "model.mlir:", "nest")
    deep_dict = "{a = " * 20000 + "1" + "}" * 20000
    yield Case("syntax", "20000 nested dictionaries",
               model(MODEL.replace("{hidden_size = 5 : i64}",
                                   f"{{hidden_size = 5 : i64, user.x = {deep_dict}}}")),
               "model.mlir:", "nest")
    deep_region = "builtin.module {\n" * 20000 + "}\n" * 20000
    yield Case("syntax", "20000 nested modules", model(deep_region), "model.mlir:", "nest")
    stray = MODEL.replace('rnn.weight "R"', 'rnn.weight "R') + " " * 60
    yield Case("syntax", "unterminated string before a long line",
               model(stray.replace(": tensor<1x15x5xf32>\n", ": tensor<1x15x5xf32>" + " x" * 40
                                   + "\n", 1)), "model.mlir:4:", "unterminated string")
    yield Case("syntax", "stray quote in a loop",
               model(LOOP_MODEL.replace("INDEX", "%i").replace("STORE", "%i")
                     .replace("%x[%i] :", '%x[%i]" :')), "model.mlir:6:", "unterminated string")
    yield Case("syntax", "unknown op", model(MODEL.replace("rnn.gru", "rnn.grue")),
               "model.mlir:5:", "rnn.grue")
    yield Case("syntax", "wrong operand shape", model(MODEL.replace("1x15x4", "1x12x4")),
               "model.mlir:5:", "operand 'W'")
    yield Case("syntax", "undefined value", model(MODEL.replace("%X, %W", "%Z, %W")),
               "model.mlir:")
    yield Case("syntax", "value defined twice",
               model(MODEL.replace("%R = rnn.weight", "%W = rnn.weight")), "model.mlir:")
    yield Case("syntax", "unknown dialect", model(MODEL.replace("rnn.weight \"W\"",
                                                                "foo.weight \"W\"")),
               "model.mlir:")
    yield Case("syntax", "zero-length sequence axis",
               model(MODEL.replace("3x2x4", "0x2x4").replace("3x1x2x5", "0x1x2x5")),
               "model.mlir:", "sequence")
    yield Case("syntax", "weights attribute not a string",
               lambda d: ["run", gru(d, MODEL.replace('"model.npz"', "7 : i64")),
                          "--inputs", inputs(d)], "model.mlir", "rnn.weights")
    yield Case("syntax", "a UTF-8 byte-order mark", model("\ufeff" + MODEL), "model.mlir:1:1",
               "byte-order mark")
    yield Case("syntax", "an unexpected first character", model("\u00a7" + MODEL),
               "model.mlir:1:1", "Unexpected character")
    yield Case("syntax", "bad chunk with --split-input-file -o",
               model(MODEL + "// -----\n" + MODEL.replace("rnn.gru", "rnn.grue"),
                     "--split-input-file"), "model.mlir:16:", "rnn.grue")


def _outputs() -> Iterator[Case]:
    def gen_beside(blocked: str) -> Setup:
        """`gen -o x.mlir` where one of the files it writes beside x.mlir is a folder."""

        def setup(d: Path) -> list[str]:
            folder(blocked)(d)
            return ["gen", "gru", "8", "2", "-o", "x.mlir"]

        return setup

    yield Case("outputs", "-o is a directory",
               lambda d: [gru(d), "-o", folder("out")(d)], "out", "directory")
    yield Case("outputs", "-o in a missing folder",
               lambda d: [gru(d), "-o", "nowhere/out.mlir"], "nowhere/out.mlir")
    yield Case("outputs", "-o below a file",
               lambda d: [gru(d), "-o", "model.npz/out.mlir"], "model.npz/out.mlir")
    yield Case("outputs", "-o in an unwritable place",
               lambda d: [gru(d), "-o", "/proc/rnnc-out.mlir"], "/proc/rnnc-out.mlir")
    yield Case("outputs", "--stats -o is a directory",
               lambda d: [gru(d), "--stats", "-o", folder("s")(d)], "s", "directory")
    yield Case("outputs", "run -o is a directory",
               lambda d: ["run", gru(d), "--inputs", inputs(d), "-o", folder("o.npz")(d)],
               "o.npz", "directory")
    yield Case("outputs", "run -o in a missing folder",
               lambda d: ["run", gru(d), "--inputs", inputs(d), "-o", "no/o.npz"], "no/o.npz")
    yield Case("outputs", "--dse-dump into a missing folder",
               lambda d: compile_loop(d, "--dse-dump", "no/points.csv"), "no/points.csv")
    yield Case("outputs", "--dse-dump is a directory",
               lambda d: compile_loop(d, "--dse-dump", folder("dump")(d)), "dump",
               "directory")
    yield Case("outputs", "--dse-dump kept back when -o fails",
               lambda d: [gru(d, MODEL_B1), "--emit=loop", "-o", folder("o")(d),
                          "--dse-dump", "p.csv"],
               "o", "directory")
    yield Case("outputs", "--dse-dump kept back when -o is in a missing folder",
               lambda d: [gru(d, MODEL_B1), "--emit=loop", "-o", "no/o.mlir",
                          "--dse-dump", "p.csv"],
               "no/o.mlir")
    yield Case("outputs", "--dse-dump is the -o file",
               lambda d: compile_loop(d, "--dse-dump", "out.mlir"), "out.mlir", "twice")
    yield Case("outputs", "--dse-dump is the -o file, spelled differently",
               lambda d: compile_loop(d, "--dse-dump", "./out.mlir"), "./out.mlir", "twice")
    yield Case("outputs", "--dse-dump kept back when the pipeline fails later",
               lambda d: [gru(d), "-p", "rnn-decompose,loop-assign-resources,no-such-pass",
                          "--dse-dump", "p.csv", "-o", "o.mlir"], "-p", "no-such-pass")
    yield Case("outputs", "--split-input-file -o with a bad chunk writes nothing",
               lambda d: [write("m.mlir", MODEL + "// -----\nbuiltin.module {\n")(d),
                          "--split-input-file", "-o", "o.mlir"], "m.mlir:")
    for output in ("/", ".", "..", "new/"):
        yield Case("outputs", f"gen -o {output}",
                   lambda d, o=output: ["gen", "gru", "8", "2", "-o", o], output, "folder")
        yield Case("outputs", f"import -o {output}",
                   lambda d, o=output: ["import", _onnx(d), "-o", o], output, "folder")
    yield Case("outputs", "-o is empty", lambda d: [gru(d), "-o", ""], "-o", "empty")
    yield Case("outputs", "gen -o is empty", lambda d: ["gen", "gru", "8", "2", "-o", ""], "-o",
               "empty")
    yield Case("outputs", "gen -o names the weights file",
               lambda d: ["gen", "lstm", "8", "2", "-o", "x.npz"], "x.npz", "twice")
    yield Case("outputs", "gen -o names the inputs file",
               lambda d: ["gen", "lstm", "8", "2", "-o", "x.inputs.npz"], "x.inputs.npz",
               "twice")
    yield Case("outputs", "gen -o in a missing folder",
               lambda d: ["gen", "lstm", "8", "2", "-o", "no/x.mlir"], "no/x.mlir")
    yield Case("outputs", "gen -o is a directory (weights not left behind)",
               lambda d: ["gen", "lstm", "8", "2", "-o", folder("x.mlir")(d)], "x.mlir",
               "directory")
    yield Case("outputs", "gen weights path is a directory",
               gen_beside("x.npz"),
               "x.npz", "directory")
    yield Case("outputs", "gen inputs path is a directory",
               gen_beside("x.inputs.npz"), "x.inputs.npz", "directory")
    yield Case("outputs", "gen -o unwritable", lambda d: ["gen", "rnn", "8", "2", "-o",
                                                          "/proc/rnnc-x.mlir"],
               "/proc/rnnc-x")
    yield Case("outputs", "import -o names the weights file",
               lambda d: ["import", _onnx(d), "-o", "x.npz"], "x.npz", "twice")
    yield Case("outputs", "import -o is a directory (weights not left behind)",
               lambda d: ["import", _onnx(d), "-o", folder("x.mlir")(d)], "x.mlir",
               "directory")
    yield Case("outputs", "import -o in a missing folder",
               lambda d: ["import", _onnx(d), "-o", "no/x.mlir"], "no/x.mlir")


def _onnx(folder: Path) -> str:
    import onnx
    from onnx_graphs import stacked

    onnx.save(stacked(), folder / "model.onnx")
    return "model.onnx"


def _architecture() -> Iterator[Case]:
    def with_arch(text: str | bytes, name: str = "arch.json") -> Setup:
        return lambda d: [*compile_loop(d), "--arch", write(name, text)(d)]

    non_finite = {
        "clock_ghz": ["NaN", "Infinity", "-Infinity", "1e400"],
        "dram.bandwidth_gbs": ["NaN", "1e400"],
        "pcu.area_mm2": ["Infinity"],
        "pmu.power_w": ["-1e999"],
        "interchip.link_bandwidth_gbs": ["NaN"],
    }
    for field, values in non_finite.items():
        for value in values:
            yield Case("architecture", f"{field} = {value}",
                       with_arch(arch_json(**{field: Raw(value)})), "arch.json",
                       f"'{field}'")
    for field, value in {"clock_ghz": "1e-320", "dram.bandwidth_gbs": "0",
                         "interchip.link_bandwidth_gbs": "1e-9"}.items():
        yield Case("architecture", f"{field} = {value} (too small to divide by)",
                   with_arch(arch_json(**{field: Raw(value)})), "arch.json", f"'{field}'")
    for field, value in {"clock_ghz": ".nan", "dram.bandwidth_gbs": ".inf",
                         "pcu.area_mm2": "-.inf"}.items():
        yield Case("architecture", f"YAML {field}: {value}",
                   with_arch(arch_json(**{field: Raw(value)}).replace("\t", " "), "arch.yaml"),
                   "arch.yaml", f"'{field}'")
    degenerate = {
        "pcu.lanes": [1, 0, 1 << 40],
        "pcu.stages": [10**9],
        "grid.rows": [10**6],
        "pmu.capacity_kib": [10**15],
        "timing.step_overhead_cycles": [10**30],
        "precisions.fp32.macs_per_lane": [10**20],
        "interchip.link_latency_cycles": [10**400],
    }
    for field, values in degenerate.items():
        for value in values:
            label = value if value < 10**30 else f"10^{len(str(value)) - 1}"
            yield Case("architecture", f"{field} = {label}",
                       with_arch(arch_json(**{field: value})), "arch.json", f"'{field}'")
    yield Case("architecture", "latin-1 JSON",
               with_arch(arch_json(description="caf\xe9").encode("latin-1")), "arch.json",
               "UTF-8")
    yield Case("architecture", "latin-1 YAML",
               with_arch(arch_json(description="caf\xe9").encode("latin-1"), "arch.yaml"),
               "arch.yaml", "UTF-8")
    yield Case("architecture", "UTF-16 JSON",
               with_arch(arch_json().encode("utf-16")), "arch.json")
    yield Case("architecture", "empty JSON", with_arch(""), "arch.json")
    yield Case("architecture", "empty YAML", with_arch("", "arch.yaml"), "arch.yaml")
    yield Case("architecture", "a JSON list", with_arch("[1, 2]"), "arch.json")
    yield Case("architecture", "5000-digit integer",
               with_arch(arch_json(**{"pcu.lanes": Raw("9" * 5000)})), "arch.json")
    yield Case("architecture", "20000 nested JSON arrays",
               with_arch("[" * 20000 + "]" * 20000), "arch.json")
    yield Case("architecture", "20000 nested YAML lists",
               with_arch("[" * 20000 + "]" * 20000, "arch.yaml"), "arch.yaml")
    laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, "
        f"*a{i - 1}, *a{i - 1}, *a{i - 1}]\n" for i in range(1, 10)
    ) + "notes: *a9\n"
    yield Case("architecture", "YAML billion laughs", with_arch(laughs, "arch.yaml"),
               "arch.yaml")
    yield Case("architecture", "directory as --arch",
               lambda d: [*compile_loop(d), "--arch", folder("a.json")(d)],
               "a.json")
    def pass_option(d: Path) -> list[str]:
        write("arch.json", arch_json(**{"pcu.lanes": 1}))(d)
        spec = 'rnn-decompose,loop-assign-resources{arch="arch.json"}'
        return [gru(d, MODEL_B1), "-o", "o.mlir", "-p", spec]

    yield Case("architecture", "arch through a pass option", pass_option, "arch.json",
               "'pcu.lanes'")
    yield Case("architecture", "arch of rnnc run",
               lambda d: ["run", gru(d, MODEL_B1), "--inputs", inputs(d, B1_INPUTS), "-p",
                          "rnn-decompose,loop-assign-resources", "--arch",
                          write("arch.json", arch_json(clock_ghz=Raw("NaN")))(d)],
               "arch.json", "'clock_ghz'")


def _npz_files() -> Iterator[Case]:
    def run_with(content: Callable[[], bytes], name: str = "in.npz") -> Setup:
        return lambda d: ["run", gru(d), "--inputs", write(name, content())(d)]

    def members(**arrays: bytes) -> Callable[[], bytes]:
        return lambda: zip_of({f"{k}.npy": v for k, v in arrays.items()})

    h0 = npy(GRU_INPUTS["h0"])
    X = GRU_INPUTS["X"]
    yield Case("npz", "empty file", run_with(lambda: b""), "in.npz")
    yield Case("npz", "text file", run_with(lambda: b"X = 1\n"), "in.npz")
    yield Case("npz", "a .npy, not an .npz", run_with(lambda: npy(X)), "in.npz")
    yield Case("npz", "truncated archive", run_with(lambda: members(X=npy(X), h0=h0)()[:300]),
               "in.npz")
    yield Case("npz", "zip of a text file", run_with(lambda: zip_of({"X.txt": b"1"})),
               "in.npz")
    yield Case("npz", "unknown compression method",
               run_with(lambda: compression_method(members(X=npy(X), h0=h0)(), 99)), "in.npz")
    yield Case("npz", "member not a .npy", run_with(members(X=b"not npy", h0=h0)), "in.npz",
               "X")
    yield Case("npz", "string dtype", run_with(members(X=npy(np.full((3, 2, 4), "a")), h0=h0)),
               "in.npz", "X")
    structured = np.zeros((3, 2, 4), dtype=[("a", "f4"), ("b", "i4")])
    yield Case("npz", "structured dtype", run_with(members(X=npy(structured), h0=h0)),
               "in.npz", "X")
    yield Case("npz", "object dtype (a pickle)",
               run_with(members(X=npy(np.empty((3, 2, 4), object)), h0=h0)), "in.npz", "X")
    for dtype in ("i4", "i8", "u1", "?", "c8", "M8[s]", "V4"):
        yield Case("npz", f"{dtype} dtype for a float input",
                   run_with(members(X=npy(np.zeros((3, 2, 4), dtype)), h0=h0)), "in.npz", "X")
    yield Case("npz", "header claims 10^12 elements",
               run_with(members(X=npy_member({"descr": "<f4", "fortran_order": False,
                                              "shape": (10**6, 10**6)}), h0=h0)),
               "in.npz", "X")
    yield Case("npz", "header shape with a negative size",
               run_with(members(X=npy_member({"descr": "<f4", "fortran_order": False,
                                              "shape": (-1, 2, 4)}), h0=h0)), "in.npz", "X")
    yield Case("npz", "header of the right shape, data missing",
               run_with(members(X=npy_member({"descr": "<f4", "fortran_order": False,
                                              "shape": (3, 2, 4)}), h0=h0)), "in.npz", "X")
    yield Case("npz", "2 MB zip bomb", run_with(lambda: zip_bomb(h0=GRU_INPUTS["h0"])),
               "in.npz", "X")
    yield Case("npz", "wrong shape", run_with(members(X=npy(np.zeros((3, 2, 5), "f4")), h0=h0)),
               "in.npz", "X")
    yield Case("npz", "missing member", run_with(members(X=npy(X))), "in.npz", "h0")
    yield Case("npz", "extra member",
               run_with(members(X=npy(X), h0=h0, Z=npy(X))), "in.npz", "Z")
    yield Case("npz", "--inputs is a directory",
               lambda d: ["run", gru(d), "--inputs", folder("i.npz")(d)], "i.npz")
    yield Case("npz", "--inputs is a device that never ends",
               lambda d: ["run", gru(d), "--inputs", "/dev/zero"], "/dev/zero", "regular file")
    yield Case("npz", "weights are a device that never ends",
               lambda d: ["run", gru(d, MODEL.replace('"model.npz"', '"/dev/zero"')),
                          "--inputs", inputs(d)], "/dev/zero", "regular file")
    yield Case("npz", "--inputs missing", lambda d: ["run", gru(d), "--inputs", "no.npz"],
               "no.npz")
    yield Case("npz", "sequence_lens given as floats",
               lambda d: ["run", seq(d), "--inputs",
                          inputs(d, {"X": X, "lens": np.array([3.0, 1.0], "f4")})],
               "in.npz", "lens")
    for name, weights in {
        "weights of int dtype": {**GRU_WEIGHTS, "W": GRU_WEIGHTS["W"].astype("i4")},
        "weights missing a member": {"R": GRU_WEIGHTS["R"]},
        "weights of the wrong shape": {**GRU_WEIGHTS, "W": np.zeros((1, 15, 5), "f4")},
        "weights of string dtype": {**GRU_WEIGHTS, "R": np.full((1, 15, 5), "x")},
    }.items():
        yield Case("npz", name,
                   lambda d, w=weights: ["run", gru(d, weights=w), "--inputs", inputs(d)],
                   "model.npz")

    def weights_file(content: Callable[[], bytes]) -> Setup:
        def setup(d: Path) -> list[str]:
            model = gru(d)
            (d / "model.npz").write_bytes(content())
            return ["run", model, "--inputs", inputs(d)]

        return setup

    yield Case("npz", "weights file empty", weights_file(lambda: b""), "model.npz")
    yield Case("npz", "weights file is text", weights_file(lambda: b"W R\n"), "model.npz")
    yield Case("npz", "weights header claims 10^12 elements",
               weights_file(lambda: zip_of({"W.npy": npy_member(
                   {"descr": "<f4", "fortran_order": False, "shape": (10**12,)}),
                   "R.npy": npy(GRU_WEIGHTS["R"])})), "model.npz", "W")
    yield Case("npz", "weights zip bomb", weights_file(
        lambda: zip_bomb("W.npy", R=GRU_WEIGHTS["R"])), "model.npz", "W")
    yield Case("npz", "weights file is a directory",
               lambda d: ["run", gru(d, MODEL.replace('"model.npz"', f'"{folder("w")(d)}"')),
                          "--inputs", inputs(d)], "w")


def _runtime() -> Iterator[Case]:
    X = GRU_INPUTS["X"]
    levels = {"rnn level": [], "loop level": ["-p", "rnn-decompose"],
              "fused loop level": ["-p", "rnn-decompose,loop-fuse"]}
    for level, pipeline in levels.items():
        for lens in ([3, 4], [-1, 2], [3, 2**31 - 1]):
            yield Case("runtime", f"sequence_lens {lens} at the {level}",
                       lambda d, lens=lens, p=pipeline: [
                           "run", seq(d), "--inputs",
                           inputs(d, {"X": X, "lens": np.array(lens, "i4")}), *p],
                       "in.npz", "lens")
    for passes in ("rnn-decompose", "rnn-decompose,loop-fuse"):
        yield Case("runtime", f"sequence_lens [3, 4] in a file lowered by {passes}",
                   lambda d, p=passes: [
                       "run", lowered(d, seq(d), p), "--inputs",
                       inputs(d, {"X": X, "lens": np.array([3, 4], "i4")})],
                   "in.npz", "lens")
    for clip in ("0x7FC00000 : f32", "-1.0 : f32", "0.0 : f32"):
        for level, pipeline in levels.items():
            yield Case("runtime", f"clip {clip} at the {level}",
                       lambda d, c=clip, p=pipeline: [
                           "run", seq(d, c), "--inputs",
                           inputs(d, {"X": X, "lens": np.array([3, 3], "i4")}), *p],
                       "seq.mlir:", "clip")
    yield Case("runtime", "clip NaN at compile time",
               lambda d: [seq(d, "0x7FC00000 : f32"), "--emit=loop", "-o", "o.mlir"],
               "seq.mlir:", "clip")
    for index, store, extent, name in (("%i + 1", "%i", "4", "load past the end"),
                                       ("%i", "%i + 4", "4", "store past the end"),
                                       ("%i", "%i", "5", "loop longer than the memory")):
        text = LOOP_MODEL.replace("INDEX", index).replace("STORE", store) \
            .replace("in (4)", f"in ({extent})")
        yield Case("runtime", f"static {name}",
                   lambda d, t=text: [write("l.mlir", t)(d), "-o", "o.mlir"], "l.mlir:",
                   "outside")
    yield Case("runtime", "static out of bounds at run time",
               lambda d: ["run", write("l.mlir", LOOP_MODEL.replace("INDEX", "%i + 2")
                                        .replace("STORE", "%i"))(d), "--inputs",
                          inputs(d, {"X": np.zeros(4, "f4")})], "l.mlir:", "outside")


def _memory() -> Iterator[Case]:
    big = MODEL.replace("3x2x4", "100000x100000x4").replace("3x1x2x5", "100000x1x100000x5") \
        .replace("1x2x5", "1x100000x5")
    yield Case("memory", "model too large to run",
               lambda d: ["run", write("big.mlir", big.replace('"model.npz"', '"w.npz"'))(d),
                          "--inputs", write("w.npz", zip_of({}))(d)], "big.mlir", "bytes")
    yield Case("memory", "gen sizes too large", lambda d: ["gen", "lstm", "1000000", "1000000",
                                                           "-o", "x.mlir"], "rnnc gen", "bytes")
    yield Case("memory", "gen batch too large",
               lambda d: ["gen", "gru", "1024", "1000", "--batch", "100000000", "-o", "x.mlir"],
               "rnnc gen", "bytes")
    yield Case("memory", "gen input size too large",
               lambda d: ["gen", "rnn", "16", "4", "--input", str(10**12), "-o", "x.mlir"],
               "rnnc gen", "bytes")
    yield Case("memory", "gen hidden beyond i64",
               lambda d: ["gen", "rnn", str(10**20), "4", "-o", "x.mlir"], "rnnc gen")
    yield Case("memory", "--precision mixed:lut=10^12",
               lambda d: ["run", gru(d), "--inputs", inputs(d), "-p", "rnn-decompose",
                          "--precision", "mixed:lut=10^12"], "--precision")
    yield Case("memory", "--precision mixed:lut=1000000000000",
               lambda d: ["run", gru(d), "--inputs", inputs(d), "-p", "rnn-decompose",
                          "--precision", "mixed:lut=1000000000000"], "--precision", "bytes")
    yield Case("memory", "--compare mixed:lut=1000000000000",
               lambda d: ["run", gru(d), "--inputs", inputs(d), "-p", "rnn-decompose",
                          "--compare", "mixed:lut=1000000000000"], "--compare", "bytes")


PLUGINS = {
    "raises in apply": "raise ValueError('boom')",
    "exits in apply": "sys.exit(3)",
    "recurses forever": "self.apply(ctx, op)",
    "leaves invalid IR": "[o for o in op.walk() if o.name == 'func.return'][0].detach()",
    "detaches a used value": "[o for o in op.walk() if o.name == 'rnn.weight'][0].detach()",
}

PLUGIN = """\
import sys
from dataclasses import dataclass
from xdsl.passes import ModulePass

@dataclass(frozen=True)
class Plugin(ModulePass):
    name = "user-plugin"

    def apply(self, ctx, op):
        BODY
"""


def _plugins() -> Iterator[Case]:
    def plugin(source: str | bytes, spec: str = "user-plugin", name: str = "plug.py") -> Setup:
        return lambda d: [gru(d), "-o", "o.mlir", "--load-pass-plugin", write(name, source)(d),
                          "-p", spec]

    for label, body in PLUGINS.items():
        yield Case("plugins", f"a plug-in that {label}", plugin(PLUGIN.replace("BODY", body)),
                   "model.mlir", "user-plugin")
    yield Case("plugins", "no name",
               plugin(PLUGIN.replace('    name = "user-plugin"\n', "")), "plug.py", "name")
    yield Case("plugins", "name not a string",
               plugin(PLUGIN.replace('"user-plugin"', "42")), "plug.py", "name")
    yield Case("plugins", "sys.exit on import", plugin("import sys\nsys.exit(0)\n"), "plug.py")
    yield Case("plugins", "KeyboardInterrupt on import",
               plugin("raise KeyboardInterrupt\n"), "plug.py")
    yield Case("plugins", "syntax error", plugin("def (:\n"), "plug.py")
    yield Case("plugins", "latin-1 source", plugin(b"# caf\xe9\nx = 1\n"), "plug.py")
    yield Case("plugins", "defines no pass", plugin("x = 1\n"), "plug.py", "no ModulePass")
    yield Case("plugins", "missing file",
               lambda d: [gru(d), "--load-pass-plugin", "none.py", "-p", "x"], "none.py")
    yield Case("plugins", "a directory",
               lambda d: [gru(d), "--load-pass-plugin", folder("p.py")(d),
                          "-p", "x"], "p.py")
    yield Case("plugins", "bad option value",
               plugin(PLUGIN.replace("    def apply", "    level: int = 0\n\n    def apply")
                      .replace("BODY", "pass"), "user-plugin{level=abc}"), "-p")
    yield Case("plugins", "raises in __post_init__",
               plugin(PLUGIN.replace("    def apply", "    def __post_init__(self):\n"
                                     "        raise RuntimeError('no')\n\n    def apply")
                      .replace("BODY", "pass")), "plug.py", "user-plugin")


def _pipelines() -> Iterator[Case]:
    def pipe(spec: str, *extra: str) -> Setup:
        return lambda d: [gru(d, MODEL_B1), "-o", "o.mlir", "-p", spec, *extra]

    yield Case("pipeline", "-p mlir-opt (not installed)", pipe("mlir-opt"), "model.mlir",
               "mlir-opt")
    yield Case("pipeline", "-p with an open brace", pipe("rnn-decompose{"), "-p")
    yield Case("pipeline", "-p with an unknown option", pipe("loop-fuse{nope=1}"), "-p")
    yield Case("pipeline", "-p with empty names", pipe(",,"), "-p")
    yield Case("pipeline", "-p with a bad option value",
               pipe("rnn-decompose,loop-assign-resources{chips=x}"), "-p")
    yield Case("pipeline", "loop-assign-resources before rnn-decompose",
               pipe("loop-assign-resources"), "model.mlir", "loop-assign-resources")
    yield Case("pipeline", "--chips -1", pipe("rnn-decompose,loop-assign-resources",
                                              "--chips", "-1"), "--chips")
    yield Case("pipeline", "--dse-dump with no pass to take it",
               pipe("rnn-decompose", "--dse-dump", "p.csv"), "--dse-dump")
    yield Case("pipeline", "--print-ir-after-all with a failing pass",
               pipe("loop-assign-resources", "--print-ir-after-all"), "model.mlir",
               "loop-assign-resources")
    yield Case("pipeline", "unknown objective",
               pipe("rnn-decompose,loop-assign-resources{objective=speed}"), "model.mlir",
               "objective")


def _command_line() -> Iterator[Case]:
    def gen(*argv: str) -> Setup:
        return lambda d: ["gen", *argv, "-o", "x.mlir"]

    yield Case("cli", "gen --batch 0", gen("lstm", "8", "2", "--batch", "0"), "--batch")
    yield Case("cli", "gen --batch -1", gen("lstm", "8", "2", "--batch", "-1"), "--batch")
    yield Case("cli", "gen --seed -1", gen("lstm", "8", "2", "--seed", "-1"), "--seed")
    yield Case("cli", "gen --seed 1.5", gen("lstm", "8", "2", "--seed", "1.5"), "rnnc gen")
    yield Case("cli", "gen hidden 0", gen("gru", "0", "2"), "rnnc gen")
    yield Case("cli", "gen steps 0", gen("gru", "8", "0"), "rnnc gen")
    yield Case("cli", "gen --input 0", gen("gru", "8", "2", "--input", "0"), "--input")
    yield Case("cli", "gen steps missing", gen("gru", "8"), "rnnc gen")
    yield Case("cli", "gen unknown cell", gen("tcn", "8", "2"), "rnnc gen")
    yield Case("cli", "gen hidden not a number", gen("rnn", "eight", "2"), "rnnc gen")
    table = str(Path(__file__).resolve().parents[2] / "examples" / "deepbench"
                / "deepbench-inference-server.csv")
    yield Case("cli", "gen --csv-row 0", gen("--csv-row", "0"), table)
    yield Case("cli", "gen --csv-row past the end", gen("--csv-row", "9999"), table)
    csv = "cell,hidden,batch,steps\nlstm,8,1,2\n"
    yield Case("cli", "gen non-UTF-8 CSV",
               lambda d: gen("--csv-row", "1", "--csv",
                             write("t.csv", b"cell,hidden,batch,steps\nlstm\xff,8,1,2\n")(d))(d),
               "t.csv", "UTF-8")
    yield Case("cli", "gen CSV missing a column",
               lambda d: gen("--csv-row", "1", "--csv",
                             write("t.csv", "cell,hidden,steps\nlstm,8,2\n")(d))(d), "t.csv:2")
    yield Case("cli", "gen CSV with sizes beyond memory",
               lambda d: gen("--csv-row", "1", "--csv", write(
                   "t.csv", "cell,hidden,batch,steps\nlstm,100000000,1,2\n")(d))(d),
               "t.csv:2", "bytes")
    yield Case("cli", "gen CSV with batch 0",
               lambda d: gen("--csv-row", "1", "--csv", write(
                   "t.csv", csv.replace(",1,", ",0,"))(d))(d), "t.csv:2", "batch")
    yield Case("cli", "gen CSV is a device that never ends",
               gen("--csv-row", "1", "--csv", "/dev/zero"), "/dev/zero", "regular file")
    yield Case("cli", "gen CSV missing", gen("--csv-row", "1", "--csv", "none.csv"), "none.csv")
    yield Case("cli", "gen CSV is a directory",
               lambda d: gen("--csv-row", "1", "--csv", folder("c.csv")(d))(d),
               "c.csv")
    yield Case("cli", "gen CSV row and sizes",
               gen("lstm", "8", "2", "--csv-row", "1"), "rnnc gen")
    yield Case("cli", "--precision bogus",
               lambda d: ["run", gru(d), "--inputs", inputs(d), "--precision", "fp8"],
               "--precision")
    yield Case("cli", "--compare bogus",
               lambda d: ["run", gru(d), "--inputs", inputs(d), "--compare", "half"], "--compare")
    yield Case("cli", "--precision mixed at the rnn level",
               lambda d: ["run", gru(d), "--inputs", inputs(d), "--precision", "mixed"],
               "--precision")
    yield Case("cli", "--precision mixed:range=nan",
               lambda d: ["run", gru(d), "--inputs", inputs(d), "-p", "rnn-decompose",
                          "--precision", "mixed:range=nan"], "--precision")
    yield Case("cli", "unknown flag", lambda d: [gru(d), "--frobnicate"], "rnnc")
    yield Case("cli", "run without --inputs", lambda d: ["run", gru(d)], "rnnc run")
    yield Case("cli", "run --symbol that does not exist",
               lambda d: ["run", gru(d), "--inputs", inputs(d), "--symbol", "nope"],
               "model.mlir", "@nope")
    yield Case("cli", "--emit bogus", lambda d: [gru(d), "--emit", "gates"], "rnnc")
    yield Case("cli", "--chips not a number",
               lambda d: [gru(d), "--emit=loop", "--chips", "two"], "rnnc")
    yield Case("cli", "no arguments", lambda d: [], "rnnc")


def _onnx_files() -> Iterator[Case]:
    def imported(content: bytes) -> Setup:
        return lambda d: ["import", write("m.onnx", content)(d), "-o", "m.mlir"]

    yield Case("onnx", "empty file", imported(b""), "m.onnx")
    yield Case("onnx", "not protobuf", imported(b"\x08\x07 this is not a protobuf"), "m.onnx")
    yield Case("onnx", "truncated model",
               lambda d: ["import", write("m.onnx", (d / _onnx(d)).read_bytes()[:200])(d),
                          "-o", "m.mlir"], "m.onnx")
    yield Case("onnx", "a device that never ends",
               lambda d: ["import", "/dev/zero", "-o", "m.mlir"], "/dev/zero", "regular file")
    yield Case("onnx", "missing file", lambda d: ["import", "none.onnx", "-o", "m.mlir"],
               "none.onnx")
    yield Case("onnx", "a directory",
               lambda d: ["import", folder("m.onnx")(d), "-o", "m.mlir"],
               "m.onnx")
    yield Case("onnx", "initializer of undefined element type",
               lambda d: ["import", _damaged_onnx(d), "-o", "m.mlir"], "bad.onnx", "valid")
    yield Case("onnx", "unsupported op", lambda d: ["import", _unsupported(d), "-o", "m.mlir"],
               "u.onnx", "Add")


def _damaged_onnx(folder: Path) -> str:
    """The stacked model with its first initializer's element type set to UNDEFINED."""
    import onnx
    from onnx_graphs import stacked

    model = stacked()
    model.graph.initializer[0].data_type = onnx.TensorProto.UNDEFINED
    onnx.save(model, folder / "bad.onnx")
    return "bad.onnx"


def _unsupported(folder: Path) -> str:
    import onnx
    from onnx_graphs import unsupported_op

    onnx.save(unsupported_op(), folder / "u.onnx")
    return "u.onnx"


# ---- configurations (rnnc sim, rnnc show) ----------------------------------------------------
#
# Each case edits the batch-1 GRU's config.json, compiled once per process (`_compiled`), into
# one that passes the schema but no machine could run, or breaks its weight file; `rnnc sim`
# and `rnnc show` refuse it before running or drawing anything, naming the field.

Config = dict[str, Any]


@functools.cache
def _compiled() -> tuple[str, bytes]:
    """The batch-1 GRU compiled by rnnc to config.json: its text and its weight file's bytes."""
    from rnnc.driver import cli

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model = folder / gru(folder, MODEL_B1)
        assert cli.main([str(model), "-o", str(folder / "config.json")]) == 0
        return (folder / "config.json").read_text(), (folder / "config.weights.npz").read_bytes()


def config(folder: Path, edit: Callable[[Config], object] | None = None,
           weights: bytes | None = None) -> str:
    """config.json (edited by `edit`, whose returned text, if any, is written instead), its
    weight file (or `weights`, with the config's hash made to match them) and in.npz."""
    text, npz = _compiled()
    data = json.loads(text)
    if weights is not None:
        npz = weights
        data["weights"]["sha256"] = hashlib.sha256(npz).hexdigest()
    replaced = edit(data) if edit is not None else None
    (folder / "config.json").write_text(replaced if isinstance(replaced, str)
                                        else json.dumps(data, indent=1))
    (folder / "config.weights.npz").write_bytes(npz)
    inputs(folder, B1_INPUTS)
    return "config.json"


def sim(edit: Callable[[Config], object] | None = None, *extra: str,
        weights: Callable[[], bytes] | None = None) -> Setup:
    return lambda d: ["sim", config(d, edit, weights and weights()), "--inputs", "in.npz",
                      *extra]


def show(edit: Callable[[Config], object] | None = None, *extra: str) -> Setup:
    return lambda d: ["show", config(d, edit), *(extra or ("-o", "p.svg"))]


def unit(data: Config, name: str) -> Config:
    return next(u for u in data["chips"][0]["units"] if u["id"] == name)


def setting(dotted: str, value: object) -> Callable[[Config], None]:
    """An edit that sets the field at a dotted path (list items by index)."""

    def edit(data: Config) -> None:
        *parents, key = dotted.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(key) if isinstance(node, list) else key] = value

    return edit


def in_unit(name: str, dotted: str, value: object) -> Callable[[Config], None]:
    """An edit that sets a field of unit `name`'s configuration."""
    return lambda data: setting(dotted, value)(unit(data, name))


def text_edit(old: str, new: str) -> Callable[[Config], str]:
    """An edit of the JSON text itself (for what `json.dumps` cannot write)."""
    return lambda data: json.dumps(data, indent=1).replace(old, new, 1)


#: Units of the compiled GRU: an element-wise unit of the once-run nest n0 (reads h0, writes
#: h), a map-reduce unit, the element-wise unit of nest n1 (a sigmoid in a lookup table),
#: PMUs holding an input, a weight slice and a table, and the address generators.
EW0, MR, EW1 = "n0_ew0_0", "n1_mr0_s0_p0", "n1_ew0_0"
PMU_IN, PMU_W, LUT = "pmu0", "pmu1", "n1_ew0_0_lut"
STORE, LOAD = "ag0", "ag1"

#: (name, edit, field in the diagnostic, a fragment of its message).
CONFIG_EDITS: list[tuple[str, Callable[[Config], object], str, str]] = [
    # counters
    *[(f"counter stride {s}", in_unit(EW1, "counters.2.stride", s),
       "counters.2.stride", "a counter counts up") for s in (0, -1, -(2**40))],
    ("counter counting down", lambda c: unit(c, EW1)["counters"][2].update(start=5, stop=0),
     "counters.2.stop", "counts from 5 to 0"),
    ("counter of no iteration", lambda c: unit(c, EW1)["counters"][2].update(start=2, stop=2),
     "counters.2.stop", "counts from 2 to 2"),
    ("counter to 10^12", in_unit(EW1, "counters.2.stop", 10**12), "counters.2.stop",
     "counts from 0 to 1000000000000"),
    ("counter from -3", in_unit(EW1, "counters.2.start", -3), "counters.2.stop",
     "counts from -3 to 5"),
    ("counter past its nest", in_unit(EW0, "counters.2.stop", 6), "counters.2.stop",
     "the nest's extent 5"),
    ("counter of no dimension", in_unit(EW1, "counters.2.name", "d7"), "counters.2.name",
     "counter 'd7' names no dimension"),
    ("counter named twice", in_unit(EW1, "counters.1.name", "d0"), "counters.1.name",
     "counter 'd0' is declared twice"),
    ("counter shadowing the step", in_unit(EW1, "counters.0.name", "t"), "counters.0.name",
     "shadows k or t"),
    # nests and the schedule
    *[(f"nest extent {e}", setting("program.nests.1.extents.2", e),
       "program.nests.1.extents.2", f"extent {e}") for e in (0, -1)],
    *[(f"nest par {p}", setting("program.nests.1.par.2", p), "program.nests.1.par.2",
       f"par {p}") for p in (0, -2, 6)],
    ("nest with fewer extents than par", setting("program.nests.1.extents", [5]),
     "program.nests.1.par", "1 extents and 3 par factors"),
    ("nest with no dimensions", lambda c: c["program"]["nests"][1].update(extents=[], par=[]),
     "program.nests.1.par", "0 extents"),
    ("nest declared twice", setting("program.nests.1.id", "n0"), "program.nests.1.id",
     "nest 'n0' is declared twice"),
    ("ghost nest in the schedule", setting("program.schedule.1.nests", ["n1", "n2", "n9"]),
     "program.schedule.1.nests.2", "runs nest 'n9'"),
    ("ghost nest run once", setting("program.schedule.0.nests", ["ghost"]),
     "program.schedule.0.nests.0", "runs nest 'ghost'"),
    ("ghost nest of a design point", setting("design.nests.1.nest", "n9"),
     "design.nests.1.nest", "nest 'n9'"),
    ("design point twice", setting("design.nests.1.nest", "n0"), "design.nests.1.nest",
     "a second design point of nest 'n0'"),
    *[(f"design {key} = 0", setting(f"design.nests.2.{key}", 0), f"design.nests.2.{key}",
       f"{key} = 0") for key in ("hu", "ru", "rv")],
    ("PCU in a nest nothing runs", in_unit(EW0, "nest", "n9"), "nest",
     "which the schedule never runs"),
    *[(f"loop of {s} steps", setting("program.schedule.1.steps", s), "program.schedule.1.steps",
       f"runs {s} steps") for s in (0, -1)],
    ("once-phase of 3 steps", setting("program.schedule.0.steps", 3),
     "program.schedule.0.steps", "a phase run once has 1 step"),
    ("phase kind 'forever'", setting("program.schedule.1.kind", "forever"),
     "program.schedule.1.kind", "'forever'"),
    ("time_loop.steps against the schedule", setting("time_loop.steps", 7), "time_loop.steps",
     "says 7 steps"),
    # memories
    ("memory of 10^6 x 10^6", setting("program.memories.3.shape", [10**6, 10**6]),
     "program.memories.3.shape", "more than this machine's memory"),
    ("DRAM input of 10^6 x 10^6 x 4",
     lambda c: (setting("program.memories.0.shape", [10**6, 10**6, 4])(c),
                setting("inputs.0.shape", [10**6, 10**6, 4])(c)),
     "program.memories.0.shape", "more than this machine's memory"),
    *[(f"memory dimension {n}", setting("program.memories.3.shape", [1, n, 5]),
       "program.memories.3.shape", "every dimension is at least 1") for n in (0, -1)],
    ("memory of no dimensions", setting("program.memories.3.shape", []),
     "program.memories.3.shape", "every dimension is at least 1"),
    *[(f"element of {b} bytes", setting("program.memories.3.element_bytes", b),
       "program.memories.3.element_bytes", f"elements of {b} bytes") for b in (0, 3, 1024)],
    *[(f"memory of {b} buffers", setting("program.memories.3.buffers", b),
       "program.memories.3.buffers", f"{b} buffers") for b in (0, -2)],
    ("memory in space 'cloud'", setting("program.memories.3.space", "cloud"),
     "program.memories.3.space", "'cloud'"),
    ("memory declared twice",
     lambda c: c["program"]["memories"].append(dict(c["program"]["memories"][0])),
     "program.memories.7.name", "memory 'x' is declared twice"),
    ("memory declared twice, other shape",
     lambda c: c["program"]["memories"].append({**c["program"]["memories"][3], "shape": [9]}),
     "program.memories.7.name", "memory 'h' is declared twice"),
    ("memory from a ghost weight", setting("program.memories.1.init", "weight:Ghost"),
     "program.memories.1.init", "'weight:Ghost'"),
    ("memory from a ghost input", setting("program.memories.0.init", "input:Ghost"),
     "program.memories.0.init", "'input:Ghost'"),
    ("memory initialised with 'zeros'", setting("program.memories.0.init", "zeros"),
     "program.memories.0.init", "'zeros'"),
    ("no memories", setting("program.memories", []), "inputs.0.location.memory",
     "memory 'x'"),
    ("no nests", setting("program.nests", []), "program.schedule.0.nests.0", "nest 'n0'"),
    # inputs and outputs
    ("input in a ghost memory", setting("inputs.0.location.memory", "ghost"),
     "inputs.0.location.memory", "memory 'ghost'"),
    ("output in a ghost memory", setting("outputs.0.location.memory", "ghost"),
     "outputs.0.location.memory", "memory 'ghost'"),
    ("input moved by a ghost AG", setting("inputs.0.location.units", ["ghost"]),
     "inputs.0.location.units.0", "moved by 'ghost'"),
    ("input moved by a PCU", setting("inputs.0.location.units", [EW0]),
     "inputs.0.location.units.0", f"moved by '{EW0}'"),
    ("output moved by the AG of another memory", setting("outputs.0.location.units", [LOAD]),
     "outputs.0.location.units.0", f"moved by '{LOAD}'"),
    ("input in SRAM, its memory in DRAM", setting("inputs.0.location.space", "sram"),
     "inputs.0.location.space", "in sram"),
    ("input shape against its memory", setting("inputs.0.shape", [3, 1, 5]),
     "inputs.0.shape", "has shape [3, 1, 5]"),
    ("output shape against its memory", setting("outputs.0.shape", [1, 1, 6]),
     "outputs.0.shape", "has shape [1, 1, 6]"),
    ("input declared twice", setting("inputs.1.name", "X"), "inputs.1.name",
     "'X' is declared twice"),
    *[(f"input of dtype {t!r}", setting("inputs.0.dtype", t), "inputs.0.dtype", f"'{t}'")
      for t in ("object", "banana", "f8", "")],
    *[(f"output of dtype {t}", setting("outputs.0.dtype", t), "outputs.0.dtype", f"'{t}'")
      for t in ("object", "complex64")],
    # precision
    *[(f"precision spec {spec!r}", setting("precision.spec", spec), "precision.spec", spec)
      for spec in ("mixed:lut=1", "mixed:lut=abc", "mixed:range=-1", "mixed:fmt=int4",
                   "mixed:interp=cubic", "fp8", "fp32:lut=4", "")],
    ("precision spec fp32 in a mixed config", setting("precision.spec", "fp32"),
     "precision.float8", "the spec 'fp32'"),
    ("precision name fp32 with spec mixed", setting("precision.name", "fp32"),
     "precision.name", "makes it 'mixed'"),
    ("precision float8 'float7'", setting("precision.float8", "float7"), "precision.float8",
     "'float7'"),
    ("precision lut_entries against its spec", setting("precision.lut_entries", 2),
     "precision.lut_entries", "makes it 1024"),
    ("precision lut_range against its spec", setting("precision.lut_range", 5.0),
     "precision.lut_range", "makes it 8.0"),
    ("precision weight_bits against the architecture", setting("precision.weight_bits", 32),
     "precision.weight_bits", "makes it 8"),
    # words
    *[(f"PCU mode '{m}'", in_unit(EW1, "mode", m), "mode", f"mode '{m}'")
      for m in ("turbo", "MAP_REDUCE")],
    ("element-wise unit in mode map_reduce", in_unit(EW1, "mode", "map_reduce"), "mode",
     "role elementwise in mode map_reduce"),
    ("map-reduce unit in mode elementwise", in_unit(MR, "mode", "elementwise"), "mode",
     "role map_reduce in mode elementwise"),
    ("PCU role 'dancer'", in_unit(EW1, "role", "dancer"), "role", "role 'dancer'"),
    ("PMU role 'cache'", in_unit(PMU_W, "role", "cache"), "role", "role 'cache'"),
    ("AG direction 'sideways'", in_unit(STORE, "direction", "sideways"), "direction",
     "direction 'sideways'"),
    *[(f"quantization {q!r}", lambda c, q=q: unit(c, PMU_W)["holds"][0].update(quantization=q),
       "holds.0.quantization", f"as '{q}'") for q in ("int4", "object", "float8_e5m2", "")],
    *[(f"combiner {f!r}", in_unit(MR, "reduce.combiner", f), "reduce.combiner", f"'{f}'")
      for f in ("xor", "")],
    ("banking 'interleaved'", in_unit(PMU_IN, "banking", "interleaved"), "banking",
     "banking 'interleaved'"),
    # names and references
    ("unit id twice", lambda c: unit(c, MR).__setitem__("id", EW0), "chips.0.units.1.id",
     f"unit '{EW0}' is declared twice"),
    ("route id twice", setting("chips.0.routes.1.id", "s0"), "chips.0.routes.1.id",
     "route 's0' is declared twice"),
    ("read of a ghost memory", lambda c: unit(c, EW0)["ops"][0]["params"].update(memory="ghost"),
     "ops.0.params.memory", "memory 'ghost'"),
    ("write of a ghost memory",
     lambda c: unit(c, EW0)["ops"][1]["params"].update(memory="ghost"), "ops.1.params.memory",
     "memory 'ghost'"),
    ("read of a memory that is a number",
     lambda c: unit(c, EW0)["ops"][0]["params"].update(memory=5), "ops.0.params.memory",
     "memory 5"),
    ("box of a ghost memory",
     lambda c: unit(c, PMU_IN)["boxes"][0].update(memory="ghost"), "boxes.0.memory",
     "memory 'ghost'"),
    ("AG of a ghost memory", in_unit(STORE, "memory", "ghost"), "outputs.0.location.units.0",
     f"moved by '{STORE}'"),
    ("holding of a ghost array",
     lambda c: unit(c, PMU_W)["holds"][0].update(array="Ghost"), "holds.0.array",
     "array 'Ghost'"),
    ("route from a ghost unit", setting("chips.0.routes.0.source.unit", "ghost"),
     "chips.0.routes.0", "names unit 'ghost'"),
    ("route to a ghost unit", setting("chips.0.routes.0.sinks.0.unit", "ghost"),
     "chips.0.routes.0", "names unit 'ghost'"),
    ("table of a ghost PMU",
     lambda c: unit(c, EW1)["ops"][0]["params"].update(lut="ghost"), "ops.0.params.lut",
     "table 'ghost'"),
    ("counter the unit lacks", lambda c: unit(c, EW0)["ops"][0]["args"].__setitem__(0, "ctr:zz"),
     "ops.0.args.0", "'ctr:zz'"),
    ("result of a later op", lambda c: unit(c, EW0)["ops"][0]["args"].__setitem__(0, "%1"),
     "ops.0.args.0", "'%1' is not the result of an earlier op"),
    ("result of the op itself", lambda c: unit(c, EW1)["ops"][2]["args"].__setitem__(0, "%2"),
     "ops.2.args.0", "'%2'"),
    ("result %99", lambda c: unit(c, EW1)["ops"][2]["args"].__setitem__(0, "%99"),
     "ops.2.args.0", "'%99'"),
    ("result %-1", lambda c: unit(c, EW1)["ops"][2]["args"].__setitem__(0, "%-1"),
     "ops.2.args.0", "'%-1'"),
    ("operand 'banana'", lambda c: unit(c, EW1)["ops"][2]["args"].__setitem__(0, "banana"),
     "ops.2.args.0", "'banana' is not an operand"),
    ("segment of a ghost result",
     lambda c: unit(c, MR)["reduce"]["segments"][0].update(value="%99"),
     "reduce.segments.0.value", "'%99'"),
    ("emit of a ghost result",
     in_unit(EW1, "emits", [{"port": "vo1", "values": ["%99"]}]), "emits.0.values.0", "'%99'"),
    ("copy 99 of a 5-copy nest", in_unit(EW1, "copies", [99]), "copies.0", "serves copy 99"),
    ("copy -1", in_unit(EW1, "copies", [-1]), "copies.0", "serves copy -1"),
    # slices and offsets
    *[(f"box slice {s}", lambda c, s=s: unit(c, PMU_IN)["boxes"][0]["slices"].__setitem__(2, s),
       "boxes.0.slices.2", f"slice {s}") for s in ([0, 50, 1], [0, 5, 0], [-5, 5, 1],
                                                    [3, 1, 1], [0, 5, -1])],
    ("box of one slice for three dimensions",
     lambda c: unit(c, PMU_IN)["boxes"][0].update(slices=[[0, 5, 1]]), "boxes.0.slices",
     "1 slices of memory 'h0'"),
    *[(f"holding slice {s}",
       lambda c, s=s: unit(c, PMU_W)["holds"][0]["slices"].__setitem__(2, s),
       "holds.0.slices.2", f"slice {s}") for s in ([0, 40, 1], [4, 8, 1])],
    ("read offsets past the memory",
     lambda c: unit(c, EW0)["ops"][0]["params"].update(offsets=[0, 0, 100]),
     "ops.0.params.offsets", "offsets [0, 0, 100]"),
    ("read offsets of one dimension",
     lambda c: unit(c, EW0)["ops"][0]["params"].update(offsets=[0]), "ops.0.params.offsets",
     "offsets [0]"),
    ("read offsets negative",
     lambda c: unit(c, EW0)["ops"][0]["params"].update(offsets=[0, -1, 0]),
     "ops.0.params.offsets", "offsets [0, -1, 0]"),
    ("buffer offset not an integer",
     lambda c: unit(c, EW0)["ops"][1]["params"].update(buffer_offset="next"),
     "ops.1.params.buffer_offset", "'next'"),
    # lookup tables
    *[(f"table '{t}'", in_unit(LUT, "lut", t), "lut", f"'{t}'")
      for t in ("sigmoid:1:8:linear", "sigmoid:1024:nan:linear", "sigmoid:1024:8:cubic",
                "banana:1024:8:linear", "sigmoid", "sigmoid:1024:8:linear:extra")],
    # the chip
    ("two chips declared, one given", setting("design.chips", 2), "design.chips",
     "says 2 chip(s)"),
    ("chip 0 with id 5", setting("chips.0.id", 5), "chips.0.id", "has id 5"),
    ("architecture name against its description", setting("arch.name", "other"), "arch.name",
     "'other'"),
    # the JSON itself
    ("NaN latency", text_edit('"latency_ms": ', '"latency_ms": NaN, "x": '), "", "NaN"),
    ("Infinity as a count", text_edit('"buffers": 1,', '"buffers": Infinity,'), "",
     "Infinity"),
    ("5000-digit integer", text_edit('"buffers": 1,', '"buffers": ' + "9" * 5000 + ","), "",
     "digits"),
    ("100000 nested arrays", lambda c: "[" * 100000 + "]" * 100000, "", "nested too deeply"),
    ("100000 nested arrays in a field",
     text_edit('"predicted": {', '"predicted": {"x": ' + "[" * 100000 + "]" * 100000 + ", "),
     "", "nested too deeply"),
    ("a byte-order mark", lambda c: "\ufeff" + json.dumps(c), "", "BOM"),
    ("an integer written as 1.5", text_edit('"buffers": 1,', '"buffers": 1.5,'),
     "buffers", "1.5"),
]


def _configs() -> Iterator[Case]:
    for name, edit, field, fragment in CONFIG_EDITS:
        yield Case("config", f"sim: {name}", sim(edit), "config.json",
                   f"{field}': " if field else "", fragment)
    for name, edit, field, fragment in CONFIG_EDITS[::6]:  # the same loader: a sample
        yield Case("config", f"show: {name}", show(edit), "config.json",
                   f"{field}': " if field else "", fragment)
    yield Case("config", "show: --chip 1 of one", show(None, "-o", "p.svg", "--chip", "1"),
               "--chip", "1 chip(s)")
    yield Case("config", "show: unknown picture format", show(None, "-o", "p.pdf"), "p.pdf",
               "'.pdf'")
    yield Case("config", "sim: config is a directory",
               lambda d: ["sim", folder("c.json")(d), "--inputs", inputs(d, B1_INPUTS)],
               "c.json", "is a directory")
    yield Case("config", "sim: config is /dev/zero",
               lambda d: ["sim", "/dev/zero", "--inputs", inputs(d, B1_INPUTS)], "/dev/zero",
               "not a regular file")
    yield Case("config", "show: config missing", lambda d: ["show", "none.json", "-o", "p.svg"],
               "none.json", "no such file")
    yield Case("config", "sim: config not UTF-8",
               lambda d: ["sim", write("c.json", b"{\xff}")(d), "--inputs",
                          inputs(d, B1_INPUTS)], "c.json", "cannot read")


def _weights(lost: str | None = None, **arrays: np.ndarray) -> bytes:
    """A weight file holding the compiled GRU's arrays (but `lost`), or these `arrays`."""
    held = dict(np.load(io.BytesIO(_compiled()[1])))
    if lost is not None:
        del held[lost]
    buffer = io.BytesIO()
    np.savez(buffer, **{**held, **arrays})
    return buffer.getvalue()


def _weight_files() -> Iterator[Case]:
    W = GRU_WEIGHTS["W"]
    hashed = {  # each with the config's sha256 made to match it
        "truncated to half": lambda: _compiled()[1][: len(_compiled()[1]) // 2],
        "truncated by one byte": lambda: _compiled()[1][:-1],
        "empty": lambda: b"",
        "not an npz": lambda: b"W R\n",
        "a .npy": lambda: npy(W),
        "missing W": lambda: _weights("W"),
        "W of float64": lambda: _weights(W=W.astype("f8")),
        "W of int32": lambda: _weights(W=W.astype("i4")),
        "W of the wrong shape": lambda: _weights(W=W[:, :10]),
        "W of strings": lambda: _weights(W=np.full((1, 15, 4), "w")),
        "W header claims 10^12 elements": lambda: zip_of({
            "W.npy": npy_member({"descr": "<f4", "fortran_order": False, "shape": (10**12,)}),
            "R.npy": npy(GRU_WEIGHTS["R"])}),
        "W data missing": lambda: zip_of({
            "W.npy": npy_member({"descr": "<f4", "fortran_order": False, "shape": (1, 15, 4)}),
            "R.npy": npy(GRU_WEIGHTS["R"])}),
        "a 2 MB zip bomb": lambda: zip_bomb("W.npy", R=GRU_WEIGHTS["R"]),
        "a member that is not .npy": lambda: zip_of({"W.txt": b"1", "R.npy": npy(W)}),
    }
    for name, content in hashed.items():
        yield Case("weights", f"{name}, hash matching", sim(weights=content), "config.json",
                   "field 'weights.")
    def altered(d: Path) -> list[str]:
        argv = sim()(d)
        (d / "config.weights.npz").write_bytes(_weights(W=W * 2))
        return argv

    yield Case("weights", "altered, hash not matching", altered, "config.json",
               "field 'weights.sha256'")
    for path, fragment in (("/dev/zero", "not a regular file"), (".", "is a directory"),
                           ("nowhere.npz", "no such file"), ("../../x.npz", "no such file")):
        yield Case("weights", f"weights.path {path}", sim(setting("weights.path", path)),
                   "config.json", "field 'weights.path': ", fragment)
    yield Case("weights", "declared of dtype object", sim(setting("weights.arrays.W.dtype",
                                                                   "object")),
               "config.json", "field 'weights.arrays.W.dtype'")
    yield Case("weights", "declared of another shape",
               sim(setting("weights.arrays.W.shape", [1, 15, 5])), "config.json",
               "field 'weights.path': ", "'W' has shape 1x15x4, expected 1x15x5")
    yield Case("weights", "declared array not in the file",
               sim(lambda c: c["weights"]["arrays"].update(Z={"shape": [1], "dtype": "float32"})),
               "config.json", "field 'weights.path': ", "missing weight array(s) Z")


def _collisions() -> Iterator[Case]:
    """Outputs that would replace an input of the command, or be left half-written."""
    def sim_to(*outputs: str) -> Setup:
        return lambda d: [*sim()(d), *outputs]

    yield Case("outputs", "sim: -o is --report", sim_to("-o", "r.json", "--report", "r.json"),
               "r.json", "twice")
    yield Case("outputs", "sim: -o is --report, spelled differently",
               sim_to("-o", "r.json", "--report", "./r.json"), "r.json", "twice")
    for flag in ("-o", "--report"):
        yield Case("outputs", f"sim: {flag} is the configuration", sim_to(flag, "config.json"),
                   "config.json", f"{flag} names the configuration")
        yield Case("outputs", f"sim: {flag} is the weight file",
                   sim_to(flag, "config.weights.npz"), "config.weights.npz",
                   f"{flag} names the configuration's weights")
        yield Case("outputs", f"sim: {flag} is the inputs", sim_to(flag, "in.npz"), "in.npz",
                   f"{flag} names the inputs")
        yield Case("outputs", f"sim: {flag} in a missing folder", sim_to(flag, "no/x"), "no/x",
                   "does not exist")
        yield Case("outputs", f"sim: {flag} unwritable", sim_to(flag, "/proc/rnnc-x"),
                   "/proc/rnnc-x")
    yield Case("outputs", "sim: -o is the configuration, spelled differently",
               sim_to("-o", "./config.json"), "./config.json", "names the configuration")

    def linked(hard: bool) -> Setup:
        def setup(d: Path) -> list[str]:
            argv = sim()(d)
            link = d / "o.npz"
            if hard:
                os.link(d / "config.weights.npz", link)
            else:
                link.symlink_to("config.json")
            return [*argv, "-o", "o.npz"]

        return setup

    yield Case("outputs", "sim: -o is a link to the configuration", linked(False), "o.npz",
               "names the configuration")
    yield Case("outputs", "sim: -o is a hard link to the weight file", linked(True), "o.npz",
               "names the configuration's weights")
    yield Case("outputs", "sim: -o is a directory", lambda d: [*sim()(d), "-o", folder("o")(d)],
               "o", "directory")
    yield Case("outputs", "sim: --report kept back when -o is a directory",
               lambda d: [*sim()(d), "--report", "r.json", "-o", folder("o")(d)], "o",
               "directory")
    yield Case("outputs", "sim: --report kept back when -o fails at the end (/dev/full)",
               sim_to("--report", "r.json", "-o", "/dev/full"), "/dev/full", "no space")
    yield Case("outputs", "sim: -o kept back when --report fails at the end (/dev/full)",
               sim_to("-o", "o.npz", "--report", "/dev/full"), "/dev/full", "no space")
    yield Case("outputs", "sim: nothing written when the inputs are bad",
               lambda d: ["sim", config(d), "--inputs",
                          inputs(d, {"X": B1_INPUTS["X"]}, "bad.npz"), "-o", "o.npz",
                          "--report", "r.json"], "bad.npz", "h0")
    yield Case("outputs", "sim: nothing written when the config is bad",
               lambda d: [*sim(setting("program.schedule.1.steps", 0))(d), "-o", "o.npz",
                          "--report", "r.json"], "config.json", "program.schedule.1.steps")

    def renamed_config(d: Path) -> list[str]:
        config(d)
        (d / "config.json").rename(d / "c.svg")
        return ["show", "c.svg", "-o", "c.svg"]

    yield Case("outputs", "show: -o is the configuration (named .svg)", renamed_config, "c.svg",
               "-o names the configuration")
    def weights_named_png(d: Path) -> list[str]:
        config(d, setting("weights.path", "w.png"))
        (d / "config.weights.npz").rename(d / "w.png")
        return ["show", "config.json", "-o", "w.png"]

    yield Case("outputs", "show: -o is the weight file (named .png)", weights_named_png,
               "w.png", "names the configuration's weights")
    yield Case("outputs", "show: -o in a missing folder", show(None, "-o", "no/p.svg"),
               "no/p.svg", "does not exist")
    yield Case("outputs", "show: -o is a directory",
               lambda d: [*show(None, "-o", "p.svg")(d)[:2], "-o", folder("p.svg")(d)],
               "p.svg", "directory")

    def compiled_with(weights_name: str, *argv: str) -> Setup:
        def setup(d: Path) -> list[str]:
            model = MODEL_B1.replace('"model.npz"', f'"{weights_name}"')
            (d / "model.mlir").write_text(model)
            _npz(d / weights_name, GRU_WEIGHTS)
            return ["model.mlir", *argv]

        return setup

    yield Case("outputs", "compile: the config's weights are the model's",
               compiled_with("c.weights.npz", "-o", "c.json"), "c.weights.npz",
               "names the model's weights")
    yield Case("outputs", "compile: -o is the model", compiled_with("w.npz", "-o", "model.mlir"),
               "model.mlir", "-o names the model")
    yield Case("outputs", "compile: -o is the model's weights",
               compiled_with("w.npz", "-p", "rnn-decompose", "-o", "w.npz"), "w.npz",
               "-o names the model's weights")
    yield Case("outputs", "compile: --dse-dump is the model's weights",
               compiled_with("w.npz", "--emit=loop", "-o", "o.mlir", "--dse-dump", "w.npz"),
               "w.npz", "--dse-dump names the model's weights")
    yield Case("outputs", "compile: --dse-dump is the model",
               compiled_with("w.npz", "--emit=loop", "--dse-dump", "model.mlir"), "model.mlir",
               "--dse-dump names the model")
    yield Case("outputs", "run: -o is the inputs",
               lambda d: ["run", gru(d), "--inputs", inputs(d), "-o", "in.npz"], "in.npz",
               "-o names the inputs")
    yield Case("outputs", "run: -o is the model's weights",
               lambda d: ["run", gru(d), "--inputs", inputs(d), "-o", "model.npz"], "model.npz",
               "-o names the model's weights")
    yield Case("outputs", "import: -o is the ONNX model",
               lambda d: ["import", _onnx(d), "-o", "model.onnx"], "model.onnx",
               "-o names the ONNX model")
    yield Case("outputs", "gen: -o is the task table",
               lambda d: ["gen", "--csv-row", "1", "--csv",
                          write("t.csv", "cell,hidden,batch,steps\nlstm,8,1,2\n")(d), "-o",
                          "t.csv"], "t.csv", "-o names the task table")


GOOD_STUDY = """\
models:
  - gen: {cell: lstm, hidden: 64, steps: 4}
architectures:
  - preset: plasticine-rnn
"""


def _studies() -> Iterator[Case]:
    def study(text: str | bytes, name: str = "s.yaml", *extra: str) -> Setup:
        return lambda d: ["sweep", write(name, text)(d), "-o", "r.csv", "--no-cache", *extra]

    def model(entry: str) -> str:
        return GOOD_STUDY.replace("gen: {cell: lstm, hidden: 64, steps: 4}", entry)

    laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, "
        f"*a{i - 1}, *a{i - 1}, *a{i - 1}]\n" for i in range(1, 10)) + "models: *a9\n"
    texts: dict[str, tuple[str | bytes, str, str]] = {
        "a tab in YAML": ("models:\n\t- gen: x\n", "s.yaml:2:1", "invalid YAML"),
        "JSON with a trailing comma": ('{"models": [1,],}', "s.yaml", ""),
        "a list": ("- 1\n- 2\n", "s.yaml", "expected an object"),
        "a scalar": ("hello\n", "s.yaml", "expected an object"),
        "empty": ("", "s.yaml", "expected an object"),
        "null": ("~\n", "s.yaml", "expected an object"),
        "20000 nested lists": ("[" * 20000 + "]" * 20000, "s.yaml", "nested too deeply"),
        "billion laughs": (laughs, "s.yaml:2:", "aliases"),
        "binary": (b"\x00\x01\xff\xfe", "s.yaml", "UTF-8"),
        "UTF-16": (GOOD_STUDY.encode("utf-16"), "s.yaml", "UTF-8"),
        "grid field typo": (GOOD_STUDY + "    grid: {pcu.lanez: [1]}\n", "s.yaml",
                            "'architectures.0.grid.pcu.lanez': no such architecture field"),
        "grid field below a number": (GOOD_STUDY + "    grid: {pcu.lanes.x: [1]}\n", "s.yaml",
                                      "'architectures.0.grid.pcu.lanes.x'"),
        "grid of no values": (GOOD_STUDY + "    grid: {pcu.lanes: []}\n", "s.yaml",
                              "must not be empty"),
        "grid not a mapping": (GOOD_STUDY + "    grid: [1, 2]\n", "s.yaml",
                               "'architectures.0.grid'"),
        "grid pcu.count -5": (GOOD_STUDY + "    grid: {pcu.count: [-5]}\n", "s.yaml",
                              "pcu.count=-5"),
        "grid pcu.count 10^20": (GOOD_STUDY + "    grid: {pcu.count: [100000000000000000000]}\n",
                                 "s.yaml", "pcu.count=100000000000000000000"),
        "grid field name with a space": (GOOD_STUDY + "    grid: {'pcu lanes': [1]}\n",
                                         "s.yaml", "'architectures.0.grid"),
        "architecture file missing": (GOOD_STUDY.replace("preset: plasticine-rnn",
                                                         "file: none.json"), "none.json", ""),
        "architecture preset unknown": (GOOD_STUDY.replace("plasticine-rnn", "tpu"), "s.yaml",
                                        "no preset 'tpu'"),
        "architecture with preset and file": (GOOD_STUDY.replace(
            "preset: plasticine-rnn", "preset: plasticine-rnn\n    file: a.json"), "s.yaml",
            "expected exactly one of preset, file"),
        "model file is a directory": (model("file: ."), ".", "is a directory"),
        "model file is /dev/zero": (model("file: /dev/zero"), "/dev/zero", "not a regular file"),
        "model file missing": (model("file: none.mlir"), "none.mlir", ""),
        "task table is /dev/zero": (model("csv_row: 1\n    csv: /dev/zero"), "/dev/zero",
                                    "not a regular file"),
        "task row past the table": (model("csv_row: 9999"), "", "row 9999 does not exist"),
        "generated model too large": (GOOD_STUDY.replace("hidden: 64", "hidden: 100000000"),
                                      "s.yaml", "'models.0.gen'"),
        "generated model of cell tcn": (GOOD_STUDY.replace("lstm", "tcn"), "s.yaml",
                                        "'models.0.gen.cell'"),
        "two sources of one model": (model("csv_row: 3\n    gen: {cell: rnn, hidden: 8, "
                                           "steps: 2}"), "s.yaml", "expected exactly one of"),
        "no models": (GOOD_STUDY.replace("models:\n  - gen: {cell: lstm, hidden: 64, steps: 4}",
                                         "models: []"), "s.yaml", "'models'"),
        "models a number": (GOOD_STUDY.replace(
            "models:\n  - gen: {cell: lstm, hidden: 64, steps: 4}", "models: 3"), "s.yaml",
            "'models'"),
        "model twice": (model("gen: {cell: lstm, hidden: 64, steps: 4}\n  - gen: {cell: lstm, "
                              "hidden: 64, steps: 4}"), "s.yaml", "appears twice"),
        "precision of no name": (GOOD_STUDY + "precisions: ['']\n", "s.yaml",
                                 "'precisions.0'"),
        "pipelines twice": (GOOD_STUDY + "pipelines: [fused, fused]\n", "s.yaml",
                            "'pipelines'"),
        "pipeline unrolled": (GOOD_STUDY + "pipelines: [unrolled]\n", "s.yaml",
                              "'pipelines.0'"),
        "chips -1": (GOOD_STUDY + "chips: [-1]\n", "s.yaml", "'chips.0'"),
        "run route": (GOOD_STUDY + "run: route\n", "s.yaml", "'run'"),
        "name ../x": (GOOD_STUDY + "name: '../x'\n", "s.yaml", "'name'"),
        "unknown key": (GOOD_STUDY + "engine: ray\n", "s.yaml", "'engine': unknown field"),
    }
    for name, (text, where, fragment) in texts.items():
        yield Case("study", name, study(text), where, fragment)
    yield Case("study", "the study is /dev/zero",
               lambda d: ["sweep", "/dev/zero", "-o", "r.csv", "--no-cache"], "/dev/zero",
               "not a regular file")
    yield Case("study", "the study is a directory",
               lambda d: ["sweep", folder("s.yaml")(d), "-o", "r.csv", "--no-cache"], "s.yaml",
               "is a directory")
    yield Case("study", "the study is missing",
               lambda d: ["sweep", "none.yaml", "-o", "r.csv", "--no-cache"], "none.yaml")
    yield Case("study", "-o is the study (named .csv)",
               lambda d: ["sweep", write("s.csv", GOOD_STUDY)(d), "-o", "s.csv", "--no-cache"],
               "s.csv", "-o names the study")
    yield Case("study", "-o of suffix .txt", lambda d: [*study(GOOD_STUDY)(d)[:2], "-o", "r.txt"],
               "r.txt", "'.txt'")
    yield Case("study", "-o in a missing folder",
               lambda d: [*study(GOOD_STUDY)(d)[:2], "-o", "no/r.csv"], "no/r.csv")
    yield Case("study", "--workers 0", study(GOOD_STUDY, "s.yaml", "--workers", "0"),
               "--workers")
    yield Case("study", "--max-points 0", study(GOOD_STUDY, "s.yaml", "--max-points", "0"),
               "--max-points")


def results_csv(drop: tuple[str, ...] = (), rows: int = 1, **changes: object) -> str:
    """A results table as `rnnc sweep` writes it (CSV), without the columns `drop`, with
    `rows` copies of one ok row with `changes`."""
    from rnnc.driver.sweep.job import RESULT_FIELDS
    from rnnc.driver.sweep.table import POINT_FIELDS, SETTING_FIELDS

    row: dict[str, object] = {
        "point": 0, "model": "lstm-64-4", "source": "gen", "cell": "lstm", "hidden": 64,
        "input": 64, "steps": 4, "batch": 1, "arch": "plasticine-rnn", "arch_sha256": "0" * 64,
        "arch_pcus": 192, "arch_pmus": 384, "die_area_mm2": 494.4, "pipeline": "fused",
        "objective": "latency", "chips": 1, "run": "search", "precision": "mixed",
        "status": "ok", "reason": "", "design": "hu=4", "pcus": 12, "pmus": 20, "chips_used": 1,
        "cycles_per_step": 100, "total_cycles": 400, "predicted_latency_ms": 0.0004,
        "simulated_cycles": "", "simulated_latency_ms": "", "error": "", "bound": "compute",
        "compile_seconds": 1.5, **changes,
    }
    names = [n for n in dict.fromkeys([*POINT_FIELDS, *RESULT_FIELDS, *SETTING_FIELDS])
             if n not in drop]
    line = ",".join(str(row[n]) for n in names)
    return "\n".join([",".join(names), *[line] * rows]) + "\n"


def _results() -> Iterator[Case]:
    def plot(text: str | bytes, *extra: str, kind: str = "pareto",
             name: str = "r.csv") -> Setup:
        return lambda d: ["plot", write(name, text)(d), "--kind", kind, "-o", "p.png", *extra]

    for column in ("status", "predicted_latency_ms", "simulated_latency_ms", "point", "pcus",
                   "arch_sha256"):
        yield Case("results", f"no {column} column", plot(results_csv((column,))), "r.csv",
                   f"no column '{column}'")
    yield Case("results", "no rows", plot(results_csv(rows=0)), "r.csv", "no rows")
    yield Case("results", "an empty file", plot(""), "r.csv", "no rows")
    yield Case("results", "not UTF-8", plot(b"\x00\xff" * 100), "r.csv", "not a results table")
    yield Case("results", "a ragged row", plot(results_csv() + "0,m,gen\n"), "r.csv",
               "not a results table")
    yield Case("results", "Parquet that is text", plot("hello", name="r.parquet"), "r.parquet",
               "not a results table")
    yield Case("results", "a .txt table", plot(results_csv(), name="r.txt"), "r.txt", "'.txt'")
    yield Case("results", "/dev/zero",
               lambda d: ["plot", "/dev/zero", "--kind", "pareto", "-o", "p.png"], "/dev/zero")
    yield Case("results", "a directory",
               lambda d: ["plot", folder("r.csv")(d), "--kind", "pareto", "-o", "p.png"],
               "r.csv", "directory")
    yield Case("results", "missing", lambda d: ["plot", "none.csv", "--kind", "pareto", "-o",
                                               "p.png"], "none.csv")
    yield Case("results", "no row ok", plot(results_csv(status="failed")), "rnnc plot",
               "no row with status ok")
    yield Case("results", "--where of no column", plot(results_csv(), "--where", "colour=red"),
               "--where", "no column 'colour'")
    yield Case("results", "--where of no row", plot(results_csv(), "--where",
                                                    "pipeline=fusd"), "--where",
               "the values of pipeline: fused")
    yield Case("results", "--where without =", plot(results_csv(), "--where", "pipeline"),
               "--where", "COLUMN=VALUE")
    yield Case("results", "heatmap of no varied field", plot(results_csv(), kind="heatmap"),
               "rnnc plot", "heatmap")
    yield Case("results", "speedup of nothing", plot(results_csv(), kind="speedup"),
               "rnnc plot", "nothing to plot")
    yield Case("results", "-o twice", plot(results_csv(), "-o", "./p.png"), "./p.png", "twice")
    yield Case("results", "-o .jpg",
               lambda d: ["plot", write("r.csv", results_csv())(d), "--kind", "pareto", "-o",
                          "p.jpg"], "p.jpg", "'.jpg'")
    yield Case("results", "-o in a missing folder", plot(results_csv(), "-o", "no/q.png"),
               "no/q.png", "does not exist")


def all_cases() -> list[Case]:
    cases = [
        *_syntax(), *_outputs(), *_architecture(), *_npz_files(), *_runtime(), *_memory(),
        *_plugins(), *_pipelines(), *_command_line(), *_onnx_files(), *_configs(),
        *_weight_files(), *_collisions(), *_studies(), *_results(),
    ]
    ids = [case.id for case in cases]
    assert len(ids) == len(set(ids)), "case names must be unique"
    return cases


CASES = all_cases()
