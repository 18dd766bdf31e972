"""Scenario files: YAML in, validated frozen models out, with positioned errors."""
