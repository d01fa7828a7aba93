"""The architecture model: one typed, immutable description of the target chip.

Every pass that needs to know the hardware (the cost model, the design-space search,
placement, routing, the configuration emitter and the simulator) receives an
`Architecture` explicitly; there is no global chip. An architecture is data: it is loaded
from a JSON or YAML file (or a shipped preset, see `presets/`), checked against
`presets/architecture.schema.json` with `jsonschema`, then checked for cross-field
consistency, and every violation becomes one `ArchitectureError` naming the field, what
was expected and what was found.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from rnnc.diagnostics import Diagnostic
from rnnc.dialects.spatial import UnitKind
from rnnc.numerics.formats import WeightFormat, is_format_name, parse_format
from rnnc.numerics.precision import parse_precision

PRESET_DIR = Path(__file__).parent / "presets"
SCHEMA_PATH = PRESET_DIR / "architecture.schema.json"
DEFAULT_ARCHITECTURE = "plasticine-rnn"
# The paper's published figures (Tables 3, 4, 6, 7), for calibration and benchmarks.
PAPER_DEEPBENCH = Path(__file__).parent / "paper_deepbench.json"

#: The kinds of unit that occupy grid sites (address generators sit beside the grid).
SITE_KINDS = tuple(kind for kind in UnitKind if kind != UnitKind.AG)
#: An architecture file is a few kilobytes; this bounds what a wrong path makes us read.
MAX_FILE_BYTES = 16 << 20


class ArchitectureError(Diagnostic):
    """An architecture file that cannot be used: `<file>: error: field 'a.b': expected ...`."""

    def __init__(self, source: str, message: str):
        super().__init__(source, message)


@dataclass(frozen=True)
class Grid:
    """The unit array: `rows` x `cols` sites; `tile` (rows of unit kinds) repeats over it."""

    rows: int
    cols: int
    tile: tuple[tuple[str, ...], ...]

    def unit_at(self, row: int, col: int) -> str:
        """The kind of unit ("pcu" or "pmu") at a grid site."""
        if not (0 <= row < self.rows and 0 <= col < self.cols):
            raise IndexError(f"site ({row}, {col}) is outside the {self.rows}x{self.cols} grid")
        pattern = self.tile[row % len(self.tile)]
        return pattern[col % len(pattern)]

    def sites(self, kind: str) -> int:
        """How many sites of the grid hold a unit of `kind` (exact, as the tile repeats)."""
        tile_rows, tile_cols = len(self.tile), len(self.tile[0])
        per_tile = sum(row.count(kind) for row in self.tile)
        return per_tile * (self.rows // tile_rows) * (self.cols // tile_cols)


@dataclass(frozen=True)
class PCU:
    """Pattern compute unit: a SIMD pipeline of `lanes` x `stages` functional units."""

    count: int
    lanes: int
    stages: int
    registers_per_stage: int
    scalar_inputs: int
    scalar_outputs: int
    vector_inputs: int
    vector_outputs: int
    arithmetic_bits: tuple[int, ...]
    area_mm2: float
    power_w: float
    control_inputs: int = 0
    control_outputs: int = 0
    counters: int = 8
    """Counters of the unit's chain (one per loop level it iterates): ISCA'17 does not
    say; its draft shows 4 chainable counters, the Stanford RTL (`PCU.scala`) has 8."""


@dataclass(frozen=True)
class PMU:
    """Pattern memory unit: a banked scratchpad with a scalar address datapath."""

    count: int
    capacity_kib: int
    banks: int
    bank_width_bits: int
    address_stages: int
    scalar_inputs: int
    vector_inputs: int
    vector_outputs: int
    area_mm2: float
    power_w: float
    scalar_outputs: int = 0
    control_inputs: int = 0
    control_outputs: int = 0
    counters: int = 8
    """Counters of the address datapath's chain (as a PCU's; RTL `PMU.scala`)."""

    @property
    def capacity_bytes(self) -> int:
        return self.capacity_kib * 1024

    @property
    def read_bytes_per_cycle(self) -> int:
        """Every bank delivers one word per cycle."""
        return self.banks * self.bank_width_bits // 8


@dataclass(frozen=True)
class AG:
    """A DRAM address generator's ports per network (a port not listed does not exist)."""

    scalar_inputs: int = 0
    scalar_outputs: int = 0
    vector_inputs: int = 0
    vector_outputs: int = 0
    control_inputs: int = 0
    control_outputs: int = 0


