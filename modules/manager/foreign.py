"""Clauses of requests in languages other than English, completed from the first clause.

`complete_other` is `modules.manager.completion.complete` for them: a clause of its own opens
with a question word or an instruction verb ("y cuándo sale el tren"); what follows a
lead-in that only asks to be told ("Kannst du mir erklären, wie ...") stays with it; a
question word after a lead-in takes the lead-in ("sag mir, wo A und wann B"); a short
question that leaves its subject out ("¿cuándo se construyó?") takes the first clause's
thing.
"""

from __future__ import annotations

import re

from modules.manager.languages import Language
from modules.manager.words import POLITE, TOLD, words_of

PRO_DROP = ("es", "it", "pt")
"""Languages whose questions may leave their subject out."""


def complete_other(
    first: str, piece: str, words: list[str], first_words: list[str], language: Language
) -> str | None:
    """`piece` as a whole instruction in `language`, or None if it continues the clause
    before it."""
    whether = language.code == "de" and words[0] == "ob"  # "erklären, wie A und ob B"
    placed = (
        words[0] in language.prepositions and len(words) > 3 and words[1] in language.question_words
    )  # "e in che anno è uscito?", "und bis wann hat er offen?"
    own = words[0] in language.question_words or _imperative(words[0], language)
    own = own or whether or placed
    joined = "-" in words[0] and words[0].rsplit("-", 1)[-1] in language.subjects  # "dois-je"
    inverted = (
        words[0] in language.auxiliaries and words[1:2] != [] and words[1] in language.subjects
    )
    own = own or joined or (inverted and len(words) > 2)  # "en moet ik ook ..."
    if not own or len(words) < 2 or _telling_lead(first_words, language):
        return None  # "Kannst du mir erklären, wie ...": what the lead-in asks about
    asked = [i for i, word in enumerate(first_words) if word in language.question_words]
    asked = asked if set(first_words[: asked[0] if asked else 0]) - language.determiners else []
    if (words[0] in language.question_words or whether or placed) and asked and asked[0] > 0:
        return f"{' '.join(first.split()[: asked[0]])} {piece}"  # "sag mir, wo A und wann B"
    return with_dropped_subject(first, piece, words, language)


def _imperative(word: str, language: Language) -> bool:
    return any(word.startswith(stem) for stem in language.imperatives)


def with_dropped_subject(first: str, piece: str, words: list[str], language: Language) -> str:
    """A short question that leaves its subject out, as Spanish, Italian and Portuguese may
    ("¿cuándo se construyó?"), with the thing the first clause asks about ("la Torre
    Eiffel"): from its first article on, or its last word where that is a name. Any other
    piece as it is."""
    if not words:
        return piece
    size = len(words) - (words[:2] in (["por", "qué"], ["por", "que"]))  # "por qué": one word
    placed = (
        words[0] in language.prepositions
        and words[1:2] != []
        and words[1] in language.question_words
    )
    size -= 2 if placed else 0  # "in che anno": one question word
    size -= words[0].startswith(("quant", "cuánt", "cuant")) and len(words) > 2  # "quanto tempo"
    size -= words[1:2] == ["se"] and not placed  # "¿dónde se puede ver?": "se" leaves it out
    if (
        language.code not in PRO_DROP
        or size > 3
        or not (placed or words[0] in language.question_words)
    ):
        return piece
    if language.determiners & set(words) or any(t[:1].isupper() for t in piece.split()[1:]):
        return piece  # it names its own thing
    tokens = first.split()
    articles = [i for i, token in enumerate(tokens) if _opens_with(token, language.determiners)]
    after_verb = [
        i for i in articles if i > 0 and not _opens_with(tokens[i - 1], language.prepositions)
    ]
    article = next(iter(after_verb), None)  # "pintó [el Guernica]"; not "para [el Prado]"
    bare = (
        len(tokens) > 2
        and tokens[-1][:1].isupper()
        and not _opens_with(tokens[-2], language.prepositions | language.determiners)
    )
    named = tokens[-1] if bare else ""  # "¿Dónde nació Cervantes?"; not "para el Prado"
    after = language.prepositions | language.determiners  # not "para el [Prado]"
    title = next(
        (
            i
            for i, t in enumerate(tokens[2:], 2)
            if t[:1].isupper() and not _opens_with(tokens[i - 1], after)
        ),
        None,
    )
    rest = [w for t in tokens[title or len(tokens) :] for w in words_of(t)]
    if title is not None and not set(rest) & (language.prepositions - language.of):
        named = " ".join(tokens[title:])  # "escribió [Cien años de soledad]"
    subject = " ".join(tokens[article:]) if article is not None else named
    return f"{piece} {subject}" if subject else piece


