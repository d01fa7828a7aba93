"""The simulator's timing engine: firings of units over the time loop, as max-plus arrays.

A configured machine runs the same schedule every time step (the schedule does not depend
on the data), so its timing is a dataflow graph evaluated step after step:

* a `Node` is one unit (or one context of a unit): it *fires* `count` times per step, at
  most one firing every `ii` cycles, and a firing's result leaves the unit `latency`
  cycles later (the pipeline depth: a PCU's stages, a PMU's address stages + SRAM read,
  a DRAM round trip through an address generator);
* an `Edge` is one sink of a routed stream: the producer emits one token at the last of
  every `produce_every` firings (a map-reduce PCU emits one partial sum per outer
  iteration after its `chunks` firings), the consumer takes one token at the first of
  every `consume_every` firings; the token crosses `hops` switches of `hop_latency`
  cycles each and waits in the consumer's input FIFO of `depth` tokens. A full FIFO holds
  the producer back (credit-based back-pressure: a credit returns over the control
  network when the consumer dequeues, `hops` switches again). An N-buffered memory
  between producer and consumer (`buffers` = N) instead lets the producer write step s
  once the consumer has finished step s - N (the buffer swap on the rdone pulse);
* the time loop is a sequential controller: every unit sends its done token to the
  controller when its last firing of the step has drained, the controller counts them
  and broadcasts the enable of the next step. The enable reaches a unit after the
  `enable_hops` switches of its branch of the enable tree (a broadcast uses each link of
  its tree once: nothing to share). A done token crosses the switches of its unit's
  routed `done_route`, and the done tokens share the control links: a link carries
  `control_links` one-cycle pulses per cycle, so tokens that reach a link together wait
  their turn, first come first served (`_done_arrivals`). A node with `lead` = 1 (a
  prefetcher into a double buffer) works for step s + 1 while step s runs, from the
  enable of step s.

Firing times follow the recurrence F[g] = max(F[g-1] + ii, R[g]) with R[g] the latest
of the step's enable, the arrival of the tokens firing g consumes, and the credits the
token it emits needs. Each node's whole step is one numpy expression
(F = ii*g + cummax(R - ii*g)). Back-pressure (a credit: a constraint from a consumer back
to its producer) makes a step a fixed point: the least firing times that meet every
constraint. It is found from below (credits rising with the consumers' firings), which
settles in a round or two when FIFOs rarely fill, or else from above (every firing
impossible until what it waits for is possible), which provably ends: with the exact
schedule, or with the cycle of units that wait for one another (a deadlock, `Deadlock`).
Nothing here is fitted: every latency comes from the configuration and the architecture.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

Times = NDArray[np.float64]
#: A solved step: per node its firings and the credits that bound them, and its start.
_Solution = tuple[list[Times], list[Times], list[float]]

#: Why a firing waited: the step's enable, an input token, a credit of an output FIFO
#: (or N-buffer) or the unit's own previous firing (busy, not a stall).
ENABLE, INPUT, CREDIT, BUSY = "control", "input", "output", "busy"

#: Rounds of back-pressure from below before a step is solved from above instead (which
#: ends for certain, deadlock or not, but takes as many rounds as the longest chain of
#: credits, where from below takes as many as the chain of credits that hold back).
RISING_ROUNDS = 128
#: Longest cycle of step schedules the engine looks for before extrapolating.
MAX_PERIOD = 4


class TimingError(ValueError):
    """A timing graph that cannot run (inconsistent token counts, a deadlock)."""


class Deadlock(TimingError):
    """A step whose units wait for one another in a cycle (full FIFOs, missing inputs)."""

    def __init__(self, message: str, units: tuple[str, ...]):
        super().__init__(message)
        self.units = units


@dataclass(frozen=True)
class Node:
    """One unit (or unit context) of the machine, as the timing engine sees it."""

    name: str
    kind: str
    """pcu, pmu or ag."""
    role: str
    count: int
    """Firings per time step."""
    ii: float
    """Cycles between two firings (1 for a fully pipelined unit; fractional for a DRAM
    stream whose tokens arrive at the address generator's share of the bandwidth)."""
    latency: int
    """Cycles from a firing to its token leaving the unit (pipeline depth)."""
    enable_hops: int = 0
    """Switches the enable crosses from the controller to the unit."""
    done_route: int = -1
    """The route its done token takes to the controller (an index into the graph's
    `control_routes`); -1: none, the token is counted where it leaves."""
    lead: int = 0
    """Steps ahead of the step it serves that the node may run (1: a prefetcher into a
    double buffer runs step s + 1's firings from the enable of step s)."""
    stage: int = 0
    """The nest of the step it works for: the step's nests run one after another, each
    enabled by the done tokens of the one before (a sequential controller)."""
    posted: bool = False
    """A posted write (a DRAM store): its done token leaves once its last token is issued,
    not when memory acknowledges it; only the end of the whole loop waits for that."""
    awaited: bool = True
    """Its done token ends the step (False: a write the loop posts, `Phase.posted`: the
    step does not wait for it, the end of the whole loop does)."""
    swap_hops: int = -1
    """Switches the state buffer's swap token crosses to the unit: its steps after the
    first start when the token of the step before arrives (`TimingGraph.swap_writers`);
    -1: every step starts on the controller's enable."""

    def done_delay(self) -> float:
        """Cycles from its last firing to its done token leaving."""
        return self.ii if self.posted else self.latency
    def __post_init__(self) -> None:
        if self.count < 0 or self.ii <= 0 or self.latency < 0 or self.lead < 0:
            raise TimingError(f"node '{self.name}': count, latency, lead >= 0 and ii > 0")


@dataclass(frozen=True)
class Edge:
    """One sink of a stream: tokens from `src` into the input FIFO of `dst` (indices)."""

    src: int
    dst: int
    network: str
    hops: int
    produce_every: int = 1
    consume_every: int = 1
    depth: int = 8
    """FIFO entries at the consumer's input port (tokens in flight beyond it wait)."""
    buffers: int = 0
    """0: a FIFO stream, tokens matched one to one. N >= 1: src writes an N-buffered
    memory that dst reads, whole buffers at a time: dst's firings for a step wait for the
    swap after src's last write for it, and src may write step s once dst has finished
    the step that last used the same buffer."""
    carry: int = 0
    """For a buffered edge: how many steps after src writes it dst reads it (0: the same
    step, e.g. a prefetched x(t); 1: loop-carried, h(t) read by step t + 1)."""

    def tokens(self, nodes: Sequence[Node]) -> int:
        return nodes[self.src].count // self.produce_every


@dataclass(frozen=True)
class ControlRoute:
    """The path of a done token: the switches it crosses (`hops`, one `hop_latency` each)
    and the directed links between them, each named by an int shared by every route that
    crosses the link (tokens on one link share it)."""

    hops: int
    links: tuple[int, ...]

    def __post_init__(self) -> None:
        if self.hops != len(self.links) + 1:
            raise TimingError(f"a control route of {self.hops} switches has "
                              f"{len(self.links)} links")


@dataclass(frozen=True)
class TimingGraph:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    hop_latency: int
    controller_latency: int = 1
    """Cycles the controller takes from its last done token to the enable (UDC update)."""
    buffer_swap: int = 1
    """Cycles an N-buffered memory takes to swap its buffers (from the writer's last write
    to the reader seeing the new buffer, and from the reader's last read to the writer
    getting the freed one)."""
    control_routes: tuple[ControlRoute, ...] = ()
    """The routes of the done tokens (see `ControlRoute`)."""
    control_links: int = 1
    """Pulses a control link carries per cycle (its parallel links)."""
    swap_writers: tuple[int, ...] = ()
    """The write contexts of the state buffer whose swap starts the steps of the nodes
    with `swap_hops` >= 0: it swaps `buffer_swap` cycles after their last write."""
    swap_relay: int = -1
    """Switches the swap token crosses to the controller, which relays it (after
    `controller_latency`, over its enable tree) as the step's enable of the nodes the token
    does not reach; -1: those start on the controller's enable, after the done tokens."""
    dram_cycles: float = 0.0
    """Cycles the DRAM channels take to move every byte of one step's DRAM streams (loads
    prefetched for the next step and stores of this one, in whole bursts) at the
    architecture's bandwidth. The channels serve the steps one after another, so a step
    does not end before the channels have moved its bytes."""
    stage_waits: tuple[int, ...] = ()
    """Per stage, cycles the controller waits after the stage's done tokens before its
    next enable (a multi-chip exchange of what the stage wrote,
    `rnnc.simulator.multichip`); units working a step ahead (`lead`) go on meanwhile."""

    def stage_wait(self, stage: int) -> int:
        return self.stage_waits[stage] if stage < len(self.stage_waits) else 0

    @property
    def stages(self) -> int:
        return 1 + max((n.stage for n in self.nodes), default=0)

    def __post_init__(self) -> None:
        for node in self.nodes:
            if not -1 <= node.done_route < len(self.control_routes):
                raise TimingError(f"node '{node.name}': no control route {node.done_route}")
        if self.control_links < 1:
            raise TimingError("a control link carries at least one token per cycle")
        for edge in self.edges:
            src, dst = self.nodes[edge.src], self.nodes[edge.dst]
            if edge.buffers:
                if not 0 <= edge.carry < edge.buffers + 1:
                    raise TimingError(f"buffer {src.name} -> {dst.name}: carry out of range")
                continue
            if edge.carry:
                raise TimingError(f"stream {src.name} -> {dst.name}: a FIFO cannot carry")
            if src.count % edge.produce_every:
                raise TimingError(
                    f"stream {src.name} -> {dst.name}: {src.count} firings do not make "
                    f"whole tokens of {edge.produce_every}"
                )
            if edge.depth < 1:
                raise TimingError(f"stream {src.name} -> {dst.name}: FIFO depth must be >= 1")

    def order(self) -> list[int]:
        """Nodes in topological order of their streams (producers before consumers).
        Streams into N-buffered memories read by an earlier producer close a cycle over
        steps, not within one, so they do not constrain the order."""
        incoming = {i: 0 for i in range(len(self.nodes))}
        forward = [e for e in self.edges if not e.carry]
        for e in forward:
            incoming[e.dst] += 1
        ready = [i for i, n in incoming.items() if n == 0]
        order: list[int] = []
        while ready:
            node = ready.pop(0)
            order.append(node)
            for e in forward:
                if e.src == node:
                    incoming[e.dst] -= 1
                    if incoming[e.dst] == 0:
                        ready.append(e.dst)
        if len(order) != len(self.nodes):
            stuck = sorted(self.nodes[i].name for i, n in incoming.items() if n)
            raise TimingError(f"streams form a cycle within a step through {', '.join(stuck)}")
        return order


@dataclass
class Stalls:
    """Cycles one node spent, over the simulated steps."""

    busy: float = 0.0
    stalled: dict[str, float] = field(default_factory=dict)
    """Waiting cycles between firings (and before the first), by cause: 'input from
    <role>', 'output to <role>', 'control'."""


@dataclass(frozen=True)
class StepTiming:
    """One simulated step: the enable time and every node's firing times."""

    enable: float
    firings: tuple[Times, ...]
    end: float
    """When the last unit's done token reached the controller (+ its update)."""


@dataclass(frozen=True)
class TimingResult:
    total_cycles: float
    steps: int
    simulated_steps: int
    extrapolated_steps: int
    cycles_per_step: float
    """The mean step of the repeating cycle of steps (the last step's, when the loop was
    simulated to its end without repeating)."""
    first_step_cycles: float
    stalls: tuple[Stalls, ...]
    """Per node, summed over the simulated steps (extrapolated steps scale them)."""


class _Engine:
    def __init__(self, graph: TimingGraph):
        self.g = graph
        self.order = graph.order()
        self.inputs: list[list[Edge]] = [[] for _ in graph.nodes]
        self.outputs: list[list[Edge]] = [[] for _ in graph.nodes]
        self.in_edges: list[list[int]] = [[] for _ in graph.nodes]
        self.out_edges: list[list[int]] = [[] for _ in graph.nodes]
        for k, e in enumerate(graph.edges):
            self.inputs[e.dst].append(e)
            self.outputs[e.src].append(e)
            self.in_edges[e.dst].append(k)
            self.out_edges[e.src].append(k)
        # per edge, its arrivals and credits as last computed while solving a step: an
        # edge's are recomputed only when the firings they depend on have changed
        self.arrivals: list[Times] = []
        self.credit_parts: list[Times] = []
        self.unseen: set[int] = set()
        """Units not yet computed in the current solve (their edges' times are stale)."""
        self.index = [np.arange(n.count, dtype=np.float64) for n in graph.nodes]
        self.stages = graph.stages
        self.members: list[list[int]] = [[] for _ in range(self.stages)]
        for i in self.order:
            self.members[graph.nodes[i].stage].append(i)
        for e in graph.edges:
            if not e.carry and graph.nodes[e.src].stage > graph.nodes[e.dst].stage:
                raise TimingError(
                    f"stream {graph.nodes[e.src].name} -> {graph.nodes[e.dst].name} goes "
                    "back to an earlier nest of the step"
                )
        self.history: list[StepTiming] = []
        self.enables: list[float] = []
        self.channel: list[float] = []
        """Per step, when the DRAM channels have moved its bytes."""
        self.stalls = [Stalls() for _ in graph.nodes]
        self.step_stalls: list[list[Stalls]] = []
        self.done_cache: dict[tuple[tuple[float, int], ...], list[float]] = {}
        """Arrivals of a set of done tokens at the controller (a stage's end is asked again
        with the same tokens in every round of back-pressure)."""

    # -- constraints ----------------------------------------------------------------------

    def _last(self, node: int, step: int, firings: Sequence[Times]) -> float | None:
        """When `node` last fired in `step` (None before the loop or for an idle node)."""
        if step < 0:
            return None
        f = firings[node] if step == len(self.history) else self.history[step].firings[node]
        return float(f[-1]) if f.size else None

    def _arrival(self, e: Edge, step: int, firings: Sequence[Times]) -> Times:
        """When each firing of e.dst has what it reads over e."""
        src, dst = self.g.nodes[e.src], self.g.nodes[e.dst]
        travel = src.latency + e.hops * self.g.hop_latency
        need = np.full(dst.count, -np.inf)
        if e.buffers:
            # the whole buffer, after the writer's last write and the swap (wdone pulse)
            last = self._last(e.src, step - e.carry, firings)
            if last is not None:
                need[:] = last + travel + self.g.buffer_swap
            return need
        # a token leaves after the producer's last firing for it; firing g of the
        # consumer takes token g // consume_every (at the first firing of its group)
        emitted = firings[e.src][e.produce_every - 1 :: e.produce_every]
        # token counts may differ by a copy's iterations (a multicast to copies with one
        # iteration fewer, a gather of such copies): the first tokens pair up
        slots = need[:: e.consume_every]
        paired = min(slots.size, emitted.size)
        slots[:paired] = emitted[:paired] + travel
        need[:: e.consume_every] = slots
        return need

    def _credit(self, e: Edge, step: int, firings: Sequence[Times]) -> Times:
        """The earliest time each firing of e.src may fire, by e's FIFO or N-buffer."""
        src = self.g.nodes[e.src]
        bound = np.full(src.count, -np.inf)
        back = e.hops * self.g.hop_latency
        if e.buffers:
            # the buffer this step writes was last read in step - buffers + carry
            last = self._last(e.dst, step - e.buffers + e.carry, firings)
            if last is not None:
                bound[:] = last + self.g.buffer_swap + back
            return bound
        tokens = e.tokens(self.g.nodes)
        consumed = firings[e.dst][:: e.consume_every][:tokens]  # when each token left
        # token j needs the slot freed by token j - depth (of this step or the last); a
        # sink that takes fewer tokens than are sent frees no slot for the rest
        credit = np.full(tokens, -np.inf)
        freed = min(consumed.size, tokens - e.depth)
        if freed > 0:
            credit[e.depth : e.depth + freed] = consumed[:freed] + back
        if self.history and consumed.size == tokens:
            earlier = self.history[-1].firings[e.dst][:: e.consume_every][:tokens]
            carried = min(e.depth, tokens)
            credit[:carried] = np.maximum(credit[:carried], earlier[tokens - carried :] + back)
        # the firing that emits token j must find a slot when its result leaves
        bound[e.produce_every - 1 :: e.produce_every] = credit - src.latency
        return bound

    def _fire(self, node: int, ready: Times) -> Times:
        """F[g] = max(F[g-1] + ii, ready[g]), for the whole step at once."""
        ii = self.g.nodes[node].ii
        ramp = ii * self.index[node]
        return ramp + np.maximum.accumulate(ready - ramp)

    # -- one step -------------------------------------------------------------------------

    def _enable(self, step: int, stage: int) -> float:
        return self.enables[max(step, 0) * self.stages + stage]

    def _start(self, node: int, step: int) -> float:
        """The enable of the step and nest the node serves, after the hops from the
        controller (or, for a step after the first started on a swap, the state buffer's
        swap token of the step before, after its hops), and not before its own pipeline
        has taken its last firing."""
        n = self.g.nodes[node]
        served, hop = step - n.lead, self.g.hop_latency
        if self.g.swap_writers and served >= 1 and n.swap_hops >= 0:
            enable = self._step_start(served) + n.swap_hops * hop
        elif self.g.swap_writers and served >= 1 and self.g.swap_relay >= 0:
            enable = (self._step_start(served) + (self.g.swap_relay + n.enable_hops) * hop
                      + self.g.controller_latency)
        else:
            enable = self._enable(served, n.stage) + n.enable_hops * hop
        return max(enable, self._previous(node))

    def _step_start(self, step: int) -> float:
        """When a step after the first of a loop started on a swap starts: the state
        buffer's swap of the step before, once the DRAM channels have moved its bytes."""
        return max(self._swap(step - 1), self.channel[step - 1])

    def _swap(self, step: int) -> float:
        """When the state buffer swapped in `step` (a solved step): its last write has
        landed and the swap taken `buffer_swap` cycles; its token leaves then."""
        firings = self.history[step].firings
        written = [float(firings[w][-1]) + self.g.nodes[w].latency
                   for w in self.g.swap_writers if firings[w].size]
        return max(written, default=self._enable(step, 0)) + self.g.buffer_swap

    def _previous(self, node: int) -> float:
        """When the node could fire next after its last step (its pipeline is shared)."""
        last = self._last(node, len(self.history) - 1, ())
        return last + self.g.nodes[node].ii if last is not None else 0.0

    def _stage_end(self, stage: int, firings: Sequence[Times], enable: float) -> float:
        """When the controller has every done token of the stage's units (and updated)."""
        tokens = tuple(
            (float(f[-1]) + n.done_delay(), n.done_route)
            for n, f in zip(self.g.nodes, firings, strict=True)
            if f.size and n.lead == 0 and n.stage == stage and n.awaited
        )
        return (max(self._done_arrivals(tokens), default=enable) + self.g.controller_latency
                + self.g.stage_wait(stage))

    def _done_arrivals(self, tokens: tuple[tuple[float, int], ...]) -> list[float]:
        """When each done token (leaving its unit at a time, over a route) reaches the
        controller. A token enters the first switch of its route a hop after it leaves;
        from each switch it takes the next link as soon as one of the link's
        `control_links` parallel links is free (a pulse holds it for a cycle), and
        reaches the next switch a hop later. Tokens are served in the order they reach a
        link (ties by the order of the nodes), so a token alone on its links arrives after
        its route's hops, and tokens that meet on a link wait their turn."""
        known = self.done_cache.get(tokens)
        if known is not None:
            return known
        hop, routes = self.g.hop_latency, self.g.control_routes
        arrivals = [0.0] * len(tokens)
        queue: list[tuple[float, int, int]] = []
        for k, (leaves, route) in enumerate(tokens):
            if route < 0:
                arrivals[k] = leaves
            else:
                queue.append((leaves + hop, k, 0))
        heapq.heapify(queue)
        free: dict[int, list[float]] = {}
        """Per link, when each of its parallel links is next free."""
        while queue:
            time, k, at = heapq.heappop(queue)
            links = routes[tokens[k][1]].links
            if at == len(links):
                arrivals[k] = time
                continue
            tracks = free.setdefault(links[at], [-math.inf] * self.g.control_links)
            track = min(range(len(tracks)), key=tracks.__getitem__)
            start = max(time, tracks[track])
            tracks[track] = start + 1
            heapq.heappush(queue, (start + hop, k, at + 1))
        self.done_cache[tokens] = arrivals
        return arrivals

    def step(self, step: int) -> StepTiming:
        """Every firing of `step`: the least schedule that meets every constraint."""
        solved = self._rise(step) or self._descend(step)
        firings, credits, starts = solved
        self._account(step, starts, firings, credits)
        timing = StepTiming(self._enable(step, 0), tuple(firings), self.enables[-1])
        self.history.append(timing)
        return timing

    def _forward(
        self, step: int, credits: Sequence[Times], firings: list[Times], starts: list[float],
        dirty: set[int],
    ) -> set[int]:
        """One pass over the step's nests and units in stream order: each unit's firings
        from its start, its inputs (already computed this pass) and the given credits.
        Every constraint but the credits points forward in this order, so the pass meets
        all of them exactly. Only a unit whose credits changed (`dirty`), whose start
        moved or one of whose producers changed in this pass is recomputed (the others
        would come out the same); returns the units whose firings changed."""
        del self.enables[step * self.stages + 1 :]
        del self.channel[step:]
        self.channel.append(self._channel_end(step))
        changed: set[int] = set()
        for stage, members in enumerate(self.members):
            for i in members:
                start = self._start(i, step)
                if i not in dirty and start == starts[i] and not any(
                    e.src in changed for e in self.inputs[i]
                ):
                    continue
                starts[i] = start
                ready = np.maximum(credits[i], start)
                for k in self.in_edges[i]:
                    e = self.g.edges[k]
                    if e.src in changed or i in self.unseen:
                        self.arrivals[k] = self._arrival(e, step, firings)
                    ready = np.maximum(ready, self.arrivals[k])
                fired = self._fire(i, ready)
                if not np.array_equal(fired, firings[i]):
                    firings[i] = fired
                    changed.add(i)
            end = self._stage_end(stage, firings, self.enables[-1])
            if stage == self.stages - 1:
                end = max(end, self.channel[step] + self.g.controller_latency)
            self.enables.append(end)
        self.unseen.clear()
        return changed

    def _channel_end(self, step: int) -> float:
        """When the DRAM channels have moved the step's bytes: they start on them at the
        step's enable, once they have moved the step before's."""
        before = self.channel[step - 1] if step else 0.0
        start = self._step_start(step) if self.g.swap_writers and step else self._enable(step, 0)
        return max(before, start) + self.g.dram_cycles

    def _bound(
        self, node: int, step: int, firings: Sequence[Times], changed: set[int] | None = None
    ) -> Times:
        """The earliest time each firing of `node` finds room in all its output FIFOs and
        N-buffers, given its consumers' firings (recomputed for the consumers `changed`,
        all of them when None)."""
        bound = np.full(self.g.nodes[node].count, -np.inf)
        for k in self.out_edges[node]:
            e = self.g.edges[k]
            if changed is None or e.dst in changed:
                self.credit_parts[k] = self._credit(e, step, firings)
            bound = np.maximum(bound, self.credit_parts[k])
        return bound

    def _producers(self, consumers: set[int]) -> list[int]:
        """The units whose credits depend on the firings of `consumers`."""
        return sorted({e.src for d in consumers for e in self.inputs[d]})

    def _begin(self) -> None:
        """Forget the edges' times of an earlier solve: every unit is computed afresh."""
        empty = np.empty(0)
        self.arrivals = [empty] * len(self.g.edges)
        self.credit_parts = [empty] * len(self.g.edges)
        self.unseen = set(range(len(self.g.nodes)))

    def _rise(self, step: int) -> _Solution | None:
        """Back-pressure from below: credits start unconstrained and rise with the
        consumers' firings until none holds a producer back further. Every round meets
        one more credit of each chain that holds a producer back, which settles a step in
        a few rounds when FIFOs rarely fill; None when it has not settled after
        RISING_ROUNDS (a deadlock never settles)."""
        nodes = self.g.nodes
        firings: list[Times] = [np.full(n.count, -np.inf) for n in nodes]
        credits: list[Times] = [np.full(n.count, -np.inf) for n in nodes]
        starts = [0.0] * len(nodes)
        dirty = set(range(len(nodes)))
        self._begin()
        for _ in range(RISING_ROUNDS):
            changed = self._forward(step, credits, firings, starts, dirty)
            dirty = set()
            for i in self._producers(changed):
                bound = self._bound(i, step, firings, changed)
                if (bound > credits[i]).any():
                    credits[i] = np.maximum(credits[i], bound)
                    if (bound > firings[i]).any():
                        dirty.add(i)
            if not dirty:
                return firings, credits, starts
        return None

    def _descend(self, step: int) -> _Solution:
        """Back-pressure from above, for steps where FIFOs fill often: every firing starts
        impossible (+inf) and becomes possible once everything it waits for is. A round
        gives its exact time to every firing whose chain of waits holds one more credit,
        and a firing on a cycle of waits (a deadlock) stays impossible, so the rounds end,
        after at most one more round than the longest such chain, either with the step's
        schedule or with a deadlock (`_deadlock`)."""
        nodes = self.g.nodes
        firings: list[Times] = [np.full(n.count, np.inf) for n in nodes]
        self._begin()
        credits = [self._bound(i, step, firings) for i in range(len(nodes))]
        starts = [0.0] * len(nodes)
        dirty = set(range(len(nodes)))
        while dirty:
            changed = self._forward(step, credits, firings, starts, dirty)
            dirty = set()
            for i in self._producers(changed):
                bound = self._bound(i, step, firings, changed)
                if not np.array_equal(bound, credits[i]):
                    credits[i] = bound
                    dirty.add(i)
        if any(np.isposinf(f).any() for f in firings):
            raise self._deadlock(step, firings, credits, starts)
        return firings, credits, starts

    def _deadlock(
        self, step: int, firings: Sequence[Times], credits: Sequence[Times],
        starts: Sequence[float],
    ) -> Deadlock:
        """The cycle of units waiting for one another: each stuck unit's first impossible
        firing waits for an input that never comes, for room in a full FIFO, or for the
        enable of its nest; following the waits from any stuck unit ends in a cycle."""
        waits: dict[int, tuple[int, str]] = {}
        for i, f in enumerate(firings):
            stuck = np.flatnonzero(np.isposinf(f))
            if stuck.size:
                waits[i] = self._waits_for(i, int(stuck[0]), step, firings, starts)
        node = min(waits)
        path: list[int] = []
        while node not in path:
            path.append(node)
            node = waits[node][0]
        cycle = path[path.index(node) :]
        links = [f"{self._label(i)} waits for {waits[i][1]} {self._label(waits[i][0])}"
                 for i in cycle]
        return Deadlock(f"time step {step} deadlocks: {'; '.join(links)}; none of them can "
                        "fire again", tuple(self.g.nodes[i].name for i in cycle))

    def _waits_for(
        self, node: int, firing: int, step: int, firings: Sequence[Times],
        starts: Sequence[float],
    ) -> tuple[int, str]:
        """A stuck unit that `firing` of `node` waits for, and what for."""
        for e in self.outputs[node]:
            if np.isposinf(self._credit(e, step, firings)[firing]):
                return e.dst, "the buffer read by" if e.buffers else "room in its full FIFO to"
        for e in self.inputs[node]:
            if np.isposinf(self._arrival(e, step, firings)[firing]):
                return e.src, "an input from"
        assert np.isposinf(starts[node]), "a stuck firing waits for something"
        stage = self.g.nodes[node].stage
        earlier = [i for i, f in enumerate(firings) if np.isposinf(f).any()
                   and self.g.nodes[i].stage < stage and self.g.nodes[i].lead == 0]
        return earlier[0], "the end of the earlier nest of"

    def _label(self, node: int) -> str:
        n = self.g.nodes[node]
        return f"{n.name} ({n.role})"

    def _account(
        self, step: int, starts: list[float], firings: list[Times], credits: list[Times]
    ) -> None:
        """Busy cycles, and every wait attributed to the constraint that bound it."""
        tallies = [Stalls() for _ in self.g.nodes]
        self.step_stalls.append(tallies)
        for i, n in enumerate(self.g.nodes):
            f = firings[i]
            if not f.size:
                continue
            tally = tallies[i]
            tally.busy = n.count * n.ii
            previous = np.concatenate(([self._previous(i)], f[:-1] + n.ii))
            waits = f - previous
            if not (waits > 0).any():
                continue
            causes = {ENABLE: np.full(n.count, starts[i])}
            for e in self.inputs[i]:
                label = f"input from {self.g.nodes[e.src].role}"
                arrival = self._arrival(e, step, firings)
                causes[label] = np.maximum(causes.get(label, arrival), arrival)
            causes[f"output to {self._consumer_roles(i)}"] = credits[i]
            labels = list(causes)
            binding = np.argmax(np.stack([causes[label] for label in labels]), axis=0)
            for k, label in enumerate(labels):
                cycles = float(waits[(binding == k) & (waits > 0)].sum())
                if cycles:
                    tally.stalled[label] = tally.stalled.get(label, 0.0) + cycles
        for total, tally in zip(self.stalls, tallies, strict=True):
            _add(total, tally, 1)

    def _consumer_roles(self, node: int) -> str:
        roles = sorted({self.g.nodes[e.dst].role for e in self.outputs[node]})
        return "/".join(roles) or "nothing"

    # -- the time loop --------------------------------------------------------------------

    def _relative(self, step: int) -> tuple[bytes, ...]:
        """The step's schedule relative to its enable: equal tuples mean the machine went
        through the same states in both steps."""
        timing = self.history[step]
        first = step * self.stages
        parts = [(f - timing.enable).tobytes() for f in timing.firings]
        stage_enables = np.asarray(self.enables[first : first + self.stages + 1])
        parts.append((stage_enables - timing.enable).tobytes())
        parts.append(np.float64(self.channel[step] - timing.enable).tobytes())
        return tuple(parts)

    def _lookback(self) -> int:
        """Steps back a step's schedule can depend on (prefetch leads, buffer swaps)."""
        return 1 + max([n.lead for n in self.g.nodes] + [e.buffers for e in self.g.edges])

    def _period(self, step: int) -> int | None:
        """The smallest p <= MAX_PERIOD with which the machine's state at the end of
        `step` (the relative schedules of the last `lookback` steps, which are all a later
        step depends on) equals its state p steps earlier: from then on the steps repeat
        with period p. Step 0 (no history) is never part of the comparison."""
        lookback = self._lookback()
        for period in range(1, MAX_PERIOD + 1):
            if step - period - lookback + 1 < 1:
                break
            if all(
                self._relative(step - j) == self._relative(step - j - period)
                for j in range(lookback)
            ):
                return period
        return None

    def run(self, steps: int, extrapolate: bool = True) -> TimingResult:
        if steps < 1:
            raise TimingError("a time loop needs at least one step")
        self.enables = [0.0]
        self.channel = []
        for s in range(steps):
            self.step(s)
            if extrapolate and s + 1 < steps:
                period = self._period(s)
                if period is not None:
                    return self._result(steps, s + 1, period)
        return self._result(steps, steps, 1)

    def _drain(self, step: int) -> float:
        """Cycles after the last step's end until its posted writes are acknowledged and
        the done tokens the steps did not wait for have arrived (the extrapolated last step
        repeats this one, so the tail is the same)."""
        timing = self.history[step]
        tails = [
            float(f[-1]) + n.latency + self._done_hops(n) * self.g.hop_latency
            + self.g.controller_latency - timing.end
            for n, f in zip(self.g.nodes, timing.firings, strict=True)
            if (n.posted or not n.awaited) and f.size
        ]
        return max([0.0, *tails])

    def _done_hops(self, node: Node) -> int:
        """Switches its done token crosses to the controller."""
        return self.g.control_routes[node.done_route].hops if node.done_route >= 0 else 0

    def _result(self, steps: int, simulated: int, period: int) -> TimingResult:
        ends = self.enables[:: self.stages]  # the enable of each step, then the last end
        durations = np.diff(ends[: simulated + 1])
        cycle = durations[simulated - period :]
        extrapolated = steps - simulated
        whole, part = divmod(extrapolated, period)
        total = ends[simulated] + whole * float(cycle.sum()) + float(cycle[:part].sum())
        # the loop ends when its posted writes have reached memory too
        total += self._drain(simulated - 1)
        for node, total_stalls in enumerate(self.stalls):
            for k in range(period):
                times = whole + (1 if k < part else 0)
                _add(total_stalls, self.step_stalls[simulated - period + k][node], times)
        return TimingResult(
            total_cycles=total,
            steps=steps,
            simulated_steps=simulated,
            extrapolated_steps=extrapolated,
            cycles_per_step=float(cycle.mean()),
            first_step_cycles=float(durations[0]),
            stalls=tuple(self.stalls),
        )


def _add(total: Stalls, step: Stalls, times: int) -> None:
    total.busy += step.busy * times
    for cause, cycles in step.stalled.items():
        total.stalled[cause] = total.stalled.get(cause, 0.0) + cycles * times


def simulate(graph: TimingGraph, steps: int, *, extrapolate: bool = True) -> TimingResult:
    """Run `steps` time steps of `graph`; with `extrapolate`, stop simulating once the
    machine's state at a step boundary has repeated and extrapolate the cycle."""
    return _Engine(graph).run(steps, extrapolate)


__all__ = [
    "ControlRoute",
    "Deadlock",
    "Edge",
    "Node",
    "Stalls",
    "TimingError",
    "TimingGraph",
    "TimingResult",
    "simulate",
]
