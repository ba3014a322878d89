"""Rendering results for people: console, Markdown artifacts, Slack Block Kit, JUnit, progress."""
