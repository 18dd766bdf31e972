"""The program's own control flow (version 2): ``try``/``except``/``else``/``finally``,
``raise ... from``, bare ``raise``, ``loop`` with ``break``/``continue``, ``return``, and the
strings a step fills. Each test names the CPython 3.11 behaviour it asserts (confirmed on
python3.11 with the programs ``concsim code`` writes for these scenarios, see
``test_generated_program_agrees``)."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from concsim.engine import Injection, Simulation
from concsim.engine.exceptions import ancestry, matches
from concsim.events import (
    Event,
    ExceptionCaught,
    ExceptionChained,
    OutputWritten,
    QueuePut,
    TaskEnded,
)
from concsim.export.outcome import outcome
from concsim.live.check import check_one
from concsim.scenario.loader import load_scenario_text
from concsim.scenario.model import Scenario


def scenario(body: str) -> Scenario:
    return load_scenario_text("version: 2\nname: t\n" + textwrap.dedent(body), "t.yaml")


def run(body: str, *injections: Injection) -> tuple[list[Event], dict[str, Any]]:
    events = Simulation(scenario(body), injections=injections).run()
    return events, outcome(events)


def caught(events: list[Event]) -> list[tuple[str | None, str, str]]:
    return [(e.task, e.error, e.clause) for e in events if isinstance(e, ExceptionCaught)]


def output(events: list[Event]) -> str:
    return "".join(e.text for e in events if isinstance(e, OutputWritten))


# --- which clause matches -----------------------------------------------------------------


def test_except_matches_by_class_hierarchy_as_isinstance_does() -> None:
    """``except T`` is ``isinstance(exc, T)``: ConnectionRefusedError < ConnectionError <
    OSError; TimeoutError < OSError (3.10+); a program's own class < Exception."""
    assert ancestry("ConnectionRefusedError", asyncio=False) == (
        "ConnectionRefusedError",
        "ConnectionError",
        "OSError",
        "Exception",
        "BaseException",
    )
    assert matches("TimeoutError", ["OSError"], asyncio=False)
    assert matches("concurrent.futures.TimeoutError", ["TimeoutError"], asyncio=False)
    assert matches("BrokenProcessPool", ["RuntimeError"], asyncio=False)
    assert matches("queue.Empty", ["Exception"], asyncio=False)
    assert matches("PaymentDeclined", ["Exception"], asyncio=False)
    assert not matches("ValueError", ["KeyError", "IndexError"], asyncio=False)
    assert matches("IndexError", ["KeyError", "IndexError"], asyncio=False)
    assert matches("KeyboardInterrupt", [], asyncio=False)  # a bare except: catches all


def test_except_exception_lets_keyboard_interrupt_and_asyncio_cancel_through() -> None:
    """KeyboardInterrupt and (3.8+, bpo-32528) asyncio.CancelledError derive from
    BaseException only; concurrent.futures.CancelledError is an Exception."""
    assert not matches("KeyboardInterrupt", ["Exception"], asyncio=False)
    assert not matches("CancelledError", ["Exception"], asyncio=True)
    assert matches("CancelledError", ["Exception"], asyncio=False)
    assert matches("CancelledError", ["BaseException"], asyncio=True)


MAIN_CATCHES = """
program:
  model: threads
  collect: result
  main:
    - submit
    - try: [collect]
      except:
        - {{type: {caught}, as: e, steps: [{{log: "caught {{e}}"}}]}}
    - {{print: after}}
tasks:
  - name: slow
    steps: [{{io: 1s}}]
"""


def test_ctrl_c_in_main_passes_except_exception() -> None:
    """Ctrl-C raises KeyboardInterrupt in the main thread; ``except Exception`` does not
    handle it, so main ends with it and the code after the try never runs."""
    events, out = run(MAIN_CATCHES.format(caught="Exception"), Injection(0.2, "interrupt", "main"))
    assert caught(events) == []
    assert out["main"]["error"] == "KeyboardInterrupt"
    assert "after" not in output(events)


