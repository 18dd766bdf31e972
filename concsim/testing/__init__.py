"""Testing scenarios: ``concsim test``, JUnit XML, and the pytest plugin (its fixtures)."""