@dataclass(frozen=True)
class Links:
    """Parallel links between neighbouring switches, per network."""

    scalar: int
    vector: int
    control: int


@dataclass(frozen=True)
class Network:
    """The three statically routed switch networks (scalar, vector, control)."""

    hop_latency_cycles: int
    links_per_switch: Links
    area_mm2: float
    power_w: float
    address_generator_attachment: str = "unit-row"


@dataclass(frozen=True)
class DRAM:
    """Off-chip memory, reached through address generators on some edges of the grid."""

    bandwidth_gbs: float
    channels: int
    address_generator_edges: tuple[str, ...]
    address_generators_per_edge: int
    controller_area_mm2: float

    @property
    def address_generators(self) -> int:
        return len(self.address_generator_edges) * self.address_generators_per_edge


@dataclass(frozen=True)
class Interchip:
    """The links between chips when a model is split over several of them: each chip has
    `links_per_chip` links of `link_bandwidth_gbs` each way and `link_latency_cycles`
    one-way latency; `topology` is how they join the chips: "ring" (each chip's links go
    to its two neighbours, half each way) or "all-to-all" (a link to every other chip,
    shared round-robin when there are fewer links than other chips)."""

    link_bandwidth_gbs: float
    link_latency_cycles: int
    links_per_chip: int = 2
    topology: str = "ring"
    ports: tuple[tuple[int, int], ...] = ()
    """Per link, the switch (row, col) on the edge of the switch mesh where its port sits:
    the on-chip streams of the exchange start or end there. Empty: the default of
    `rnnc.target.multichip.link_ports`."""


@dataclass(frozen=True)
class Precision:
    """A precision mode: how weights are stored and how a PCU lane multiplies them."""

    name: str
    description: str
    weight_bits: int
    macs_per_lane: int
    map_reduce_prefix_stages: int

    @property
    def weight_bytes(self) -> int:
        return self.weight_bits // 8

    @property
    def weight_format(self) -> WeightFormat | None:
        """The block-scaled storage format a mode named after one stores weights in."""
        return parse_format(self.name) if is_format_name(self.name) else None

    @property
    def multiplier_bits(self) -> int:
        """Width of a multiplier input: a narrow format is widened to 8 bits."""
        return 8 if self.weight_format is not None else self.weight_bits

    @property
    def tables(self) -> bool:
        """Whether nonlinearities are lookup tables (every mode but fp32)."""
        return self.name != "fp32"

    def row_bytes(self, elements: Any, blocks: Any = None) -> Any:
        """Bytes of a row of `elements` weights as stored: in a block-scaled format the
        codes and the scales of `blocks` blocks (default: the row's own, from a block's
        start)."""
        fmt = self.weight_format
        if fmt is None:
            return elements * self.weight_bytes
        return fmt.row_bytes(elements, blocks)


@dataclass(frozen=True)
class Timing:
    """Timing constants of the cost model (each one is explained in the preset's notes)."""

    min_ii_cycles: int
    step_overhead_cycles: int
    transfer_hops: int
    elementwise_op_cycles: int
    pmu_write_cycles: int


@dataclass(frozen=True)
class FifoDepth:
    """Entries of a unit's input FIFO on each data network (a word, a vector). Control
    tokens have no FIFO of their own: the controller counts them, one done token per unit
    and nest, and its counters never fill; they cross their routed control paths, sharing
    the control links in time (`rnnc.simulator.timing`)."""

    scalar: int
    vector: int


