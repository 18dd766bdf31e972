"""``concsim explore``: many seeds of one scenario, grouped by outcome and graded.

A seed stands for one of the runs CPython could make (``machine.jitter`` and
``machine.cpu_jitter`` vary with it); exploring runs seed after seed, groups the runs by
what the program did (main's outcome, results and their order, each task's outcome,
shared values, output — not times), and grades each group with the scenario's
``expect:`` list, as JCStress grades the outcomes of a concurrency test.
"""

from concsim.explore.histogram import Bar, Histogram
from concsim.explore.runner import Exploration, explore
from concsim.explore.samples import Sample, Verdict, facets

__all__ = ["Bar", "Exploration", "Histogram", "Sample", "Verdict", "explore", "facets"]