def test_ctrl_c_in_main_caught_by_name_carries_on() -> None:
    """``except KeyboardInterrupt`` handles Ctrl-C; main carries on after the try."""
    events, out = run(
        MAIN_CATCHES.format(caught="KeyboardInterrupt"), Injection(0.2, "interrupt", "main")
    )
    assert caught(events) == [(None, "KeyboardInterrupt", "except KeyboardInterrupt as e")]
    assert out["main"] == {"outcome": "ok", "error": None}
    assert out["output"] == ["INFO main: caught ", "after"]


ASYNC_TASK = """
program:
  model: asyncio
tasks:
  - name: job
    steps:
      - try: [{{sleep: 1s}}]
        except:
          - {{type: {caught}, steps: [{{print: handled}}]}}
    returns: finished
"""


def test_asyncio_cancel_passes_except_exception() -> None:
    """task.cancel() raises asyncio.CancelledError at the task's await; ``except
    Exception`` lets it through and the task ends cancelled."""
    events, out = run(ASYNC_TASK.format(caught="Exception"), Injection(0.3, "cancel", "job"))
    assert caught(events) == []
    assert out["tasks"][0]["outcome"] == "cancelled"


def test_asyncio_cancel_caught_by_name_is_swallowed() -> None:
    """``except asyncio.CancelledError`` swallows the cancellation: the coroutine returns
    normally and the task ends with its value."""
    events, out = run(
        ASYNC_TASK.format(caught="asyncio.CancelledError"), Injection(0.3, "cancel", "job")
    )
    assert caught(events) == [("job", "CancelledError", "except asyncio.CancelledError")]
    assert out["tasks"][0]["outcome"] == "ok"
    assert out["results"] == ["finished"]
    assert out["output"] == ["handled"]


@pytest.mark.parametrize("model", ["sequential", "threads", "processes", "asyncio"])
def test_a_fail_fault_is_caught_like_a_raise(model: str) -> None:
    """A ``fail`` fault raises in the task where it stands: an enclosing ``except`` of the
    right class handles it, in every model."""
    events, out = run(
        f"""
        program: {{model: {model}}}
        tasks:
          - name: job
            steps:
              - try: [{{io: 1s}}]
                except: [{{type: ValueError, as: e, steps: [{{print: "caught {{e}}"}}]}}]
        """,
        Injection(0.5, "fail", "job", "ValueError"),
    )
    assert caught(events) == [("job", "ValueError", "except ValueError as e")]
    assert out["tasks"][0]["outcome"] == "ok"
    assert out["output"] == ["caught injected"]


def test_first_matching_clause_handles_it() -> None:
    """Clauses are tried in order; the first whose class matches runs, the rest do not."""
    events, out = run("""
        tasks:
          - name: job
            steps:
              - try: [{raise: ConnectionRefusedError, message: refused}]
                except:
                  - {type: [KeyError, IndexError], steps: [{print: lookup}]}
                  - {type: OSError, as: err, steps: [{print: "os: {err}"}]}
                  - {type: Exception, steps: [{print: any}]}
                  - {steps: [{print: bare}]}
        """)
    assert caught(events) == [("job", "ConnectionRefusedError", "except OSError as err")]
    assert out["output"] == ["os: refused"]
    assert out["tasks"][0]["outcome"] == "ok"


# --- else, finally, chaining ----------------------------------------------------------------


def test_else_runs_only_when_the_body_raised_nothing_and_finally_always() -> None:
    """``else`` runs after a body that raised nothing; ``finally`` runs either way."""
    events, _ = run("""
        tasks:
          - name: job
            steps:
              - try: [{cpu: 1ms}]
                except: [{type: ValueError, steps: [{print: except 1}]}]
                else: [{print: else 1}]
                finally: [{print: finally 1}]
              - try: [{raise: ValueError}]
                except: [{type: ValueError, steps: [{print: except 2}]}]
                else: [{print: else 2}]
                finally: [{print: finally 2}]
        """)
    assert output(events) == "else 1\nfinally 1\nexcept 2\nfinally 2\n"


