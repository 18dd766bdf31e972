"""The probe's records: formatted cheaply in the program's process, read in batches."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from concsim.live.probe import Reporter
from concsim.live.recorders import Tee, _is_devnull
from concsim.live.runner import _parse


def _written(tmp_path: Path) -> tuple[Reporter, list[bytes]]:
    out = Reporter(2, str(tmp_path))
    lines: list[bytes] = []
    out.write = lines.append
    return out, lines


def test_a_record_is_the_json_of_its_fields_after_kind_time_pid_and_thread(
    tmp_path: Path,
) -> None:
    out, lines = _written(tmp_path)
    out.emit("end", task="fetch-1", error=None, message='é "quoted"\n', value=[1, (2, 3), 2.5])
    out.emit("exit")
    out.row(out.template("line", task="fetch-é", line=12))  # a step's line, as traced
    records = [json.loads(line) for line in lines]
    assert [list(record) for record in records] == [
        ["k", "t", "pid", "tid", "task", "error", "message", "value"],
        ["k", "t", "pid", "tid"],
        ["k", "t", "pid", "tid", "task", "line"],
    ]
    assert all(isinstance(record["t"], int) for record in records)  # time.monotonic_ns()
    assert records[0]["message"] == 'é "quoted"\n'
    assert records[0]["value"] == [1, [2, 3], 2.5]
    assert records[2]["task"] == "fetch-é" and records[2]["line"] == 12
    for line, record in zip(lines, records, strict=True):  # as json.dumps writes them
        assert line == json.dumps(record).encode() + b"\n"


def test_a_value_json_cannot_write_is_its_repr(tmp_path: Path) -> None:
    out, lines = _written(tmp_path)
    out.emit("received", value=ValueError("bad"))
    assert json.loads(lines[0])["value"] == "ValueError('bad')"


def test_a_record_too_long_is_cut_to_a_thousand_characters(tmp_path: Path) -> None:
    out, lines = _written(tmp_path)
    out.emit("out", stream="stdout", text="x" * 5000)
    assert json.loads(lines[0])["text"] == "x" * 1000 + "…"


def test_the_reader_parses_lines_in_one_batch_and_skips_a_broken_one() -> None:
    assert _parse([b'{"k": "a"}', b'{"k": "b"}']) == [{"k": "a"}, {"k": "b"}]
    assert _parse([b'{"k": "a"}', b'{"k": ', b"3", b'{"k": "b"}']) == [{"k": "a"}, {"k": "b"}]
    assert _parse([]) == []


def test_the_reader_gives_times_in_seconds_as_time_monotonic_does() -> None:
    """Written in nanoseconds; read as the float ``time.monotonic()`` returns for the same
    clock reading (CPython divides the nanoseconds by 1e9)."""
    records = _parse([b'{"k": "a", "t": 59322022175523}', b'{"k": "b", "t": 59323000000000}'])
    assert [record["t"] for record in records] == [59322.022175523, 59323.0]
    assert all(type(record["t"]) is float for record in records)


def test_a_stream_to_dev_null_is_reported_but_not_written(tmp_path: Path) -> None:
    """Live mode's standard output goes to /dev/null: the Tee reports each write and makes
    no system call for it; a stream to a real file is still written."""
    out, lines = _written(tmp_path)
    with open(os.devnull, "w") as null, open(tmp_path / "file", "w") as file:
        Tee(null, "stdout", out).write("to nowhere\n")
        tee = Tee(file, "stderr", out)
        assert tee.write("kept\n") == 5
    assert (tmp_path / "file").read_text() == "kept\n"
    assert [(r["stream"], r["text"]) for r in map(json.loads, lines)] == [
        ("stdout", "to nowhere\n"),
        ("stderr", "kept\n"),
    ]
    with open(os.devnull) as null:
        assert _is_devnull(null)
    assert not _is_devnull(io.StringIO())
