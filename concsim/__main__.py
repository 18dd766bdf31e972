"""``python -m concsim``: the same as the ``concsim`` command."""

from concsim.cli import main

main()
