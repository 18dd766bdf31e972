"""The probe's start-up in the program's process: what it imports and where from."""

from __future__ import annotations

import json
import textwrap

from concsim.live.bytecode import PROBE_MODULES
from concsim.live.runner import LiveRun, Plan
from concsim.live.split import main_guard

REPORT = textwrap.dedent(
    """\
    import json
    import sys

    HEAVY = ("typing", "ast", "inspect", "yaml", "pydantic")


    def main():
        probe = sys.modules["concsim.live.probe"].__file__
        own = sorted(name for name in sys.modules if name.startswith("concsim"))
        heavy = [name for name in HEAVY if name in sys.modules]
        print(json.dumps({"probe": probe, "own": own, "heavy": heavy}))


    if __name__ == "__main__":
        main()
    """
)


def _report() -> tuple[str, dict[str, object]]:
    with LiveRun(Plan(source=REPORT, tasks=())) as run:
        run.start()
        assert run.wait(60.0), run.stderr
        directory = run._dir
        text = "".join(record["text"] for record in run.records if record["k"] == "out")
    assert directory is not None
    return directory, json.loads(text)


def test_the_probe_imports_the_standard_library_and_its_own_bytecode_only() -> None:
    directory, report = _report()
    assert report["probe"] == f"{directory}/concsim/live/probe.pyc"
    modules = {"concsim." + name.replace("/", ".") for name in PROBE_MODULES}
    expected = {name.removesuffix(".__init__") for name in modules}
    assert report["own"] == sorted(expected)
    assert report["heavy"] == []


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
