"""The timing engine on small graphs whose schedules are worked out by hand."""

from __future__ import annotations

import pytest
from rnnc.simulator.timing import (
    ControlRoute,
    Deadlock,
    Edge,
    Node,
    TimingError,
    TimingGraph,
    simulate,
)


def test_a_pipeline_chain_adds_latencies_and_hops() -> None:
    # A fires at 0..3; its tokens reach B at g + 2 (latency) + 2 (hops); B fires 4..7,
    # its last result leaves at 10 and the controller takes one more cycle.
    graph = TimingGraph(
        (Node("a", "pmu", "src", 4, 1, 2), Node("b", "pcu", "dst", 4, 1, 3)),
        (Edge(0, 1, "vector", hops=2),),
        hop_latency=1,
    )
    result = simulate(graph, 1)
    assert result.total_cycles == 11
    assert result.stalls[1].stalled == {"input from src": 4.0}


def test_a_full_fifo_holds_the_producer_back() -> None:
    # C takes a token every 3 cycles from a 2-entry FIFO: C fires at 1, 4, 7, 10, 13, 16;
    # P's token j waits for the slot token j - 2 freed: P fires 0, 1, 2, 3, 6, 9.
    graph = TimingGraph(
        (Node("p", "pmu", "producer", 6, 1, 1), Node("c", "pcu", "consumer", 6, 3, 1)),
        (Edge(0, 1, "scalar", hops=0, depth=2),),
        hop_latency=1,
    )
    result = simulate(graph, 1)
    assert result.total_cycles == 18
    assert result.stalls[0].stalled == {"output to consumer": 4.0}
    assert result.stalls[0].busy == 6
    assert result.stalls[1].busy == 18


def test_nests_of_a_step_run_one_after_another() -> None:
    # stage 0 ends when its done token is counted (2 + 2 + 1 = 5); stage 1 fires at 5, 6.
    graph = TimingGraph(
        (Node("a", "pcu", "first", 3, 1, 2), Node("b", "pcu", "second", 2, 1, 1, stage=1)),
        (),
        hop_latency=1,
    )
    assert simulate(graph, 1).total_cycles == 8
    assert simulate(graph, 3).total_cycles == 24


def _recurrent_cell(chunks: int, iterations: int) -> TimingGraph:
    """Weights and [x, h] PMUs feed a map-reduce PCU; an element-wise PCU writes h into the
    double-buffered operand PMU for the next step; x is prefetched from DRAM."""
    nodes = (
        Node("w", "pmu", "weights", iterations * chunks, 1, 5, enable_hops=3, done_route=0),
        Node("xh", "pmu", "operand", iterations * chunks, 1, 5, enable_hops=3, done_route=1),
        Node("mr", "pcu", "map_reduce", iterations * chunks, 1, 7, enable_hops=3, done_route=2),
        Node("ew", "pcu", "elementwise", iterations, 1, 4, enable_hops=3, done_route=3),
        Node("hw", "pmu", "state", iterations, 1, 1, enable_hops=3, done_route=4),
        Node("x", "ag", "dram-load", 4, 2.5, 100, enable_hops=5, done_route=5, lead=1),
    )
    edges = (
        Edge(0, 2, "vector", 1),
        Edge(1, 2, "vector", 1),
        Edge(2, 3, "scalar", 2, produce_every=chunks),
        Edge(3, 4, "scalar", 1),
        Edge(4, 1, "vector", 1, buffers=2, carry=1),
        Edge(5, 1, "vector", 3, buffers=2, carry=0),
    )
    # every unit 3 switches from the controller (the AG 5), on links of its own
    routes = tuple(ControlRoute(n, tuple(range(10 * k, 10 * k + n - 1)))
                   for k, n in enumerate((3, 3, 3, 3, 3, 5)))
    return TimingGraph(nodes, edges, hop_latency=1, control_routes=routes)


@pytest.mark.parametrize(("chunks", "iterations"), [(2, 16), (4, 64), (1, 3)])
def test_extrapolating_a_repeating_schedule_is_exact(chunks: int, iterations: int) -> None:
    graph = _recurrent_cell(chunks, iterations)
    full = simulate(graph, 25, extrapolate=False)
    fast = simulate(graph, 25)
    assert fast.simulated_steps < 25
    assert fast.simulated_steps + fast.extrapolated_steps == 25
    assert fast.total_cycles == full.total_cycles
    for a, b in zip(fast.stalls, full.stalls, strict=True):
        assert a.busy == pytest.approx(b.busy)
        assert a.stalled == pytest.approx(b.stalled)


