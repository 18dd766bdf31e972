"""The command line: list, validate, run (headless or in the terminal app), code, schema."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

from concsim.limits import DEFAULT_MAX_EVENTS, MAX_SEED, MAX_SPEED
from concsim.scenario.errors import ScenarioError

EXIT_INVALID = 2
EXIT_FORBIDDEN = 1  # a run matched a `forbidden` expectation (also: `concsim test` failed)


class _Speed(click.FloatRange):
    """A finite speed in range: a range alone lets ``nan`` through (it compares false)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            number = super().convert(value, param, ctx)
        except click.BadParameter:
            number = math.nan
        if math.isnan(number):
            self.fail(f"expected a speed from 1/64 to 64, got {value}", param, ctx)
        return number


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

    def main(  # type: ignore[override]  # always exits, as standalone mode does
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> NoReturn:
        """Bad usage is one line, like every other input error (click prints a usage block)."""
        extra.pop("standalone_mode", None)
        try:
            code = super().main(args, prog_name or "concsim", standalone_mode=False, **extra)
        except click.UsageError as error:
            command = error.ctx.command_path if error.ctx is not None else "concsim"
            click.echo(f"{command}: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command's whole first sentence, wrapped (click would cut it off with ...)."""
        rows = [
            (name, command.get_short_help_str(limit=1_000))
            for name in self.list_commands(ctx)
            if (command := self.get_command(ctx, name)) is not None and not command.hidden
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _complete_scenario(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Bundled scenario names that start with what was typed, then files, for the shell."""
    from click.shell_completion import CompletionItem

    from concsim.scenario.library import bundled_scenarios

    names = sorted({path.stem for path in bundled_scenarios()})
    found = [CompletionItem(name) for name in names if name.startswith(incomplete)]
    return [*found, CompletionItem(incomplete, type="file")]


def _names_a_file(word: str) -> bool:
    """A scenario file (or one meant to be: a path or a YAML name), not a mistyped command."""
    if word.startswith("-"):
        return False
    return os.path.exists(word) or os.sep in word or word.endswith((".yaml", ".yml", ".json"))


@click.group(
    "concsim",
    cls=_Concsim,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="concsim", prog_name="concsim")
@click.pass_context
def main(ctx: click.Context) -> None:
    """See Python concurrency: simulate threads, processes and asyncio, inject faults.

    `concsim` alone opens the scenario browser in the terminal; `concsim FILE...` lists
    your own scenario files there too.

    \b
    Shell completion (bash; zsh_source and fish_source likewise):
      eval "$(_CONCSIM_COMPLETE=bash_source concsim)"
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(browse)


@main.command(hidden=True)
@click.argument("files", nargs=-1)
def browse(files: tuple[str, ...]) -> None:
    """Open the scenario browser (bundled scenarios plus FILES)."""
    from concsim.ui.launch import launch

    sys.exit(
        launch(
            list(files), run=None, variant=None, seed=None, speed=None, paused=False, replay=None
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
        except Exception as error:  # one file's bug must not hide the others
            click.echo(f"{file}: internal error: {type(error).__name__}: {error}", err=True)
            bad = True
    sys.exit(EXIT_INVALID if bad else 0)


@main.command()
@click.argument("files", nargs=-1)
@click.option("--host", default="localhost", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8000, show_default=True, help="Port to listen on.")
def serve(files: tuple[str, ...], host: str, port: int) -> None:
    """Serve the app to a web browser (needs the extra: pip install 'concsim[serve]')."""
    from concsim.serve import serve as serve_app

    try:
        serve_app(files, host=host, port=port)
    except ImportError as error:
        click.echo(str(error), err=True)
        sys.exit(EXIT_INVALID)


@main.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for yaml-language-server and editors)."""
    from concsim.scenario.schema import json_schema

    click.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


@main.command()
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--junit-xml",
    "junit",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the results as JUnit XML, for CI systems.",
)
@click.option(
    "--seed",
    type=click.IntRange(0, MAX_SEED),
    default=None,
    help="Seed of every run, 0 to 2**64-1 (default: each file's).",
)
def test(files: tuple[str, ...], junit: str | None, seed: int | None) -> None:
    """Check the expect: lists of scenario FILES and their variants, one line per run.

    A run fails when a forbidden expectation matches, or when none of its acceptable or
    interesting ones does. Exit 0 if all pass, 1 if one fails, 2 if a file is invalid.
    """
    from concsim.testing.runner import check_files

    report, tally = check_files(files, seed=seed, echo=click.echo)
    if junit is not None:
        from concsim.testing.junit import write_junit_xml

        write_junit_xml(junit, report)
    sys.exit(tally.exit_status)


@main.command()
@click.argument("target")
@click.option("--variant", default=None, help="Write this variant's program.")
def code(target: str, variant: str | None) -> None:
    """Print the Python program a scenario stands for (TARGET: a bundled name or a file)."""
    from concsim.codegen import program
    from concsim.scenario.library import find_scenario
    from concsim.scenario.loader import load_scenario

    try:
        scenario = load_scenario(find_scenario(target))
        click.echo(program(scenario, variant).source, nl=False)
    except ScenarioError as error:
        click.echo(str(error), err=True)
        sys.exit(EXIT_INVALID)
    except KeyError as error:
        click.echo(f"{target}: {error.args[0]}", err=True)
        sys.exit(EXIT_INVALID)


@main.command()
@click.argument("files", nargs=-1, required=True)
@click.option("--variant", default=None, help="Check only this variant (default: all).")
@click.option("--jobs", type=int, default=2, show_default=True, help="Live runs at a time.")
def check(files: tuple[str, ...], variant: str | None, jobs: int) -> None:
    """Simulate each scenario and run its program on CPython; print every disagreement.

    Exit 0 when all agree, 1 on any disagreement, 2 for an invalid file.
    """
    from concsim.live.check import check_all, report
    from concsim.scenario.library import find_scenario
    from concsim.scenario.loader import load_scenario

    try:
        scenarios = [load_scenario(find_scenario(file)) for file in files]
    except ScenarioError as error:
        click.echo(str(error), err=True)
        sys.exit(EXIT_INVALID)
    lines, ok = report(check_all(scenarios, variant, jobs=jobs))
    for line in lines:
        click.echo(line)
    sys.exit(0 if ok else 1)


@main.command()
@click.argument("target", shell_complete=_complete_scenario)
@click.option(
    "--runs",
    type=click.IntRange(1, 10_000_000),
    default=1000,
    show_default=True,
    help="How many seeds to run.",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 256),
    default=None,
    help="Processes running seeds at once (default: every core).",
)
@click.option(
    "--seed",
    "first_seed",
    type=click.IntRange(0, MAX_SEED),
    default=0,
    show_default=True,
    help="The first seed; the others follow it.",
)
@click.option("--variant", default=None, help="Explore this variant (default: as written).")
@click.option(
    "--inject",
    "injections",
    multiple=True,
    metavar="AT:FAULT:TARGET[:ERROR]",
    help="Inject a fault into every run. Repeatable.",
)
@click.option(
    "--until",
    type=click.Choice(["forbidden", "interesting", "unexpected"]),
    default=None,
    help="Stop at the first run judged so.",
)
@click.option(
    "--save",
    type=click.Path(file_okay=False),
    default="concsim-explore",
    show_default=True,
    help="Folder for one replay file per outcome.",
)
@click.option("--no-save", is_flag=True, help="Write no replay files.")
@click.option(
    "--shrink",
    is_flag=True,
    help=(
        "Reduce the gravest outcome's first seed to the fewest deviations that give it; "
        "its replay file (in --save) opens that run."
    ),
)
@click.option("--json", "as_json", is_flag=True, help="The histogram as JSON.")
def explore(
    target: str,
    runs: int,
    jobs: int | None,
    first_seed: int,
    variant: str | None,
    injections: tuple[str, ...],
    until: str | None,
    save: str,
    no_save: bool,
    shrink: bool,
    as_json: bool,
) -> None:
    """Run TARGET with many seeds; group the runs by outcome and grade each with expect:.

    Each outcome is a bar with its share, its grade and its first seed, whose replay file
    (in --save) opens that run in the app: `concsim run --replay FILE`. Exit 1 when a run
    is forbidden or matches no allowed expectation, 2 for an invalid file.
    """
    from pathlib import Path

    from concsim.explore.command import explore_command
    from concsim.explore.samples import Verdict

    sys.exit(
        explore_command(
            target,
            runs=runs,
            jobs=jobs or os.cpu_count() or 1,
            first_seed=first_seed,
            variant=variant,
            injections=[_parse_injection(text) for text in injections],
            until=None if until is None else Verdict(until),
            save=None if no_save else Path(save),
            shrink=shrink,
            as_json=as_json,
            echo=click.echo,
        )
    )


def _parse_injection(text: str) -> Any:
    from concsim.engine import Injection

    try:
        return Injection.parse(text)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@main.command()
@click.argument("target", required=False, shell_complete=_complete_scenario)
@click.option("--headless", is_flag=True, help="Simulate to the end and print; no screen.")
@click.option("--json", "as_json", is_flag=True, help="With --headless: the outcome as JSON.")
@click.option("--events", is_flag=True, help="With --headless: the events as JSON lines.")
@click.option(
    "--trace",
    "trace_path",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Also write the run as a Chrome trace (Perfetto, chrome://tracing) to this file.",
)
@click.option(
    "--seed",
    type=click.IntRange(0, MAX_SEED),
    default=None,
    help="Seed of the run, 0 to 2**64-1 (default: the file's).",
)
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
    type=_Speed(min=1 / 64, max=MAX_SPEED),  # the range [ and ] move through in the app
    default=None,
    help=(
        "Playback speed in the app: virtual seconds per second, 1/64 to 64 "
        "(default: the power of two that plays the run in about 5 s)."
    ),
)
@click.option("--paused", is_flag=True, help="Open the app paused.")
@click.option("--live", is_flag=True, help="Run the scenario's program on CPython instead.")
@click.option(
    "--max-events",
    type=click.IntRange(1, 100_000_000),
    default=None,
    metavar="N",
    help=f"Stop a run after N events or steps (default {DEFAULT_MAX_EVENTS:_}).",
)
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
    trace_path: str | None,
    seed: int | None,
    variant: str | None,
    injections: tuple[str, ...],
    speed: float | None,
    paused: bool,
    live: bool,
    replay: str | None,
    max_events: int | None,
) -> None:
    """Run TARGET, a bundled scenario's name or a scenario file."""
    if variant == "":
        raise click.BadParameter("expected a variant's name, got nothing", param_hint="--variant")
    parsed = [_parse_injection(text) for text in injections]
    only_as_written = variant == "default"  # the JSON outcome's name for the file as written
    if only_as_written:
        variant = None
    ended_at = None
    choices: dict[int, str] = {}
    draws: dict[int, float] | None = None
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
        choices = dict(session.choices)
        draws = None if session.draws is None else dict(session.draws)
    if target is None:
        raise click.UsageError("name a scenario (see `concsim list`) or a file, or --replay")
    if not (headless or as_json or events or trace_path):
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
                max_events=max_events,
                live=live,
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
            trace_path=trace_path,
            max_events=max_events or DEFAULT_MAX_EVENTS,
            fault_source="--inject" if replay is None else f"{replay}: injection",
            live=live,
            ended_at=ended_at,
            choices=choices,
            draws=draws,
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
    trace_path: str | None = None,
    max_events: int = DEFAULT_MAX_EVENTS,
    fault_source: str = "--inject",
    live: bool = False,
    ended_at: float | None = None,
    choices: dict[int, str] | None = None,
    draws: dict[int, float] | None = None,
) -> int:
    """``choices`` and ``draws``: a replay's decisions and schedule (concsim.replay)."""
    from rich.console import Console

    from concsim.engine import Simulation
    from concsim.export.outcome import outcome
    from concsim.export.text import refusals, summary, timeline
    from concsim.export.verdicts import expect_text, verdicts_for
    from concsim.replay import play_to_end, scheduled_draws
    from concsim.scenario.expect import Grade
    from concsim.scenario.library import find_scenario
    from concsim.scenario.loader import load_scenario

    try:
        scenario = load_scenario(find_scenario(target))
    except ScenarioError as error:
        click.echo(str(error), err=True)
        return EXIT_INVALID
    # A replay is one session: its variant (None is the scenario as written), not them all.
    from concsim.scenario.checks import injection_problem

    names: list[str | None] = (
        [variant]
        if variant is not None or one_variant or not scenario.variants
        else [None, *scenario.variant_names]
    )
    for name in names:
        try:
            applied = scenario.variant(name)  # its own tasks, if it has them
        except KeyError as error:
            click.echo(f"{target}: {error.args[0]}", err=True)
            return EXIT_INVALID
        for injection in injections:
            problem = injection_problem(applied, injection.target, injection.error)
            if problem:
                where = f" (variant {name})" if name is not None and len(names) > 1 else ""
                click.echo(
                    f"{fault_source} {injection.fault} on {injection.target}{where}: {problem}",
                    err=True,
                )
                return EXIT_INVALID
    results: dict[str, Any] = {}
    forbidden = False
    console = Console(highlight=False, soft_wrap=True)
    for name in names:
        sim: Any
        try:
            if live:
                from concsim.live.interpreters import NoInterpreter
                from concsim.live.session import LiveSession

                try:
                    sim = LiveSession(scenario, variant=name, seed=seed, injections=injections)
                except NoInterpreter as error:  # the message names the scenario
                    click.echo(str(error), err=True)
                    return EXIT_INVALID
            else:
                sim = Simulation(
                    scenario,
                    variant=name,
                    seed=seed,
                    injections=injections,
                    max_events=max_events,
                    rng=scheduled_draws(scenario.seed if seed is None else seed, draws),
                    choices=choices,
                )
        except KeyError as error:
            click.echo(f"{target}: {error.args[0]}", err=True)
            return EXIT_INVALID
        if isinstance(sim, Simulation):
            play_to_end(sim, ended_at)  # a replay's stalled run ends where the session ended it
            if sim.exhausted:
                shown = f" (variant {name})" if name is not None and len(names) > 1 else ""
                click.echo(f"{target}{shown}: {sim.exhausted}", err=True)
                return EXIT_INVALID
        else:
            sim.run_to_end()
        result = outcome(sim.events)
        # `expect` states what the model promises (exact times included); a real run is held
        # to the simulation by `concsim check`, with CPython's tolerances, instead.
        verdicts = None if live else verdicts_for(scenario, name, result)
        if verdicts is not None:  # the exit status says so whatever the output format
            result["expect"] = [verdict.to_dict() for verdict in verdicts]
            forbidden |= any(v.matched and v.grade is Grade.FORBIDDEN for v in verdicts)
        if trace_path is not None and name == names[0]:
            _write_trace(trace_path, sim.events)
        if as_events:
            for event in sim.events:
                click.echo(json.dumps(event.to_dict(), default=str))
            continue
        results[name or "default"] = result
        if not as_json:
            console.print(timeline(sim.events, width=max(20, min(100, console.width - 20))))
            console.print(summary(result))
            console.print(refusals(sim.events))
            if verdicts is not None:
                console.print(expect_text(verdicts))
            console.print()
    if as_json and not as_events:
        if len(names) == 1:
            click.echo(json.dumps(next(iter(results.values())), indent=2, default=str))
        else:
            click.echo(
                json.dumps({"scenario": scenario.name, "variants": results}, indent=2, default=str)
            )
    return EXIT_FORBIDDEN if forbidden else 0


def _write_trace(path: str, events: list[Any]) -> None:
    """The first run's trace (the scenario as written, or the one --variant named)."""
    from concsim.export.trace import write_trace

    written = write_trace(path, events)
    click.echo(f"trace: wrote {written} (open it at ui.perfetto.dev; docs/traces.md)", err=True)


if __name__ == "__main__":
    main()
