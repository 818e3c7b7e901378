"""Gloss and translation words: the NCSLGR gloss conventions of ingest.gloss_normalize."""

from __future__ import annotations

import pytest

from ingest.gloss_normalize import gloss_to_words, gloss_words_and_source, translation_to_words


@pytest.mark.parametrize(
    ("gloss", "words"),
    [
        # plain signs, lower-cased
        ("BOOK", ["book"]),
        ("COLLAR ", ["collar"]),
        # fingerspelling, name signs, lexicalised fingerspelling
        ("fs-JOHN", ["john"]),
        ("fs-MARY:i", ["mary"]),
        ("fs-BUTCHER-SHOP", ["butcher", "shop"]),
        ("ns-BOSTON", ["boston"]),
        ("ns-fs-IOWA", ["iowa"]),
        ("ns-nat-AUSTRALIA", ["australia"]),
        ("ns-#LA", ["la"]),
        ("#CAR", ["car"]),
        ("#BACK_2:j", ["back"]),
        # pointing, possessive and reflexive indexes: no English word
        ("IX-1p", []),
        ("IX-3p:i", []),
        ("IX-loc", []),
        ("IX-loc:j", []),
        ("IX-1p-pl-arc", []),
        ("IX-3p-pl-2:z/w", []),
        ("(2h)alt.IX-3p+++:k/l", []),
        ("THUMB-IX-3p:k", []),
        ('IX-loc"up there":o', []),
        ("POSS-1p", []),
        ("POSS-3p:j", []),
        ("POSS-1p++", []),
        ("SELF-1p", []),
        ("SELF-3p+:i", []),
        # classifiers: the quoted description, else nothing
        ('CL:3"car drive"', ["car", "drive"]),
        ('BCL"open door"', ["open", "door"]),
        ('DCL"pet carrier"', ["pet", "carrier"]),
        ('DCL:5"air inhaled and blown out":l', ["air", "inhaled", "and", "blown", "out"]),
        ('LCL:B-L"raft"', ["raft"]),
        ('SCL:3"vehicle pulling over"', ["vehicle", "pulling", "over"]),
        ('SCL:crvd V"sit down next to grandfather"', ["sit", "down", "next", "to", "grandfather"]),
        ('ICL:curved 5"feeding logs through machine"++', ["feeding", "logs", "through", "machine"]),
        ('(2h)BPCL:bent-V"sit down facing each other"', ["sit", "down", "facing", "each", "other"]),
        ('g:SCL:I-L-Y"plane landing":h', ["plane", "landing"]),
        ('PCL:bent-B-Lwg"people flocking to there++"', ["people", "flocking", "to", "there"]),
        ("CL:3", []),
        ("BCL", []),
        ("LCL:B", []),
        # gestures with a handshape, bare quoted gestures
        ('5"I don\'t know"', ["i", "don't", "know"]),
        ('(1h)5"surprised"', ["surprised"]),
        ('5"focus":i', ["focus"]),
        ('B-L"go ahead"', ["go", "ahead"]),
        ('flat-B"go ahead"', ["go", "ahead"]),
        ('R"hoping"++', ["hoping"]),
        ('gest"come on"', ["come", "on"]),
        ('"WHAT"', ["what"]),
        ('(2h)"not give a darn"', ["not", "give", "a", "darn"]),
        ("\u201cWHAT\u201d", ["what"]),
        # a quoted direction after a lexical sign is not its meaning
        ('EXTRACT-FROM"up-right-to-center"', ["extract", "from"]),
        # variant numbers, hands, handshapes, loci, alternation, repetition
        ("READ_2", ["read"]),
        ("READ_2++", ["read"]),
        ("CLASS_2:i", ["class"]),
        ("(2h)ANGRY", ["angry"]),
        ("(1h)HAVE", ["have"]),
        ("(U-L)BUILDING", ["building"]),
        ("(1h)(flat-O)PAY/SPEND", ["pay", "spend"]),
        ("(X-over-thumb)CELEBRATE", ["celebrate"]),
        ("i:BLOOD", ["blood"]),
        ("neu:(1h)GIFT+++:i/j/k", ["gift"]),
        ("1p:MEET-distributive-3p-pl-arc", ["meet"]),
        ("(2h)alt.GIVE++:j", ["give"]),
        ("AGAIN+++", ["again"]),
        ("LOOK:i", ["look"]),
        ("INFORM:1p", ["inform"]),
        ("COUNT-ON-FINGERS:3", ["count", "on", "fingers"]),
        # compounds and alternative glosses
        ("NOT-YET", ["not", "yet"]),
        ("MOTHER^FATHER", ["mother", "father"]),
        ("MOTHER+FATHER", ["mother", "father"]),
        ("SOMETHING/ONE", ["something", "one"]),
        ("FIND/FIND-OUT^#OUT", ["find", "out"]),
        ("(2h)THUMBS-UP/GOOD", ["thumbs", "up", "good"]),
        ("THUMB-UP", ["thumb", "up"]),
        ("(1h)WHEW/RELIEVED", ["whew", "relieved"]),
        ("THRILL/WHAT'S-UP", ["thrill", "what's", "up"]),
        ("EVERYDAY+fs-DAY", ["everyday", "day"]),
        ("GOLD/ns-CALIFORNIA", ["gold", "california"]),
        ("GROUP/TOGETHER++-arc", ["group", "together"]),
        ("SEE-SEE", ["see"]),
        # morphology marks and special morphemes
        ("BOX/ROOM-pl", ["box", "room"]),
        ("DARK-inceptive", ["dark"]),
        ("FINISH-shake", ["finish"]),
        ("GIFT-3p-pl-arc", ["gift"]),
        ("MOTHERwg", ["mother"]),
        ("QMwg", []),
        ("TEACH+AGENT", ["teach"]),
        ("LEAD++AGENT", ["lead"]),
        ("WANT+NEG", ["want", "not"]),
        ("KNOW+(1h)NEG", ["know", "not"]),
        ("SIXTY+'S", ["sixty's"]),
        ("TIME+SEVEN+FORTY-FIVE", ["time", "seven", "forty", "five"]),
        # particles, notes, truncated and empty glosses
        ("part:indef", []),
        ("(1h)part:indef", []),
        ("false start", []),
        ("(U-L", []),
        ("", []),
        ("   ", []),
        # non-ASCII
        ("fs-CAFÉ", ["café"]),
        ("(2h)NAÏVE++:i", ["naïve"]),
        ("fs-CAFE\u0301", ["café"]),
    ],
)
def test_gloss_to_words(gloss: str, words: list[str]) -> None:
    assert gloss_to_words(gloss) == words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("I was so angry and confused.", ["i", "was", "so", "angry", "and", "confused"]),
        ("John's car didn't start--again!", ["john's", "car", "didn't", "start", "again"]),
        ("He drove 75 mph, twenty-five miles.", ["he", "drove", "mph", "twenty", "five", "miles"]),
        ('...and I banged them together."', ["and", "i", "banged", "them", "together"]),
        ("don\u2019t", ["don't"]),
        ("'quoted'", ["quoted"]),
        ("Café au lait, NAÏVE déjà-vu", ["café", "au", "lait", "naïve", "déjà", "vu"]),
        ("cafe\u0301", ["café"]),
        ("Straße ΑΘΗΝΑ", ["straße", "αθηνα"]),
        ("", []),
        ("  \t ", []),
        ("(is buying)", ["is", "buying"]),
    ],
)
def test_translation_to_words(text: str, words: list[str]) -> None:
    assert translation_to_words(text) == words


