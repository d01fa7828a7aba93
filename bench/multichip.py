"""The DeepBench tasks whose 8-bit weights exceed one plasticine-rnn chip, on several chips.

    python bench/multichip.py [--chips N|auto] [--tasks lstm-2048-25,...] [--keep DIR]

Each task is generated with random weights (`rnnc gen`), compiled over the chips
(`rnnc m.mlir -o config.json --chips N`, mixed precision), and simulated end to end
(`rnnc sim`); the table gives the simulated latency of the whole inference, the cost
model's prediction and its error, the exchange per step, and paper / sim against the
paper's Plasticine latency (`compiler/target/paper_deepbench.json`). The chip-to-chip
links are plasticine-rnn's `interchip` section, an assumption (see the preset's notes).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from rnnc.driver.cli import main as rnnc

PAPER = Path(__file__).resolve().parents[1] / "compiler" / "target" / "paper_deepbench.json"
TASKS = ("lstm-2048-25", "gru-2560-375", "gru-2816-750")


def paper_ms(task: str) -> float:
    """The paper's Plasticine latency of `cell-hidden-steps`."""
    cell, hidden, steps = task.split("-")
    for entry in json.loads(PAPER.read_text())["tasks"]:
        if (entry["cell"], entry["hidden"], entry["steps"]) == (cell, int(hidden), int(steps)):
            return entry["latency_ms"]["plasticine"]
    raise SystemExit(f"{task}: not a task of the paper")


def run_task(task: str, chips: str, folder: Path) -> dict:
    """Generate, compile over `chips` and simulate `task` in `folder`; its report."""
    cell, hidden, steps = task.split("-")
    model, config = folder / f"{task}.mlir", folder / f"{task}.json"
    report = folder / f"{task}.report.json"
    if rnnc(["gen", cell, hidden, steps, "-o", str(model)]) != 0:
        raise SystemExit(f"{task}: rnnc gen failed")
    if rnnc([str(model), "-o", str(config), "--chips", chips]) != 0:
        raise SystemExit(f"{task}: the compile failed")
    if rnnc(["sim", str(config), "--inputs", str(folder / f"{task}.inputs.npz"), "-o",
             str(folder / f"{task}.out.npz"), "--report", str(report)]) != 0:
        raise SystemExit(f"{task}: rnnc sim failed")
    return json.loads(report.read_text()) | {"chips_used": len(
        json.loads(config.read_text())["chips"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chips", default="2", help="chips (a number, or auto)")
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated tasks")
    parser.add_argument("--keep", metavar="DIR", help="keep the models and configs here")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.keep or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for task in args.tasks.split(","):
            report = run_task(task, args.chips, folder)
            rows.append((task, report))
    print(f"{'task':14} {'chips':>5} {'sim ms':>9} {'pred err':>8} {'exch/step':>9} "
          f"{'paper ms':>9} {'paper/sim':>9}")
    for task, report in rows:
        paper = paper_ms(task)
        print(f"{task:14} {report['chips_used']:5d} {report['latency_ms']:9.4f} "
              f"{report['predicted']['error']:+8.2%} "
              f"{report.get('exchange', {}).get('cycles_per_step', 0):9d} {paper:9.4f} "
              f"{paper / report['latency_ms']:9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
