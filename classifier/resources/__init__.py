"""Data files the classifier reads (SMS shorthand, disclaimers, transcript speaker cues)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

RESOURCE_DIR = Path(__file__).resolve().parent


@cache
def load_resource(name: str) -> Any:
    return yaml.safe_load((RESOURCE_DIR / name).read_text(encoding="utf-8"))
