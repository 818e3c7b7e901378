"""Who owns the data the warehouse is built from, and how to cite it: one place for the
report's provenance block and the exported dataset's card."""

from __future__ import annotations

CORPUS_NOTICE = (
    "NCSLGR (National Center for Sign Language and Gesture Resources) corpus © Carol Neidle "
    "and the ASLLRP, Boston University. Data derived from it (annotations, glosses, "
    "translations, frame features) remain subject to its terms of use; cite it when you use "
    "them. (The bundled sample corpus is invented and carries no such terms.)"
)
CORPUS_CITATION = (
    'Neidle, C. and Vogler, C. (2012). "A New Web Interface to Facilitate Access to Corpora: '
    'Development of the ASLLRP Data Access Interface". Proceedings of the 5th Workshop on the '
    "Representation and Processing of Sign Languages: Interactions between Corpus and "
    "Lexicon, LREC 2012, Istanbul, Turkey."
)

#: Lexicon name (the `<lexicon>:` prefix of a label) → licence and citation.
LEXICON_LICENCES = {
    "empath": (
        "MIT licence",
        "Fast, E., Chen, B. and Bernstein, M. S. (2016). Empath: Understanding Topic Signals "
        "in Large-Scale Text. CHI 2016.",
    ),
    "nrc": (
        "NRC Emotion Lexicon (EmoLex): free for research and non-commercial use; see the "
        "NRC terms of use",
        "Mohammad, S. M. and Turney, P. D. (2013). Crowdsourcing a Word-Emotion Association "
        "Lexicon. Computational Intelligence 29(3).",
    ),
    "liwc": (
        "LIWC: licensed dictionary, not redistributed; only its category labels appear here",
        "Pennebaker, J. W. et al. LIWC (Linguistic Inquiry and Word Count).",
    ),
}


def lexicon_licence(lexicon: str) -> tuple[str, str]:
    """(licence, citation) of a lexicon, or a note that it is unknown to this project."""
    return LEXICON_LICENCES.get(
        lexicon, ("unknown: check the lexicon's own terms before sharing", "")
    )
