"""The email channel is a plain adapter: its modules import nothing from intake/ or models/ (the
poller is handed a MailboxStore; the sender reads the settings it is given by name)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CHANNELS = Path(__file__).resolve().parents[2] / "channels"
EMAIL_MODULES = sorted(CHANNELS.glob("email_*.py"))


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):  # every import, also those inside functions
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", EMAIL_MODULES, ids=lambda path: path.name)
def test_an_email_channel_module_imports_nothing_from_the_layers_above(module: Path) -> None:
    upward = sorted(name for name in _imported(module) if name.split(".")[0] in ("intake", "models"))
    assert upward == []


def test_the_check_covers_the_poller_the_sender_and_the_token_module() -> None:
    assert {"email_imap.py", "email_smtp.py", "email_oauth2.py"} <= {path.name for path in EMAIL_MODULES}
