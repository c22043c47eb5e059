"""What a clause leaves out, borrowed from the clause before it, in the user's words.

`complete` reads a piece after "and" or a comma against the sentence's first clause:
a question or instruction of its own stands as it is; a fragment borrows what it leaves
out ("in Mexico" -> "What language is spoken in Mexico?", "which one in the UK",
"three for running a marathon", "the capital of Spain", "what about violin"); anything
else continues the clause before it (None).
"""

from __future__ import annotations

import re

from modules.manager.foreign import complete_other
from modules.manager.languages import ENGLISH, Language
from modules.manager.parallel import counted_again, parallel_question, same_question_of
from modules.manager.structure import quoted_spans
from modules.manager.topics import possessive_named
from modules.manager.words import (
    AUXILIARIES,
    CONSTRAINT_VERBS,
    COUNTS,
    DETERMINERS,
    JOINT_QUESTION,
    LIST_VERBS,
    MANNER,
    NUMBER_WORDS,
    OPENS_A_NAME,
    PLACE_PREPOSITIONS,
    PREPOSITIONS,
    QUESTION_WORDS,
    REQUEST_LEAD,
    REQUEST_NOUNS,
    SUBJECT_BEFORE_VERB,
    SUBJECT_PRONOUNS,
    VERBS,
    superlative,
    words_of,
)


def complete(
    first: str, piece: str, language: Language = ENGLISH, then: bool = False
) -> str | None:
    """`piece` as a whole instruction, borrowing from the sentence's first clause; None if it
    does not start a part of its own (it continues the clause before it). After "then" a
    verb always starts a step of its own."""
    words = words_of(piece)
    first_words = words_of(first)
    if not words or len(first_words) < 2:  # "Hello, how are you?" stays whole
        return None
    if (thing := _what_about(piece)) is not None:  # "..., what about violin?"
        thing = possessive_named(thing, first)  # "and what about its capital?"
        main = re.split(r"\s+(?=(?:when|if|while)\b)", first, maxsplit=1)  # "... when its noon"
        said = words_of(thing)[:1]
        if said and said[0] in PREPOSITIONS and f" {said[0]} " in f" {main[0].lower()} ":
            rest = after_name(main[0], said[0])  # "... with flexbox and how about with grid"
            return " ".join([f"{_before_last(main[0], said[0])} {thing}{rest}", *main[1:]])
        tokens = main[0].rstrip("?.! ").split()
        places = range(max(1, len(tokens) - 4), len(tokens) - 1)
        near = [i for i in places if tokens[i] in PLACE_PREPOSITIONS]
        if said and said[0] in PLACE_PREPOSITIONS and near:  # "at sea level, what about in X"
            return " ".join([*tokens[: near[-1]], thing, *main[1:]])
        end = first.rstrip("?.! ")
        last = re.search(r"\b(?:of|in|for|about|on) ((?:[\w'’-]+ ?){1,3})$", end)
        bare = len(words_of(thing)) <= 3 and not set(words_of(thing)) & (VERBS | AUXILIARIES)
        either = object_end(first_words, language) is not None  # "get [red wine] out of [it]"
        if last and bare and thing[:1].islower() and not either:  # "pros and cons of [X]"
            return f"{end[: last.start(1)]}{thing}"
        return complete(first, thing, language) or in_place_of_last(first, thing)
    if (
        words[:2] == ["another", "one"]
        and len(words) > 3
        and f" {words[2]} " in f" {first.lower()} "
    ):
        return (
            f"{_before_last(first, words[2])} {piece.split(None, 2)[2]}"  # "another one about cats"
        )
    if (aligned := _aligned_fragment(first, piece, language)) is not None:
        return aligned
    together = language.together & set(first_words + words)  # "difference between 'a' and 'b'"
    if piece.strip()[:1] in "'\"‘“" and quoted_spans(first) and not together:
        return in_place_of_last(first, piece.strip())  # "... of 'schadenfreude' and 'hygge'"
    if language is not ENGLISH:
        return complete_other(first, piece, words, first_words, language)
    return _complete_english(first, piece, words, first_words, then)


def _what_about(piece: str) -> str | None:
    """The thing of "what about X?", "how about X?" or "same for X" (None for other
    pieces)."""
    about = r"(?:and\s+)?(?:(?:what|how)\s+about|same\s+(?:for|with))\s+(.+)"  # "same for hybrids"
    match = re.match(about, piece.strip(), re.IGNORECASE)
    return match.group(1) if match else None


