"""The choices `cli.py train` offers, as str Enums, and its settings (`TrainConfig`, whose
defaults are the CLI's), kept free of heavy imports.

cli.py imports this module at start-up for its option types, so it must not pull in
scikit-learn: every other command would pay for it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from ml.labelsets import ALL, LabelSet
from signaffect.core.choices import LexicalScope
from signaffect.core.settings import BOOTSTRAP_RESAMPLES


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


#: What a lexical label is attached to (dbt var lexical_scope), written once in core.
Scope = LexicalScope


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


@dataclass(frozen=True)
class ForestSettings:
    """What a user may change about the forest; everything else is scikit-learn's default."""

    n_estimators: int = 100
    max_depth: int | None = None
    class_weight: ClassWeight = ClassWeight.none
    seed: int = 0
    n_jobs: int = -1

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["class_weight"] = self.class_weight.value
        return out


@dataclass(frozen=True)
class TrainConfig:
    """One training run. Story-grouped CV unless asked otherwise: it is what generalises."""

    cv: CV = CV.story
    folds: int = 10
    grain: Grain = Grain.frame
    label_set: LabelSet = field(default_factory=lambda: LabelSet(ALL, None))
    model: Model = Model.forest
    forest: ForestSettings = field(default_factory=ForestSettings)
    collapse: bool = True
    resamples: int = BOOTSTRAP_RESAMPLES  # story bootstrap draws of the verdict
    permutations: int = 0  # story-permutation test refits (each costs one whole CV)
    importance_repeats: int = 5  # shuffles per input of the held-out permutation importance

    def as_json(self) -> dict[str, Any]:
        return {
            "cv": self.cv.value,
            "folds": self.folds,
            "grain": self.grain.value,
            "label_set": self.label_set.name,
            "labels": list(self.label_set.labels) if self.label_set.labels else None,
            "model": self.model.value,
            "forest": self.forest.as_json(),
            "collapse": self.collapse,
            "resamples": self.resamples,
            "permutations": self.permutations,
            "importance_repeats": self.importance_repeats,
        }
