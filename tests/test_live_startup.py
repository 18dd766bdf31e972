"""The probe's start-up in the program's process: what it imports and where from."""

from __future__ import annotations

import ast
import textwrap

from concsim.live.bytecode import PROBE_MODULES
from concsim.live.runner import LiveRun, Plan
from concsim.live.split import main_guard

REPORT = textwrap.dedent(
    """\
    import sys
    import threading

    HEAVY = ("typing", "ast", "inspect", "yaml", "pydantic", "json", "opcode")


    def main():
        probe = sys.modules["concsim.live.probe"].__file__
        own = sorted(name for name in sys.modules if name.startswith("concsim"))
        heavy = [name for name in HEAVY if name in sys.modules]
        threads = [thread.name for thread in threading.enumerate()]
        print(repr({"probe": probe, "own": own, "heavy": heavy, "threads": threads}))


    if __name__ == "__main__":
        main()
    """
)


def _report(imports: str = "") -> tuple[str, dict[str, object]]:
    source = REPORT.replace("import sys\n", f"import sys\n{imports}", 1)
    with LiveRun(Plan(source=source, tasks=())) as run:
        run.start()
        assert run.wait(60.0), run.stderr
        directory = run._dir
        text = "".join(record["text"] for record in run.records if record["k"] == "out")
    assert directory is not None
    return directory, ast.literal_eval(text)


def _modules(*names: str) -> list[str]:
    return sorted(f"concsim.{name}".replace("/", ".").removesuffix(".__init__") for name in names)


OPTIONAL = ("live/orders", "live/pool_threads", "live/queues", "live/spawned")
"""Processes, futures, queues, multiprocessing: imported only for a program that uses them."""
CORE = [name for name in PROBE_MODULES if name not in OPTIONAL]


def test_the_probe_imports_the_standard_library_and_its_own_bytecode_only() -> None:
    directory, report = _report()
    assert report["probe"] == f"{directory}/concsim/live/probe.pyc"
    assert report["own"] == _modules(*CORE)
    assert report["heavy"] == []
    assert report["threads"] == ["MainThread"]  # the probe's own thread is not the program's


def test_the_probe_imports_what_queues_and_processes_need_when_the_program_does() -> None:
    _, report = _report("import multiprocessing.util\nimport queue\n")
    assert report["own"] == _modules(*CORE, "live/orders", "live/queues", "live/spawned")


def test_the_probe_imports_what_futures_need_when_the_program_does() -> None:
    _, report = _report("import concurrent.futures\n")
    assert report["own"] == _modules(*CORE, "live/pool_threads")


def test_the_parent_finds_the_main_block_and_the_future_flags() -> None:
    source = textwrap.dedent(
        """\
        from __future__ import annotations

        def main():
            pass


        if __name__ == "__main__":
            main()
        """
    )
    assert main_guard(source) == (7, 0x1000000)  # CO_FUTURE_ANNOTATIONS
    assert main_guard("def main():\n    pass\n") == (0, 0)


def test_an_uncaught_error_prints_the_traceback_python_program_py_prints() -> None:
    """GIVEN a program whose main raises; WHEN it runs plainly and under the probe (started
    by ``python -c``); THEN both print the same traceback: none of the probe's frames, not
    the ``-c`` command's ``<string>`` frame."""
    source = 'def main():\n    raise ValueError("x")\n\n\nif __name__ == "__main__":\n    main()\n'
    with LiveRun(Plan(source=source, tasks=())) as run:
        run.start()
        assert run.wait(60.0), run.stderr
        directory = run._dir
        printed = "".join(record["text"] for record in run.records if record["k"] == "out")
    assert directory is not None
    assert printed == (
        "Traceback (most recent call last):\n"
        f'  File "{directory}/program.py", line 6, in <module>\n'
        "    main()\n"
        f'  File "{directory}/program.py", line 2, in main\n'
        '    raise ValueError("x")\n'
        "ValueError: x\n"
    )
