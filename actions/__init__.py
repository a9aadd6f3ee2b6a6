"""Rasa custom actions (run by the rasa-sdk action server). Kept thin: they read
the tracker, call ``assistant`` code and return events."""
