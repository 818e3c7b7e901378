"""Mixed-model confirmation of a label's top pairs: the sign tokens each model is fitted on,
and the stored fits (`mixed_model_confirmations`) that `cli.py top` and the report show.

The rankings count sign tokens as exchangeable within a story; but a label is a property of
a gloss type, so a pair carried by a few glosses says little about the label. The
confirmation refits each top pair (sign grain, `fct_label_feature_rankings`) as
feature ~ label + (1 | signer) + (1 | gloss) (+ (1 | story) when it converges) over the
same tokens the mart counts: every sign token of the comparison set (dbt var
`comparison_set`, `fct_association_units`) in a file whose annotators coded the feature's
field (`fct_feature_coverage`). A pair survives the sign's random effect when the
model converged and the 95% CI of the label's fixed effect lies above 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from read.associations import top_features
from read.confirmations import SURVIVES, TABLE, beta_text, note
from signaffect.core.choices import FACE
from signaffect.core.errors import SignAffectError
from signaffect.core.warehouse import connect_marts

#: Rows asked of the ranking before the kinds are filtered: all of them.
ALL = 100_000

_TOKENS_SQL = """
select
    tokens.story,
    tokens.signer_id,
    tokens.gloss,
    list_contains(tokens.lexical_labels, $label)::int as has_label,
    (present.sign_token_id is not null)::int as has_feature,
from fct_sign_tokens as tokens
inner join (
    select distinct source_file from fct_feature_coverage where feature = $feature
) as coded using (source_file)
inner join (
    select unit_key as sign_token_id from fct_association_units
    where grain = 'sign'
) as compared using (sign_token_id)
left join (
    select distinct sign_token_id from fct_sign_token_features where feature = $feature
) as present using (sign_token_id)
order by tokens.sign_token_id
"""


@dataclass(frozen=True)
class Pair:
    """A top pair and the sign tokens its model is fitted on."""

    ranking: dict[str, object]
    tokens: pa.Table

    def counts(self) -> dict[str, int]:
        """Tokens, with the label, with the feature, with both, and the grouping levels."""
        label = np.asarray(self.tokens["has_label"].to_pylist())
        feature = np.asarray(self.tokens["has_feature"].to_pylist())
        return {
            "n_tokens": int(label.size),
            "n_label": int(label.sum()),
            "n_feature": int(feature.sum()),
            "n_both": int((label * feature).sum()),
            "n_signers": len(set(self.tokens["signer_id"].to_pylist())),
            "n_glosses": len(set(self.tokens["gloss"].to_pylist())),
            "n_stories": len(set(self.tokens["story"].to_pylist())),
        }


def load_pairs(
    db: Path, label: str, k: int, family: str, kinds: Sequence[str] = (), role: str = FACE
) -> list[Pair]:
    """The label's top `k` pairs of `family` at sign grain (only features of `kinds`, when
    given), each with its sign tokens; `rank` stays the rank among all the family's pairs."""
    ranking = top_features(
        db, label, grain="sign", family=family, k=ALL, role=role
    ).table.to_pylist()
    ranking = [row for row in ranking if not kinds or row["kind"] in kinds][:k]
    if not ranking:
        raise SignAffectError(
            f"{label!r} has no {family} pair at sign grain"
            + (f" with a feature of kind {', '.join(kinds)}" if kinds else ""),
            "see `cli.py top LABEL` for its pairs and their kinds",
        )
    con = connect_marts(db)
    try:
        return [
            Pair(
                row,
                con.sql(
                    _TOKENS_SQL, params={"label": label, "feature": row["feature"]}
                ).to_arrow_table(),
            )
            for row in ranking
        ]
    finally:
        con.close()


def for_terminal(rows: pa.Table) -> pa.Table:
    """The stored fits narrowed for a terminal."""
    data = rows.to_pylist()

    def sd(value: float | None) -> str:
        return "" if value is None else f"{value:.2f}"

    return pa.table(
        {
            "rank": [r["rank"] for r in data],
            "feature": [r["feature"] for r in data],
            "both / label (tokens)": [
                f"{r['n_both']:,} / {r['n_label']:,} ({r['n_tokens']:,})" for r in data
            ],
            "glosses / signers / stories": [
                f"{r['n_glosses']} / {r['n_signers']} / {r['n_stories']}" for r in data
            ],
            "marginal OR": [f"{r['odds_ratio']:.2f}" for r in data],
            "mixed β [95% CI]": [beta_text(r) or "not estimable" for r in data],
            "p": ["" if r["p"] is None else f"{r['p']:.2g}" for r in data],
            "SD signer / gloss / story": [
                f"{sd(r['sd_signer'])} / {sd(r['sd_gloss'])} / {sd(r['sd_story'])}" for r in data
            ],
            "note": [note(r) for r in data],
            "convergence": [r["message"] or "converged" for r in data],
        }
    )


def caption(label: str, family: str, n: int) -> str:
    """What a confirmation table holds."""
    return (
        f"{label}: top {n} {family} features at sign grain (unit: sign tokens of the files "
        f"coding the feature), refitted by lme4's glmer as feature ~ label + (1 | signer) + "
        f"(1 | gloss) + (1 | story), without the story term when that model does not "
        f"converge. β: the label's fixed effect (log odds ratio) with its Wald 95% CI; "
        f"'{SURVIVES}': converged and the CI lies above 0. Stored in {TABLE}."
    )
