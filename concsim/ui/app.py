"""The app and ``make_app``, the one factory used by the command line and by the tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.theme import Theme

from concsim.replay import load_replay, open_scenario
from concsim.scenario.model import Scenario
from concsim.ui.branches import Branches
from concsim.ui.catalog import Entry, entries
from concsim.ui.keymap import APP_BINDINGS, load_keymap
from concsim.ui.screens.run import RunScreen
from concsim.ui.session import Session, SimulationFactory, engine_factory
from concsim.ui.turns import Turns
from concsim.ui.wrapping import honour_no_break_spaces


class ConcsimApp(App[int]):
    """The scenario browser, or one scenario's run screen."""

    CSS_PATH = "concsim.tcss"
    TITLE = "concsim"
    BINDINGS: ClassVar[list[BindingType]] = [*APP_BINDINGS]

    prefetch = False
    """Whether a big run's engine runs ahead on a worker from the moment its screen opens,
    paused or not (the command line's app does; tests drive the engine themselves)."""

    def __init__(
        self,
        *,
        session: Session | None,
        catalog: list[Entry],
        speed: float | None,
        paused: bool,
        clock: Callable[[], float],
        factory: SimulationFactory,
        keymap: dict[str, str],
        keymap_problem: str | None = None,
        replay_dir: Path | None = None,
        theme: str | None = None,
        toast_scale: float = 1.0,
        remember_theme: bool = False,
    ) -> None:
        super().__init__()
        self.remember_theme = remember_theme
        self.toast_scale = toast_scale
        self.session = session
        self.catalog = catalog
        self.speed = speed
        self.paused = paused
        self.clock = clock
        self.factory = factory
        self.keymap = keymap
        self.keymap_problem = keymap_problem
        self.replay_dir = replay_dir
        self.turns = Turns()  # the view's claims on the interpreter, honoured by workers
        honour_no_break_spaces()  # the notes keep a number with its unit on one line
        if theme and theme in self.available_themes:
            self.theme = theme

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        # Tests stretch toasts (toast_scale) so a slow machine cannot let one expire before
        # the screenshot that shows it.
        seconds = self.NOTIFICATION_TIMEOUT if timeout is None else timeout
        super().notify(
            message,
            title=title,
            severity=severity,
            timeout=seconds * self.toast_scale,
            markup=markup,
        )

    def on_mount(self) -> None:
        self.set_keymap(self.keymap)
        self._paint(self.current_theme)
        self.theme_changed_signal.subscribe(self, self._paint)
        if self.remember_theme:
            self.theme_changed_signal.subscribe(self, self._save_theme)
        if self.keymap_problem:
            self.notify(self.keymap_problem, severity="warning", timeout=8, markup=False)
        if self.session is not None:
            self.push_screen(self._run_screen(self.session, from_browser=False))
        else:
            from concsim.ui.screens.browser import BrowserScreen  # not needed to run one

            self.push_screen(BrowserScreen(self.catalog, self.open_entry))

    def _paint(self, theme: Theme) -> None:
        """The lanes, marks, bands and legend take their colours from the theme's variables."""
        from concsim import palette
        from concsim.ui.draw import forget_styles

        palette.use_theme(self.get_css_variables())
        forget_styles()
        if any(key.startswith("help-") for key in self._installed_screens):
            from concsim.ui.screens.help import forget_help  # once help was shown, not at start

            forget_help(self)  # kept help screens are drawn in the old colours
        for screen in self.screen_stack:
            if isinstance(screen, RunScreen):
                screen.repaint()

    def _save_theme(self, theme: Theme) -> None:
        from concsim.ui.settings import save_theme

        try:
            save_theme(theme.name)
        except OSError as error:
            self.notify(f"Could not remember the theme: {error}", severity="warning", markup=False)

    def _run_screen(self, session: Session, *, from_browser: bool) -> RunScreen:
        return RunScreen(
            session,
            speed=self.speed,
            paused=self.paused,
            clock=self.clock,
            from_browser=from_browser,
            replay_dir=self.replay_dir,
            prefetch=self.prefetch,
        )

    def open_entry(self, entry: Entry) -> None:
        """Open a scenario from the browser on a run screen of its own."""
        assert entry.scenario is not None
        try:
            session = Session(entry.scenario, source=entry.source, factory=self.factory)
        except Exception as error:  # an engine error is shown, never a traceback on screen
            self.notify(f"{entry.name} could not start: {error}", severity="error", markup=False)
            return
        self.push_screen(self._run_screen(session, from_browser=True))

    @property
    def run_screen(self) -> RunScreen:
        screen = self.screen
        assert isinstance(screen, RunScreen), f"not on a run screen: {screen!r}"
        return screen

    def advance_to(self, t: float) -> None:
        """Drive virtual time to ``t`` on the run screen (tests; the timer does it live)."""
        self.run_screen.advance_to(t)

    def key_names(self, keys: str) -> str:
        """``"full_stop,right"`` -> ``". →"``: keys as they read on a keyboard (Textual's own
        display, the one the footer uses)."""
        return " ".join(self.get_key_display(Binding(key, "")) for key in keys.split(","))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        # Every key binding of the screen is also a command, so nothing needs a memorised key.
        for binding in screen.BINDINGS:
            if not isinstance(binding, Binding) or binding.action.startswith("select("):
                continue
            keys = self.key_names(self.keymap.get(binding.id or "", binding.key))
            yield SystemCommand(
                binding.description,
                f"{binding.tooltip or binding.description} (keys: {keys})",
                partial(screen.run_action, binding.action),
            )


