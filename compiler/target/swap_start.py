"""The `swap-start` schedule: a time loop's next step starts when its h has arrived.

Without it, a step of the time loop ends when every unit it fires has sent its done token
to the sequential controller, and the next step starts when the controller's enable has
crossed back to the units: a round trip across the chip between the last write of h and
the first read of the next step. What the next step waits for is h. The state buffer (a
double-buffered PMU holding h, written by the step and read by the next) swaps its buffers
when the last write of h has landed (the RTL's `wdone` pulse, `plasticine-microarch.md`
§2) and sends a token on a control output then. With the schedule, that token, multicast
over one routed control stream `swap_<nest>` to the step's *first readers* (every PCU of
the loop's nest and every PMU such a PCU reads or writes, but the lookup tables, which
answer inside their PCU's pipeline), starts their next step; the loop phase names the
stream (`Phase.swap`, config.json `program.schedule[k].swap`).

The source is the loop's first state buffer in unit order. A loop whose h is split over
several state buffers reads each of them only once it has swapped too: a PMU's read waits
for its own buffer (the N-buffer's counter of `wdone` pulses), the token from the first
only says when the step may begin.

The controller stays where a chip needs it:
* it enables the loop's first step (there is no swap before it);
* it still counts every unit's done tokens step by step: it knows when the loop ends, and
  the nests run once after the loop start on that;
* it enables the address generators each step (an AG has one control input, which the
  enable takes): x(t+1)'s prefetch, streamed weights and the stores. The swap stream
  reaches the controller too, which relays the token over its enable tree to them (so
  that x(t+1)'s prefetch does not wait for the done tokens of step t);
* a loop of one step, a loop of several nests (a decomposed step's nests run one after
  another on the controller's enables), a loop without a state buffer and a chip of
  several (its h arrives from the other chips over the exchange, `loop.chip`) are left to
  the controller.
"""

from __future__ import annotations

from typing import Any

from rnnc.dialects.spatial import PMUKind, StreamOp
from rnnc.target.design_view import DesignView, PhaseView
from rnnc.target.machine import Machine, Phase, Stream, port_name

#: The configuration model or the contract's view of a design in the IR
#: (`rnnc.target.design_view`): the rules below read the fields both have.
Design = Machine | DesignView

#: The control ports of the token: it leaves the state buffer on its second control output
#: (the first sends its done token) and arrives on each reader's second control input (the
#: first takes the enable).
SWAP_OUT, SWAP_IN = port_name("control", "out", 1), port_name("control", "in", 1)


def stream_name(phase: Phase | PhaseView) -> str:
    """The id of a loop phase's swap stream."""
    return f"swap_{phase.nests[0]}"


def state_buffers(machine: Design, phase: Phase | PhaseView) -> tuple[Any, ...]:
    """The loop's state buffers, in unit order: PMUs of two buffers or more that a PCU of
    the loop writes and a PCU of the loop reads (loop-carried: h(t) read by step t + 1)."""
    nests = set(phase.nests)
    pcus = {u.id for u in machine.units if u.kind == "pcu" and u.nest in nests}
    written = {sink.unit for s in machine.streams if s.source.unit in pcus for sink in s.sinks}
    read = {s.source.unit for s in machine.streams if any(k.unit in pcus for k in s.sinks)}
    return tuple(u for u in machine.units if u.kind == "pmu" and u.buffers >= 2
                 and u.role != PMUKind.LOOKUP_TABLE and u.id in written and u.id in read)


def first_readers(machine: Design, phase: Phase | PhaseView, source: str) -> tuple[str, ...]:
    """The units a swap token from `source` starts, in unit order: the PCUs of the loop's
    nests and the PMUs they read or write (not the lookup tables, not `source` itself, whose
    own swap is local)."""
    nests = set(phase.nests)
    pcus = {u.id for u in machine.units if u.kind == "pcu" and u.nest in nests}
    touched = set(pcus)
    for stream in machine.streams:
        ends = {stream.source.unit, *(sink.unit for sink in stream.sinks)}
        if ends & pcus:
            touched |= ends
    return tuple(u.id for u in machine.units if u.id in touched and u.id != source and (
        u.kind == "pcu" or (u.kind == "pmu" and u.role != PMUKind.LOOKUP_TABLE)))


def swap_stream(design: Design, phase: Phase | PhaseView) -> StreamOp | None:
    """The swap stream of a loop phase that can start its steps on a swap (see the module
    doc), None for one the controller keeps."""
    if phase.kind != "loop" or phase.steps < 2 or len(phase.nests) != 1:
        return None
    buffers = state_buffers(design, phase)
    if not buffers:
        return None
    source = buffers[0].id
    sinks = [(unit, SWAP_IN) for unit in first_readers(design, phase, source)]
    if design.controller is not None:
        sinks.append((design.controller.id, _free_input(design)))
    return StreamOp(stream_name(phase), "control", (source, SWAP_OUT), sinks)