def in_place_of_last(frame: str, thing: str) -> str | None:
    """ "What about X?" where the frame shows no word X follows: X in the place of the
    frame's quoted word ("... 'thank you' in French? What about 'please'?") or of its last
    name ("... in French? What about Spanish?"); None otherwise (the part stays whole)."""
    quoted = quoted_spans(frame)
    names = list(re.finditer(r"(?<=\s)[A-ZÀ-Þ][\w-]+(?:\s+[A-ZÀ-Þ][\w-]+)*", frame))
    named = thing[:1].isupper() and names and quoted and names[-1].start() > quoted[-1][1]
    if quoted and (thing[:1] in "'\"“‘" or len(thing.split()) == 1) and not named:
        start, stop = quoted[-1]  # not "Spanish" after "'thank you' in [French]": a name
        tail, own = frame[stop + 1 :].split(), thing.split()
        own_place = tail and len(tail) <= 3 < len(own) + 2 and own[-len(tail)] == tail[0]
        return frame[:start] + thing + ("" if own_place else frame[stop + 1 :])  # "'X' in Y"
    if names and thing[:1].isupper():  # "than [the Moon]" -> "than Mercury"
        start = names[-1].start() - 4 * frame[: names[-1].start()].endswith(" the ")
        return f"{frame[:start]}{thing}{frame[names[-1].end() :]}"
    return None


def _aligned_fragment(first: str, piece: str, language: Language) -> str | None:
    """A fragment that names a new thing after a word the first clause has ("in Mexico",
    "one about dogs", "la de Chile", "quale quella del Portogallo"), in that word's place."""
    tokens = piece.split()
    words = [w for w in (words_of(t)[0] if words_of(t) else "" for t in tokens)]
    at = 0
    if at < len(words) and words[at] in language.question_words and len(words) > 2:
        at += 1  # "quale quella del Portogallo"
    if at < len(words) and words[at] in language.back and len(words) > at + 2:
        at += 1  # "otra de tortilla", "one about dogs", "la de Chile"
    elif at:
        return None
    if at >= len(words) or words[at] not in language.of | PREPOSITIONS:
        return None
    if language is ENGLISH and at == 0:
        return None  # English prepositions are read in `_complete_english`
    anchor = _last_word_of(first, language.of if words[at] in language.of else {words[at]})
    if anchor is None:
        return None
    return f"{first[:anchor].rstrip()} {' '.join(tokens[at:])}"


def _last_word_of(text: str, group: frozenset[str] | set[str]) -> int | None:
    """Where the last word of `group` starts in `text` (None if none does)."""
    words = re.finditer(r"\w+['’](?=\w)|[\w']+", text)  # "dell'influenza": "dell'"
    found = [m.start() for m in words if m.group().lower() in group]
    return found[-1] if found and found[-1] > 0 else None


