"""What one story's ELAN file holds, read from the marts: its source tiers, the derived
tiers and the media it links.

Times sit on the warehouse's frame grid. Frame f of an utterance covers
[S + f·1000/fps, S + (f+1)·1000/fps) ms of the media, S the utterance's start as the source
stored it (`dim_utterances.start_ms`). ELAN times are whole milliseconds, so the boundary
before frame f is written at S + ⌈f·1000/fps⌉, the first whole millisecond of frame f; a
span of frames a..b runs from the boundary before a to the boundary before b + 1 (ELAN's end
is exclusive). Re-ingested with `end_time = "exclusive"` (the end's last whole ms, the
boundary minus 1, lies in frame b), each span gets back exactly frames a..b under the
default `floor` frame convention (`macros/ms_to_frame.sql`); the utterance keeps S, so its
frames, media times and media frames are the source's.

Source tiers come from `fct_annotation_spans` (every field the warehouse holds, one tier per
field and participant, transitions and translations included); derived tiers, all named
with `DERIVED_PREFIX`, from `fct_sign_tokens`, `fct_frame_features`, `fct_frame_grammar`,
`fct_label_feature_rankings` and `fct_sign_token_features`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

import duckdb

#: Every derived tier's name starts with this, so it is never taken for manual annotation.
DERIVED_PREFIX = "SignAffect auto: "
#: The ANNOTATOR of every derived tier.
DERIVED_ANNOTATOR = "SignAffect (automatic, not manual annotation)"
#: Feature kinds that are evidence of the face (DESIGN.md, "Roles of features").
FACE_KINDS = ("facial", "head", "au", "fer")
#: How many of a label's face features (by the lower end of their OR's CI) count as its top.
TOP_FACE_FEATURES = 3
#: Columns a lexical label may carry besides its name; those present in `fct_sign_tokens`
#: are written into the label's value (`label [column=value, ...]`).
LABEL_DETAIL_COLUMNS = ("label_source", "negated", "review")
#: Fields whose tier is a translation, and the ones read as glosses (mapping roles).
GLOSS_ROLES = {"main gloss": "main gloss", "non-dominant hand gloss": "non-dominant gloss"}
#: The field kinds a tier mapping accepts (`ingest.tier_mapping.FIELD_KINDS`: the read side
#: may not import ingest, so the mapping's own check guards this copy).
MAPPABLE_KINDS = ("facial", "head", "body", "grammatical", "pos")


@dataclass(frozen=True)
class Span:
    """One annotation: ms of the media, end exclusive, its value and its utterance."""

    start_ms: int
    end_ms: int
    value: str
    utterance_id: int


@dataclass
class Tier:
    """A tier to write. A source tier has the mapping facts (role, field, kind, language);
    a derived one a controlled vocabulary."""

    tier_id: str
    participant: str | None
    spans: list[Span] = field(default_factory=list)
    role: str | None = None
    field_name: str | None = None
    kind: str | None = None
    language: str | None = None
    vocabulary: str | None = None
    #: The tier's name in the tier mapping (with `{signer}` when the story has several).
    rule: str | None = None


@dataclass(frozen=True)
class Vocabulary:
    cv_id: str
    description: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Media:
    file_name: str
    camera_view: str


@dataclass
class StoryTiers:
    """Everything one story's .eaf holds."""

    story: str
    source_file: str
    file_format: str
    fps: float
    media: list[Media]
    source: list[Tier]
    derived: list[Tier]
    vocabularies: list[Vocabulary]


@lru_cache(maxsize=65536)
def _offset_ms(frame: int, fps: float) -> int:
    """⌈frame·1000/fps⌉, moved to the first whole ms that the warehouse's floor rule, in
    doubles as DuckDB computes it, puts in `frame` (they differ by 1 at rates such as 29.97,
    whose binary value is not the decimal one)."""
    t = math.ceil(Fraction(frame * 1000) / Fraction(fps))
    while t > 0 and math.floor((t - 1) * fps / 1000.0) >= frame:
        t -= 1
    while math.floor(t * fps / 1000.0) < frame:
        t += 1
    return t


def frame_span_ms(start_ms: int, first: int, last: int, fps: float) -> tuple[int, int]:
    """ELAN times of frames first..last of an utterance starting at `start_ms` (see above)."""
    return start_ms + _offset_ms(first, fps), start_ms + _offset_ms(last + 1, fps)


