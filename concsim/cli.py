"""The command line: list, validate, run (headless or in the terminal app), schema."""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any

import click

from concsim import __version__
from concsim.scenario.errors import ScenarioError

EXIT_INVALID = 2

# The command's own scenario models need no pydantic plugins, and looking for them reads the
# metadata of every installed distribution: ~30 ms of the app's start. A user's own setting
# of the variable still wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


class _Concsim(click.Group):
    """``concsim FILE...`` (no command) opens the browser with those files listed too."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and _names_a_file(args[0]):
            args = ["browse", *args]
        return super().parse_args(ctx, args)


def _names_a_file(word: str) -> bool:
    """A scenario file (or one meant to be: a path or a YAML name), not a mistyped command."""
    if word.startswith("-"):
        return False
    return os.path.exists(word) or os.sep in word or word.endswith((".yaml", ".yml", ".json"))


@click.group(
    cls=_Concsim,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="concsim")
@click.pass_context
def main(ctx: click.Context) -> None:
    """See Python concurrency: simulate threads, processes and asyncio, inject faults."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(browse)


@main.command(hidden=True)
@click.argument("files", nargs=-1)
def browse(files: tuple[str, ...]) -> None:
    """Open the scenario browser (bundled scenarios plus FILES)."""
    from concsim.ui.launch import launch

    sys.exit(
        launch(
            list(files), run=None, variant=None, seed=None, speed=0.25, paused=False, replay=None
        )
    )


@main.command("list")
def list_() -> None:
    """The bundled scenarios, grouped by topic in learning order."""
    from concsim.scenario.library import scenario_index

    topic = None
    for info in scenario_index():
        if info.topic != topic:
            topic = info.topic
            click.secho(f"{topic}", bold=True)
        click.echo(f"  {info.name:<28} {info.model:<10} {info.summary}")


@main.command()
@click.argument("files", nargs=-1, required=True)
def validate(files: tuple[str, ...]) -> None:
    """Check scenario files: exit 0 if all are valid, else one line per problem and exit 2.

    A valid file may still get warning lines: options that no program of it would use.
    """
    from concsim.scenario.loader import check_scenario

    bad = False
    for file in files:
        try:
            for warning in check_scenario(file):
                click.echo(str(warning), err=True)
        except ScenarioError as error:
            click.echo(str(error), err=True)
            bad = True
    sys.exit(EXIT_INVALID if bad else 0)


