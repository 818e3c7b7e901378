"""The named choices of the warehouse, each written once as a str Enum: what the CLI offers,
what the read side checks and what the dbt vars accept.

Why here: the CLI's option types, the read side's checks, the statistics' grains and the
build settings must agree; a choice spelled in two places drifts. Kept free of imports so
cli.py pays nothing for it at start-up.
"""

from __future__ import annotations

from enum import Enum


class UnitGrain(str, Enum):
    """The unit association statistics count: a video frame, a sign token, an utterance."""

    frame = "frame"
    sign = "sign"
    utterance = "utterance"


class Family(str, Enum):
    """The features a label is tested against: SignStream codes or the action units mapped
    from them, never mixed."""

    signstream = "signstream"
    au = "au"


class Role(str, Enum):
    """What a feature may be evidence of (`dim_features.role`); `all` lists every role.
    Only face answers what the face carries."""

    face = "face"
    body = "body"
    grammar = "grammar"
    lexical = "lexical"
    all = "all"


class Ranking(str, Enum):
    """What `top` ranks by (`fct_label_feature_rankings.ranked_by`): the lower 95% bound of
    the odds ratio, P(feature | label), lift or PMI."""

    ci = "ci"
    p = "p"
    lift = "lift"
    pmi = "pmi"


class RelativeTo(str, Enum):
    """What a non-manual span is timed against: the first sign it overlaps, or its
    utterance's first sign."""

    sign = "sign"
    utterance = "utterance"


class FrameConvention(str, Enum):
    """How stored milliseconds map to frames (dbt var frame_convention, macros/ms_to_frame.sql):
    floor (the frame holding the time, as video decoding counts), nearest (SignStream's
    intended frame) or study (the reference study's 33 ms frames)."""

    floor = "floor"
    nearest = "nearest"
    study = "study"


class LexicalScope(str, Enum):
    """What a lexical label is attached to: the frames of its sign, or of its utterance."""

    sign = "sign"
    utterance = "utterance"


class CoverageLevel(str, Enum):
    """A feature's denominators: the files that code its field, or that use its very value."""

    field = "field"
    value = "value"


class ComparisonSet(str, Enum):
    """What a label's units are compared with: units that could carry a label, or all."""

    eligible = "eligible"
    all = "all"


class ClusterUnit(str, Enum):
    """The strata of the association statistics' MH odds ratio and exact test."""

    story = "story"
    signer = "signer"
    utterance = "utterance"


class FerMode(str, Enum):
    """The FER detector's mode (dbt var fer_mode: which results fct_fer_frames shows): fer's
    recipe on every frame, or downscaled, tracked detection."""

    exact = "exact"
    fast = "fast"


def values(choice: type[Enum]) -> tuple[str, ...]:
    """The values of a choice, in declaration order (e.g. for a `not one of` message)."""
    return tuple(str(member.value) for member in choice)


GRAINS = values(UnitGrain)
FAMILIES = values(Family)
ROLES = values(Role)
RANKINGS = values(Ranking)
#: The role read as evidence of what the face carries, and every output's default.
FACE = Role.face.value
