"""Finding one's way: `rnnc --help` names every command, `rnnc --list-passes` every pass
with its options, each command says in one line what it wrote, and a missing extra says how
to install it."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest
from onnx_graphs import stacked
from rnnc.driver import cli, pipeline

PLUGIN = Path(__file__).parents[2] / "examples" / "plugins" / "annotate_flops.py"


def _help() -> str:
    return cli._compile_parser().format_help()


def test_help_lists_every_command_on_one_line() -> None:
    commands = _help().split("\ncommands:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    named = [line.split()[1] for line in commands]
    assert named[0] == "MODEL.mlir" and sorted(named[1:]) == sorted(cli.SUBCOMMANDS)
    assert all(len(line.split("  ", 1)[1].strip()) > 10 for line in commands)  # a description


def test_help_states_the_precision_default_and_its_error() -> None:
    text = " ".join(_help().split())
    assert "`mixed` on the default plasticine-rnn" in text
    assert "differ from fp32 by about 2e-2" in text


def _rnnc_passes() -> dict[str, type]:
    passes = pipeline.available_passes()
    return {n: f() for n, f in passes.factories.items() if f().__module__.startswith("rnnc.")}


def test_list_passes_gives_every_pass_with_its_options(capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["--list-passes", "--load-pass-plugin", str(PLUGIN)]) == 0
    out = capsys.readouterr().out
    ours, rest = out.split("\n\nplug-in passes from ", 1)
    assert ours.splitlines()[1] == (
        '  loop-assign-resources{arch="plasticine-rnn" objective="latency" precision="" '
        'chips=1 max_chips=0 dse_dump="" max_pcus=0 max_pmus=0 schedules="all"}'
    )
    for name, pass_type in _rnnc_passes().items():
        line = next(x for x in ours.splitlines() if x.startswith(f"  {name}"))
        for field in dataclasses.fields(pass_type):
            assert f" {field.name}=" in line or f"{{{field.name}=" in line, (name, field.name)
    plugin, xdsl = rest.split("\n\nxDSL passes:\n", 1)
    assert plugin.splitlines() == [f"{PLUGIN}:", '  user-annotate-flops{convention="paper"}']
    assert "\n  canonicalize\n" in xdsl


def test_a_model_is_required_without_list_passes(capfd: pytest.CaptureFixture) -> None:
    assert cli.main([]) == 1
    assert "rnnc: error: the following arguments are required: model" in capfd.readouterr().err


def _one_line(capsys: pytest.CaptureFixture, argv: list[str]) -> str:
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1, out
    return out.strip()


def test_every_command_says_what_it_wrote(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    m, d = str(tmp_path / "m.mlir"), tmp_path
    assert _one_line(capsys, ["gen", "rnn", "4", "2", "--input", "3", "-o", m]) == (
        f"{m}: rnn hidden 4, input 3, 2 steps, batch 1; weights {d / 'm.npz'}, inputs "
        f"{d / 'm.inputs.npz'}"
    )
    run = ["run", m, "--inputs", str(d / "m.inputs.npz"), "-o", str(d / "r.npz")]
    assert _one_line(capsys, run) == f"{d / 'r.npz'}: Y 2x1x1x4, Y_h 1x1x4 (fp32)"
    assert _one_line(capsys, [m, "--emit=loop", "-o", str(d / "l.mlir")]) == (
        f"{d / 'l.mlir'}: IR at the loop level"
    )
    config = str(d / "c.json")
    assert _one_line(capsys, [m, "--precision", "fp32", "-o", config]).startswith(
        f"{config}: design hu="
    )
    assert _one_line(capsys, ["sim", config, "--inputs", str(d / "m.inputs.npz"), "-o",
                              str(d / "s.npz")]).startswith(f"{config}: ")
    assert re.fullmatch(
        rf"{re.escape(str(d / 'p.svg'))}: chip 0 of {re.escape(config)}, \d+ units, \d+ routes",
        _one_line(capsys, ["show", config, "-o", str(d / "p.svg")]),
    )


def test_import_says_what_it_wrote(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    model = tmp_path / "stacked.onnx"
    model.write_bytes(stacked().SerializeToString())
    out = str(tmp_path / "s.mlir")
    line = _one_line(capsys, ["import", str(model), "-o", out])
    assert re.fullmatch(
        rf"{re.escape(out)}: imported {re.escape(str(model))}: 2 recurrent layer\(s\) "
        rf"\(\w+, \w+\); \d+ weight arrays in {re.escape(str(tmp_path / 's.npz'))}",
        line,
    ), line


def _without_onnx(*argv: str) -> subprocess.CompletedProcess:
    """`rnnc ARGV` in an interpreter where `import onnx` fails, as without the extra."""
    code = ("import sys; sys.modules['onnx'] = None; from rnnc.driver import cli; "
            "sys.exit(cli.main(sys.argv[1:]))")
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          check=False)


def test_import_without_the_onnx_extra_says_how_to_install_it(tmp_path: Path) -> None:
    model = tmp_path / "m.onnx"
    model.write_bytes(b"not read")
    done = _without_onnx("import", str(model), "-o", str(tmp_path / "m.mlir"))
    assert done.returncode == 1
    assert done.stderr == (
        f"{model}: error: importing ONNX needs the onnx package, which is not installed: "
        "pip install 'rnnc[onnx]' (from a checkout: pip install -e '.[onnx]')\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]
    shown = _without_onnx("import", "--help")
    assert shown.returncode == 0 and "usage: rnnc import" in shown.stdout
