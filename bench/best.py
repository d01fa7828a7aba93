"""The paper's 11 DeepBench tasks, each on its best configuration, against the paper and Brainwave.

    python bench/best.py [--tasks lstm-256-150,...] [--jobs N] [--max-error E]
                         [--keep DIR] [--json FILE]

Each task is generated with random weights (`rnnc gen ... --seed 0`, the shipped-style
inputs), then every candidate configuration is compiled (`rnnc m.mlir -o c.json
--precision P --chips N`) and simulated end to end (`rnnc sim c.json --inputs ...
--compare fp32 --report r.json`: the whole inference, and the error of the outputs
against the same machine in fp32 on the given weights). The candidates:

- one chip at `mixed` (8-bit weights), always;
- when its weights do not all stay on chip (its streamed share is not 0): one chip at the
  narrow weight formats of the architecture, widest first (`mxfp6`, `int5`, `int4`,
  `mxfp4` on plasticine-rnn), up to the first whose weights all stay on chip (a narrower
  one runs at the same MAC rate with a larger error); two and three chips at `mixed`; two
  chips at the narrowest format (`int4`).

A one-chip candidate that streams weights is compiled but not simulated (streaming every
step is many times slower than any candidate that does not, and its simulation is the
slowest): its streamed share, from the configuration, is listed. A report `--keep` holds
is still read.

The best is the fastest simulated candidate whose error (max over the outputs of max |error|
over the fp32 output's range) is within the budget `--max-error` (default 0.10); ties go
to fewer chips, then the first candidate. The table gives per task the paper's Plasticine
and Brainwave latencies (`compiler/target/paper_deepbench.json`), rnnc's, both ratios
(their latency over rnnc's: > 1 means rnnc is faster), the label (chips, format, error,
streamed share), then the geometric means and the count of tasks where rnnc beats
Brainwave. Tasks run in parallel over `--jobs` processes (each runs its candidates in
order); with `--keep DIR` a candidate whose report DIR already holds is not run again.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

PAPER = Path(__file__).resolve().parents[1] / "compiler" / "target" / "paper_deepbench.json"


@dataclass(frozen=True)
class Candidate:
    chips: int
    precision: str

    @property
    def name(self) -> str:
        return f"{self.chips}chip-{self.precision}"


@dataclass(frozen=True)
class Result:
    """One candidate simulated: latency, error against fp32, streamed weight share."""

    chips: int
    precision: str
    latency_ms: float
    error: float
    """Max over the outputs of max |error| / the fp32 output's range."""
    streamed_share: float
    predicted_error: float
    """The cost model's whole-inference prediction against the simulation."""
    simulated: bool = True
    """False for a one-chip candidate that streams weights (compiled only: its latency
    is infinite here, its error NaN, and it is never the best)."""

    @property
    def label(self) -> str:
        streamed = f", {self.streamed_share:.0%} streamed" if self.streamed_share else ""
        return (f"{self.chips} chip{'s' if self.chips > 1 else ''}, {self.precision}, "
                f"err {self.error:.1%}{streamed}")


def narrow_formats() -> dict[str, int]:
    """The default architecture's precision modes that store weights in a block-scaled
    format, with their element bits, widest first (then by name)."""
    from rnnc.target.arch import load_architecture

    bits = {m.name: m.weight_format.bits for m in load_architecture().precisions
            if m.weight_format is not None}
    return dict(sorted(bits.items(), key=lambda item: (-item[1], item[0])))


def paper_tasks() -> list[dict]:
    return json.loads(PAPER.read_text())["tasks"]


def task_name(entry: dict) -> str:
    return f"{entry['cell']}-{entry['hidden']}-{entry['steps']}"


def _rnnc(argv: list[str], what: str) -> None:
    """Run rnnc in this process, its output kept unless it fails."""
    from rnnc.driver.cli import main as rnnc

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            status = rnnc(argv)
        except SystemExit as stop:
            status = stop.code
    if status not in (0, None):
        raise RuntimeError(f"{what} failed (rnnc {' '.join(argv)}):\n{out.getvalue()}")


def streamed_share(config: Path) -> float:
    """The share of the weights a one-chip configuration streams every step (as `rnnc sim
    --report` gives it), from the configuration alone."""
    from rnnc.backend.load import load_config, machine_of
    from rnnc.simulator.weight_share import weight_share

    loaded = load_config(config)
    return weight_share(machine_of(loaded.data), loaded.arch)["streamed_share"]


