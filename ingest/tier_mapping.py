"""Tier mappings: which ELAN tiers are glosses, translations, non-manual fields and signers.

ELAN has no fixed tier names, so a small TOML file says what each tier is, the video frame
rate, what an annotation's end time means and which values are transitions. `load` reads
and validates one (every problem is an `InputFileError` naming the file and the key);
`detect` picks a shipped preset from a file's tier names. The format is documented in
`ingest/tier_mappings/template.toml` and README "Your own corpus".
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.frame_rates import MAX_FPS, MIN_FPS
from signaffect.core.errors import InputFileError

MAPPINGS_DIR = Path(__file__).resolve().parent / "tier_mappings"
TEMPLATE = MAPPINGS_DIR / "template.toml"
PRESETS = ("ncslgr-elan", "dgs-corpus")

# Roles a tier can have, and the warehouse field name of the fixed ones (the names the dbt
# models and the lexicons look for).
ROLE_FIELD_NAMES = {
    "main gloss": "main gloss",
    "non-dominant gloss": "non-dominant hand gloss",
    "translation": None,
    "field": None,
    # Only the utterances' extents: no field, no annotations (what `cli.py export --elan`
    # writes, so an utterance tier adds nothing but the utterances on re-ingest).
    "utterance": None,
}
# Feature kinds a coded field may take (the vocabulary of seed `signstream_field_kinds`;
# mouth and mouthing are `facial` there).
FIELD_KINDS = ("facial", "head", "body", "grammatical", "pos")
END_TIMES = ("last-frame", "exclusive")
TRANSITIONS = ("hold", "onset", "offset")
SIGNER = "{signer}"


@dataclass(frozen=True)
class TierRule:
    """One `[[tier]]` entry: a tier name (maybe with `{signer}`) and what it holds."""

    tier: str
    role: str
    field_name: str
    kind: str | None
    language: str | None
    pattern: re.Pattern[str]

    def match(self, tier_id: str) -> re.Match[str] | None:
        return self.pattern.fullmatch(tier_id)

    @property
    def is_text(self) -> bool:
        return self.role != "field"

    @property
    def is_utterance_only(self) -> bool:
        return self.role == "utterance"


@dataclass(frozen=True)
class TierMapping:
    """A validated tier mapping."""

    name: str
    frames_per_second: float
    end_time: str
    utterance_tier: str
    signer: str | None
    transitions: Mapping[str, str]
    rules: tuple[TierRule, ...]

    def rule_for(self, tier_id: str) -> tuple[TierRule, str | None] | None:
        """The first rule whose tier matches `tier_id`, and the `{signer}` part it matched."""
        for rule in self.rules:
            m = rule.match(tier_id)
            if m is not None:
                return rule, m.groupdict().get("signer")
        return None

    @property
    def utterance_rule(self) -> TierRule:
        return next(r for r in self.rules if r.tier == self.utterance_tier)

    def matches(self, tier_ids: Iterable[str]) -> bool:
        """True when the file has the utterance tier and a main-gloss tier of this mapping."""
        ids = list(tier_ids)
        main = [r for r in self.rules if r.role == "main gloss"]
        return any(self.utterance_rule.match(t) for t in ids) and any(
            r.match(t) for r in main for t in ids
        )


def _pattern(tier: str) -> re.Pattern[str]:
    before, signer, after = tier.partition(SIGNER)
    if not signer:
        return re.compile(re.escape(tier))
    return re.compile(f"{re.escape(before)}(?P<signer>.+?){re.escape(after)}")


class _Checker:
    """Typed access to the parsed TOML, raising errors that name the file and the key."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> InputFileError:
        return InputFileError(
            self.path, key, problem, f"see the template {TEMPLATE} and README 'Your own corpus'"
        )

    def text(self, table: Mapping[str, Any], key: str, where: str, required: bool = True) -> Any:
        value = table.get(key)
        if value is None:
            if required:
                raise self.fail(f"{where}{key}", "missing")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where}{key}", f"must be a non-empty string, not {value!r}")
        return value