class StoryReader:
    """Reads one story's tiers from an open read-only warehouse connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, source_file: str) -> None:
        self.con = con
        self.source_file = source_file
        ((self.story, self.file_format, self.fps),) = self._rows(
            "select story, format, frames_per_second from main.dim_source_files "
            "where source_file = ?"
        )
        self.utterances = {
            uid: (start, n_frames, signer)
            for uid, start, n_frames, signer in self._rows(
                "select utterance_id, start_ms, n_frames, signer_name from main.dim_utterances "
                "where source_file = ? order by start_ms, utterance_id"
            )
        }
        self.several_signers = len({s for *_, s in self.utterances.values()}) > 1

    def _rows(self, sql: str, *extra: object) -> list[tuple]:
        return self.con.execute(sql, [self.source_file, *extra]).fetchall()

    def span(self, utterance_id: int, first: int, last: int, value: str) -> Span:
        start, *_ = self.utterances[utterance_id]
        return Span(*frame_span_ms(start, first, last, self.fps), value, utterance_id)

    def tier_name(self, name: str, signer: str | None) -> str:
        """The field's name, with the signer in brackets when the story has several."""
        return f"{name} ({signer})" if self.several_signers and signer else name

    def source_tier(self, name: str, signer: str | None, facts: _Facts) -> Tier:
        """A source tier, with its mapping rule (`{signer}` standing for the signer)."""
        return Tier(self.tier_name(name, signer), signer, role=facts.role,
                    field_name=facts.field_name, kind=facts.kind, language=facts.language,
                    rule=self.tier_name(name, "{signer}"))

    def read(self) -> StoryTiers:
        media = [
            Media(name, view)
            for name, view in self._rows(
                "select media_file_name, camera_view from main.dim_media_files "
                "where source_file = ? order by camera_view <> 'master', "
                "coalesce(first_ordinal, 1000000), media_id"
            )
        ]
        derived: list[Tier] = []
        vocabularies: list[Vocabulary] = []
        for build in (
            self._label_tiers,
            self._action_unit_tiers,
            self._grammar_tiers,
            self._fer_tiers,
            self._cooccurrence_tiers,
        ):
            tiers, vocabulary = build()
            if tiers:
                derived += tiers
                vocabularies.append(vocabulary)
        source = self._source_tiers()
        for tier in (*source, *derived):
            tier.spans.sort(key=lambda s: (s.start_ms, s.end_ms))
        return StoryTiers(
            self.story, self.source_file, self.file_format, self.fps, media, source, derived,
            vocabularies,
        )

    def _source_tiers(self) -> list[Tier]:
        """The utterance tier(s), then one tier per field and participant, in first use."""
        tiers: dict[str, Tier] = {}
        for uid, (_, n_frames, signer) in self.utterances.items():
            tier = self.source_tier("utterance", signer, _Facts("utterance"))
            tier = tiers.setdefault(tier.tier_id, tier)
            tier.spans.append(self.span(uid, 0, n_frames - 1, str(uid)))
        for uid, signer, name, kind, is_text, value, first, last in self._rows(
            """
            select spans.utterance_id, signers.signer_name, spans.field_name,
                spans.feature_kind,
                spans.value_name is null and spans.annotation_text is not null,
                coalesce(spans.value_name, spans.annotation_text, ''),
                spans.start_frame, spans.end_frame
            from main.fct_annotation_spans as spans
            inner join main.dim_signers as signers using (signer_id)
            inner join main.dim_utterances as utterances using (source_file, utterance_id)
            where spans.source_file = ?
            order by utterances.start_ms, spans.utterance_id, spans.start_frame, spans.annotation_id
            """
        ):
            tier_id = self.tier_name(name, signer)
            if tier_id not in tiers:
                tiers[tier_id] = self.source_tier(
                    name, signer, _mapping_facts(name, kind, is_text)
                )
            tier = tiers[tier_id]
            if is_text and tier.role == "field":  # a text field whose first span was empty
                facts = _mapping_facts(name, kind, is_text)
                tier.role, tier.kind, tier.language = facts.role, None, facts.language
            tier.spans.append(self.span(uid, first, last, value))
        return list(tiers.values())

    def _derived(
        self,
        rows: Iterable[tuple[int, str, int, int, str]],
        what: str,
        vocabulary: tuple[str, str],
    ) -> tuple[list[Tier], Vocabulary]:
        """Tiers `DERIVED_PREFIX + what + name` from (utterance, name, first, last, value)
        rows, sharing one vocabulary (id, description) of every value they use."""
        tiers: dict[str, Tier] = {}
        for uid, name, first, last, value in rows:
            signer = self.utterances[uid][2]
            tier_id = self.tier_name(f"{DERIVED_PREFIX}{what}{name}".rstrip(), signer)
            tier = tiers.setdefault(tier_id, Tier(tier_id, signer))
            tier.spans.append(self.span(uid, first, last, value))
        cv_id, description = vocabulary
        for tier in tiers.values():
            tier.vocabulary = cv_id
        values = sorted({s.value for t in tiers.values() for s in t.spans})
        return list(tiers.values()), Vocabulary(cv_id, description, tuple(values))

    def _label_tiers(self) -> tuple[list[Tier], Vocabulary]:
        present = {r[0] for r in self.con.execute("describe main.fct_sign_tokens").fetchall()}
        details = [c for c in LABEL_DETAIL_COLUMNS if c in present]
        detail_sql = "".join(f", cast({c} as varchar)" for c in details)
        rows = self._rows(
            f"select utterance_id, label, start_frame, end_frame{detail_sql} "
            "from main.fct_sign_tokens, unnest(lexical_labels) as labels(label) "
            "where source_file = ? order by start_frame, label"
        )
        return self._derived(
            ((u, label, a, b, _label_value(label, details, rest))
             for u, label, a, b, *rest in rows),
            "label ",
            ("SignAffect lexical labels",
            "Lexical emotion labels of each sign token (`<lexicon>:<category>`), looked up "
            "from its gloss by SignAffect: word-list evidence, not an annotator's judgement."),
        )

    def _runs(self, relation: str) -> list[tuple[int, str, int, int, str]]:
        """Runs of consecutive frames of each (utterance, name) in `relation`, which has
        columns utterance_id, frame_index, name and is filtered to `source_file = ?`."""
        return self._rows(
            f"""
            with frames as (
                select
                    utterance_id, name, frame_index,
                    frame_index - row_number() over (
                        partition by utterance_id, name order by frame_index
                    ) as run,
                from ({relation})
            )
            select utterance_id, name, min(frame_index), max(frame_index), name
            from frames
            group by utterance_id, name, run
            order by utterance_id, min(frame_index), name
            """
        )

    def _action_unit_tiers(self) -> tuple[list[Tier], Vocabulary]:
        return self._derived(
            self._runs(
                "select utterance_id, frame_index, feature as name "
                "from main.fct_frame_features where source_file = ? and feature_kind = 'au'"
            ),
            "",
            ("SignAffect action units",
            "FACS action units derived from the manual face and head codes through seed "
            "facs_action_units: a re-coding of the annotation, not a measurement."),
        )

    def _grammar_tiers(self) -> tuple[list[Tier], Vocabulary]:
        return self._derived(
            self._runs(
                "select utterance_id, frame_index, marker as name "
                "from main.fct_frame_grammar, unnest(grammatical_markers) as m(marker) "
                "where source_file = ?"
            ),
            "inside ",
            ("SignAffect grammatical markers",
            "The frames inside each grammatical marker's spans (ONSET and OFFSET "
            "transitions included), as the grammar-vs-affect analysis counts them."),
        )

    def _fer_tiers(self) -> tuple[list[Tier], Vocabulary]:
        rows = self._runs(
            "select utterance_id, frame_index, feature as name "
            "from main.fct_frame_features where source_file = ? and feature_kind = 'fer'"
        )
        return self._derived(
            ((u, "", a, b, value) for u, _, a, b, value in rows),
            "FER top emotion",
            ("SignAffect FER emotions",
            "The top emotion of the largest face FER found in each frame (`fer:<emotion>`), "
            "per run of frames with the same top emotion."),
        )

    def _cooccurrence_tiers(self) -> tuple[list[Tier], Vocabulary]:
        kinds = ", ".join(f"'{k}'" for k in FACE_KINDS)
        rows = self._rows(
            f"""
            with top as (
                select label, feature, row_number() over (
                    partition by label order by or_ci_low desc, feature) as place,
                from main.fct_label_feature_rankings
                where grain = 'sign' and ranked_by = 'ci' and ci_excludes_one
                    and kind in ({kinds})
                qualify place <= {TOP_FACE_FEATURES}
            ),
            tokens as (
                select sign_token_id, utterance_id, start_frame, end_frame, label,
                from main.fct_sign_tokens, unnest(lexical_labels) as labels(label)
                where source_file = ?
            )
            select tokens.utterance_id, tokens.label, tokens.start_frame, tokens.end_frame,
                arg_min(top.feature, top.place),
            from tokens
            inner join top using (label)
            inner join main.fct_sign_token_features as features
                on features.sign_token_id = tokens.sign_token_id
                and features.feature = top.feature
            group by all
            order by tokens.start_frame, tokens.label
            """
        )
        return self._derived(
            rows,
            "top face feature with ",
            ("SignAffect top face features",
             "Sign tokens carrying a lexical label and one of the label's top "
            f"{TOP_FACE_FEATURES} face features (sign grain, ranked by the lower end of the "
            "odds ratio's story-bootstrap CI, CI excluding 1); the value is the best-ranked "
            "feature present."),
        )


@dataclass(frozen=True)
class _Facts:
    """What a tier mapping says of a source tier."""

    role: str
    field_name: str | None = None
    kind: str | None = None
    language: str | None = None


def _mapping_facts(name: str, kind: str, is_text: bool) -> _Facts:
    """A source field's role, field, kind and language in a tier mapping: a field of text
    (a translation; `translation (xx)` in language xx, as the tier mappings name them)
    comes back as text, a coded one as `field=value` features."""
    if name in GLOSS_ROLES:
        return _Facts(GLOSS_ROLES[name], name)
    if kind == "text" or is_text:
        language = re.fullmatch(r"translation \((.+)\)", name)
        return _Facts("translation", name, language=language[1] if language else "en")
    return _Facts("field", name, kind if kind in MAPPABLE_KINDS else None)


def _label_value(label: str, details: list[str], values: list[object]) -> str:
    shown = [f"{c}={v}" for c, v in zip(details, values, strict=True) if v is not None]
    return f"{label} [{', '.join(shown)}]" if shown else label
