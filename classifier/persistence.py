"""Saving and loading model parts with skops (not pickle): only audited types are ever loaded.

skops refuses to build any type not on its default trusted list unless told to. Our models hold
a few scikit-learn internals outside that list (e.g. the calibrators inside CalibratedClassifierCV),
so loading passes exactly the types the file contains — after checking each against ALLOWED_TYPES.
A file that asks for anything else (a function, a class from elsewhere) is refused.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from classifier.errors import ModelNotFoundError, UntrustedModelError

# scikit-learn's own classes only: no builtins like eval, no functions, no third-party code.
ALLOWED_TYPES = re.compile(r"^sklearn\.(?:[a-z_]+\.)*_?[A-Z][A-Za-z0-9_]*$")


def save_parts(parts: dict[str, Any], path: Path) -> list[str]:
    """Write `parts` to `path`; return the non-default types it holds (stored in metadata)."""
    import skops.io as sio  # here, not at import: loading a model's inference form never needs skops

    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(parts, path, compression=zipfile.ZIP_DEFLATED)  # the vocabularies compress well
    untrusted = sio.get_untrusted_types(file=path)
    check_allowed(untrusted, path)
    return list(untrusted)


def check_allowed(types: list[str], path: Path) -> None:
    refused = [name for name in types if not ALLOWED_TYPES.match(name)]
    if refused:
        raise UntrustedModelError(f"{path}: refusing to load types outside scikit-learn: {', '.join(refused)}")


def load_parts(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ModelNotFoundError(f"{path}: no model file")
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=path)
    check_allowed(untrusted, path)
    parts = sio.load(path, trusted=untrusted)
    if not isinstance(parts, dict):
        raise UntrustedModelError(f"{path}: not a model file written by this version of the classifier")
    return parts