@dataclass(frozen=True)
class Mechanisms:
    """What the config simulator times beyond stages and hops (see the preset's notes).
    The defaults are Plasticine's: FIFO depths of the RTL (scalar 32 words, vector 8
    entries), PIR's 100-cycle DRAM stand-in, 64-byte bursts, a one-cycle counter update
    for a controller and for an N-buffer swap, and NET19's 2-entry skid buffer per
    switch."""

    fifo_depth: FifoDepth = FifoDepth(scalar=32, vector=8)
    """Held back by credits: a full FIFO stops its producer."""
    dram_latency_cycles: int = 100
    """Cycles from a load's request to its data (and a store's to its acknowledgement)."""
    dram_burst_bytes: int = 64
    """A DRAM stream moves its bytes of a step in whole bursts (rounded up)."""
    controller_cycles: int = 1
    """Cycles a controller takes from its last done token to the next enable."""
    buffer_swap_cycles: int = 1
    """Cycles an N-buffered memory takes to swap, after its writer's last write of a step
    before the reader reads it, and after its reader's last read before it is rewritten."""
    switch_buffer_entries: int = 2
    """Entries of the skid buffer at each switch input a stream crosses (NET19's per-hop
    back-pressure, PIR's default `link-prop=db`): a route holds this many tokens per hop
    beyond the consumer's input FIFO."""


