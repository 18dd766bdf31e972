"""``python -m concsim``: the same as the ``concsim`` command."""

from concsim.cli import main

main(prog_name="concsim")  # the same usage lines and completion variable