def subject_dropped(previous: str, text: str, language: Language) -> str | None:
    """A short question of its own sentence that leaves its subject out ("Perché è
    pendente?" after "Quando è stata costruita la Torre di Pisa?"), with the thing the part
    before asks about (`with_dropped_subject`); None for any other."""
    body = text.rstrip("?.!？ ")
    said = with_dropped_subject(previous.rstrip("?.!？ "), body, words_of(body), language)
    return None if said == body else said + text[len(body) :].strip()


AGREES = {
    "er": ("der", "den", "ein", "einen"), "ihn": ("der", "den", "ein", "einen"), "es": ("das",),
    "sie": ("die", "eine"),
    "hij": ("de", "mijn", "zijn", "onze", "je", "jouw", "uw"),
    "ele": ("o",), "ela": ("a",), "elle": ("la", "une"), "il": ("le", "un"),
}  # fmt: skip
"""A pronoun and the articles of the things it may mean ("der Kölner Dom": er)."""
MADE = frozenset({"ein", "eine", "einen", "un", "une", "um", "uma", "een"})
"""Articles of a new thing, which an instruction before makes ("Schreib mir [eine] ...")."""
CASES = {"ihn": {"der": "den", "ein": "einen"}, "er": {"den": "der", "einen": "ein"}}
"""The article a thing takes in the pronoun's place ("ein ETF" for "ihn": "einen ETF")."""


def named_in(
    language: Language, before: list[str], text: str, pronoun: int
) -> tuple[str, str] | None:
    """(`text` with the subject pronoun at word `pronoun` replaced by the thing of the part
    before that it agrees with, that thing): "Wie hoch ist er?" after "Wie alt ist der
    Kölner Dom?"; None where no thing of its article is named."""
    typed = words_of(text)[pronoun]
    said = typed.rsplit("-", 1)[-1]  # "a-t-[elle]"
    if said in OWNED and language.code == "fr" and before:
        return _owned(before[0], text, said)
    if said not in AGREES or not before or said not in language.pronouns:
        return None
    tokens = before[0].rstrip("?.!？ ").split()
    articles = [
        i
        for i, t in enumerate(tokens)
        if words_of(t)[:1] == [t.lower()]
        and t.lower() in AGREES[said]
        and not _object_pronoun(tokens, i, language)
    ]
    if not articles:
        return None
    start = articles[-1]
    opening = words_of(before[0])[:1]
    if tokens[start].lower() in MADE and opening and _imperative(opening[0], language):
        return None  # "Schreib mir eine Bewerbung und übersetz sie": what the delegate writes
    end = start + 2  # "mijn hond"; with a name's words after it ("der Kölner Dom")
    while end < len(tokens) and tokens[end][:1].isupper():
        end += 1
    if end + 1 < len(tokens) and tokens[end] in language.of and tokens[end + 1][:1].isupper():
        end += 2  # "la capitale [du Canada]"
    if language.code == "fr" and end + 1 < len(tokens) and tokens[end] in ("à", "de", "en"):
        end += 2  # "une pâte [à crêpes]"
    if language.code == "fr" and end + 1 == len(tokens):
        end += 1  # "une pâte [brisée]": an adjective after its noun, the part's last word
    first = tokens[start + 1 : start + 2]  # "kölner", "große", "oude"; not "mijn hond uitlaten"
    adjective = first != [] and first[0].islower() and first[0].endswith(("e", "er"))
    if language.code in ("de", "nl") and end + 1 == len(tokens) and adjective:
        end += 1  # "der kölner [dom]": an adjective before its noun, typed in lower case
    article = tokens[start].lower()
    said_as = CASES[said].get(article, tokens[start]) if said in CASES else tokens[start]
    thing = " ".join([said_as, *tokens[start + 1 : end]])
    words = text.split()
    at = next((i for i, w in enumerate(words) if words_of(w)[:1] == [typed]), None)
    if at is None or end > len(tokens):
        return None
    if typed != said:  # "combien d'habitants [la capitale du Canada] a-t-elle"
        return " ".join([*words[:at], thing, *words[at:]]), thing
    mark = words[at][len(words[at].rstrip("?.!？,")) :]
    return " ".join([*words[:at], thing + mark, *words[at + 1 :]]), thing


def _object_pronoun(tokens: list[str], at: int, language: Language) -> bool:
    """Whether the French article-like word at `at` is an object pronoun before a verb
    ("faut-il [le] stériliser", "il faut [le] stériliser", "je [la] cuis")."""
    if language.code != "fr" or tokens[at].lower() not in ("le", "la", "les"):
        return False
    before = tokens[at - 1].lower() if at else ""
    after = tokens[at + 1].lower().rstrip("?.!？") if at + 1 < len(tokens) else ""
    verb = after.endswith(("er", "ir", "re", "oir")) and before not in language.prepositions
    return "-" in before or before in language.subjects or verb