@dataclass(frozen=True)
class Architecture:
    """A spatial accelerator. Loaded with `load_architecture`; never a global."""

    name: str
    description: str
    notes: tuple[str, ...]
    clock_ghz: float
    grid: Grid
    pcu: PCU
    pmu: PMU
    network: Network
    dram: DRAM
    interchip: Interchip
    precisions: tuple[Precision, ...]
    default_precision: str
    timing: Timing
    ag: AG = AG()
    mechanisms: Mechanisms = Mechanisms()

    def ports(self, kind: str, network: str, direction: str) -> int:
        """How many `direction` ("inputs" or "outputs") ports a unit of `kind` ("pcu", "pmu"
        or "ag") has on `network` ("scalar", "vector" or "control"); 0 if none is listed."""
        unit = {"pcu": self.pcu, "pmu": self.pmu, "ag": self.ag}[kind]
        return int(getattr(unit, f"{network}_{direction}"))

    def links(self, network: str) -> int:
        """Links per direction between two adjacent switches on `network`."""
        return int(getattr(self.network.links_per_switch, network))

    def precision(self, name: str | None = None) -> Precision:
        """The precision mode `name` (the default mode when None)."""
        wanted = self.default_precision if name is None else name
        for mode in self.precisions:
            if mode.name == wanted:
                return mode
        supported = ", ".join(mode.name for mode in self.precisions)
        raise ValueError(
            f"architecture '{self.name}' does not support precision '{wanted}' "
            f"(supported: {supported})"
        )

    def max_rv(self, precision: str | None = None) -> int:
        """Widest vectorization of one map-reduce PCU: lanes x packed multiplies per lane."""
        return self.pcu.lanes * self.precision(precision).macs_per_lane

    def map_reduce_latency(self, precision: str | None = None) -> int:
        """Cycles from operands in to an accumulated dot-product chunk out of one PCU:
        the precision's widening stages, the folded cross-lane tree (log2 lanes) and the
        accumulator (paper §4.1: 2 + log2(#LANE) + 1 = 7 for 16 lanes at 8-bit)."""
        tree = math.ceil(math.log2(self.pcu.lanes)) if self.pcu.lanes > 1 else 0
        return self.precision(precision).map_reduce_prefix_stages + tree + 1

    def pmu_read_latency(self) -> int:
        """Address datapath stages, then one cycle of SRAM read."""
        return self.pmu.address_stages + 1

    def transfer_latency(self) -> int:
        """Cycles for a value to move between two units that talk to each other."""
        return self.timing.transfer_hops * self.network.hop_latency_cycles

    def control_sync_latency(self) -> int:
        """A done/enable handshake between consecutive sequential stages: the done tokens
        are gathered from the whole array at its controller and the enable is broadcast
        back, each leg up to half the array's perimeter of switch hops."""
        return (self.grid.rows + self.grid.cols) * self.network.hop_latency_cycles

    def dram_bytes_per_cycle(self) -> float:
        return self.dram.bandwidth_gbs / self.clock_ghz

    def interchip_bytes_per_cycle(self) -> float:
        return self.interchip.link_bandwidth_gbs / self.clock_ghz

    def on_chip_bytes(self) -> int:
        return self.pmu.count * self.pmu.capacity_bytes

    def die_area_mm2(self) -> float:
        """Units, interconnect and memory controller (the ISCA'17 area breakdown)."""
        return (
            self.pcu.count * self.pcu.area_mm2
            + self.pmu.count * self.pmu.area_mm2
            + self.network.area_mm2
            + self.dram.controller_area_mm2
        )

    def to_dict(self) -> dict[str, Any]:
        """The file form of this architecture (loading it gives an equal object)."""
        data = asdict(self)
        data["notes"] = list(self.notes)
        data["grid"]["tile"] = [list(row) for row in self.grid.tile]
        data["pcu"]["arithmetic_bits"] = list(self.pcu.arithmetic_bits)
        data["dram"]["address_generator_edges"] = list(self.dram.address_generator_edges)
        # ports are optional: absent (the default), the file and its digest stay as they were
        ports = data["interchip"].pop("ports")
        if ports:
            data["interchip"]["ports"] = [list(switch) for switch in ports]
        data["precisions"] = {
            mode.pop("name"): mode for mode in (asdict(m) for m in self.precisions)
        }
        return data

    def digest(self) -> str:
        """SHA-256 of the canonical JSON form: identifies the chip in a configuration."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


# ----------------------------------------------------------------------------------------
# Loading and validation
# ----------------------------------------------------------------------------------------


def preset_names() -> tuple[str, ...]:
    """Names of the shipped presets (files in `presets/` other than the schema)."""
    return tuple(
        sorted(path.stem for path in PRESET_DIR.glob("*.json") if path != SCHEMA_PATH)
    )


def load_architecture(name_or_path: str = DEFAULT_ARCHITECTURE) -> Architecture:
    """Load a preset by name (`plasticine-rnn`, `plasticine`) or a JSON/YAML file by path."""
    path = Path(name_or_path)
    if path.is_file():
        return _load_file(path)
    if name_or_path in preset_names():
        return _load_preset(name_or_path)
    presets = ", ".join(preset_names())
    raise ArchitectureError(
        name_or_path, f"no such architecture file, and not a preset name (presets: {presets})"
    )


@cache
def _load_preset(name: str) -> Architecture:
    """Presets are immutable files inside the package, so each is parsed once."""
    return _load_file(PRESET_DIR / f"{name}.json")


def _load_file(path: Path) -> Architecture:
    source = str(path)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ArchitectureError(
            source, f"the file is {size} bytes; an architecture is at most {MAX_FILE_BYTES}"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ArchitectureError(source, f"cannot read the file ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise ArchitectureError(
            source, f"not a UTF-8 text file (byte {error.start} is {error.object[error.start]:#x})"
        ) from None
    return architecture_from_dict(_parse(text, path), source)


def _parse(text: str, path: Path) -> object:
    """JSON for `.json`, YAML (a superset of JSON) for anything else."""
    source = str(path)
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ArchitectureError(
                f"{source}:{error.lineno}:{error.colno}", f"invalid JSON: {error.msg}"
            ) from None
        except RecursionError:
            raise ArchitectureError(source, "invalid JSON: nested too deeply") from None
        except ValueError as error:  # an integer of more digits than Python converts
            raise ArchitectureError(source, f"invalid JSON: {error}") from None
    try:
        return yaml.load(text, Loader=NoAliasLoader)  # a SafeLoader, see below
    except RecursionError:
        raise ArchitectureError(source, "invalid YAML: nested too deeply") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        location = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = getattr(error, "problem", None) or str(error)
        raise ArchitectureError(location, f"invalid YAML: {problem}") from None


class NoAliasLoader(yaml.SafeLoader):
    """YAML's safe loader without aliases: `*name` can make a small file expand to billions
    of nodes (the "billion laughs"), and neither an architecture nor a study needs one."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in this file", mark
            )
        return super().compose_node(parent, index)  # type: ignore[no-untyped-call]