@main.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for yaml-language-server and editors)."""
    from concsim.scenario.schema import json_schema

    click.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


def _parse_injection(text: str) -> Any:
    from concsim.engine import Injection
    from concsim.scenario.model import parse_duration

    parts = text.split(":")
    if len(parts) == 2 and parts[1] == "interrupt":
        parts.append("main")  # Ctrl-C always lands in the main thread
    if len(parts) not in (3, 4):
        raise click.BadParameter(f"{text!r}: expected AT:FAULT:TARGET[:ERROR], e.g. 1.2s:fail:B")
    try:
        at = parse_duration(parts[0]) / 1_000_000
        return Injection(at, parts[1], parts[2], *(parts[3:] or ["RuntimeError"]))
    except ValueError as error:
        raise click.BadParameter(f"{text!r}: {error}") from None


def _finite(value: float) -> float:
    if math.isnan(value):  # FloatRange lets nan through: it compares false with both ends
        raise click.BadParameter("nan is not a speed; give a number from 0.015625 to 64")
    return value


@main.command()
@click.argument("target", required=False)
@click.option("--headless", is_flag=True, help="Simulate to the end and print; no screen.")
@click.option("--json", "as_json", is_flag=True, help="With --headless: the outcome as JSON.")
@click.option("--events", is_flag=True, help="With --headless: the events as JSON lines.")
@click.option("--seed", type=int, default=None, help="Seed of the run (default: the file's).")
@click.option("--variant", default=None, help="Run one variant (default: all, headless).")
@click.option(
    "--inject",
    "injections",
    multiple=True,
    metavar="AT:FAULT:TARGET[:ERROR]",
    help="Inject a fault, e.g. 1.2s:fail:B or 2s:interrupt:main. Repeatable.",
)
@click.option(
    "--speed",
    type=click.FloatRange(1 / 64, 64),  # the range [ and ] move through in the app
    callback=lambda ctx, param, value: _finite(value),
    default=0.25,
    show_default=True,
    help="Playback speed in the app: virtual seconds per second, 1/64 to 64.",
)
@click.option("--paused", is_flag=True, help="Open the app paused.")
@click.option(
    "--replay",
    type=click.Path(dir_okay=False),
    default=None,
    help="Reproduce a saved session (scenario, seed and injections).",
)
def run(
    target: str | None,
    headless: bool,
    as_json: bool,
    events: bool,
    seed: int | None,
    variant: str | None,
    injections: tuple[str, ...],
    speed: float,
    paused: bool,
    replay: str | None,
) -> None:
    """Run TARGET, a bundled scenario's name or a scenario file."""
    parsed = [_parse_injection(text) for text in injections]
    only_as_written = variant == "default"  # the JSON outcome's name for the file as written
    if only_as_written:
        variant = None
    ended_at = None
    if replay is not None:
        from concsim.replay import ReplayError, load_replay

        try:
            session = load_replay(replay)
        except ReplayError as error:
            click.echo(str(error), err=True)
            sys.exit(EXIT_INVALID)
        target = session.scenario
        seed = session.seed if seed is None else seed
        variant = session.variant if variant is None else variant
        parsed = [*session.injections, *parsed]
        ended_at = session.ended_at
    if target is None:
        raise click.UsageError("name a scenario (see `concsim list`) or a file, or --replay")
    if not (headless or as_json or events):
        from concsim.ui.launch import launch

        sys.exit(
            launch(
                [],
                run=target,
                variant=variant,
                seed=seed,
                speed=speed,
                paused=paused,
                replay=replay,
                injections=[] if replay is not None else parsed,
            )
        )
    sys.exit(
        _headless(
            target,
            variant,
            seed,
            parsed,
            as_json=as_json,
            as_events=events,
            one_variant=replay is not None or only_as_written,
            ended_at=ended_at,
        )
    )


def _headless(
    target: str,
    variant: str | None,
    seed: int | None,
    injections: list[Any],
    *,
    as_json: bool,
    as_events: bool,
    one_variant: bool = False,
    ended_at: float | None = None,
) -> int:
    from rich.console import Console

    from concsim.engine import Simulation
    from concsim.export.outcome import outcome
    from concsim.export.text import refusals, summary, timeline
    from concsim.replay import play_to_end
    from concsim.scenario.library import find_scenario
    from concsim.scenario.loader import load_scenario

    try:
        scenario = load_scenario(find_scenario(target))
    except ScenarioError as error:
        click.echo(str(error), err=True)
        return EXIT_INVALID
    # A replay is one session: its variant (None is the scenario as written), not them all.
    from concsim.scenario.checks import injection_problem

    for injection in injections:
        problem = injection_problem(scenario, injection.target, injection.error)
        if problem:
            click.echo(f"--inject {injection.fault} on {injection.target}: {problem}", err=True)
            return EXIT_INVALID
    names: list[str | None] = (
        [variant]
        if variant or one_variant or not scenario.variants
        else [None, *scenario.variant_names]
    )
    results: dict[str, Any] = {}
    console = Console(highlight=False, soft_wrap=True)
    for name in names:
        try:
            sim = Simulation(scenario, variant=name, seed=seed, injections=injections)
        except KeyError as error:
            click.echo(f"{target}: {error.args[0]}", err=True)
            return EXIT_INVALID
        play_to_end(sim, ended_at)  # a replay's stalled run ends where the session ended it
        if as_events:
            for event in sim.events:
                click.echo(json.dumps(event.to_dict(), default=str))
            continue
        result = outcome(sim.events)
        results[name or "default"] = result
        if not as_json:
            console.print(timeline(sim.events, width=max(20, min(100, console.width - 20))))
            console.print(summary(result))
            console.print(refusals(sim.events))
            console.print()
    if as_json and not as_events:
        if len(names) == 1:
            click.echo(json.dumps(next(iter(results.values())), indent=2, default=str))
        else:
            click.echo(
                json.dumps({"scenario": scenario.name, "variants": results}, indent=2, default=str)
            )
    return 0


if __name__ == "__main__":
    main()