def make_app(
    targets: Sequence[str] = (),
    *,
    run: str | None = None,
    scenario: Scenario | None = None,
    variant: str | None = None,
    seed: int | None = None,
    speed: float | None = 1.0,
    paused: bool = False,
    replay: str | None = None,
    injections: Sequence[Any] = (),
    factory: SimulationFactory = engine_factory,
    clock: Callable[[], float] = time.monotonic,
    keymap: dict[str, str] | None = None,
    replay_dir: Path | None = None,
    theme: str | None = None,
    toast_scale: float = 1.0,
) -> ConcsimApp:
    """Build the app: a run screen for ``replay``, ``run`` or ``scenario``, else the browser.

    Raises ScenarioError (positioned lines), ReplayError or KeyError (unknown variant) before
    anything is drawn, so a bad file never opens a broken screen.
    """
    session: Session | None = None
    if replay is not None:
        saved = load_replay(replay)
        session = Session(
            open_scenario(saved.scenario),
            source=saved.scenario,
            variant=saved.variant,
            seed=saved.seed,
            injections=saved.injections,
            factory=factory,
            choices=saved.choices,
            draws=saved.draws,
        )
        session.branches = Branches.restore(saved.branches, saved.branch)
    elif run is not None or scenario is not None:
        model = scenario if scenario is not None else open_scenario(str(run))
        if variant is not None:
            model.variant(variant)  # raises KeyError naming the variants there are
        session = Session(
            model,
            source=run or model.name,
            variant=variant,
            seed=seed,
            injections=injections,
            factory=factory,
        )
    problem = None
    if keymap is None:
        keymap, problem = load_keymap()
    remember = theme is None  # a theme given (tests, a flag) is not the user's choice
    if theme is None:
        from concsim.ui.settings import load_theme

        theme = load_theme()
    return ConcsimApp(
        session=session,
        catalog=[] if session is not None else entries(list(targets)),
        speed=speed,
        paused=paused,
        clock=clock,
        factory=factory,
        keymap=keymap,
        keymap_problem=problem,
        replay_dir=replay_dir,
        theme=theme,
        toast_scale=toast_scale,
        remember_theme=remember,
    )
