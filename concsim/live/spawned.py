"""The probe in a child that ``spawn`` or ``forkserver`` starts: a new interpreter, which
inherits neither the probe's instruments nor its pipe (Lib/multiprocessing/
popen_spawn_posix.py, ``Popen._launch``; forkserver.py, ``ForkServer.ensure_running``).

In the program's process, :func:`follow_spawned` wraps ``multiprocessing.util.
spawnv_passfds``, through which both start their new interpreter: the probe's pipe is
passed along, and the ``-c`` command first calls :func:`install` with the plan's path.
There the instruments go in as in the parent, and ``multiprocessing.spawn``'s import of
the main module as ``__mp_main__`` runs the program through the probe's scope, so its task
functions are traced. The program's code shown to the user is unchanged.

Standard library only, besides the probe's own modules: it runs in the child's interpreter.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing costs the program's process ~5 ms to import
if TYPE_CHECKING:
    from typing import Any

SPAWNED = "--multiprocessing-fork"
"""The flag a spawned child's command line ends with (``spawn.get_command_line``)."""


def follow_spawned(util: Any, plan_path: str, out_fd: int) -> None:
    """Every new interpreter multiprocessing starts gets the probe and its pipe."""
    real = util.spawnv_passfds

    def spawnv_passfds(path: str, args: list[str], passfds: Any) -> int:
        args = list(args)
        at = args.index("-c") + 1 if "-c" in args else 0
        if at and ("spawn_main" in args[at] or "forkserver" in args[at]):
            args[at] = (
                f"import concsim.live.spawned as _probe; _probe.install({plan_path!r}); " + args[at]
            )
            passfds = (*passfds, out_fd)
        return int(real(path, args, passfds))

    util.spawnv_passfds = spawnv_passfds


def install(plan_path: str) -> None:
    """In a new interpreter: report on the probe's pipe, trace the program's tasks."""
    from concsim.live.instruments import Instruments
    from concsim.live.probe import Reporter, Tracer, load_plan
    from concsim.live.scope import Scope, run_program

    plan = load_plan(plan_path)
    out = Reporter(plan["out"], plan.get("logs") or plan.get("dir"))
    tracer = Tracer(plan, out)
    instruments = Instruments(plan, out, tracer)
    instruments.install()
    if SPAWNED in sys.argv:  # a spawned child (not the forkserver): a process of its own
        out.emit("fork", ppid=os.getppid())
    program = plan["program"]
    traced = frozenset({tracer.main, *tracer.instances})
    scope = Scope(program, traced, tracer.helpers, tracer.call)
    import multiprocessing.spawn as spawn

    real = getattr(spawn, "_fixup_main_from_path")  # noqa: B009  # private, hence untyped

    def fixup_main_from_path(main_path: str) -> None:
        """``spawn._fixup_main_from_path``: the program imported as ``__mp_main__``."""
        if main_path != program or getattr(sys.modules["__main__"], "__file__", None) == program:
            real(main_path)
            return
        module = run_program(program, scope, plan["guard"], "__mp_main__", plan.get("code"))
        sys.modules["__main__"] = module

    setattr(spawn, "_fixup_main_from_path", fixup_main_from_path)  # noqa: B010
