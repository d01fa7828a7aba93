"""The schedules rnnc may use beyond the paper's, by name.

A schedule is a way of building the design that the paper did not use (an input
projection computed a step ahead, partial sums added inside map-reduce units, ...). Each
one is switched on or off by name, so a user (or `bench/deepbench.py --ablate`) can switch
one off alone and see what it buys. The passes that decide a schedule take the option
`schedules` (the `--schedules` flag), parse it with `pass_schedules` (`enabled_schedules`
failing the pass on a bad word), and consult the set; the choice that results is stored in
the IR like any other decision.
"""

from __future__ import annotations

from xdsl.utils.exceptions import PassFailedException

#: Every schedule by name, with what it changes. Each pass that implements one adds it here.
SCHEDULES: dict[str, str] = {
    "step-ahead": "the input projection W_x x(t+1) folded during step t by map-reduce units "
    "of its own, so a step holds only the recurrence (loop-assign-resources chooses it and "
    "the split of units; rnnc.target.step_ahead)",
    "chained-sums": "partial sums of a reduction's parts added in the map-reduce units' free "
    "pipeline stages (a chain or tree of them) instead of combining PCUs "
    "(rnnc.target.chained_sums)",
    "posted-writes": "spatial-post-writes: a time loop's stores to DRAM and writes to memories "
    "the loop does not read leave the step's done set (config.json: schedule[k].posted)",
    "joint-chunks": "a slot's reductions (a GRU candidate gate's x and h products) cut as one "
    "sequence of chunks, a unit straddling them sending both sums, where that is faster "
    "(loop-assign-resources chooses it; rnnc.target.joint_chunks)",
    "timing-placement": "spatial-place weighs each stream by its criticality on the step's "
    "longest path and keeps the best of several seeds (rnnc.target.timing_placement)",
    "swap-start": "spatial-swap-start: a time loop's steps after the first start on a token "
    "from its state buffer's swap, routed to the step's first readers, instead of the "
    "controller's enable (config.json: schedule[k].swap; rnnc.target.swap_start)",
}


def enabled_schedules(text: str) -> frozenset[str]:
    """The schedules `text` enables: `all`, `none`, a comma list of names, or `all`
    followed by `-name` items that switch single schedules off (`all,-step-ahead`).

    Raises ValueError naming the first word that is not a schedule."""
    words = [word.strip() for word in text.split(",") if word.strip()]
    if words[:1] == ["all"]:
        chosen, rest = set(SCHEDULES), words[1:]
    elif words == ["none"]:
        return frozenset()
    else:
        chosen, rest = set(), words
    for word in rest:
        name = word.removeprefix("-")
        if name not in SCHEDULES:
            known = ", ".join(sorted(SCHEDULES)) or "none yet"
            raise ValueError(f"unknown schedule '{name}' (known: {known})")
        if word.startswith("-"):
            chosen.discard(name)
        else:
            chosen.add(name)
    return frozenset(chosen)


def pass_schedules(pass_name: str, text: str) -> frozenset[str]:
    """The schedules a pass's `schedules` option enables (`enabled_schedules`); a word that
    is not a schedule fails the pass: `<pass>: schedules: unknown schedule '<word>' ...`."""
    try:
        return enabled_schedules(text)
    except ValueError as error:
        raise PassFailedException(f"{pass_name}: schedules: {error}") from None
