"""Every bad input of the corpus (`bad_inputs.py`) fails clean: exit status 1, exactly one
`location: error: message` line naming the file at fault, no traceback, nothing printed
to stdout, and no new or changed file in the working folder.

Most cases run in-process through `cli.main(argv)`, which is what the `rnnc` entry point
calls; a representative subset (at least one per category) runs as real subprocesses of
the installed entry point, so the exit status and the streams are the process's own.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from bad_inputs import CASES, MODEL, Case, gru, inputs
from rnnc.driver import cli

#: A diagnostic line: a non-empty location, then `error:` and a message.
DIAGNOSTIC = re.compile(r"^\S[^\n]*?: error: \S")
BY_ID = {case.id: case for case in CASES}


def snapshot(folder: Path) -> dict[str, tuple[str, int, str]]:
    """Every entry below `folder`: its kind, size, mode and a hash of its bytes."""
    entries = {}
    for path in sorted(folder.rglob("*")):
        if path.is_dir():
            entries[str(path.relative_to(folder))] = ("dir", 0, "")
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            entries[str(path.relative_to(folder))] = ("file", path.stat().st_mode, digest)
    return entries


class Hang(BaseException):
    """Raised in a case that runs too long (a BaseException, so that no handler in the
    driver can mistake it for an error of its own)."""


#: Every case takes well under a second; one that takes this long hangs.
TIMEOUT_S = 30


def _hang(signum: int, frame: object) -> None:
    raise Hang(f"no answer after {TIMEOUT_S} s")


def check(case: Case, status: int, out: str, err: str) -> None:
    assert "Traceback" not in err, err
    assert "internal error" not in err, err
    assert status == 1, (status, err)
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err
    assert DIAGNOSTIC.match(errors[0]), errors[0]
    assert errors[0].startswith(case.file), (case.file, errors[0])
    assert case.message in errors[0], (case.message, errors[0])
    after = errors[0][errors[0].index(case.message) + len(case.message):]
    assert case.detail in after, (case.detail, errors[0])
    assert out == "", out


def test_the_corpus_is_large_and_covers_every_category() -> None:
    assert len(CASES) >= 150
    assert {case.category for case in CASES} == {
        "syntax", "outputs", "architecture", "npz", "runtime", "memory", "plugins",
        "pipeline", "cli", "onnx", "config", "weights", "study", "results",
    }


def test_the_new_commands_have_150_cases_of_their_own() -> None:
    """Issue 18: configurations, weight files, sim/show outputs, studies and results
    tables (the collisions of the other commands' outputs with their inputs counted too)."""
    collisions = [case for case in CASES if case.category == "outputs"
                  and case.name.split(":")[0] in ("sim", "show", "compile", "run", "import", "gen")]
    surfaces = [case for case in CASES if case.category in ("config", "weights", "study",
                                                            "results")]
    assert len(surfaces) + len(collisions) >= 150


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_fails_clean(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RNNC_TRACEBACK", raising=False)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # as for a user: see rnnc()
    argv = case.setup(tmp_path)
    before = snapshot(tmp_path)
    capsys.readouterr()  # a setup that runs rnnc (to lower a file) prints its success line

    signal.signal(signal.SIGALRM, _hang)
    signal.alarm(TIMEOUT_S)
    try:
        status = cli.main(argv)
    finally:
        signal.alarm(0)

    out, err = capsys.readouterr()
    check(case, status, out, err)
    assert snapshot(tmp_path) == before


#: One or more cases of each category, run as the installed command.
SUBPROCESS_CASES = [
    "syntax: 20000 nested brackets",
    "syntax: truncated at 50%",
    "outputs: gen -o is a directory (weights not left behind)",
    "outputs: --split-input-file -o with a bad chunk writes nothing",
    "architecture: pcu.lanes = 1",
    "architecture: clock_ghz = NaN",
    "npz: 2 MB zip bomb",
    "npz: header claims 10^12 elements",
    "runtime: sequence_lens [3, 4] at the fused loop level",
    "memory: gen sizes too large",
    "plugins: sys.exit on import",
    "plugins: KeyboardInterrupt on import",
    "plugins: a plug-in that leaves invalid IR",
    "pipeline: -p mlir-opt (not installed)",
    "cli: gen --batch 0",
    "onnx: truncated model",
    "config: sim: counter counting down",
    "config: show: nest extent -1",
    "weights: a 2 MB zip bomb, hash matching",
    "outputs: sim: --report kept back when -o fails at the end (/dev/full)",
    "study: billion laughs",
    "results: no status column",
    "syntax: a UTF-8 byte-order mark",
]


#: The `rnnc` console script that `pip install` puts beside the Python running the tests.
RNNC = shutil.which("rnnc", path=str(Path(sys.executable).parent))


def _user_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE",
                                                             "RNNC_TRACEBACK")}


