"""How to read the association tables, for a linguist, in words: the report, README and
`cli.py top --help` show them. Apart from the readers, which bring DuckDB: the CLI's help
text is built at start-up."""

from __future__ import annotations

#: How to read the numbers, for a linguist: the report, README and `cli.py top --help`.
READING_GUIDE = (
    "Each row compares the signs that carry the label (for example the signs whose gloss "
    "Empath files under negative emotion) with every other sign of the same stories. "
    "P(feature | label) is how often the feature appears on the label's signs, P(feature) how "
    "often it appears on any sign, and the odds ratio (OR) how much likelier the feature is "
    "with the label (1 = no difference). The unit is the grain: a sign token (default; a sign "
    "shows a feature when the feature is on any of its frames), a whole utterance, or a single "
    "video frame; only files whose annotators coded the feature's field at all are counted. "
    "Signs of one story share a signer, a topic and a recording, so each story is compared "
    "with itself: the OR is the Mantel-Haenszel OR over the stories, and the test asks "
    "whether, within each story, the labelled signs show the feature more often than its "
    "other signs would by chance; its p is exact (every way the story's labels could have "
    "fallen on its signs is counted, not sampled) and the 95% interval is the set of ORs "
    "that test does not reject, so the interval excludes 1 exactly when p < .05. q corrects "
    "p for the many pairs tested within each family of features (Benjamini-Hochberg); a row "
    "with q of .05 or more is marked 'not distinguishable from chance' (at frame grain, "
    "where the frames of a sign are not separate chances and no test is made, a row whose "
    "bootstrap interval includes 1). 'glosses' counts the different signs behind the "
    "co-occurrences: a row carried by one sign (all co-occurrences one gloss, or the interval "
    "includes 1 once that gloss is left out) is marked 'one sign' and ranked after the others, "
    "because it says something about a word, not about the emotion. Rows are ordered by the "
    "lower end of the OR's interval, so a feature ranks high only when even a cautious "
    "estimate is high."
)

#: The report's one sentence on lexical features.
LEXICAL_NOT_FACE = (
    "Lexical features (part of speech, glosses, mouthed words) are left out here: they "
    "describe the word that carries the label, never what the face carries."
)

#: Roles, the comparison set and the label review, for a linguist: the report, README and
#: `cli.py top --help`.
ROLES_GUIDE = (
    "Every feature has one role, decided in the seeds: face (facial and head codes, the "
    "action units re-coded from them, FER), body (lean, shoulders, neck), grammar (the "
    "grammatical markers) or lexical (part of speech, glosses, mouthed English words). "
    "Only face features are evidence of what the face carries, so lists show them unless "
    "--role asks for another; a lexical feature that goes with a label says something "
    "about the word, never about the face. A label's signs are compared with the signs "
    "that could have carried a label (the eligible comparison set: signs whose gloss gives "
    "a word the lexicons look up, not pointing, classifiers or names), unless the build "
    "chose all signs (dbt var comparison_set: all); captions give both counts. Labels come "
    "from the sign's own word: a quoted description of a gesture or depicting sign "
    "(5\"surprised\") describes the very display being tested, a sign in a negation span "
    "says the opposite of its word, and a sense review (seed label_review, one linguist's "
    "judgment) drops non-affective senses such as HIT or STOP; all three are left out by "
    "default, and `cli.py labels LABEL` shows what each rule removed."
)