def test_translation_keeps_repeats() -> None:
    assert translation_to_words("We waited and waited.") == ["we", "waited", "and", "waited"]


def test_gloss_words_are_lower_case_letters() -> None:
    for gloss in ['5"what\'s going on?"', "(2h)#DO++:l", "fs-I+NINETY", "ONE-HUNDRED+TEN"]:
        for word in gloss_to_words(gloss):
            assert word == word.lower()
            assert word.replace("'", "").isalpha()


@pytest.mark.parametrize(
    ("gloss", "words", "source"),
    [
        ('5"surprised"', ["surprised"], "description"),
        ('BCL"shocked"', ["shocked"], "description"),
        ('"applause"', ["applause"], "description"),
        ('SCL:1"person walking"', ["person", "walking"], "description"),
        ("SURPRISED", ["surprised"], "word"),
        ('EXTRACT-FROM"up-right-to-center"', ["extract", "from"], "word"),
        ('IX-loc"up there"', [], "word"),
        ("NOT-CARE", ["not", "care"], "word"),
    ],
)
def test_words_and_their_source(gloss: str, words: list[str], source: str) -> None:
    """A quoted description's words describe the display, a gloss's own words name the sign."""
    assert gloss_words_and_source(gloss) == (words, source)
    assert gloss_to_words(gloss) == words
