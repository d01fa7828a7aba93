"""Bad study files: one `study: error: field '...': ...` line, exit status 1, no traceback,
and no output file; nothing is compiled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rnnc.driver import cli
from rnnc.driver.sweep import load_study
from rnnc.frontends.deepbench import PAPER_TASKS

GOOD = """\
models:
  - gen: {cell: lstm, hidden: 64, steps: 4}
architectures:
  - preset: plasticine-rnn
"""

CASES = {
    "not-yaml": (
        "models: [\n",
        ":2:1: error: invalid YAML: expected the node content, but found '<stream end>'",
    ),
    "no-models": (
        "architectures:\n  - preset: plasticine-rnn\n",
        ": error: field 'models': missing (required)",
    ),
    "unknown-key": (
        GOOD + "engine: ray\n",
        ": error: field 'engine': unknown field (allowed: $schema, architectures, chips, "
        "description, models, name, objectives, pipelines, precisions, run)",
    ),
    "bad-pipeline": (
        GOOD + "pipelines: [fused, unrolled]\n",
        ": error: field 'pipelines.1': expected one of \"fused\", \"decomposed\", got \"unrolled\"",
    ),
    "negative-chips": (
        GOOD + "chips: [-1]\n",
        ": error: field 'chips.0': expected integer >= 0, got -1",
    ),
    "empty-grid-values": (
        GOOD + "    grid: {pcu.count: []}\n",
        ": error: field 'architectures.0.grid.pcu.count': must not be empty",
    ),
    "two-sources": (
        GOOD.replace("  - gen:", "  - csv_row: 3\n    gen:"),
        ": error: field 'models.0': expected exactly one of file, csv_row, gen, suite, got "
        "csv_row, gen",
    ),
    "no-arch-source": (
        GOOD.replace("  - preset: plasticine-rnn", "  - fit_grid: true"),
        ": error: field 'architectures.0': expected exactly one of preset, file, got none",
    ),
    "grid-typo": (
        GOOD + "    grid: {pcu.cont: [1]}\n",
        ": error: field 'architectures.0.grid.pcu.cont': no such architecture field (pcu has: "
        "area_mm2, arithmetic_bits, control_inputs, control_outputs, count, counters, lanes, "
        "power_w, registers_per_stage, scalar_inputs, "
        "scalar_outputs, stages, vector_inputs, vector_outputs)",
    ),
    "unknown-preset": (
        GOOD.replace("preset: plasticine-rnn", "preset: tpu"),
        ": error: field 'architectures.0.preset': no preset 'tpu' (presets: plasticine, "
        "plasticine-rnn)",
    ),
    "unknown-run": (
        GOOD + "run: route\n",
        ": error: field 'run': expected one of \"search\", \"config\", \"sim\", got \"route\"",
    ),
    "duplicate-models": (
        GOOD.replace("  - gen:", "  - suite: paper\n  - gen: {cell: lstm, hidden: 512, steps: "
                     "25}\n  - gen:"),
        ": error: field 'models': the model 'lstm-512-25' appears twice (give the entries "
        "distinct labels)",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_study_is_one_diagnostic(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, expected = CASES[case]
    study = tmp_path / f"{case}.yaml"
    study.write_text(text)
    output = tmp_path / "out.csv"
    assert cli.main(["sweep", str(study), "-o", str(output), "--no-cache"]) == 1
    err = capsys.readouterr().err
    assert err == f"{study}{expected}\n"
    assert not output.exists() and list(tmp_path.iterdir()) == [study]


@pytest.mark.parametrize(("study", "expected"), [
    ("/dev/zero", "/dev/zero: error: is not a regular file (a device or a pipe), so not a study"),
    (".", ".: error: is a directory, not a study"),
    ("none.yaml", "none.yaml: error: no such file"),
])
def test_a_study_that_is_not_a_file_is_refused_before_reading_it(
    study: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["sweep", study, "-o", "out.csv", "--no-cache"]) == 1
    assert capsys.readouterr().err == expected + "\n"
    assert list(tmp_path.iterdir()) == []


def test_missing_model_file_is_reported_at_the_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = tmp_path / "study.yaml"
    study.write_text(GOOD.replace("gen: {cell: lstm, hidden: 64, steps: 4}", "file: nope.mlir"))
    assert cli.main(["sweep", str(study), "-o", str(tmp_path / "o.csv"), "--no-cache"]) == 1
    assert capsys.readouterr().err == (
        f"{tmp_path / 'nope.mlir'}: error: cannot read the model: No such file or directory\n"
    )


def test_broken_model_file_is_reported_where_it_is_broken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.mlir").write_text("builtin.module {\n  %x = rnn.nope\n}\n")
    study = tmp_path / "study.yaml"
    study.write_text(GOOD.replace("gen: {cell: lstm, hidden: 64, steps: 4}", "file: bad.mlir"))
    assert cli.main(["sweep", str(study), "-o", str(tmp_path / "o.csv"), "--no-cache"]) == 1
    first = capsys.readouterr().err.splitlines()[0]
    assert first.startswith(f"{tmp_path / 'bad.mlir'}:")
    assert first.endswith(": error: Operation rnn.nope is not registered")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-o", "r.json"], "r.json: error: expected a .parquet or .csv output file, got '.json'"),
        (["-o", "r.csv", "--address", "x:1"], "--address: error: only goes with --engine ray"),
        (["-o", "r.csv", "--workers", "0"], "--workers: error: expected at least 1, got 0"),
    ],
)
def test_bad_options(
    argv: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text(GOOD)
    assert cli.main(["sweep", "s.yaml", *argv]) == 1
    assert capsys.readouterr().err == expected + "\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


def test_model_sources(tmp_path: Path) -> None:
    """A file model gets its sizes from its first recurrent layer; a CSV row and a suite
    expand to DeepBench tasks; labels replace names."""
    model = Path(__file__).parents[2] / "examples" / "deepbench" / "lstm-512-25.mlir"
    study = tmp_path / "study.yaml"
    study.write_text(
        f"models:\n  - file: {model}\n  - csv_row: 1\n    label: first-row\n"
        "architectures:\n  - preset: plasticine\n"
    )
    first, row = list(dict.fromkeys(p.model for p in load_study(str(study)).points))
    assert (first.label, row.label) == ("lstm-512-25", "first-row")
    assert (first.cell, first.hidden, first.input, first.steps, first.batch) == (
        "lstm", 512, 512, 25, 1)
    assert first.source == f"file:{model}" and first.text == model.read_text()
    assert row.source == "csv:deepbench-inference-server.csv:1" and row.text is None
    study.write_text("models:\n  - suite: paper\narchitectures:\n  - preset: plasticine\n")
    suite = list(dict.fromkeys(p.model.label for p in load_study(str(study)).points))
    assert suite == [task.name for task in PAPER_TASKS]


def test_the_levels_a_study_may_ask_for_are_the_levels_a_point_runs() -> None:
    from rnnc.driver.sweep.job import LEVELS
    from rnnc.driver.sweep.study import RUN_LEVELS, SCHEMA_PATH

    schema = json.loads(SCHEMA_PATH.read_text())
    assert tuple(LEVELS) == RUN_LEVELS == tuple(schema["properties"]["run"]["enum"])


def test_the_study_format_documents_every_field_of_the_schema() -> None:
    """docs/study-format.md names every property of the study schema, at every level."""
    from rnnc.driver.sweep.study import SCHEMA_PATH

    doc = (Path(__file__).parents[2] / "docs" / "study-format.md").read_text()

    def properties(schema: dict[str, object]) -> set[str]:
        names: set[str] = set()
        for name, sub in schema.get("properties", {}).items():  # type: ignore[attr-defined]
            names |= {name, *properties(sub), *properties(sub.get("items", {}))}
        return names

    names = properties(json.loads(SCHEMA_PATH.read_text()))
    assert {"models", "gen", "hidden", "fit_grid", "run"} <= names
    assert sorted(name for name in names if f"`{name}`" not in doc) == []
