"""The generated program of the version-2 lock and semaphore steps: the Python a person
writes, which runs as is on CPython and agrees with the simulator."""

from __future__ import annotations

import pytest
from faultkit import scenario
from programkit import disagreements, run_program, simulate, timeout_for
from test_sync_locks import ASYNC_BACK_OFF, BACK_OFF, RLOCK
from test_sync_semaphores import BARGE, POOL

from concsim.codegen import program
from concsim.scenario.model import Scenario


def _body(sc: Scenario, function: str, variant: str | None = None) -> list[str]:
    """The lines of one function of the generated program."""
    lines = program(sc, variant).source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{function}("))
    end = next(i for i in range(start + 1, len(lines)) if lines[i] and lines[i][0] != " ")
    body = lines[start:end]
    while body and not body[-1]:
        body.pop()
    return body


def test_a_timed_acquire_is_if_not_acquire_with_its_else_block() -> None:
    assert _body(scenario(BACK_OFF), "def left") == [
        "def left():",
        "    a.acquire()",
        "    time.sleep(0.05)",
        "    if not b.acquire(timeout=0.1):",
        '        print("left gave up")',
        "        a.release()",
        '    print("left after")',
        '    return "left done"',
    ]


def test_asyncio_acquire_with_a_timeout_is_asyncio_timeout_and_except_timeout_error() -> None:
    assert _body(scenario(ASYNC_BACK_OFF), "async def left") == [
        "async def left():",
        "    await a.acquire()",
        "    await asyncio.sleep(0.05)",
        "    try:",
        "        async with asyncio.timeout(0.1):",
        "            await b.acquire()",
        "    except TimeoutError:",
        "        a.release()",
        '    return "left done"',
    ]


def test_declared_primitives_and_with_blocks() -> None:
    source = program(scenario(RLOCK)).source
    assert "r = threading.RLock()\n" in source
    assert "    with r:\n        time.sleep(0.01)\n" in source
    pool = program(scenario(POOL), "aio").source
    assert "pool = asyncio.Semaphore(2)\n" in pool
    assert "    async with pool:\n        await asyncio.sleep(0.1)\n" in pool


def test_a_non_blocking_acquire_without_else_is_a_plain_call() -> None:
    sc = scenario("""
        version: 2
        name: s
        semaphores: {gate: {value: 1, bounded: true}}
        tasks:
          - {name: t, steps: [{acquire: gate, blocking: false}, {release: gate}]}
        """)
    assert "gate = threading.BoundedSemaphore(1)\n" in program(sc).source
    assert _body(sc, "def t")[1] == "    gate.acquire(blocking=False)"


@pytest.mark.parametrize(
    ("text", "variant"),
    [
        (BACK_OFF, None),
        (ASYNC_BACK_OFF, None),
        (RLOCK, None),
        (POOL, None),
        (POOL, "aio"),
        (BARGE, None),
    ],
    ids=["back-off", "asyncio-back-off", "rlock", "pool", "pool-asyncio", "barge"],
)
def test_the_program_agrees_with_the_simulator(text: str, variant: str | None) -> None:
    """Run on CPython: main's outcome, results, each task's output in order agree."""
    sc = scenario(text)
    sim = simulate(sc, variant)
    ran = run_program(sc, variant, timeout_for(sim))
    assert disagreements(sc, variant, sim, ran) == [], ran.stderr