def _complete_english(  # noqa: C901 - one branch per form of fragment, each with its example
    first: str, piece: str, words: list[str], first_words: list[str], then: bool = False
) -> str | None:
    if bare_superlative(words) and (thing := _after_superlative(first)):
        piece = f"{piece} {thing}"  # "the largest continent ... and the smallest": continent
        words = words_of(piece)
    head = words[0]
    told = words_of(REQUEST_LEAD.sub("", first))  # "Please explain, in an essay ..., how X"
    if head in QUESTION_WORDS and told[:1] and told[0] in VERBS and set(told[1:2]) <= PREPOSITIONS:
        return None  # the thing to explain, after a phrase on how to explain it
    if head in PREPOSITIONS and len(words) > 3 and words[1] in QUESTION_WORDS:
        return piece  # "..., and in what year did he finish it?": a question of its own
    amounts = (["how", "many"], ["how", "much"])
    again = words[:1] == ["how"] and words[:2] == first_words[:2]  # "..., and how long for B"
    if len(words) > 2 and words[2] in PREPOSITIONS and again:
        return complete(first, piece.split(None, 2)[2])  # "..., and how many on B"
    if len(words) == 3 and words[:2] in amounts and first_words[:2] in amounts:
        return " ".join([piece, *first.split()[3:]])  # "... continents are there, how many oceans"
    alike = first_words[:2] in amounts and first_words[3:4] == words[1:2] != []
    if alike and len(words) > 2 and words[1] in PREPOSITIONS:  # "ounces in a cup, cups in a quart"
        return " ".join([*first.split()[:2], piece])
    if head in QUESTION_WORDS and len(words) > 2 and words[1] in ("one", "ones"):
        if first_words[0] == head and first_words[1] not in AUXILIARIES | {"one", "ones"}:
            kind = first.split()[1]  # "which planet has A and which one has B"
            return _with_alternatives(first, f"{piece.split()[0]} {kind} {piece.split(None, 2)[2]}")
        if first_words[:2] == words[:2]:  # "which one is older, A or B, and which one ..."
            return _with_alternatives(first, piece)
        if len(words) > 3 and words[2] in AUXILIARIES:
            return piece  # "which one does DNS use": its own question (of A or B, later)
        if len(words) > 3 and words[2] not in PREPOSITIONS:
            return _with_alternatives(first, piece)  # "... and which one goes in pancakes"
        return complete(first, piece.split(None, 2)[2])  # "and which one in the UK?"
    if head in REQUEST_NOUNS and words[1:2] != [] and words[1] in PREPOSITIONS:
        return piece  # "a packing list for iceland + tips for driving there"
    if (parallel := parallel_question(first, piece, words, first_words)) is not None:
        return parallel
    if head in VERBS and len(words) == 2 and words[1] in QUESTION_WORDS:
        return None  # "pick the best one and explain why": one instruction
    uses_it = words[:2] in (["use", "it"], ["use", "them"])  # "give me a word and use it in"
    if not then and (
        (head in VERBS and len(words) == 1)
        or (head in CONSTRAINT_VERBS | LIST_VERBS and not uses_it)  # "..., and discuss whether"
    ):
        return None  # "find the derivative and simplify", "..., keep it under 200 words"
    why = first_words[0] in ("when", "where", "how", "why") and first_words[1] in AUXILIARIES
    why = why and head != first_words[0] and len(words) == 1
    if head in ("when", "where", "how", "why") and why:
        return f"{head} {first.split(None, 1)[1]}"  # "when did the berlin wall fall and why"
    by = head in PREPOSITIONS and words[1:2] in (["which"], ["what"], ["whom"]) and len(words) < 5
    if by and first_words[0] in QUESTION_WORDS and first_words[1] in AUXILIARIES:
        return f"{piece.strip()} {first.split(None, 1)[1]}"  # "..., and by which king"
    speaker = words[1:2] != [] and words[1] in SUBJECT_PRONOUNS
    if head in ("when", "where", "why", "how", "if") and speaker:
        return None  # "..., and when I bring it up she gets defensive": no question
    infinitive = _infinitive_at_end(first_words) and len(words) <= 4
    if head in VERBS and not then and (_asks_how_i(first_words) or infinitive):
        return None  # "how do I merge two dicts and keep ...", "a plan to lose weight and build"
    relative = re.search(r"\b(?:that|which|who)(?:'s)?\s", first, re.I) is not None
    named = OPENS_A_NAME if head not in ("has", "have") else frozenset()  # "has a camera"
    subjectless = words[1:2] != [] and words[1] not in SUBJECT_PRONOUNS | named | {"it", "there"}
    if head in AUXILIARIES and relative and subjectless and not piece[1:2].isupper():
        return None  # "a laptop that's light, has good battery life, and costs ..."
    if (again := same_question_of(first, piece, words, first_words)) is not None:
        return again  # "how do you say thank you in japanese and how do you say sorry"
    if head in VERBS or (head in QUESTION_WORDS | AUXILIARIES and len(words) > 2):
        asked = [i for i, word in enumerate(first_words) if word in QUESTION_WORDS]
        placed = asked[:1] == [1] and first_words[0] in PREPOSITIONS  # "In which country ..."
        if head in QUESTION_WORDS and words[1] not in AUXILIARIES and asked and asked[0] > 0:
            if placed:
                return piece
            lead_in = " ".join(first.split()[: asked[0]])
            return f"{lead_in} {piece}"  # "tell me what X is and what Y is": tell me what Y is
        if head in VERBS and (lead := REQUEST_LEAD.match(first)):
            return f"{lead.group()}{piece}"  # "Can you explain X and give Y": can you give Y
        both = head in ("who", "which") or words[-1] in ("each", "both", "either")
        return _with_alternatives(first, piece) if both else piece  # "when would I use each"
    out_of = words[:2] == ["out", "of"]  # "stains out of a carpet and also out of a shirt"
    if (head in PREPOSITIONS - MANNER or out_of) and f" {head} " in f" {first.lower()} ":
        rest = after_name(first, head)  # "flights to Oslo cost", "and to Rome": ... cost
        return f"{_before_last(first, head)} {piece}{rest}"  # "in Brazil, in Mexico"
    if head in ("one", "another") and len(words) > 1 and f" {words[1]} " in f" {first.lower()} ":
        return _before_last(first, words[1]) + " " + piece.split(None, 1)[1]  # "one about dogs"
    counted = head in NUMBER_WORDS or head.isdigit()
    if counted and len(words) > 1 and (again := counted_again(first, piece, words, first_words)):
        return again
    if head in DETERMINERS:
        return _second_noun_phrase(first, piece)
    if "of" in words[1:4] and words[: words.index("of")] == first_words[: words.index("of")]:
        return piece  # "population of canada and population of mexico"
    if first_words[0] in VERBS and len(first_words) > 1 and head == first_words[1]:
        return f"{first.split()[0]} {piece}"  # "name two rivers ... and two mountains ..."
    if head in NUMBER_WORDS and first_words[0] in VERBS and first_words[1] in COUNTS:
        return f"{first.split()[0]} {piece}"  # "name two rivers ... and three mountains ..."
    if (
        (head in COUNTS or head.isdigit())
        and len(words) > 2
        and PREPOSITIONS & set(words[2:])
        and first_words[0] in VERBS
        and not COUNTS & set(first_words)
        and not any(word.isdigit() for word in first_words)
    ):  # "give me a packing list and three tips for ...": give me three tips for ...
        lead = first.split()[: 2 if first_words[1] in ("me", "us") else 1]
        return " ".join([*lead, piece])
    place = _preposition_at(words)
    if first_words[0] in VERBS and place is not None and _preposition_at(first_words[1:]) == place:
        return f"{first.split()[0]} {piece}"  # "describe summer in Spain, winter in Canada"
    asked_of = head in ASKED_OF and words[1:2] not in (["least"], ["most"])  # not "at least"
    if asked_of and head not in first_words and len(words) <= 4 and not asks_to(first):
        return f"{first.rstrip(' ?.!')} {piece}"  # "best time to visit japan, and for kids?"
    return None


