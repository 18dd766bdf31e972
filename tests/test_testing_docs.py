"""docs/testing.md's sample project works exactly as documented: its files, written out, and
its commands, run one by one in a shell, give the output and reports the page shows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

DOC = Path(__file__).parents[1] / "docs" / "testing.md"


def _sample() -> tuple[dict[str, str], list[str], str]:
    """The sample's files (path -> text), its commands and the output it shows."""
    text = DOC.read_text()
    files = dict(re.findall(r"^#### `([^`]+)`\n\n```\w+\n(.*?)^```", text, flags=re.S | re.M))
    run = text[text.index("### Run it") :]
    commands = re.search(r"```sh\n(.*?)```", run, flags=re.S)
    output = re.search(r"```text\n(.*?)```", run, flags=re.S)
    assert commands is not None and output is not None
    return files, commands[1].strip().splitlines(), output[1]


def test_the_sample_project_runs_as_documented(tmp_path: Path) -> None:
    files, commands, shown = _sample()
    assert set(files) == {"scenarios/my-crawler.yaml", "tests/test_crawler.py"}
    assert commands == [
        "concsim test scenarios/*.yaml --junit-xml concsim-report.xml",
        "pytest --snapshot-update",
        "pytest --junit-xml pytest-report.xml",
    ]
    project = tmp_path / "crawler"
    for name, content in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(content)
    # The commands of this environment, as an installed concsim puts them on PATH.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTEST_ADDOPTS", None)
    outputs = []
    for command in commands:
        done = subprocess.run(
            ["bash", "-c", command], cwd=project, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        outputs.append(done.stdout)
    assert outputs[0] == shown
    concsim_report = ET.parse(project / "concsim-report.xml").getroot()
    assert (concsim_report.get("tests"), concsim_report.get("failures")) == ("2", "0")
    pytest_report = ET.parse(project / "pytest-report.xml").getroot()
    (suite,) = pytest_report.iter("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "0", "0")
    snapshot = project / "tests/__snapshots__/test_crawler/test_the_screen_when_main_fails.svg"
    assert "Injected fail on main." in snapshot.read_text().replace("&#160;", " ")