def _check_finite(data: object, source: str, path: tuple[object, ...] = ()) -> None:
    """No NaN or infinity anywhere (JSON's NaN/Infinity/1e400, YAML's .nan/.inf): the cost
    model would silently compute with it."""
    if isinstance(data, float) and not math.isfinite(data):
        raise ArchitectureError(
            source, f"field '{_field(path)}': expected a finite number, got {data}"
        )
    children = data.items() if isinstance(data, dict) else (
        enumerate(data) if isinstance(data, list) else ()
    )
    for key, value in children:
        _check_finite(value, source, (*path, key))


def architecture_from_dict(data: object, source: str = "<architecture>") -> Architecture:
    """Validate a parsed architecture description and build the typed object."""
    _check_finite(data, source)
    problem = schema_problem(_validator(), data)
    if problem is not None:
        raise ArchitectureError(source, problem)
    assert isinstance(data, dict)
    _check_consistency(data, source)
    return _build(data)


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_problem(validator: jsonschema.Validator, data: object) -> str | None:
    """The first violation of the schema (in document order) as one sentence naming the
    field, with a count of the others; None when `data` is valid. Shared with the other
    validated user files (studies), so that they all report errors alike."""
    errors = sorted(validator.iter_errors(data), key=_document_order)
    if not errors:
        return None
    message = _describe_error(errors[0])
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return message


def _document_order(error: jsonschema.ValidationError) -> tuple[str, ...]:
    return tuple(str(part) for part in error.absolute_path)


def _field(path: Sequence[object]) -> str:
    return ".".join(str(part) for part in path) or "<top level>"


def _describe_error(error: jsonschema.ValidationError) -> str:
    """One sentence naming the field, what the schema expects there, and what was found."""
    path = list(error.absolute_path)
    kind = error.validator
    if kind == "required":
        missing = error.message.split("'")[1]
        return f"field '{_field([*path, missing])}': missing (required)"
    if kind == "additionalProperties":
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"field '{_field([*path, extra[0]])}': unknown field (allowed: {allowed})"
    if kind == "propertyNames":
        return f"field '{_field(path)}': invalid mode name {json.dumps(error.instance)}"
    if kind in ("minItems", "minProperties"):
        return f"field '{_field(path)}': must not be empty"
    if kind == "uniqueItems":
        return f"field '{_field(path)}': expected distinct items, got {json.dumps(error.instance)}"
    expected = _expectation(error.schema)
    return f"field '{_field(path)}': expected {expected}, got {json.dumps(error.instance)}"


def _expectation(schema: Mapping[str, Any]) -> str:
    """What a (leaf) schema accepts, in words: 'integer >= 1', 'number > 0', 'one of ...'."""
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(value) for value in schema["enum"])
    kind = schema.get("type", "value")
    if kind == "array":
        items = schema.get("items", {})
        return f"an array of {_expectation(items)}" if items else "an array"
    if kind == "object":
        return "an object"
    bounds = []
    low = next(((key, schema[key]) for key in ("minimum", "exclusiveMinimum") if key in schema),
               None)
    if low is not None and "maximum" in schema:
        bracket = "[" if low[0] == "minimum" else "("
        bounds.append(f"in {bracket}{low[1]}, {schema['maximum']}]")
    elif low is not None:
        bounds.append(f"{'>=' if low[0] == 'minimum' else '>'} {low[1]}")
    elif "maximum" in schema:
        bounds.append(f"<= {schema['maximum']}")
    if "multipleOf" in schema:
        bounds.append(f"a multiple of {schema['multipleOf']}")
    if "pattern" in schema:
        bounds.append(f"matching {schema['pattern']}")
    return ", ".join([" ".join([kind, *bounds[:1]]), *bounds[1:]])


