"""Where a lexical label comes from, gloss by gloss, and what the label rules removed:
rows of `fct_lexical_label_glosses`, read-only (`cli.py labels LABEL`).

A label is evidence of an emotion only when it comes from the sign's own word in an
affective sense. The rules that decide it live in one dbt model,
`int_lexicon_hits_classified`; this module only shows their effect, so a linguist can see
each gloss behind a label and re-check the review (seed `label_review`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from signaffect.core.errors import SignAffectError
from signaffect.core.warehouse import connect_marts

#: The rules, in the order they apply, as `n_lost_<rule>` columns name them.
RULES = ("question_word", "description", "negated", "review")
#: How a caption names each rule and the dbt var that turns it off.
RULE_NAMES = {
    "question_word": "question words (keep_question_words: true)",
    "description": "quoted descriptions (keep_description_labels: true)",
    "negated": "negation (keep_negated_labels: true)",
    "review": "the sense review (apply_label_review: false)",
}

_SQL = """
select
    gloss,
    label_source,
    n_tokens,
    n_utterances,
    n_negated,
    review_decision,
    review_reason,
    n_labelled,
    n_lost_question_word,
    n_lost_description,
    n_lost_negated,
    n_lost_review,
    array_to_string(gloss_variants, ' ') as gloss_variants,
from fct_lexical_label_glosses
where label = $label
order by n_tokens desc, gloss, label_source
"""


@dataclass(frozen=True)
class LabelSources:
    """The label's glosses and a caption with the totals."""

    table: pa.Table
    caption: str


def label_sources(db: Path, label: str) -> LabelSources:
    """Each gloss that gives `label` at sign scope: tokens, utterances, source, negated
    tokens, the review's decision, and the tokens that still carry the label."""
    con = connect_marts(db)
    try:
        table = con.sql(_SQL, params={"label": label}).to_arrow_table()
    except duckdb.CatalogException:
        raise SignAffectError(
            f"{db} has no fct_lexical_label_glosses table",
            "run `cli.py build` to build the marts",
        ) from None
    finally:
        con.close()
    if table.num_rows == 0:
        raise SignAffectError(
            f"no sign gives the label {label!r}",
            'list labels with: cli.py query "select distinct label from fct_lexical_label_glosses"',
        )
    return LabelSources(table, caption(label, table))


def caption(label: str, table: pa.Table) -> str:
    """The label's totals: tokens, what each rule removed, and what carries the label."""
    total = sum(table["n_tokens"].to_pylist())
    labelled = sum(table["n_labelled"].to_pylist())
    lost = {rule: sum(table[f"n_lost_{rule}"].to_pylist()) for rule in RULES}
    losses = "; ".join(f"{RULE_NAMES[rule]} {lost[rule]:,}" for rule in RULES)
    return (
        f"{label}: {total:,} sign tokens whose gloss gives the label, {labelled:,} carry it "
        f"after the rules (before the support filter). Lost to {losses} (the dbt var in "
        f"brackets keeps them). Source: word (the sign's own word) or description (the quoted "
        f"description of a gesture or depicting sign). Negated: in a negation span, or NOT / "
        f"NEG before the word. Review: seed label_review, one linguist's judgment of the "
        f"gloss's sense from its utterances' translations, to be re-checked."
    )


def for_terminal(table: pa.Table) -> pa.Table:
    """The glosses for a terminal: the review as `decision: reason`, variants last."""
    rows = table.to_pylist()
    return pa.table(
        {
            "gloss": [r["gloss"] for r in rows],
            "source": [r["label_source"] for r in rows],
            "tokens": [r["n_tokens"] for r in rows],
            "utterances": [r["n_utterances"] for r in rows],
            "negated": [r["n_negated"] for r in rows],
            "review": [
                f"{r['review_decision']}: {r['review_reason']}" if r["review_decision"] else ""
                for r in rows
            ],
            "carry the label": [r["n_labelled"] for r in rows],
            "as annotated": [r["gloss_variants"] for r in rows],
        }
    )