OWNED = {"son": "le", "sa": "la", "ses": "les"}
"""A French possessive and the article its noun takes when its owner is named instead."""
OWNER = re.compile(r"\b(?:du|des|de la|de l['’]|d['’]|de)\s*[\w'’-]+(?:\s+[A-Z0-9][\w'’-]*)*")
"""Whose a French thing is ("du livret A", "de l'Australie")."""


def _owned(previous: str, text: str, said: str) -> tuple[str, str] | None:
    """ "Quel est son taux ?" after "Quel est le plafond du livret A ?": (its text with the
    owner the part before names last, "Quel est le taux du livret A ?", that owner)."""
    owners = OWNER.findall(previous.rstrip("?.!？ "))
    if not owners:  # "Quel âge a la tour Eiffel ?": de la tour Eiffel
        named = re.findall(r"\b(le|la|les|l['’])\s*([\w-]+(?:\s+[A-Z][\w'’-]*)*)", previous)
        of = {"le": "du ", "les": "des ", "la": "de la ", "l'": "de l'", "l’": "de l’"}
        owners = [f"{of[article.lower()]}{thing}" for article, thing in named]
    found = re.search(rf"\b{said}\s+([\w'’-]+)", text, re.I)
    if not owners or found is None:
        return None
    noun = found.group(1)
    article = "l'" if said == "son" and noun[:1].lower() in "aeéèêiou" else f"{OWNED[said]} "
    phrase = f"{article}{noun} {owners[-1]}"
    return f"{text[: found.start()]}{phrase}{text[found.end() :]}", owners[-1]


def _opens_with(token: str, group: frozenset[str]) -> bool:
    return words_of(token)[:1] != [] and words_of(token)[0] in group


def tells_each(lead: str, language: Language) -> bool:
    """Whether a lead before items only asks to be told each ("Mi spieghi", "Explique-moi")."""
    return _telling_lead(words_of(lead), language)


def _telling_lead(words: list[str], language: Language) -> bool:
    """Whether a clause only asks to be told what follows it ("Kannst du mir erklären",
    "¿Me puedes decir", "Erklär mir bitte"): a few words, no question word, an instruction
    verb at its end or start."""
    words = [w for w in words if w not in POLITE]
    if words and _imperative(words[0], language) and set(words[1:]) <= TOLD:
        return True  # "Erklär mir bitte, wie ..."
    return (
        len(words) <= 5
        and not language.question_words & set(words)
        and _imperative(words[-1], language)
    )


LEAD_OWNER = re.compile(
    r"(?i)\b(?:sur|over)\s+((?:mon|ma|mes|mijn)\s+[\w'’-]+(?:\s+[\w'’-]+)?)\s*:\s*$"
)
"""A French or Dutch lead that ends on the user's own thing ("Quelques questions sur [mon
chat] :", "een paar vragen over [mijn fiets]:")."""
INFINITIVE = re.compile(r"(?i)^[\w’'-]+(?:er|ir|re|oir)$")


def owner_in(language: Language, context: list[str]) -> str | None:
    """The user's own thing a French or Dutch lead ends on (`LEAD_OWNER`), which the
    pronouns of the items under it mean; None for any other context."""
    found = LEAD_OWNER.search(context[-1]) if context else None
    return found.group(1) if found and language.code in ("fr", "nl") else None


def owner_meant_in(language: Language, owner: str, text: str) -> str | None:
    """`text` with its pronoun of the lead's thing replaced by `owner`: Dutch "hem", "hij"
    ("Kan ik [hem] buiten laten staan?"), French "il" and "elle" ("Est-ce normal [qu'il]
    dorme" -> "que mon chat dorme") and an object before an infinitive, which goes after it
    ("faut-il [le] stériliser" -> "faut-il stériliser mon chat"); None where it has none."""
    tokens = text.split()
    for i, token in enumerate(tokens):
        word = token.lower().replace("’", "'")
        bare, mark = word.rstrip("?.!,"), token[len(token.rstrip("?.!,")) :]
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        if language.code == "nl" and bare in ("hem", "hij", "zij"):
            return " ".join([*tokens[:i], owner + mark, *tokens[i + 1 :]])
        if language.code != "fr":
            continue
        if bare in ("il", "elle", "qu'il", "qu'elle") and after.lower() not in ("faut", "y"):
            said = "que " + owner if bare.startswith("qu") else owner
            return " ".join([*tokens[:i], said + mark, *tokens[i + 1 :]])
        if bare in ("le", "la", "les") and INFINITIVE.match(after.rstrip("?.!,")):
            verb = after.rstrip("?.!,")
            return " ".join([*tokens[:i], verb, owner + after[len(verb) :], *tokens[i + 2 :]])
        if bare.startswith("l'") and INFINITIVE.match(bare[2:]):  # "l'arroser"
            return " ".join(
                [*tokens[:i], token[2 : len(token) - len(mark)], owner + mark, *tokens[i + 1 :]]
            )
    return None