def _free_input(design: Design) -> str:
    """The controller's next control input after those its done tokens take."""
    assert design.controller is not None
    taken = sum(sink.unit == design.controller.id for s in design.control for sink in s.sinks)
    return port_name("control", "in", taken)


def relay_hops(machine: Design, phase: Phase) -> int:
    """Switches a loop's swap token crosses to the controller, which relays it as the
    enable of the address generators; -1 for a loop started by the controller."""
    if machine.controller is None:
        return -1
    return swap_hops(machine, phase).get(machine.controller.id, -1)


def swap_hops(machine: Design, phase: Phase) -> dict[str, int]:
    """Per unit a loop phase's swap token starts, the switches it crosses to get there (0
    for the state buffer that sends it); empty for a loop started by the controller.
    ValueError if the stream is not routed."""
    if phase.swap is None:
        return {}
    stream = next(s for s in machine.control if s.id == phase.swap)
    if stream.paths is None:
        raise ValueError(f"control stream {stream.id} is not routed")
    hops = {stream.source.unit: 0}
    for sink, path in zip(stream.sinks, stream.paths, strict=True):
        hops[sink.unit] = len(path)  # a hop per switch crossed
    return hops


def swap_problems(machine: Design) -> list[tuple[str, str, str]]:
    """Every rule a loop's swap start breaks, as (subject, field, message): the phase must
    be a loop of several steps and one nest, its stream a control stream from the control
    output of a state buffer of the loop to a control input of each of its first readers."""
    problems: list[tuple[str, str, str]] = []
    control = {stream.id: stream for stream in machine.control}
    for k, phase in enumerate(machine.schedule):
        if phase.swap is None:
            continue
        subject = f"phase {k} of the schedule"
        if phase.kind != "loop" or phase.steps < 2:
            problems.append((subject, "swap", "only a loop of two steps or more starts a step "
                                              "on the swap of its state buffer"))
            continue
        if len(phase.nests) != 1:
            problems.append((subject, "swap", f"runs {len(phase.nests)} nests a step: their "
                                              "enables come from the controller"))
            continue
        stream = control.get(phase.swap)
        if stream is None:
            problems.append((subject, "swap", f"starts its steps on the token of route "
                                              f"'{phase.swap}', which is not a control route"))
            continue
        problems += _stream_problems(machine, phase, stream)
    return problems


def _stream_problems(machine: Design, phase: Phase,
                     stream: Stream) -> list[tuple[str, str, str]]:
    subject = f"stream '{stream.id}'"
    sources = {pmu.id for pmu in state_buffers(machine, phase)}
    source = stream.source
    if source.unit not in sources:
        known = ", ".join(sorted(sources)) or "none"
        return [(subject, "source", f"carries the swap token of phase nest "
                                    f"'{phase.nests[0]}' from '{source.unit}', which is not a "
                                    f"state buffer of the loop (those: {known})")]
    if source.port != SWAP_OUT:
        return [(subject, "source", f"the swap token leaves '{source.unit}' on port "
                                    f"'{source.port}', not its swap output '{SWAP_OUT}'")]
    problems = []
    reached = {sink.unit: sink.port for sink in stream.sinks}
    controller = machine.controller.id if machine.controller is not None else None
    if controller is not None and controller not in reached:
        problems.append((subject, "sinks", f"does not bring the swap token to the controller "
                                           f"'{controller}', which relays it to the address "
                                           "generators as their enable"))
    for unit in first_readers(machine, phase, source.unit):
        port = reached.get(unit)
        if port is None:
            problems.append((f"unit '{unit}'", "", f"a first reader of the step of nest "
                                                   f"'{phase.nests[0]}', and route "
                                                   f"'{stream.id}' does not bring it the swap "
                                                   "token"))
        elif port != SWAP_IN:
            problems.append((f"unit '{unit}'", "", f"takes the swap token of route "
                                                   f"'{stream.id}' on port '{port}', not its "
                                                   f"swap input '{SWAP_IN}'"))
    return problems


def first_swap(design: Design) -> tuple[int, StreamOp] | None:
    """The first loop phase of the schedule that can start on a swap (its index) and its
    stream (see `swap_stream`); None when the controller keeps every loop. One swap stream
    a design: a unit (the controller too) has one control input for it, and the loops of
    stacked layers share PMUs; later loops keep the controller."""
    for k, phase in enumerate(design.schedule):
        stream = swap_stream(design, phase)
        if stream is not None:
            return k, stream
    return None
