"""concurrent.futures: the executor base, the thread pool and the process pool."""

from .executor import Executor, Job
from .pickling import pickling_error
from .process_pool import ProcessPool
from .thread_pool import ThreadPool

__all__ = ["Executor", "Job", "ProcessPool", "ThreadPool", "pickling_error"]