ASKED_OF = ("for", "with", "without", "during", "at")
"""Prepositions of a fragment that asks the first question again of someone or something
("..., and for kids?")."""


def asks_to(clause: str) -> bool:
    """Whether a clause is an instruction ("write a story about a dog", "can you write ..."),
    which a fragment after it qualifies ("..., and for kids": a story for kids)."""
    words = words_of(REQUEST_LEAD.sub("", clause))
    return bool(words) and words[0] in VERBS


def _infinitive_at_end(words: list[str]) -> bool:
    """Whether a clause ends in "to" and a verb's phrase ("a plan to lose weight"), which a
    verb after "and" continues."""
    tail = words[-4:]
    return "to" in tail[:-1] and tail[tail.index("to") + 1] not in DETERMINERS | {"my", "your"}


def _asks_how_i(words: list[str]) -> bool:
    """Whether a clause asks what its speaker should do ("how do I ...", "can we ..."), so
    a verb after "and" continues the same question."""
    subject = next((i for i, w in enumerate(words[:4]) if w in ("i", "we")), None)
    return subject is not None and subject > 0 and words[subject - 1] in AUXILIARIES


def _with_alternatives(first: str, piece: str) -> str:
    """A question about which of several things ("who has more kids") with the things the
    first question names after a comma ("Who is older, Mick Jagger or Paul McCartney")."""
    found = re.search(r",\s*([^,]+?\s+or\s+[^,]+?)\s*$", first.rstrip("?.! "))
    between = re.search(r"\bbetween ([\w'’ -]+?) and ([\w'’ -]+?)\s*$", first.rstrip("?.! "))
    if " or " in piece or not (found or between):
        return piece
    things = found.group(1) if found else f"{between.group(1)} or {between.group(2)}"
    return f"{piece.rstrip('?.! ')}, {things}"  # "which is more dangerous, A or B"


def _preposition_at(words: list[str]) -> tuple[int, str] | None:
    """Where the preposition that follows a short phrase's first one to three words is, and
    which it is ("summer *in* Spain": 1, "in"); None if there is none."""
    return next(((i, w) for i, w in enumerate(words[1:4], 1) if w in PREPOSITIONS), None)