def test_return_in_finally_swallows_the_exception() -> None:
    """A ``return`` in ``finally`` discards the exception leaving the try (the function
    returns the value; 3.14 warns of it, PEP 765)."""
    _, out = run("""
        tasks:
          - name: job
            steps:
              - try: [{raise: ValueError, message: lost}]
                finally: [{return: swallowed}]
        """)
    assert out["tasks"][0]["outcome"] == "ok"
    assert out["results"] == ["swallowed"]


def test_raise_in_except_chains_the_handled_exception_as_context() -> None:
    """An exception raised while handling another gets it as ``__context__``: CPython
    prints both, 'During handling of the above exception, another exception occurred'."""
    events, out = run("""
        program:
          main:
            - try: [{raise: ValueError, message: a}]
              except: [{type: ValueError, steps: [{raise: KeyError, message: "'b'"}]}]
        """)
    assert out["main"]["error"] == "KeyError"
    assert output(events).endswith(
        "Traceback (most recent call last):\n  ...\nValueError: a\n\n"
        "During handling of the above exception, another exception occurred:\n\n"
        "Traceback (most recent call last):\n  ...\nKeyError: 'b'\n"
    )


def test_raise_from_sets_the_cause_and_from_none_hides_the_context() -> None:
    """``raise X from e`` sets ``__cause__`` (printed first, 'The above exception was the
    direct cause...'); ``raise X from None`` sets ``__suppress_context__``: one traceback."""
    body = """
        program:
          main:
            - try: [{raise: ValueError, message: a}]
              except:
                - {type: ValueError, as: e, steps: [{raise: RuntimeError, message: b, from: FROM}]}
        """
    events, out = run(body.replace("FROM", "e"))
    chained = [e for e in events if isinstance(e, ExceptionChained)]
    assert [(e.error, e.cause) for e in chained] == [("RuntimeError", "ValueError('a')")]
    assert out["output"] == [
        "Traceback (most recent call last):",
        "  ...",
        "ValueError: a",
        "",
        "The above exception was the direct cause of the following exception:",
        "",
        "Traceback (most recent call last):",
        "  ...",
        "RuntimeError: b",
    ]
    events, out = run(body.replace("FROM", "none"))
    assert [e.cause for e in events if isinstance(e, ExceptionChained)] == [None]
    assert out["output"] == ["Traceback (most recent call last):", "  ...", "RuntimeError: b"]


def test_bare_raise_reraises_the_exception_being_handled() -> None:
    """A bare ``raise`` in an except block re-raises the handled exception itself."""
    events, out = run("""
        tasks:
          - name: job
            steps:
              - try: [{raise: ValueError, message: original}]
                except: [{type: ValueError, steps: [{print: logged}, reraise]}]
        """)
    assert out["tasks"][0]["outcome"] == "failed"
    assert out["tasks"][0]["error"] == "ValueError"
    assert [e.error for e in events if isinstance(e, TaskEnded)] == ["ValueError"]


def test_on_error_can_reraise() -> None:
    """``on_error`` is main's ``except BaseException:``; a bare ``raise`` there re-raises."""
    _, out = run("""
        program:
          main: [{raise: ValueError, message: x}]
          on_error: [reraise]
        """)
    assert out["main"]["error"] == "ValueError"


# --- loops ----------------------------------------------------------------------------------


def test_finally_runs_on_break_and_continue() -> None:
    """``finally`` runs when ``break`` or ``continue`` leaves the try (compiler_unwind)."""
    events, _ = run("""
        tasks:
          - name: job
            steps:
              - loop:
                  - try: [continue]
                    finally: [{print: "finally {attempt}"}]
                times: 2
              - loop:
                  - try: [break]
                    finally: [{print: finally while}]
                  - {print: never}
        """)
    assert output(events) == "finally 1\nfinally 2\nfinally while\n"