def test_the_steady_step_is_the_map_reduce_stream_plus_its_latencies() -> None:
    # Without x: enable -> 3 hops -> the operand PMU reads at 3..66 -> PMU latency 5 +
    # 1 hop -> the map-reduce PCU fires at 9..72; its last partial leaves at 72 + 7 and
    # arrives 2 hops later: element-wise fires at 81, + 4 + 1 hop -> the h write at 86,
    # + 1 + 3 hops -> the done token at 90, counted at 91.
    cell = _recurrent_cell(4, 16)
    without_x = TimingGraph(cell.nodes[:5], cell.edges[:5], hop_latency=1,
                            control_routes=cell.control_routes)
    assert simulate(without_x, 25).cycles_per_step == 91
    # x's DRAM prefetch (100 cycles + 4 bursts) into a double buffer cannot start before
    # the step two back has read that buffer, so it is longer than a step and every
    # other step waits for it: the steps alternate and average more than 91 cycles.
    with_x = simulate(cell, 25)
    assert with_x.cycles_per_step > 91
    assert "input from dram-load" in with_x.stalls[1].stalled


def test_a_stream_of_partial_tokens_is_refused() -> None:
    with pytest.raises(TimingError, match="4 firings do not make whole tokens of 3"):
        TimingGraph(
            (Node("a", "pcu", "a", 4, 1, 1), Node("b", "pcu", "b", 1, 1, 1)),
            (Edge(0, 1, "scalar", 1, produce_every=3),),
            hop_latency=1,
        )


def test_a_multicast_to_a_copy_with_an_iteration_fewer() -> None:
    # P sends 6 tokens to A (6 firings) and B (5 firings: a copy with one iteration
    # fewer); B takes the first 5, and the sixth needs no room at B.
    graph = TimingGraph(
        (Node("p", "pmu", "p", 6, 1, 1), Node("a", "pcu", "a", 6, 1, 1),
         Node("b", "pcu", "b", 5, 1, 1)),
        (Edge(0, 1, "vector", 0, depth=1), Edge(0, 2, "vector", 0, depth=1)),
        hop_latency=1,
    )
    result = simulate(graph, 1)
    assert result.total_cycles == 6 + 1 + 1  # P at 0..5, A at 1..6, done at 7, counted 8


def test_a_cycle_of_fifos_within_a_step_is_refused() -> None:
    with pytest.raises(TimingError, match="cycle within a step"):
        TimingGraph(
            (Node("a", "pcu", "a", 1, 1, 1), Node("b", "pcu", "b", 1, 1, 1)),
            (Edge(0, 1, "scalar", 1), Edge(1, 0, "scalar", 1)),
            hop_latency=1,
        ).order()


def _reconvergent(depth: int) -> TimingGraph:
    """A feeds B directly (a FIFO of `depth`) and through C, which sums 4 of A's tokens
    into each of its own: B's first firing needs A's fourth token."""
    return TimingGraph(
        (Node("a", "pmu", "weights", 8, 1, 1), Node("b", "pcu", "map_reduce", 8, 1, 1),
         Node("c", "pcu", "reduce", 8, 1, 1)),
        (Edge(0, 1, "vector", 1, depth=depth), Edge(0, 2, "vector", 1, depth=8),
         Edge(2, 1, "scalar", 1, produce_every=4, consume_every=4)),
        hop_latency=1,
    )


def test_a_cycle_of_full_fifos_is_a_deadlock_naming_its_units() -> None:
    # A's second token needs room in its 1-entry FIFO to B, B's first firing needs C's
    # first token, which needs A's fourth: none of them ever fires again.
    with pytest.raises(Deadlock) as raised:
        simulate(_reconvergent(1), 3)
    assert str(raised.value) == (
        "time step 0 deadlocks: a (weights) waits for room in its full FIFO to "
        "b (map_reduce); b (map_reduce) waits for an input from c (reduce); "
        "c (reduce) waits for an input from a (weights); none of them can fire again"
    )
    assert raised.value.units == ("a", "b", "c")


def test_room_for_the_tokens_in_flight_ends_the_deadlock() -> None:
    # with 4 entries A's fourth token goes out: A fires 0..3, C 2..5 (its first token
    # reaches B at 7), B 7..10; A's tokens 4..7 wait for B's firings 0..3 (+1 hop): A
    # 7..10, C 9..12, its second token at 14, B 14..17, done at 18, counted at 19.
    assert simulate(_reconvergent(4), 1).total_cycles == 19


def _ping_pong(tokens: int) -> TimingGraph:
    """A producer 10 hops from its consumer, through a 1-entry FIFO: each token waits for
    the credit of the one before, so back-pressure binds on every token."""
    return TimingGraph(
        (Node("p", "pmu", "producer", tokens, 1, 1), Node("c", "pcu", "consumer", tokens, 1, 1)),
        (Edge(0, 1, "vector", hops=10, depth=1),),
        hop_latency=2,
    )


