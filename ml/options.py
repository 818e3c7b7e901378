"""The choices `cli.py train` offers, as str Enums, kept free of heavy imports.

cli.py imports this module at start-up for its option types, so it must not pull in
scikit-learn: every other command would pay for it.
"""

from __future__ import annotations

from enum import Enum


class CV(str, Enum):
    """How frames are split into folds."""

    kfold = "kfold"  # shuffled frame-level KFold, as in the study (leaks: see ml.splits)
    story = "story"  # GroupKFold by story
    signer = "signer"  # leave one signer out
    utterance = "utterance"  # GroupKFold by utterance


class Model(str, Enum):
    """Which classifier `train` fits."""

    forest = "forest"  # multi-output random forest (the study)
    logreg = "logreg"  # one-vs-rest L2 logistic regression, class-weighted

    @property
    def table_name(self) -> str:
        """The name ml_runs and ml_label_metrics use for it."""
        return "random_forest" if self is Model.forest else "logreg"


#: How outputs name each model (keys: Model.table_name).
MODEL_NAMES = {"random_forest": "random forest", "logreg": "logistic regression"}


class Grain(str, Enum):
    """What one row of the training matrix is."""

    frame = "frame"  # one video frame (the study); 0/1 inputs
    sign = "sign"  # one main-gloss sign token; inputs = share of its frames with the feature

    @property
    def unit(self) -> str:
        return "frames" if self is Grain.frame else "sign tokens"


class Scope(str, Enum):
    """What a lexical label is attached to: the frames of its sign, or of its utterance."""

    sign = "sign"
    utterance = "utterance"


class Inputs(str, Enum):
    """Which frame features the forest sees."""

    au = "au"  # FACS action units (the study)
    facial = "facial"  # the raw SignStream face and head codes

    @property
    def kinds(self) -> tuple[str, ...]:
        """The dbt var ml_input_kinds that builds this input set."""
        return ("au",) if self is Inputs.au else ("facial", "head")


class ClassWeight(str, Enum):
    """RandomForestClassifier's class_weight presets (`none` = unweighted)."""

    none = "none"
    balanced = "balanced"
    balanced_subsample = "balanced_subsample"