def test_loop_until_stop_checks_the_event_before_each_round() -> None:
    """``while not stop.is_set():`` checks before each round; a round under way finishes."""
    events, out = run("""
        program:
          model: threads
          collect: none
          main: [submit, {sleep: 250ms}, set_stop]
        tasks:
          - name: poller
            steps:
              - loop: [{io: 100ms}, {print: polled}]
                until: stop
        """)
    assert output(events) == "polled\npolled\npolled\n"
    assert out["tasks"][0]["ended"] == pytest.approx(0.3, abs=1e-3)


def test_break_and_continue_in_repeat_and_consume() -> None:
    """``break`` leaves the innermost loop only; ``continue`` skips to its next round."""
    events, out = run("""
        queues: {q: {}}
        tasks:
          - name: job
            steps:
              - repeat: 3
                steps: [{print: r}, continue, {print: never}]
              - repeat: 3
                steps: [{print: once}, break]
              - {put: q, value: 1}
              - {put: q, value: 2}
              - {put: q, value: null}
              - consume: q
                each: [break]
        """)
    assert output(events) == "r\nr\nr\nonce\n"
    assert out["results"] == [[1]]


def test_return_ends_the_function_with_its_value() -> None:
    """``return VALUE`` ends the task with that result; in main() it ends main normally."""
    events, out = run("""
        program:
          model: threads
          collect: result
          main: [submit, collect, {return: 0}, {print: never}]
        tasks:
          - name: job
            repeat: 2
            steps: [{return: "answer {i} from {name}"}, {print: never}]
        """)
    assert out["results"] == ["answer 1 from job-1", "answer 2 from job-2"]
    assert out["main"]["outcome"] == "ok"
    assert "never" not in output(events)


# --- strings ----------------------------------------------------------------------------------


def test_copy_number_and_name_fill_every_string_in_version_2() -> None:
    """``{i}`` and ``{name}`` fill print, log and put values; a version-1 file keeps them as
    written (its text means what it meant)."""
    body = """
        queues: {q: {}}
        tasks:
          - name: w
            repeat: 2
            steps:
              - {print: "print {i} {name} {other}"}
              - {log: "log {i}"}
              - {put: q, value: "item {i}"}
        """
    events, _ = run(body)
    assert "print 1 w-1 {other}\n" in output(events)
    assert "INFO w-2: log 2\n" in output(events)
    assert sorted(e.value for e in events if isinstance(e, QueuePut)) == ["item 1", "item 2"]
    v1 = load_scenario_text("version: 1\nname: t\n" + textwrap.dedent(body), "t.yaml")
    old = Simulation(v1).run()
    assert "print {i} {name} {other}\n" in output(old)


# --- the generated program agrees -------------------------------------------------------------

AGREES = """
version: 2
name: flow-agrees
program:
  model: threads
  collect: result
  main:
    - submit
    - loop:
        - try: [collect]
          except:
            - {type: [KeyError, LookupError], as: e, steps: [{log: "attempt {attempt}: {e}"}]}
          else: [break]
      times: 2
    - try: [collect]
      except: [{type: LookupError, steps: [{print: "gave up"}]}]
      finally: [{print: "done"}]
    - {return: 0}
tasks:
  - name: job
    repeat: 2
    steps:
      - loop:
          - {io: 20ms}
          - try: [{raise: ValueError, message: "round {attempt} of {name}"}]
            except: [{type: ValueError, as: e, steps: [{print: "{e}"}, continue]}]
            finally: [{print: "finally {i}"}]
        times: 2
      - {raise: IndexError, message: "no row {i}"}
"""


def test_generated_program_agrees() -> None:
    """The program ``concsim code`` writes, run on CPython, ends as the simulator says:
    every task's outcome and error, main's, and the output line for line."""
    result = check_one(load_scenario_text(AGREES, "flow-agrees.yaml"), None, loose=3.0)
    assert result.error is None, result.error
    assert [str(d) for d in result.disagreements] == []
