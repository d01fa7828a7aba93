"""The design-space search's choice of the `joint-chunks` schedule
(`rnnc.target.joint_chunks`).

The form changes where a slot's parts begin and end, so it changes the factors that win:
a joint sequence of C chunks folds ceil(C / ru) per unit where the paper's form folds one
part of each reduction, but it may take more units and larger weight slices. So the whole
search runs on the program in each form and the joint one is kept only when it is faster
(fewer total cycles; ties keep the paper's form). At given factors (`pays`), the same rule
on the two costs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from rnnc.target import joint_chunks
from rnnc.target.arch import Architecture
from rnnc.target.cost import Factors, ProgramSpec, evaluate
from rnnc.target.dse import SearchError, SearchResult


def applies(program: ProgramSpec, arch: Architecture, precision: str | None) -> bool:
    """Whether some nest has a slot of several reductions and the weights are not
    block-scaled (`joint_chunks`)."""
    return arch.precision(precision).weight_format is None and any(
        joint_chunks.applies(nest.slots) for nest in program.nests
    )


def with_joint_chunks(program: ProgramSpec, joint: bool) -> ProgramSpec:
    """`program` with every nest's slots cut as one chunk sequence (`joint`) or not."""
    nests = tuple(dataclasses.replace(n, joint_chunks=joint) for n in program.nests)
    return dataclasses.replace(program, nests=nests)


def choose(
    program: ProgramSpec, search: Callable[[ProgramSpec], SearchResult], arch: Architecture,
    precision: str | None,
) -> tuple[ProgramSpec, SearchResult]:
    """The program and the search's result in the paper's form, or in the joint form when
    its best point is faster (see the module doc)."""
    paper = with_joint_chunks(program, False)
    result = search(paper)
    if not applies(program, arch, precision):
        return paper, result
    joint = with_joint_chunks(program, True)
    try:
        trial = search(joint)
    except SearchError:
        return paper, result
    if trial.cost.total_cycles < result.cost.total_cycles:
        return joint, dataclasses.replace(trial, evaluated=trial.evaluated + result.evaluated)
    return paper, dataclasses.replace(result, evaluated=trial.evaluated + result.evaluated)


def pays(
    program: ProgramSpec, factors: Sequence[Factors], arch: Architecture,
    precision: str | None,
) -> bool:
    """Whether, at `factors`, the joint form fits and takes fewer total cycles."""
    if not applies(program, arch, precision):
        return False
    paper = evaluate(with_joint_chunks(program, False), factors, arch, precision)
    joint = evaluate(with_joint_chunks(program, True), factors, arch, precision)
    return joint.fits and (not paper.fits or joint.total_cycles < paper.total_cycles)


__all__ = ["applies", "choose", "pays", "with_joint_chunks"]
