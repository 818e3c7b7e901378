"""Named label sets for `cli.py train --labels`: every label, the study's, or a list.

The study's Table 3 reports 18 Empath categories. Its exact list is not recoverable from
the paper as we have it, so `study` is the nearest set our lexicons allow, chosen by one
fixed rule and then frozen: of the Empath emotion categories we label with
(`ingest.lexicons.EMPATH_EMOTION_CATEGORIES`), the 18 with the most frames on NCSLGR at
sign scope (counted once, 2026-12-03, `ml_feature_catalog.n_frames`; the 19th,
aggression, has 151 frames against cheerfulness's 163). Frozen, not recomputed, so the
set does not move with the corpus, the scope or the support filter; labels of the set
that a warehouse lacks are left out and the printed size says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from signaffect.core.errors import SignAffectError

ALL = "all"
STUDY = "study"
CUSTOM = "custom"

STUDY_LABELS: tuple[str, ...] = tuple(
    f"empath:{category}"
    for category in (
        "negative_emotion",
        "positive_emotion",
        "optimism",
        "confusion",
        "surprise",
        "love",
        "suffering",
        "shame",
        "hate",
        "torment",
        "nervousness",
        "affection",
        "emotional",
        "horror",
        "sadness",
        "fear",
        "contentment",
        "cheerfulness",
    )
)


@dataclass(frozen=True)
class LabelSet:
    """The labels a run predicts, and the name to print beside every result."""

    name: str
    labels: tuple[str, ...] | None  # None: every label in the matrix
    defined: int | None = None  # size of a named set before absent labels were left out

    def describe(self, n_present: int) -> str:
        """e.g. `all (43 labels)`, `study (18 labels)`, `study (16 of 18 labels present)`."""
        if self.defined is not None and n_present != self.defined:
            return f"{self.name} ({n_present} of {self.defined} labels present)"
        return f"{self.name} ({n_present} labels)"


def parse(option: str | None) -> LabelSet:
    """`--labels`: none or `all`, `study`, or comma-separated label names."""
    if option is None or option.strip() == ALL:
        return LabelSet(ALL, None)
    if option.strip() == STUDY:
        return LabelSet(STUDY, STUDY_LABELS, defined=len(STUDY_LABELS))
    labels = tuple(x.strip() for x in option.split(",") if x.strip())
    if not labels:
        raise SignAffectError("--labels is empty", "pass all, study, or label names")
    return LabelSet(CUSTOM, labels)


def resolve(label_set: LabelSet, available: list[str]) -> list[str] | None:
    """The labels to select from `available` (None: all). A named set keeps what is there;
    a custom list is taken as given (the matrix refuses unknown names)."""
    if label_set.labels is None:
        return None
    if label_set.name == CUSTOM:
        return list(label_set.labels)
    present = [label for label in label_set.labels if label in available]
    if not present:
        raise SignAffectError(
            f"none of the {len(label_set.labels)} {label_set.name} labels is in the matrix",
            "ingest with Empath (`--lexicon empath`) and rebuild, or use --labels all",
        )
    return present
