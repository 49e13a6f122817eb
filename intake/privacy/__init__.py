"""Residents' data rights under UK GDPR: subject access, erasure and restriction, retention, the access trail.

- `subjects`: find a person's items (contacts, sender addresses, case parties, a name search).
- `export`: the subject-access export (HTML summary + JSON + the original files, zipped).
- `erasure`: replace personal data with the marker everywhere it is kept; restriction.
- `retention`: the retention schedule from settings, dry run and apply.
- `access`: the access trail of staff views, searches and exports.
- `requests`: the record of each request and its one-month due date.
- `notes`: free text staff write about cases, kept out of the append-only audit log.
"""
