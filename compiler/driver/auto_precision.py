"""`rnnc MODEL -o config.json --precision auto --max-error E --inputs IN.npz`: the precision
mode of the architecture with the lowest predicted latency whose outputs on the given
inputs stay within E (the largest |error| of any output element) of fp32's.

Each mode's latency is the design search's prediction (the loop level after
loop-assign-resources, the cost model that `rnnc sim` confirms within 10%); its error is
the loop interpreter's emulation of the mode (weights stored in the mode's format) against
the same program in fp32, on the given inputs. fp32 itself is always within budget."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from rnnc.diagnostics import Diagnostic
from rnnc.driver import pipeline
from rnnc.driver.io import load_weights
from rnnc.driver.stored_weights import cell_matrices, stored_weights
from rnnc.numerics.precision import FP32, compare_outputs, parse_precision
from rnnc.target.arch import load_architecture

#: The pipeline whose result has both the search's prediction and runnable loops.
SEARCH_PIPELINE = "rnn-decompose,loop-fuse,loop-assign-resources"


@dataclass(frozen=True)
class Candidate:
    """A precision mode's predicted latency and measured error (largest |error|)."""

    precision: str
    latency_ms: float
    error: float


def choose_precision(
    args: argparse.Namespace, transform: Callable[..., Any], optional: frozenset[str]
) -> tuple[str, list[Candidate]]:
    """The mode `--precision auto` picks, and every mode's figures (fastest first)."""
    from rnnc.analysis.access import time_loops
    from rnnc.backend.input_files import load_npz
    from rnnc.interpreters import run

    if args.max_error is None or args.inputs is None:
        raise Diagnostic("--precision", "auto needs --max-error E and --inputs IN.npz (the "
                         "inputs on which each mode's error against fp32 is measured)")
    if not (math.isfinite(args.max_error) and args.max_error >= 0):
        raise Diagnostic("--max-error", f"expected a finite number >= 0, got {args.max_error}")
    arch = load_architecture(args.arch) if args.arch else load_architecture()
    text = pipeline.read_text(args.model)
    inputs = load_npz(args.inputs)
    matrices: set[str] = set()
    candidates: list[Candidate] = []
    reference: dict[str, np.ndarray] | None = None
    for mode in [*sorted(m.name for m in arch.precisions if m.name != "fp32"), "fp32"]:
        options = argparse.Namespace(**{**vars(args), "precision": mode,
                                        "passes": SEARCH_PIPELINE})
        module = transform(text, options, SEARCH_PIPELINE, optional,
                           before_passes=lambda parsed: matrices.update(cell_matrices(parsed)))
        costs = [step.attributes["loop.cost"] for step in time_loops(module)]
        latency = math.fsum(c.data["latency_ms"].value.data for c in costs)  # type: ignore
        numerics = FP32 if mode == "fp32" else parse_precision(mode)
        weights = stored_weights(load_weights(module, args.model), matrices, numerics)
        outputs = run(module, inputs, weights, source=args.inputs, precision=numerics)
        if reference is None:
            reference = run(module, inputs, load_weights(module, args.model),
                            source=args.inputs, precision=FP32)
        errors = compare_outputs(reference, outputs).values()
        candidates.append(Candidate(mode, latency, max((e.max_abs for e in errors),
                                                        default=0.0)))
    candidates.sort(key=lambda c: (c.latency_ms, c.error, c.precision))
    chosen = next(c for c in candidates if c.error <= args.max_error or c.precision == "fp32")
    return chosen.precision, candidates


def choice_lines(chosen: str, candidates: list[Candidate], budget: float) -> str:
    """What `--precision auto` prints: each mode's latency and error, and the choice."""
    lines = [f"--precision auto: {chosen} (the fastest predicted with max |error| <= {budget:g} "
             "against fp32 on --inputs)"]
    for c in candidates:
        mark = "*" if c.precision == chosen else " "
        lines.append(f" {mark} {c.precision:<10} {c.latency_ms:>10.4g} ms  max |error| "
                     f"{c.error:.3e}")
    return "\n".join(lines)


__all__ = ["Candidate", "choice_lines", "choose_precision"]