def load(path: str | Path) -> TierMapping:
    """Read and validate a tier mapping TOML file."""
    path = Path(path)
    check = _Checker(str(path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise check.fail("file", f"cannot read ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise check.fail("document", f"not valid TOML ({exc})") from None
    return from_dict(data, str(path))


def from_dict(data: Mapping[str, Any], source: str) -> TierMapping:
    """Validate a parsed mapping (`source` names it in errors)."""
    check = _Checker(source)
    known = {
        "name",
        "frames_per_second",
        "end_time",
        "utterance_tier",
        "signer",
        "transitions",
        "tier",
    }
    unknown = sorted(set(data) - known)
    if unknown:
        raise check.fail(unknown[0], f"unknown key (known: {', '.join(sorted(known))})")
    fps = data.get("frames_per_second")
    if isinstance(fps, bool) or not isinstance(fps, int | float) or not MIN_FPS <= fps <= MAX_FPS:
        raise check.fail(
            "frames_per_second", f"must be a number from {MIN_FPS:g} to {MAX_FPS:g}, not {fps!r}"
        )
    end_time = data.get("end_time", "exclusive")
    if end_time not in END_TIMES:
        raise check.fail("end_time", f"must be one of {', '.join(END_TIMES)}, not {end_time!r}")
    transitions = data.get("transitions", {})
    if not isinstance(transitions, dict) or set(transitions) - set(TRANSITIONS):
        raise check.fail("transitions", f"must be a table with keys among {TRANSITIONS}")
    for key in transitions:
        check.text(transitions, key, "transitions.")
    entries = data.get("tier")
    if not isinstance(entries, list) or not entries:
        raise check.fail("tier", "needs at least one [[tier]] entry")
    rules = tuple(_rule(check, entry, i) for i, entry in enumerate(entries, start=1))
    _check_distinct_tiers(check, rules)
    utterance_tier = check.text(data, "utterance_tier", "")
    if not any(r.tier == utterance_tier for r in rules):
        raise check.fail("utterance_tier", f"{utterance_tier!r} is not one of the [[tier]] entries")
    if not any(r.role == "main gloss" for r in rules):
        raise check.fail("tier", "no [[tier]] has role = 'main gloss'")
    return TierMapping(
        name=check.text(data, "name", ""),
        frames_per_second=float(fps),
        end_time=end_time,
        utterance_tier=utterance_tier,
        signer=check.text(data, "signer", "", required=False),
        transitions={key: value.strip() for key, value in transitions.items()},
        rules=rules,
    )


def _check_distinct_tiers(check: _Checker, rules: tuple[TierRule, ...]) -> None:
    """Refuse a tier mapped twice: only its first entry would ever match."""
    first: dict[str, int] = {}
    for number, rule in enumerate(rules, start=1):
        if rule.tier in first:
            raise check.fail(
                f"tier #{number}.tier",
                f"{rule.tier!r} is already mapped by tier #{first[rule.tier]}; a tier has one role",
            )
        first[rule.tier] = number


def _rule(check: _Checker, entry: Any, number: int) -> TierRule:
    where = f"tier #{number}."
    if not isinstance(entry, dict):
        raise check.fail(f"tier #{number}", "must be a table")
    unknown = sorted(set(entry) - {"tier", "role", "field", "kind", "language"})
    if unknown:
        raise check.fail(
            f"{where}{unknown[0]}", "unknown key (known: tier, role, field, kind, language)"
        )
    tier = check.text(entry, "tier", where)
    if tier.count(SIGNER) > 1:
        raise check.fail(f"{where}tier", f"{SIGNER} may appear once")
    role = check.text(entry, "role", where)
    if role not in ROLE_FIELD_NAMES:
        raise check.fail(f"{where}role", f"must be one of {', '.join(ROLE_FIELD_NAMES)}")
    language = check.text(entry, "language", where, required=role == "translation")
    kind = check.text(entry, "kind", where, required=False)
    if role != "field" and kind is not None:
        raise check.fail(f"{where}kind", "only a role = 'field' tier has a kind")
    if kind is not None and kind not in FIELD_KINDS:
        raise check.fail(f"{where}kind", f"must be one of {', '.join(FIELD_KINDS)}")
    field_name = ROLE_FIELD_NAMES[role] or check.text(entry, "field", where, required=False)
    if field_name is None and role == "translation":
        # The models and the lexicons find the English translation by this name.
        field_name = (
            "English translation"
            if language.lower() == "en"
            else f"translation ({language.lower()})"
        )
    if field_name is None:
        field_name = " ".join(tier.replace(SIGNER, " ").split()).strip(" _-")
    return TierRule(
        tier=tier,
        role=role,
        field_name=field_name,
        kind=kind,
        language=language,
        pattern=_pattern(tier),
    )


def preset(name: str) -> TierMapping:
    """A shipped preset by name (see `PRESETS`)."""
    return load(MAPPINGS_DIR / f"{name}.toml")


def beside(path: Path) -> Path:
    """The mapping a file may carry beside it, `<stem>.tiers.toml` (what `cli.py export
    --elan` writes), used before any preset."""
    return path.with_name(f"{path.stem}.tiers.toml")


def detect(path: Path, tier_ids: Iterable[str]) -> TierMapping:
    """The mapping beside the file, else the first shipped preset that fits its tiers, else
    an error listing them."""
    own = beside(path)
    if own.is_file():
        return load(own)
    ids = list(tier_ids)
    for name in PRESETS:
        mapping = preset(name)
        if mapping.matches(ids):
            return mapping
    raise InputFileError(
        str(path),
        "<TIER>",
        f"its tiers match no preset ({', '.join(PRESETS)}): {', '.join(map(repr, ids))}; "
        f"write a tier mapping (template: {TEMPLATE}) and pass it with --tiers FILE",
    )
