"""The words the manager reads a request by: English lists, and a small table per language.

Structure (lines, numbered items, sentence ends) splits a request in any language; these
words say, in the languages Cortex knows, which sentences ask something, where a clause
starts a question of its own, and which words refer back to another part. English, the
language of most requests, has fuller lists; `LANGUAGES` holds the rest, and `language_of`
picks the table a request is read with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def vocabulary(words: str) -> frozenset[str]:
    """A set of lower-case words, written as one space-separated string."""
    return frozenset(words.split())


VERBS = vocabulary(
    "name list give tell write explain describe define compare suggest pick choose recommend "
    "summarise summarize translate calculate compute find make create draft plan outline say "
    "state identify provide share show convert solve estimate rewrite spell count rank sort "
    "predict propose design brainstorm offer mention add read prepare compose invent imagine "
    "teach help check correct proofread review improve fix rate round think come generate "
    "produce build draw sketch lay map expand elaborate continue shorten simplify rephrase "
    "edit polish format turn recommend tell pick put use try go keep remind"
)
"""Verbs an English instruction starts with ("Name two rivers", "explain what X is")."""
MAKING_VERBS = vocabulary(
    "write suggest pick choose recommend name create draft plan compose invent imagine design "
    "brainstorm make come think generate produce give propose build draw sketch find list"
)
"""Verbs whose instruction makes something new (a poem, a name, a city picked): a later part
that says "it" means what the delegate made, so it waits for that answer."""
QUESTION_WORDS = vocabulary("what who whom whose when where why how which")
AUXILIARIES = vocabulary(
    "is are was were do does did can could will would should has have had may might am"
)
PREPOSITIONS = vocabulary(
    "in on for of at to from with about by into over under between during among"
)
FILLERS = (
    "and then", "and also", "and finally", "then", "also", "and", "plus", "as well as",
    "please", "oh and", "oh", "finally", "lastly", "btw", "by the way", "one more thing",
    "ok so", "okay so", "so", "hey", "hi", "hello", "well", "now", "and now", "next",
)  # fmt: skip
"""Joining words a part may start with; they are dropped from it."""
THEN = vocabulary("then afterwards")
"""A part after these words works on what the part before it made ("..., then translate
it")."""
PRONOUNS = vocabulary("it its they them their there one he she him her his")
DEMONSTRATIVES = vocabulary("this that these those")
DETERMINERS = vocabulary("the a an")
NUMBER_WORDS = vocabulary("one two three four five six seven eight nine ten a an some")
COUNTS = vocabulary("two three four five six seven eight nine ten")
"""How many things a part asks for."""
JOINT_QUESTION = vocabulary(
    "between both compare contrast difference differences together versus vs relationship "
    "either whichever"
)
"""Words of a question about two things at once ("the difference between the sun and the
moon"), which stays whole."""
SUBJECT_BEFORE_VERB = AUXILIARIES - vocabulary("is are was were am")
"""After these, a noun phrase is a subject whose verb comes later ("what do the cat and the
dog eat"), so a second noun phrase does not make a second question."""
BEFORE_A_DEMONSTRATIVE = VERBS | PREPOSITIONS | QUESTION_WORDS | AUXILIARIES
REQUEST_OPENINGS = (
    "can you", "could you", "would you", "will you", "can u", "pls", "please",
    "i need", "i want", "i'd like", "i would like", "i'd love", "i'm looking for",
    "i am looking for", "help me", "any tips", "any ideas", "any advice", "any suggestions",
    "any recommendations", "any tricks", "any thoughts", "any hacks", "any good", "any way",
    "tips for", "ideas for", "advice on", "let me know", "i wonder",
    "i was wondering", "do you know", "what about", "how about",
)  # fmt: skip
"""How an English sentence that asks something may open without a question mark."""
STATEMENT_AFTER_NEED = vocabulary("to")
""""I need to move house." tells; "I need a plan" and "I need to know" ask."""
KNOW_VERBS = vocabulary("know understand find figure decide")
ABBREVIATIONS = vocabulary(
    "e.g i.e etc vs mr mrs ms dr st no approx ca cf jr sr prof inc ltd co fig al dept est"
)
"""Words whose full stop does not end a sentence ("St. Louis")."""
REQUEST_NOUNS = vocabulary(
    "tips ideas advice suggestions recommendations examples help list steps ways options "
    "recipe recipes info information details rundown overview"
)
"""Nouns a request without a verb opens with ("tips for sleeping better", "ideas for a
party")."""
MANNER_NOUNS = vocabulary("way ways method methods time age place places option options")
"""What "the best way to cook salmon" asks is a way, not a thing a later "it" can mean."""


@dataclass(frozen=True)
class Language:
    """What the manager reads a request in one language by.

    Attributes:
        code: ISO 639-1.
        markers: Common short words of the language, to recognise it.
        question_words: Words a question opens with.
        imperatives: The starts of verbs an instruction opens with ("explica" also finds
            "explícame" and "explicame"; stems, compared as prefixes).
        ands: Words that join two clauses.
        thens: Words after which a clause works on the one before it.
        of: Prepositions that attach a thing to another, with their contracted forms ("de",
            "del"): a fragment "la de Chile" takes the place of "de Perú".
        back: Pronouns a fragment names the thing of the clause before with ("otra",
            "quella").
        determiners: Articles a noun phrase opens with ("un", "una"): "un film e un
            libro" names two things for one verb.
        prepositions: Words a phrase that says where, when or for what opens with.
        together: Words of a question about two things at once ("la diferencia entre un
            lago y una laguna"), which stays whole.
        pronouns: Pronouns that mean a person or thing named before ("er", "elle"); a part
            with one cannot stand alone.
        ors: The language's "or": a clause with it names alternatives of one question.
        definite: Articles of a thing already known ("the", "el"); "a story about a dragon
            and the sea" names no second story.
    """

    code: str
    markers: frozenset[str]
    question_words: frozenset[str]
    imperatives: tuple[str, ...]
    ands: frozenset[str]
    thens: frozenset[str]
    of: frozenset[str]
    back: frozenset[str]
    determiners: frozenset[str]
    prepositions: frozenset[str]
    together: frozenset[str]
    pronouns: frozenset[str]
    ors: frozenset[str]
    definite: frozenset[str]


ENGLISH = Language(
    "en",
    vocabulary(
        "the and is are was what how why who when where which of to you i my with do does "
        "did can it they this that for on should would could me your"
    ),
    QUESTION_WORDS,
    tuple(sorted(VERBS)),
    vocabulary("and"),
    THEN,
    vocabulary("of in for on about to"),
    vocabulary("one ones another"),
    vocabulary("a an the some any another two three four five"),
    PREPOSITIONS,
    JOINT_QUESTION,
    vocabulary("it its they them their he him his she her"),
    vocabulary("or"),
    vocabulary("the this that these those"),
)
LANGUAGES: dict[str, Language] = {
    "en": ENGLISH,
    "es": Language(
        "es",
        vocabulary("el los las y del que es por para con cómo qué cuál dónde muy pero "
                   "también tengo hay mi mis"),
        vocabulary("qué que cuál cuáles cómo dónde cuándo quién quiénes cuánto cuánta "
                   "cuántos cuántas por porqué"),
        ("dame", "dime", "explica", "escribe", "traduce", "recomienda", "sugiere", "haz",
         "nombra", "describe", "compara", "cuéntame", "cuentame", "enumera", "indica"),
        vocabulary("y e"),
        vocabulary("luego después entonces"),
        vocabulary("de del"),
        vocabulary("otra otro otras otros la el las los"),
        vocabulary("un una unos unas el la los las"),
        vocabulary("para por con de del en sin sobre a al"),
        vocabulary("entre diferencia diferencias comparar compara ambos ambas versus"),
        vocabulary("él ella ellos ellas"),
        vocabulary("o u"),
        vocabulary("el la los las"),
    ),  # fmt: skip
    "fr": Language(
        "fr",
        vocabulary("le les et du des est une pour avec que qui je il elle mon ma mes sur "
                   "dans puis très pas ne c'est est-ce au aux"),
        vocabulary("que quel quelle quels quelles comment où quand qui combien pourquoi "
                   "qu'est-ce est-ce"),
        ("donne", "dis", "explique", "écris", "ecris", "traduis", "recommande", "suggère",
         "propose", "fais", "décris", "compare", "cite", "liste", "raconte"),
        vocabulary("et"),
        vocabulary("puis ensuite après"),
        vocabulary("de du des"),
        vocabulary("celle celui celles ceux une un"),
        vocabulary("un une des le la les du"),
        vocabulary("pour par avec de du des en sans sur à au aux dans"),
        vocabulary("entre différence différences comparer compare versus"),
        vocabulary("il elle ils elles lui"),
        vocabulary("ou"),
        vocabulary("le la les"),
    ),  # fmt: skip
    "de": Language(
        "de",
        vocabulary("der die das und ist ein eine ich nicht mit für von zu wie was den dem"),
        vocabulary("was wie wo wann wer warum welche welcher welches wieviel wieso weshalb "
                   "woher wohin"),
        ("gib", "nenn", "erklär", "schreib", "übersetz", "empfiehl", "beschreib", "vergleich",
         "sag", "zeig", "mach", "erzähl", "schlag"),
        vocabulary("und"),
        vocabulary("dann danach anschließend"),
        vocabulary("von vom der des"),
        vocabulary("die der das den einen eine"),
        vocabulary("ein eine einen einem der die das den dem"),
        vocabulary("für mit von vom zu zum zur in im an am auf aus ohne über"),
        vocabulary("zwischen unterschied unterschiede vergleich vergleiche beide versus"),
        vocabulary("er ihn ihm sie"),
        vocabulary("oder"),
        vocabulary("der die das den dem des"),
    ),  # fmt: skip
    "it": Language(
        "it",
        vocabulary("il lo gli e di del della è per che mi come sono questo questa"),
        vocabulary("che cosa cos'è quale quali come dove quando chi quanto quanti quante "
                   "perché"),
        ("dammi", "dimmi", "spiega", "scrivi", "traduci", "consiglia", "suggerisci", "fai",
         "descrivi", "confronta", "elenca", "racconta"),
        vocabulary("e ed"),
        vocabulary("poi dopo quindi"),
        vocabulary("di del della dello dei degli delle"),
        vocabulary("quella quello quelle quelli un'altra un altro"),
        vocabulary("un una uno il lo la i gli le"),
        vocabulary("per con di del della da dal in nel su sul a al senza"),
        vocabulary("tra fra differenza differenze confronta confronto entrambi versus"),
        vocabulary("lui lei loro"),
        vocabulary("o oppure"),
        vocabulary("il lo la i gli le"),
    ),  # fmt: skip
    "pt": Language(
        "pt",
        vocabulary("o os e do da dos das é um para que em com não eu meu minha você"),
        vocabulary("que qual quais como onde quando quem quanto quantos quantas porque "
                   "porquê"),
        ("me dê", "dê", "diga", "explique", "explica", "escreva", "escreve", "traduza",
         "recomende", "sugira", "faça", "descreva", "compare", "liste", "conte"),
        vocabulary("e"),
        vocabulary("depois então"),
        vocabulary("de do da dos das"),
        vocabulary("a o outra outro"),
        vocabulary("um uma uns umas o a os as"),
        vocabulary("para por com de do da em no na sem sobre a ao"),
        vocabulary("entre diferença diferenças comparar compare ambos versus"),
        vocabulary("ele ela eles elas"),
        vocabulary("ou"),
        vocabulary("o a os as"),
    ),  # fmt: skip
    "nl": Language(
        "nl",
        vocabulary("het een en van ik je wat hoe op voor met niet"),
        vocabulary("wat hoe waar wanneer wie waarom welke welk hoeveel"),
        ("geef", "noem", "leg", "schrijf", "vertaal", "beveel", "beschrijf", "vergelijk",
         "vertel", "maak"),
        vocabulary("en"),
        vocabulary("dan daarna"),
        vocabulary("van"),
        vocabulary("die dat"),
        vocabulary("een de het"),
        vocabulary("voor met van in op aan zonder over bij"),
        vocabulary("tussen verschil verschillen vergelijk beide versus"),
        vocabulary("hij zij hem haar"),
        vocabulary("of"),
        vocabulary("de het"),
    ),  # fmt: skip
}
_WORD = re.compile(r"[\w'’-]+")


def words_of(text: str) -> list[str]:
    """Lower-case words; "what's" reads as "what is"."""
    text = re.sub(r"\b(what|who|where|when|why|how|which)(?:['’]s|s)\b", r"\1 is", text.lower())
    return [word.replace("’", "'") for word in _WORD.findall(text)]


def language_of(text: str) -> Language:
    """The table to read `text` with: the language whose common words it uses most (English
    when none stands out)."""
    found = words_of(text)
    scores = {code: _score(found, lang) for code, lang in LANGUAGES.items()}
    best = max(scores, key=lambda code: (scores[code], code == "en"))
    return LANGUAGES[best] if scores[best] >= max(2, scores["en"] + 1) else ENGLISH


def _score(found: list[str], language: Language) -> int:
    """How many words of a text are common words, question words or instruction verbs of
    `language`."""
    return sum(
        w in language.markers
        or w in language.question_words
        or (language is not ENGLISH and any(w.startswith(s) for s in language.imperatives))
        for w in found
    )
