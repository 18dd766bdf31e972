"""Views without a screen: events to outcome JSON, event lines, text timelines."""