def _check_consistency(data: Mapping[str, Any], source: str) -> None:
    """Rules the schema cannot state: the layout is a rectangle that tiles the grid and
    holds exactly the declared units; precisions fit the PCU's lanes and arithmetic."""
    grid = data["grid"]
    tile = grid["tile"]
    if any(len(row) != len(tile[0]) for row in tile):
        raise ArchitectureError(source, "field 'grid.tile': rows of the tile differ in length")
    for axis, size in (("rows", len(tile)), ("cols", len(tile[0]))):
        if grid[axis] % size:
            raise ArchitectureError(
                source,
                f"field 'grid.{axis}': expected a multiple of the tile's {size} {axis}, "
                f"got {grid[axis]}",
            )
    shape = Grid(grid["rows"], grid["cols"], tuple(tuple(row) for row in tile))
    for kind in SITE_KINDS:
        sites = shape.sites(kind)
        if data[kind]["count"] != sites:
            raise ArchitectureError(
                source,
                f"field '{kind}.count': expected {sites} (the {kind.upper()} sites of the "
                f"{grid['rows']}x{grid['cols']} grid tiled with {json.dumps(tile)}), "
                f"got {data[kind]['count']}",
            )
    for name, mode in data["precisions"].items():
        bits = mode["weight_bits"]
        if name not in ("fp32", "mixed"):
            problem = _format_problem(name, bits)
            if problem:
                raise ArchitectureError(source, f"field 'precisions.{name}': {problem}")
            bits = 8  # widened to the 8-bit multipliers
        if bits not in data["pcu"]["arithmetic_bits"] and bits != mode["weight_bits"]:
            raise ArchitectureError(
                source,
                f"field 'precisions.{name}': its weights are widened to 8-bit multipliers, "
                f"which the PCU's arithmetic_bits {data['pcu']['arithmetic_bits']} lack",
            )
        if bits not in data["pcu"]["arithmetic_bits"]:
            raise ArchitectureError(
                source,
                f"field 'precisions.{name}.weight_bits': expected one of the PCU's "
                f"arithmetic_bits {data['pcu']['arithmetic_bits']}, got {bits}",
            )
        if mode["macs_per_lane"] * bits > 32:
            raise ArchitectureError(
                source,
                f"field 'precisions.{name}.macs_per_lane': expected at most "
                f"{32 // bits} (packed {bits}-bit values in a "
                f"32-bit lane), got {mode['macs_per_lane']}",
            )
        if mode["map_reduce_prefix_stages"] > data["pcu"]["stages"]:
            raise ArchitectureError(
                source,
                f"field 'precisions.{name}.map_reduce_prefix_stages': expected at most "
                f"pcu.stages = {data['pcu']['stages']}, got {mode['map_reduce_prefix_stages']}",
            )
    feed_bits = data["pmu"]["banks"] * data["pmu"]["bank_width_bits"]
    if feed_bits < data["pcu"]["lanes"] * 32:
        raise ArchitectureError(
            source,
            f"field 'pmu.banks': expected banks x bank_width_bits >= {data['pcu']['lanes'] * 32} "
            f"(one PMU feeds a PCU's {data['pcu']['lanes']} 32-bit lanes every cycle), "
            f"got {data['pmu']['banks']} x {data['pmu']['bank_width_bits']}",
        )
    _check_link_ports(data, source)
    if data["default_precision"] not in data["precisions"]:
        raise ArchitectureError(
            source,
            f"field 'default_precision': expected one of {', '.join(data['precisions'])}, "
            f"got {json.dumps(data['default_precision'])}",
        )