def rnnc(argv: list[str], cwd: Path, **options: object) -> subprocess.CompletedProcess[str]:
    """Run the installed command in `cwd` as a user would: Python may write bytecode caches
    (so that importing a plug-in would leave a __pycache__ folder if rnnc let it)."""
    assert RNNC is not None, "the rnnc command is not installed (pip install -e .)"
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [RNNC, *argv], cwd=cwd, capture_output=True, text=True, check=False, env=_user_env(),
        **options,
    )


#: Runs its arguments as a command and prints that command's peak memory (KiB).
_PEAK_LAUNCHER = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], capture_output=True, check=False)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def peak_kib(argv: list[str], cwd: Path) -> int:
    """Peak memory of `rnnc argv` alone. A child's peak counts from the size of the process
    that started it (fork, vfork), so the test process, large after the simulator tests,
    would be counted: a small launcher starts it instead."""
    assert RNNC is not None, "the rnnc command is not installed (pip install -e .)"
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_LAUNCHER, RNNC, *argv], cwd=cwd, capture_output=True,
        text=True, check=True, env=_user_env(), timeout=TIMEOUT_S,
    )  # fmt: skip
    return int(done.stdout)


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_bad_input_fails_clean_as_a_process(name: str, tmp_path: Path) -> None:
    case = BY_ID[name]
    argv = case.setup(tmp_path)
    before = snapshot(tmp_path)

    done = rnnc(argv, tmp_path, timeout=TIMEOUT_S)

    check(case, done.returncode, done.stdout, done.stderr)
    assert snapshot(tmp_path) == before
    if "zip bomb" in name:  # refused from its header: the 2 GB were never inflated
        peak = peak_kib(argv, tmp_path)
        assert peak < 1 << 20, f"rnnc grew to {peak} KiB"
        assert snapshot(tmp_path) == before


def test_the_subprocess_subset_covers_every_category() -> None:
    assert {BY_ID[name].category for name in SUBPROCESS_CASES} == {
        case.category for case in CASES
    }


def test_a_closed_stdout_ends_quietly(tmp_path: Path) -> None:
    """`rnnc run ... | head -c 10`: the reader goes away; no message about a broken pipe."""
    assert RNNC is not None
    argv = ["run", gru(tmp_path), "--inputs", inputs(tmp_path)]
    process = subprocess.Popen(
        [RNNC, *argv],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the command writes anything
    err = process.stderr.read().decode()
    status = process.wait()
    assert err == ""
    assert status == 1


def test_print_ir_after_all_prints_each_pass(tmp_path: Path) -> None:
    (tmp_path / "model.mlir").write_text(MODEL)
    done = rnnc(["model.mlir", "-p", "rnn-decompose,loop-fuse", "--print-ir-after-all"],
                tmp_path)
    assert done.returncode == 0, done.stderr
    dumps = re.findall(r"^// -----// IR Dump After (\S+) //----- //$", done.stderr, re.M)
    assert dumps == ["rnn-decompose", "loop-fuse"]
    assert "loop.foreach" in done.stderr


def test_an_internal_error_asks_for_a_report(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug (here: an exception planted in the gen command) is not dressed up as a
    diagnostic: it says "internal error" and asks for a report."""

    def broken(argv: object) -> None:
        raise KeyError("planted")

    monkeypatch.setitem(cli.SUBCOMMANDS, "gen", broken)
    monkeypatch.delenv("RNNC_TRACEBACK", raising=False)
    assert cli.main(["gen"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rnnc: internal error: KeyError: 'planted'\n")
    assert "Please report it" in err
    assert "Traceback" not in err
