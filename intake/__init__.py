"""Intake: the pipeline, API, jobs, settings and CLI of the housing intake and triage service."""
