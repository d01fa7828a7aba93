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

import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

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


def all_cases() -> list[Case]:
    cases = [
        *_syntax(), *_outputs(), *_architecture(), *_npz_files(), *_runtime(), *_memory(),
        *_plugins(), *_pipelines(), *_command_line(), *_onnx_files(),
    ]
    ids = [case.id for case in cases]
    assert len(ids) == len(set(ids)), "case names must be unique"
    return cases


CASES = all_cases()