def simulate(entry: dict, candidate: Candidate, folder: Path) -> Result:
    """Compile and simulate `candidate` of the task (its model already generated); on one
    chip, only compile it when it streams weights."""
    name = task_name(entry)
    model = folder / f"{name}.mlir"
    stem = folder / f"{name}.{candidate.name}"
    config, report = Path(f"{stem}.json"), Path(f"{stem}.report.json")
    streams = Path(f"{stem}.streamed")  # a one-chip candidate's share, when not 0
    # what `--keep` holds is reused: rnnc writes the report last
    if not report.exists() and not streams.exists():
        _rnnc([str(model), "-o", str(config), "--precision", candidate.precision,
               "--chips", str(candidate.chips)], f"{name} {candidate.name}: the compile")
        if candidate.chips == 1 and (share := streamed_share(config)):
            streams.write_text(f"{share!r}\n")
    if streams.exists():
        return Result(candidate.chips, candidate.precision, math.inf, math.nan,
                      float(streams.read_text()), math.nan, simulated=False)
    if not report.exists():
        _rnnc(["sim", str(config), "--inputs", str(folder / f"{name}.inputs.npz"),
               "-o", f"{stem}.out.npz", "--report", str(report), "--compare", "fp32"],
              f"{name} {candidate.name}: rnnc sim")
    found = json.loads(report.read_text())
    return Result(
        chips=candidate.chips,
        precision=candidate.precision,
        latency_ms=found["latency_ms"],
        error=max(e["max_abs_over_range"] for e in found["error"].values()),
        streamed_share=found["weights"]["streamed_share"],
        predicted_error=found["predicted"]["error"],
    )


def run_task(entry: dict, folder: str, cached: bool = False) -> tuple[list[Result], list[str]]:
    """Every candidate of one task, in order (the narrow formats and several chips only
    when one chip at mixed streams weights: see the module doc), and (with `cached`: only
    the reports `folder` holds are read) the candidates left out, each with why (not run,
    or its failure)."""
    path = Path(folder)
    name = task_name(entry)
    if not cached and not (path / f"{name}.inputs.npz").exists():
        _rnnc(["gen", entry["cell"], str(entry["hidden"]), str(entry["steps"]), "--input",
               str(entry["input"]), "--seed", "0", "-o", str(path / f"{name}.mlir")],
              f"{name}: rnnc gen")
    results: list[Result] = []
    missing: list[str] = []
    narrow = narrow_formats()
    narrowest = min(narrow, key=lambda p: (narrow[p], p))
    todo = [Candidate(1, "mixed")]
    while todo:
        candidate = todo.pop(0)
        one_narrow = candidate.chips == 1 and candidate.precision in narrow
        stem = path / f"{name}.{candidate.name}"
        if cached and not any(Path(f"{stem}.{end}").exists() for end in (
                "report.json", "streamed")):
            missing.append(f"{candidate.name}: not run (--cached)")
            streams = True  # not known: the candidates that follow are listed
        else:
            try:
                results.append(simulate(entry, candidate, path))
            except RuntimeError as failure:  # listed; the other candidates still run
                missing.append(f"{candidate.name}: {str(failure).strip().splitlines()[-1]}")
                continue
            streams = results[-1].streamed_share > 0
        if candidate == Candidate(1, "mixed") and streams:
            todo = [Candidate(1, p) for p in narrow] + [
                Candidate(2, "mixed"), Candidate(3, "mixed"), Candidate(2, narrowest)]
        elif one_narrow and not streams:
            # narrower formats on one chip: the same MAC rate, a larger error
            todo = [c for c in todo if c.chips > 1]
    return results, missing


