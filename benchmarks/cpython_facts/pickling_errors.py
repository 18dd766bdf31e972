"""What a ProcessPoolExecutor future fails with when its function cannot be pickled.

CPython (Lib/concurrent/futures/process.py, _SafeQueue._on_queue_feeder_error puts the
error in the future; Modules/_pickle.c, save_global): a lambda at module level is looked
up as __main__.<lambda> and is not found -> PicklingError "Can't pickle <function
<lambda> at 0x...>: attribute lookup <lambda> on __main__ failed"; a function (or lambda)
defined inside main() -> AttributeError "Can't pickle local object 'main.<locals>.NAME'".
"""

from __future__ import annotations

import re
from concurrent.futures import ProcessPoolExecutor

square = lambda x: x * x  # noqa: E731 -- the point: a lambda at module level


def main() -> None:
    def nested(x: int) -> int:
        return x * x

    inner = lambda x: x * x  # noqa: E731 -- the point: a lambda inside a function
    with ProcessPoolExecutor(max_workers=1) as ex:
        for fn in (square, nested, inner):
            error = ex.submit(fn, 3).exception()
            message = re.sub(r" at 0x[0-9a-f]+", " at 0x...", str(error))
            print(f"{type(error).__module__}.{type(error).__qualname__}: {message}")


if __name__ == "__main__":
    main()
