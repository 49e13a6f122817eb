"""The browser-facing parts: the public contact form and the staff triage workspace."""