def best(results: list[Result], budget: float) -> Result | None:
    """The fastest result within the error budget (ties: fewer chips, then the first)."""
    within = [r for r in results if r.error <= budget]
    return min(within, key=lambda r: (r.latency_ms, r.chips), default=None)


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def table(entries: list[dict], results: dict[str, list[Result]], budget: float,
          missing: dict[str, list[str]]) -> str:
    lines = [f"{'task':16} {'paper ms':>9} {'BW ms':>8} {'rnnc ms':>9} {'paper/rnnc':>10} "
             f"{'BW/rnnc':>8}  configuration (chips, format, error vs fp32)"]
    paper_ratios, bw_ratios, wins = [], [], 0
    for entry in entries:
        name = task_name(entry)
        chosen = best(results[name], budget)
        paper = entry["latency_ms"]["plasticine"]
        brainwave = entry["latency_ms"]["brainwave_stratix10"]
        label = f"{entry['cell'].upper()}-{entry['hidden']} T={entry['steps']}"
        if chosen is None:
            why = f"no candidate within {budget:.0%}" if results[name] else "not run"
            lines.append(f"{label:16} {paper:9.4g} {brainwave:8.4g}  {why}")
            continue
        p, b = paper / chosen.latency_ms, brainwave / chosen.latency_ms
        paper_ratios.append(p)
        bw_ratios.append(b)
        wins += b > 1
        lines.append(f"{label:16} {paper:9.4g} {brainwave:8.4g} {chosen.latency_ms:9.4g} "
                     f"{p:10.2f} {b:8.2f}  {chosen.label}"
                     + (f" (left out: {'; '.join(missing[name])})" if missing[name] else ""))
    lines.append(f"{'geomean':16} {'':9} {'':8} {'':9} {geomean(paper_ratios):10.2f} "
                 f"{geomean(bw_ratios):8.2f}  ({len(paper_ratios)} tasks)")
    lines.append(f"wins over Brainwave: {wins} of {len(entries)}; paper/rnnc >= 1: "
                 f"{sum(r >= 1 for r in paper_ratios)} of {len(entries)}; error budget "
                 f"{budget:.0%} of the fp32 output's range")
    return "\n".join(lines)


def candidates_table(entries: list[dict], results: dict[str, list[Result]],
                     missing: dict[str, list[str]]) -> str:
    lines = [f"{'task':16} {'candidate':14} {'sim ms':>9} {'pred err':>8} {'error':>7} "
             f"{'streamed':>8}"]
    for entry in entries:
        name = task_name(entry)
        for r in results[name]:
            if not r.simulated:
                lines.append(f"{name:16} {f'{r.chips}chip {r.precision}':14} compiled, not "
                             f"simulated: it streams {r.streamed_share:.1%} of the weights")
                continue
            lines.append(f"{name:16} {f'{r.chips}chip {r.precision}':14} "
                         f"{r.latency_ms:9.4g} {r.predicted_error:+8.2%} {r.error:7.2%} "
                         f"{r.streamed_share:8.1%}")
        lines += [f"{name:16} {why.replace('-', ' ', 1)}" for why in missing[name]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    every = [task_name(e) for e in paper_tasks()]
    parser.add_argument("--tasks", default=",".join(every), help="comma-separated tasks "
                        "(cell-hidden-steps)")
    parser.add_argument("--jobs", type=int, default=2, help="tasks simulated at once")
    parser.add_argument("--max-error", type=float, default=0.10, help="error budget: max "
                        "|error| over the fp32 output's range")
    parser.add_argument("--keep", metavar="DIR", help="keep the models, configs and reports "
                        "here (a later run reuses the reports it finds)")
    parser.add_argument("--json", metavar="FILE", help="write every candidate's result")
    parser.add_argument("--cached", action="store_true", help="with --keep: run nothing, "
                        "read the reports it holds (a candidate without one is listed as not "
                        "run and left out of the choice)")
    args = parser.parse_args(argv)
    if args.cached and not args.keep:
        parser.error("--cached reads the reports of --keep DIR")
    by_name = {task_name(e): e for e in paper_tasks()}
    unknown = [t for t in args.tasks.split(",") if t not in by_name]
    if unknown:
        parser.error(f"not a task of the paper: {', '.join(unknown)} (tasks: {', '.join(every)})")
    entries = [by_name[t] for t in args.tasks.split(",")]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.keep or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = {task_name(e): pool.submit(run_task, e, str(folder), args.cached)
                       for e in entries}
            found = {name: future.result() for name, future in futures.items()}
    results = {name: rs for name, (rs, _) in found.items()}
    missing = {name: ms for name, (_, ms) in found.items()}
    print(candidates_table(entries, results, missing))
    print()
    print(table(entries, results, args.max_error, missing))
    if args.json:
        Path(args.json).write_text(json.dumps(
            {name: [asdict(r) for r in rs] for name, rs in results.items()}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
