"""``concsim test --junit-xml``: the cases as JUnit XML, the report format CI systems read.

One ``<testsuite>`` per file, one ``<testcase>`` per run of it (``default``, then each
variant); a failed case has a ``<failure>``, an invalid file an ``<error>``, a run with no
expectations ``<skipped>``. Each case's expectations, matched or not, are in ``<system-out>``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from concsim.testing.runner import Case, Status


def junit_xml(files: Sequence[tuple[str, Sequence[Case]]]) -> ET.ElementTree[ET.Element]:
    """The report of ``concsim test``: each file with its cases, in the order run."""
    root = ET.Element("testsuites", name="concsim test")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    total_time = 0.0
    for file, cases in files:
        suite = ET.SubElement(root, "testsuite", name=file)
        counts = dict.fromkeys(totals, 0)
        seconds = 0.0
        for case in cases:
            counts["tests"] += 1
            seconds += case.seconds
            element = ET.SubElement(
                suite,
                "testcase",
                name=case.name,
                classname=case.scenario or Path(file).stem,
                file=file,
                time=f"{case.seconds:.6f}",
            )
            match case.status:
                case Status.FAILED:
                    counts["failures"] += 1
                    failure = ET.SubElement(element, "failure", message=case.message)
                    failure.set("type", "expectation")
                    failure.text = _details(case)
                case Status.INVALID:
                    counts["errors"] += 1
                    error = ET.SubElement(element, "error", message="invalid scenario file")
                    error.set("type", "ScenarioError")
                    error.text = case.message
                case Status.SKIPPED:
                    counts["skipped"] += 1
                    ET.SubElement(element, "skipped", message=case.message)
                case Status.PASSED:
                    pass
            if case.verdicts:
                ET.SubElement(element, "system-out").text = _details(case)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", f"{seconds:.6f}")
        total_time += seconds
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{total_time:.6f}")
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit_xml(path: str | Path, files: Sequence[tuple[str, Sequence[Case]]]) -> None:
    junit_xml(files).write(path, encoding="utf-8", xml_declaration=True)


def _details(case: Case) -> str:
    """Every expectation of the case, one line each: matched or not, and why not."""
    lines = []
    for verdict in case.verdicts:
        state = "matched" if verdict.matched else f"not matched: {verdict.unmet}"
        why = f" ({verdict.why})" if verdict.why else ""
        lines.append(f"{verdict.where} {verdict.grade.value}{why}: {state}")
    return "\n".join(lines)
