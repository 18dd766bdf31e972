"""Live mode: the generated program runs on CPython and reports the same events.

``probe`` runs inside the program's interpreter (standard library only); ``runner`` starts
it and reads its records; ``translate`` turns the records into ``concsim.events``.
"""
