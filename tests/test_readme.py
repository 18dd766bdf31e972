"""The README's example scenario does what the README says it does."""

from __future__ import annotations

import re
from pathlib import Path

from concsim.engine import Injection, Simulation
from concsim.export.outcome import outcome
from concsim.scenario.loader import load_scenario_text

README = Path(__file__).parents[1] / "README.md"


def _example() -> str:
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(), flags=re.S)
    return next(block for block in blocks if "name: my-crawler" in block)


def test_a_hung_host_keeps_main_waiting_in_shutdown() -> None:
    """as_completed(timeout) raises at 2 s, then leaving ``with`` waits forever for the hung
    thread: main() never ends (concurrent.futures: __exit__ is shutdown(wait=True))."""
    sim = Simulation(load_scenario_text(_example(), "README.md"))
    result = outcome(sim.run())
    assert result["main"] == {"outcome": "hung", "error": None}
    assert len(result["results"]) == 9
    assert next(t for t in result["tasks"] if t["name"] == "fetch-3")["outcome"] == "hung"
    assert any(type(e).__name__ == "TimeoutExpired" and e.t == 2.0 for e in sim.events)


def test_ctrl_c_twice_gets_out_and_the_hung_thread_skips_its_finally() -> None:
    """Ctrl-C in the main thread ends main() with KeyboardInterrupt, but the interpreter
    still joins the pool's threads at exit; a second Ctrl-C ends the process, and the
    thread dies where it stands, its finally never run."""
    scenario = load_scenario_text(_example(), "README.md")
    once = outcome(Simulation(scenario, injections=[Injection(2.5, "interrupt", "main")]).run())
    assert once["main"] == {"outcome": "raised", "error": "KeyboardInterrupt"}
    assert once["tasks"][2]["outcome"] == "hung"
    twice = outcome(
        Simulation(
            scenario,
            injections=[Injection(2.5, "interrupt", "main"), Injection(3.0, "interrupt", "main")],
        ).run()
    )
    assert twice["elapsed"] == 3.0
    assert (twice["tasks"][2]["outcome"], twice["tasks"][2]["cleanup"]) == ("killed", "skipped")


def test_ctrl_c_before_the_timeout_needs_one_more_press() -> None:
    """Before 2 s the first Ctrl-C interrupts as_completed; leaving the with block then
    waits in shutdown(wait=True) (interruptible too), and the interpreter's exit still joins
    the hung thread: three presses, as the README says."""
    scenario = load_scenario_text(_example(), "README.md")

    def presses(*times: float) -> dict:
        ctrl_c = [Injection(t, "interrupt", "main") for t in times]
        return outcome(Simulation(scenario, injections=ctrl_c).run())

    two = presses(1.0, 1.5)
    assert two["main"] == {"outcome": "raised", "error": "KeyboardInterrupt"}
    assert two["tasks"][2]["outcome"] == "hung"  # the interpreter still waits at exit
    three = presses(1.0, 1.5, 1.8)
    assert three["elapsed"] == 1.8
    assert (three["tasks"][2]["outcome"], three["tasks"][2]["cleanup"]) == ("killed", "skipped")