def _check_link_ports(data: Mapping[str, Any], source: str) -> None:
    """`interchip.ports`, when given: one distinct switch per link, each on the edge of the
    `(rows+1) x (cols+1)` switch mesh (a chip-to-chip link leaves the chip at its edge)."""
    interchip, grid = data["interchip"], data["grid"]
    ports = [tuple(switch) for switch in interchip.get("ports", ())]
    if not ports:
        return
    if len(ports) != interchip.get("links_per_chip", 2):
        raise ArchitectureError(source, f"field 'interchip.ports': expected one switch per "
                                f"link ({interchip.get('links_per_chip', 2)}), got {len(ports)}")
    for index, (row, col) in enumerate(ports):
        inside = 0 <= row <= grid["rows"] and 0 <= col <= grid["cols"]
        if not inside or (row not in (0, grid["rows"]) and col not in (0, grid["cols"])):
            raise ArchitectureError(source, f"field 'interchip.ports.{index}': switch "
                                    f"[{row}, {col}] is not on the edge of the "
                                    f"{grid['rows'] + 1} x {grid['cols'] + 1} switch mesh")
        if (row, col) in ports[:index]:
            raise ArchitectureError(source, f"field 'interchip.ports.{index}': switch "
                                    f"[{row}, {col}] is already the port of link "
                                    f"{ports.index((row, col))}")


def _format_problem(name: str, bits: int) -> str | None:
    """What is wrong with a precision mode named `name` (not fp32 or mixed) storing
    `bits`-bit weights: it must name a weight format (`rnnc.numerics.formats`) of those
    bits that widens exactly to the 8-bit multipliers' default E4M3 inputs."""
    try:
        mode = parse_precision(name)
    except ValueError as error:
        return str(error)
    assert mode.weight_format is not None
    if mode.weight_format.bits != bits:
        return (f"weight_bits is {bits}, the format {name} stores "
                f"{mode.weight_format.bits}-bit elements")
    return None


def _build(data: Mapping[str, Any]) -> Architecture:
    grid, pcu, pmu = data["grid"], data["pcu"], data["pmu"]
    network, dram = data["network"], data["dram"]
    return Architecture(
        name=data["name"],
        description=data.get("description", ""),
        notes=tuple(data.get("notes", ())),
        clock_ghz=float(data["clock_ghz"]),
        grid=Grid(grid["rows"], grid["cols"], tuple(tuple(row) for row in grid["tile"])),
        pcu=PCU(**{**pcu, "arithmetic_bits": tuple(pcu["arithmetic_bits"])}),
        pmu=PMU(**pmu),
        network=Network(
            hop_latency_cycles=network["hop_latency_cycles"],
            links_per_switch=Links(**network["links_per_switch"]),
            area_mm2=network["area_mm2"],
            power_w=network["power_w"],
            address_generator_attachment=network.get("address_generator_attachment", "unit-row"),
        ),
        dram=DRAM(**{**dram, "address_generator_edges": tuple(dram["address_generator_edges"])}),
        interchip=Interchip(**{**data["interchip"], "ports": tuple(
            tuple(switch) for switch in data["interchip"].get("ports", ()))}),
        precisions=tuple(
            Precision(name=name, description=mode.get("description", ""), **{
                key: value for key, value in mode.items() if key != "description"
            })
            # Canonical order, so that equal descriptions give equal objects and digests.
            for name, mode in sorted(data["precisions"].items())
        ),
        default_precision=data["default_precision"],
        timing=Timing(**data["timing"]),
        ag=AG(**data.get("ag", {})),
        mechanisms=_mechanisms(data.get("mechanisms", {})),
    )


def _mechanisms(data: Mapping[str, Any]) -> Mechanisms:
    fields = dict(data)
    if "fifo_depth" in fields:
        fields["fifo_depth"] = FifoDepth(**fields["fifo_depth"])
    return Mechanisms(**fields)


__all__ = [
    "AG",
    "DEFAULT_ARCHITECTURE",
    "DRAM",
    "PAPER_DEEPBENCH",
    "PCU",
    "PMU",
    "Architecture",
    "ArchitectureError",
    "FifoDepth",
    "Grid",
    "Interchip",
    "Links",
    "Mechanisms",
    "Network",
    "Precision",
    "Timing",
    "architecture_from_dict",
    "load_architecture",
    "preset_names",
    "schema_problem",
]