def _second_noun_phrase(first: str, piece: str) -> str | None:
    """`piece`, a noun phrase ("the capital of Spain", "an ant"), in the place of the first
    clause's own ("what is the capital of Italy" -> "what is the capital of Spain"; "how
    many legs does a spider have" -> "how many legs does an ant have"); None where the
    first clause's noun phrase is a subject whose verb comes later ("what do the cat and
    the dog eat"), where `piece` may instead continue the clause's last noun phrase ("a
    story about a dragon and a knight"), or where the question is about both at once."""
    tokens = first.split()
    words = [words_of(token)[0] if words_of(token) else "" for token in tokens]
    piece_words = words_of(piece)
    if JOINT_QUESTION & set(words_of(first) + piece_words) or len(piece_words) < 2:
        return None
    article = {"an": "a"}
    same = [article.get(w, w) for w in words]
    if article.get(piece_words[0], piece_words[0]) not in same:
        return None
    start = same.index(article.get(piece_words[0], piece_words[0]))
    if start == 0:
        return None
    after = _noun_phrase_end(words, start)
    if after < len(words) and words[after] not in PREPOSITIONS and words[start - 1] in AUXILIARIES:
        return " ".join([*tokens[:start], piece, *tokens[after:]])  # "does a spider have"
    if words[start - 1] in SUBJECT_BEFORE_VERB or len(tokens) - start < 3:
        return None
    last = max(i for i, word in enumerate(words) if word in DETERMINERS)
    piece_same = [article.get(w, w) for w in piece_words[:2]]
    parallel = same[start : start + 2] == piece_same or (  # "the capital of ..." twice
        superlative(words[start + 1]) and superlative(piece_words[1])  # "the tallest ..."
    )
    if not parallel and words[last - 1] in PREPOSITIONS:
        return None
    tail = tokens[_noun_phrase_end(words, start) :]  # "the tallest mountain [in africa]"
    kept = superlative(piece_words[1]) and not set(piece_words) & PREPOSITIONS and tail
    return " ".join([*tokens[:start], piece.rstrip("?.!"), *(tail if kept else [])])


def _noun_phrase_end(words: list[str], start: int) -> int:
    """Where the noun phrase that starts at `start` ends: at the next verb of the clause
    (an auxiliary), preposition or question word."""
    stop = AUXILIARIES | PREPOSITIONS | QUESTION_WORDS | DETERMINERS | {"have", "has"}
    for index in range(start + 1, len(words)):
        if words[index] in stop:
            return index
    return len(words)


def bare_superlative(words: list[str]) -> bool:
    """Whether a fragment ends in a superlative with no thing after it ("and the
    smallest?"; not "the biggest forest")."""
    return (
        len(words) <= 4
        and superlative(words[-1])
        and (len(words) == 1 or words[-2] in DETERMINERS | AUXILIARIES | {"one"})
    )


def _after_superlative(clause: str) -> str:
    """What follows the clause's first superlative ("the largest continent in the world" ->
    "continent in the world"); "" if none, or if nothing follows it."""
    tokens = clause.split()
    for index, token in enumerate(tokens[:-1]):
        if superlative("".join(words_of(token))):
            return " ".join(tokens[index + 1 :])
    return ""


def after_name(clause: str, word: str) -> str:
    """What follows the thing after the clause's last `word` (a preposition), where the
    clause goes on after it: " cost" of "What do flights to Oslo cost" (a name), " in
    pancakes" of "a substitute for buttermilk in pancakes" (a thing in lower case, to the
    next preposition); "" when the thing runs to the clause's end."""
    tokens = clause.split()
    found = [i for i, token in enumerate(tokens) if words_of(token)[:1] == [word]]
    if not found:
        return ""
    at = end = found[-1]
    end += 1
    while end < len(tokens) and (tokens[end][:1].isupper() or tokens[end].isdigit()):
        end += 1  # "Windows 11"
    if end == at + 1:  # a thing in lower case, to the next preposition but "of"
        after = [(words_of(t) or [""])[0] for t in tokens[at + 2 :]]
        end = next((at + 2 + i for i, w in enumerate(after) if w in PREPOSITIONS - {"of"}), end)
    return "" if end == at + 1 or end == len(tokens) else " " + " ".join(tokens[end:])


def _before_last(clause: str, word: str) -> str:
    """The clause up to the last occurrence of `word` (a preposition), without it."""
    index = f" {clause.lower()} ".rindex(f" {word} ")
    return clause[: max(0, index - 1)].rstrip()


def object_end(words: list[str], language: Language) -> int | None:
    """Where the object after "I", "you" or "we" and a verb ends, at a preposition ("how do
    I get [red wine] out of a carpet"); None without such a subject, verb and object."""
    subject = next((i for i, w in enumerate(words[:4]) if w in ("you", "i", "we")), None)
    if subject is None:
        return None
    ends = language.prepositions | PREPOSITIONS
    for index in range(subject + 3, len(words)):
        if words[index] in ends or words[index : index + 2] == ["out", "of"]:
            return index
    return None
