"""What a program writes: ``print`` and ``logging.info``, each piece formatted by Python code
(a preemption point: another thread may write between two pieces) and then written."""

from __future__ import annotations

from typing import TYPE_CHECKING

from concsim.events import OutputWritten
from concsim.scenario import model as m

from .code import Code
from .runtime import Actor, Lane, TaskRun

WRITE_COST = 50  # microseconds of Python code to format and write one piece of output


class Output(Code):
    """``sys.stdout.write`` piece by piece, and ``logging.info`` as one record."""

    if TYPE_CHECKING:

        def fill(self, lane: Lane, run: TaskRun | None, text: str) -> str: ...  # flow.py

    def write_output(self, lane: Lane, run: TaskRun | None, pieces: list[str], label: str) -> Actor:
        """Each piece is formatted by Python code (a preemption point) and then written."""
        world = self.world
        for piece in pieces:
            yield from world.cpu(lane, WRITE_COST, label)
            world.emit(OutputWritten, lane=lane.id, task=run.name if run else None, text=piece)

    def write_log(self, lane: Lane, run: TaskRun | None, step: m.LogStep, label: str) -> Actor:
        """``logging.info(text)``: one record, written as one piece."""
        return self.write_output(lane, run, [self._log(lane, run, step)], label)

    def _log(self, lane: Lane, run: TaskRun | None, step: m.LogStep) -> str:
        text = self.fill(lane, run, step.log)
        return f"INFO {run.name if run is not None else lane.id}: {text}\n"
