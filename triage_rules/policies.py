"""Landlord complaints-policy profiles, loaded from `triage_rules/policies/<name>.yaml`.

A profile is the published policy as data: per item type and per complaint stage, what must happen
by when (`Target`: within N units, counted from what), the window a resident has to ask for the next
stage, how far a response may be extended, time bars and special routes (a councillor's formal
enquiry, a criminal allegation that starts at stage 2). Every target carries the clause it came from
(`clause`) and the policy's own words (`source`), so staff can see where a date comes from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from triage_rules.errors import TriageRulesError

POLICY_DIR = Path(__file__).with_name("policies")

UNITS = ("working_days", "calendar_days", "hours", "months")
# What a target counts from. Any other value names another deadline of the same stage
# (e.g. Somers' panel findings count from the panel hearing).
ANCHORS = ("receipt", "acknowledgement", "response")
STAGE_IDS = ("stage_0", "stage_1", "stage_2", "stage_3")
ITEM_TYPES = ("complaint", "service_request", "enquiry", "compliment", "suggestion")


class PolicyError(TriageRulesError):
    """A policy profile file is invalid; the message names the file and the field."""


class PolicyNotFound(PolicyError, LookupError):
    """No profile has this name; the message lists the known ones."""


@dataclass(frozen=True)
class Target:
    """Something due `within` `unit` of `counts_from`, as a clause of the policy says."""

    within: int
    unit: str
    counts_from: str
    clause: str
    source: str
    note: str | None = None

    def describe(self) -> str:
        """'10 working days of receipt' — plain words for a basis or a docs table."""
        unit = self.unit.replace("_", " ")
        if self.within == 1:
            unit = unit.replace("days", "day").replace("hours", "hour").replace("months", "month")
        anchor = {
            "receipt": "receipt",
            "acknowledgement": "acknowledgement",
            "response": "the response",
            "hold_hearing": "the hearing",
        }.get(self.counts_from, f"the {self.counts_from.replace('_', ' ')}")
        return f"{self.within} {unit} of {anchor}"


@dataclass(frozen=True)
class Extension:
    """How far a response date may be moved. `max_within` None: the policy sets no limit."""

    max_within: int | None
    unit: str
    clause: str
    source: str
    needs_reason: bool = True


@dataclass(frozen=True)
class Stage:
    id: str
    name: str
    formal: bool
    deadlines: tuple[tuple[str, Target], ...]  # (kind, target) in the order they fall due
    escalation_request: Target | None = None  # window to ask for the next stage, from the response
    extension: Extension | None = None
    note: str | None = None

    def target(self, kind: str) -> Target | None:
        return dict(self.deadlines).get(kind)


@dataclass(frozen=True)
class TypeTargets:
    """What the policy promises for an item of one type (complaints use `stages` instead)."""

    item_type: str
    deadlines: tuple[tuple[str, Target], ...]
    extension: Extension | None = None
    note: str | None = None


@dataclass(frozen=True)
class SpecialRoute:
    """A route some items take instead of the usual one, chosen by their flags."""

    name: str
    flags: tuple[str, ...]
    clause: str
    source: str
    start_stage: str | None = None  # complaints with these flags start at this stage
    applies_to_types: tuple[str, ...] = ()  # empty: every type
    deadlines: tuple[tuple[str, Target], ...] = ()  # replace the type's own deadlines
    extension: Extension | None = None
    note: str | None = None

    def applies(self, item_type: str | None, flags: frozenset[str]) -> bool:
        if not flags.intersection(self.flags):
            return False
        return not self.applies_to_types or item_type in self.applies_to_types


@dataclass(frozen=True)
class TimeBar:
    name: str
    within: int
    unit: str
    counts_from: str  # e.g. "awareness of the problem" — known only to staff, so shown, not computed
    clause: str
    source: str
    discretion: bool = False


@dataclass(frozen=True)
class Contact:
    phone: str
    email: str
    website: str
    emergency_repairs_phone: str
    address: str | None = None
    examples: tuple[str, ...] = ()  # fields that are invented placeholders, not from the policy

    def is_example(self, field_name: str) -> bool:
        return field_name in self.examples


@dataclass(frozen=True)
class PolicyProfile:
    name: str
    landlord_name: str
    short_name: str  # "Tuntum" — used in bases and letters
    title: str
    year: int
    source_file: str | None
    checked_against_text: bool
    contact: Contact
    types: tuple[TypeTargets, ...]
    stages: tuple[Stage, ...]
    time_bars: tuple[TimeBar, ...] = ()
    special_routes: tuple[SpecialRoute, ...] = ()
    notes: tuple[str, ...] = ()
    display_label: str | None = (
        None  # how bases name the policy, when "<short name> <year> policy" reads badly
    )

    def stage(self, stage_id: str) -> Stage:
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        known = ", ".join(s.id for s in self.stages)
        raise PolicyError(f"policy {self.name!r} has no stage {stage_id!r} (it has {known})")

    def has_stage(self, stage_id: str) -> bool:
        return any(stage.id == stage_id for stage in self.stages)

    @property
    def formal_stages(self) -> tuple[Stage, ...]:
        return tuple(stage for stage in self.stages if stage.formal)

    def type_targets(self, item_type: str | None) -> TypeTargets | None:
        for targets in self.types:
            if targets.item_type == item_type:
                return targets
        return None

    @property
    def label(self) -> str:
        """'Tuntum 2017 policy' — how bases name the policy."""
        return self.display_label or f"{self.short_name} {self.year} policy"


def with_landlord_details(
    profile: PolicyProfile,
    *,
    landlord_name: str | None = None,
    phone: str | None = None,
    emergency_repairs_phone: str | None = None,
    email: str | None = None,
    website: str | None = None,
    address: str | None = None,
) -> PolicyProfile:
    """The profile with the landlord's own name and contact details in place of the shipped ones.

    The deadlines stay the policy's; only who the letters come from and how to reach them change.
    A field given here is real, so it is no longer marked as an invented example.
    """
    given = {
        "phone": phone,
        "emergency_repairs_phone": emergency_repairs_phone,
        "email": email,
        "website": website,
        "address": address,
    }
    overrides = {field: value for field, value in given.items() if value}
    contact = replace(
        profile.contact,
        **overrides,
        examples=tuple(field for field in profile.contact.examples if field not in overrides),
    )
    return replace(profile, landlord_name=landlord_name or profile.landlord_name, contact=contact)


def list_policies() -> list[str]:
    return sorted(path.stem for path in POLICY_DIR.glob("*.yaml"))


@cache
def load_policy(name: str) -> PolicyProfile:
    path = POLICY_DIR / f"{name}.yaml"
    if not name or "/" in name or not path.is_file():
        known = ", ".join(list_policies())
        raise PolicyNotFound(f"no policy profile named {name!r}: choose one of {known}")
    return parse_policy(yaml.safe_load(path.read_text(encoding="utf-8")), path=path)


def parse_policy(raw: Any, *, path: Path | str) -> PolicyProfile:
    """Build a profile from parsed YAML, failing loudly with the file and field on any mistake."""
    reader = _Reader(path)
    data = reader.mapping(raw, "the file")
    name = reader.text(data, "name")
    if Path(path).stem != name:
        raise PolicyError(f"{path}: name {name!r} must match the file name {Path(path).stem!r}")
    stages = tuple(reader.stage(entry, i) for i, entry in enumerate(reader.sequence(data, "stages")))
    ids = [stage.id for stage in stages]
    if ids != sorted(ids) or len(set(ids)) != len(ids):
        raise PolicyError(f"{path}: stages must be listed once each, in order (got {ids})")
    profile = PolicyProfile(
        name=name,
        landlord_name=reader.text(data, "landlord_name"),
        short_name=reader.text(data, "short_name"),
        title=reader.text(data, "title"),
        year=reader.integer(data, "year"),
        source_file=data.get("source_file"),
        checked_against_text=bool(data.get("checked_against_text", False)),
        contact=reader.contact(reader.mapping(data.get("contact"), "contact")),
        types=tuple(
            reader.type_targets(item_type, spec)
            for item_type, spec in reader.mapping(data.get("types", {}), "types").items()
        ),
        stages=stages,
        time_bars=tuple(reader.time_bar(entry) for entry in data.get("time_bars", []) or []),
        special_routes=tuple(reader.special_route(entry) for entry in data.get("special_routes", []) or []),
        notes=tuple(str(note) for note in data.get("notes", []) or []),
        display_label=data.get("label"),
    )
    for route in profile.special_routes:
        if route.start_stage is not None and not profile.has_stage(route.start_stage):
            raise PolicyError(
                f"{path}: special route {route.name!r} starts at unknown stage {route.start_stage!r}"
            )
    return profile


class _Reader:
    """Field-by-field YAML checks that name the file and the field that is wrong."""

    def __init__(self, path: Path | str) -> None:
        self.path = path

    def fail(self, problem: str) -> PolicyError:
        return PolicyError(f"{self.path}: {problem}")

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(f"{where} must be a mapping")
        return value

    def sequence(self, data: Mapping[str, Any], key: str) -> list[Any]:
        value = data.get(key)
        if not isinstance(value, list) or not value:
            raise self.fail(f"{key} must be a non-empty list")
        return value

    def text(self, data: Mapping[str, Any], key: str) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{key} is missing or empty")
        return value.strip()

    def integer(self, data: Mapping[str, Any], key: str) -> int:
        value = data.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(f"{key} must be a whole number")
        return value

    def target(self, raw: Any, where: str) -> Target:
        data = self.mapping(raw, where)
        unit = self.text(data, "unit")
        if unit not in UNITS:
            raise self.fail(f"{where}: unit {unit!r} is not one of {', '.join(UNITS)}")
        within = self.integer(data, "within")
        if within < 0:
            raise self.fail(f"{where}: within must not be negative")
        return Target(
            within=within,
            unit=unit,
            counts_from=self.text(data, "from"),
            clause=self.text(data, "clause"),
            source=self.text(data, "source"),
            note=data.get("note"),
        )

    def deadlines(self, raw: Any, where: str) -> tuple[tuple[str, Target], ...]:
        data = self.mapping(raw or {}, where)
        pairs = tuple((kind, self.target(spec, f"{where}.{kind}")) for kind, spec in data.items())
        kinds = {kind for kind, _ in pairs}
        for kind, target in pairs:
            if target.counts_from not in ANCHORS and target.counts_from not in kinds:
                raise self.fail(f"{where}.{kind}: counts from unknown {target.counts_from!r}")
        return pairs

    def extension(self, raw: Any, where: str) -> Extension | None:
        if raw is None:
            return None
        data = self.mapping(raw, where)
        maximum = data.get("max")
        if maximum is not None and (not isinstance(maximum, int) or maximum <= 0):
            raise self.fail(f"{where}.max must be a positive whole number or null (no limit)")
        unit = data.get("unit", "working_days")
        if unit not in UNITS:
            raise self.fail(f"{where}: unit {unit!r} is not one of {', '.join(UNITS)}")
        return Extension(
            max_within=maximum,
            unit=unit,
            clause=self.text(data, "clause"),
            source=self.text(data, "source"),
            needs_reason=bool(data.get("needs_reason", True)),
        )

    def stage(self, raw: Any, index: int) -> Stage:
        data = self.mapping(raw, f"stages[{index}]")
        stage_id = self.text(data, "id")
        if stage_id not in STAGE_IDS:
            raise self.fail(f"stages[{index}]: id {stage_id!r} is not one of {', '.join(STAGE_IDS)}")
        where = f"stage {stage_id}"
        escalation = data.get("escalation_request")
        return Stage(
            id=stage_id,
            name=self.text(data, "name"),
            formal=bool(data.get("formal", True)),
            deadlines=self.deadlines(data.get("deadlines"), f"{where}.deadlines"),
            escalation_request=self.target(escalation, f"{where}.escalation_request") if escalation else None,
            extension=self.extension(data.get("extension"), f"{where}.extension"),
            note=data.get("note"),
        )

    def type_targets(self, item_type: str, raw: Any) -> TypeTargets:
        if item_type not in ITEM_TYPES:
            raise self.fail(f"types: {item_type!r} is not one of {', '.join(ITEM_TYPES)}")
        data = self.mapping(raw or {}, f"types.{item_type}")
        return TypeTargets(
            item_type=item_type,
            deadlines=self.deadlines(data.get("deadlines"), f"types.{item_type}.deadlines"),
            extension=self.extension(data.get("extension"), f"types.{item_type}.extension"),
            note=data.get("note"),
        )

    def special_route(self, raw: Any) -> SpecialRoute:
        data = self.mapping(raw, "special_routes[]")
        name = self.text(data, "name")
        where = f"special route {name}"
        flags = data.get("flags")
        if not isinstance(flags, list) or not flags:
            raise self.fail(f"{where}: flags must be a non-empty list")
        return SpecialRoute(
            name=name,
            flags=tuple(flags),
            clause=self.text(data, "clause"),
            source=self.text(data, "source"),
            start_stage=data.get("start_stage"),
            applies_to_types=tuple(data.get("applies_to_types", []) or []),
            deadlines=self.deadlines(data.get("deadlines"), f"{where}.deadlines"),
            extension=self.extension(data.get("extension"), f"{where}.extension"),
            note=data.get("note"),
        )

    def time_bar(self, raw: Any) -> TimeBar:
        data = self.mapping(raw, "time_bars[]")
        unit = self.text(data, "unit")
        if unit not in UNITS:
            raise self.fail(f"time bar: unit {unit!r} is not one of {', '.join(UNITS)}")
        return TimeBar(
            name=self.text(data, "name"),
            within=self.integer(data, "within"),
            unit=unit,
            counts_from=self.text(data, "from"),
            clause=self.text(data, "clause"),
            source=self.text(data, "source"),
            discretion=bool(data.get("discretion", False)),
        )

    def contact(self, data: Mapping[str, Any]) -> Contact:
        examples = tuple(data.get("examples", []) or [])
        known = {"phone", "email", "website", "emergency_repairs_phone", "address"}
        unknown = set(examples) - known
        if unknown:
            raise self.fail(f"contact.examples names unknown fields {sorted(unknown)}")
        return Contact(
            phone=self.text(data, "phone"),
            email=self.text(data, "email"),
            website=self.text(data, "website"),
            emergency_repairs_phone=self.text(data, "emergency_repairs_phone"),
            address=data.get("address"),
            examples=examples,
        )