def test_back_pressure_on_every_token_settles_from_below_and_above_alike(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # P fires every 1 + 20 + 20 - 1 = 40 cycles (its token's latency and hops, the credit's
    # hops, less the latency it starts ahead); C takes token 199 at 199 * 40 + 1 + 20, its
    # result leaves 1 later and is counted 1 later. 200 chained credits: more rounds than
    # the solution from below takes before the solution from above takes over.
    from rnnc.simulator import timing

    expected = 199 * 40 + 1 + 20 + 1 + 1
    assert simulate(_ping_pong(200), 1).total_cycles == expected
    monkeypatch.setattr(timing, "RISING_ROUNDS", 1_000)
    assert simulate(_ping_pong(200), 1).total_cycles == expected


def test_a_slow_buffer_swap_delays_the_next_steps_reads() -> None:
    # h's last write (at w) reaches the operand PMU at w + 1 + 1 hop and the buffer then
    # swaps; the next step's enable reaches that PMU at w + 1 + 3 hops + 1 + 3 hops = w + 8.
    # A swap of up to 6 cycles hides behind the enable; 10 cycles delay the reads by 4.
    cell = _recurrent_cell(4, 16)
    for swap, per_step in [(1, 91), (6, 91), (10, 95)]:
        graph = TimingGraph(cell.nodes[:5], cell.edges[:5], hop_latency=1, buffer_swap=swap,
                            control_routes=cell.control_routes)
        assert simulate(graph, 25).cycles_per_step == per_step


def test_the_dram_channels_bound_every_step() -> None:
    # alone a step takes 6 cycles (firings 0..3, the last result at 5, counted at 6); its
    # DRAM bytes take the channels 500 cycles from its enable, and the next step's enable
    # waits for them (+ the controller's update)
    graph = TimingGraph((Node("a", "pcu", "a", 4, 1, 2),), (), hop_latency=1, dram_cycles=500)
    assert simulate(graph, 10).cycles_per_step == 501
    assert simulate(graph, 10).total_cycles == 10 * 501


def _two_done_tokens(shared: bool, control_links: int) -> TimingGraph:
    """Two units that finish together (last firing at 0, latency 1), each 3 switches from
    the controller; with `shared`, their done routes cross the same two links."""
    first = ControlRoute(3, (1, 2))
    second = ControlRoute(3, (1, 2) if shared else (3, 4))
    return TimingGraph(
        (Node("a", "pcu", "first", 1, 1, 1, done_route=0),
         Node("b", "pcu", "second", 1, 1, 1, done_route=1)),
        (), hop_latency=1, control_routes=(first, second), control_links=control_links,
    )


def test_done_tokens_cross_their_routes() -> None:
    # each token leaves at 1 (latency), crosses 3 switches (4), the controller updates (5)
    assert simulate(_two_done_tokens(shared=False, control_links=1), 1).total_cycles == 5


def test_done_tokens_sharing_a_link_wait_their_turn() -> None:
    # one link, one pulse per cycle: the second token takes it a cycle after the first
    # and keeps that cycle behind it over the next link: it arrives at 5, counted at 6
    assert simulate(_two_done_tokens(shared=True, control_links=1), 1).total_cycles == 6
    # two parallel links carry both pulses in the same cycle
    assert simulate(_two_done_tokens(shared=True, control_links=2), 1).total_cycles == 5


def test_a_node_needs_a_control_route_the_graph_has() -> None:
    with pytest.raises(TimingError, match="node 'a': no control route 2"):
        TimingGraph((Node("a", "pcu", "x", 1, 1, 1, done_route=2),), (), hop_latency=1)


def _store_after(awaited: bool) -> TimingGraph:
    """A PCU (4 firings, latency 2) feeds a DRAM store (latency 100) whose done token
    crosses 3 switches to the controller; `awaited` False: the loop posts the store."""
    return TimingGraph(
        (Node("a", "pcu", "elementwise", 4, 1, 2),
         Node("s", "ag", "dram-store", 4, 1, 100, done_route=0, posted=True,
              awaited=awaited)),
        (Edge(0, 1, "vector", hops=0),),
        hop_latency=1,
        control_routes=(ControlRoute(3, (0, 1)),),
    )


def test_a_posted_write_leaves_the_step_and_ends_the_loop() -> None:
    # Waited for: the store fires at 2..5, its done token leaves at 6 and crosses its
    # 3 switches by 9; the controller's update ends the step at 10. Posted: A's token
    # (counted where it leaves, at 3 + 2) ends the step at 6. Either way the loop ends
    # when the last step's store has been acknowledged and its token has arrived: the
    # store's last firing + 100 + 3 hops + 1 (3 steps: 25 + 104 = 129 and 17 + 104 = 121).
    awaited, posted = simulate(_store_after(True), 3), simulate(_store_after(False), 3)
    assert awaited.cycles_per_step == 10
    assert posted.cycles_per_step == 6
    assert awaited.total_cycles == 129
    assert posted.total_cycles == 121
