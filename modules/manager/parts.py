"""The parts of a request: where one message asks several things, each in the user's words.

A small model answers one question far better than three at once, so the planner gives each
delegate one part. `split_request` finds the parts of a request by its structure (sentences,
pasted lines, and clauses joined by commas or "and" that start a new question or repeat the
first clause's pattern) and completes a fragment with the words it leaves out:

- "Name two rivers in Europe and two mountains in Asia." ->
  "Name two rivers in Europe." / "Name two mountains in Asia."
- "What language is spoken in Brazil, in Mexico and in Egypt?" ->
  "What language is spoken in Brazil?" / "... in Mexico?" / "... in Egypt?"
- "Write a paragraph about cats, one about dogs." ->
  "Write a paragraph about cats." / "Write a paragraph about dogs."
- "What is the capital of Italy and the capital of Spain?" ->
  "What is the capital of Italy?" / "What is the capital of Spain?"
- "Which element has the symbol O and which has the symbol Fe?" ->
  "Which element has the symbol O?" / "Which element has the symbol Fe?"
- "Which is the largest continent and which is the smallest?" ->
  "Which is the largest continent?" / "Which is the smallest continent?"

A part that refers back to the one before ("...and translate it into French", "..., and in
what year?") stays with it, so each part can be answered alone, at the same time as the
others. A request with one part comes back whole. Parts keep the user's words.
"""

from __future__ import annotations

import re


def vocabulary(words: str) -> frozenset[str]:
    """A set of lower-case words, written as one space-separated string."""
    return frozenset(words.split())


VERBS = vocabulary(
    "name list give tell write explain describe define compare suggest pick choose recommend "
    "summarise summarize translate calculate compute find make create draft plan outline say "
    "state identify provide share show convert solve estimate rewrite spell count rank sort "
    "predict propose design brainstorm offer mention add read prepare compose invent imagine "
    "teach help"
)
QUESTION_WORDS = vocabulary("what who whom whose when where why how which")
AUXILIARIES = vocabulary(
    "is are was were do does did can could will would should has have had may might"
)
PREPOSITIONS = vocabulary(
    "in on for of at to from with about by into over under between during among"
)
FILLERS = ("and then", "and also", "then", "also", "and", "plus", "as well as", "please")
PRONOUNS = vocabulary("it its they them their he she him her")
DEMONSTRATIVES = vocabulary("this that these those")
_SENTENCE_END = re.compile(r"(?<=[.?!;])\s+(?=[^\sa-zß-öø-ÿ])|(?<=[。？！؟])\s*(?=\S)")
"""Between sentences: after ".", "?", "!" or ";" and a space, anything but a lower-case letter
begins one (a capital, a digit, "¿", a Japanese question, an emoji); Chinese, Japanese and
Arabic sentences end at "。", "？", "؟" even without a space."""
_JOINT_QUESTION = vocabulary(
    "between both compare contrast difference differences together versus vs relationship"
)
"""Words of a question about two things at once ("the difference between the sun and the
moon"), which stays whole."""
_SUBJECT_BEFORE_VERB = AUXILIARIES - vocabulary("is are was were")
"""After these, a noun phrase is a subject whose verb comes later ("what do the cat and the dog
eat"), so a second noun phrase does not make a second question."""
_DETERMINERS = vocabulary("the a an")
_BEFORE_A_DEMONSTRATIVE = VERBS | PREPOSITIONS | QUESTION_WORDS | AUXILIARIES
_LIST_MARK = re.compile(r"^\s*(?:[-*\u2022]|\d{1,2}[.)])\s+")
_JOINT = re.compile(r"[,;]\s*(?:and\s+|or\s+|then\s+)?|\s+(?:and|then)\s+", re.I)
_NUMBER_WORDS = vocabulary("one two three four five six seven eight nine ten a an some")
_COUNTS = vocabulary("two three four five six seven eight nine ten")
"""How many things a part asks for; a clause that counts nothing before it ("give me a list
and three tips") makes the count a part of its own, one that counts ("a cake with two eggs
and three cups of flour") keeps it."""


def split_request(text: str, max_parts: int = 4) -> list[str]:
    """The parts of a request, each a whole instruction in the user's words (at least one).

    Past `max_parts`, the last part takes the rest of the request.
    """
    parts: list[str] = []
    for part in (p for sentence in _sentences(text) for p in _clauses(sentence)):
        if parts and (fragment := _fragment_of(parts[-1], part)):  # "... of Peru? And of Chile?"
            parts.append(fragment)
        elif parts and refers_back(part):  # "...and translate it": one delegate does both
            parts[-1] = f"{parts[-1].rstrip('.?!')}, and {part[:1].lower()}{part[1:]}"
        elif _words(part) and _words(part) not in map(_words, parts):  # asked twice: once
            parts.append(part)
    if len(parts) <= 1:
        return [" ".join(text.split())]
    if len(parts) > max_parts:
        parts = [*parts[: max_parts - 1], " ".join(parts[max_parts - 1 :])]
    return parts


def refers_back(part: str) -> bool:
    """Whether a part refers back to something else in the request: a pronoun ("translate it",
    "explain that"; not the "that" of "a fruit that is red"), or a question too short to
    stand alone ("In what year?", "Why?"; not "Who wrote Hamlet?")."""
    words = _words(part)
    if not words:  # "?", an emoji: nothing to refer with
        return False
    short_question = len(words) < 4 and (
        words[0] in PREPOSITIONS or (words[0] in QUESTION_WORDS and len(words) < 3)
    )
    return short_question or any(
        word in PRONOUNS
        or (word in DEMONSTRATIVES and (i == 0 or words[i - 1] in _BEFORE_A_DEMONSTRATIVE))
        for i, word in enumerate(words)
    )


def _fragment_of(previous: str, part: str) -> str | None:
    """A sentence that only changes the previous part's place or thing ("And of Peru?"),
    completed from it; None for any other sentence."""
    words = _words(part)
    if len(words) < 2 or words[0] not in PREPOSITIONS or words[1] in QUESTION_WORDS:
        return None
    completed = _complete(previous, part[:1].lower() + part[1:])
    return None if completed is None else _finish(completed, previous[-1])


def _sentences(text: str) -> list[str]:
    """Pasted lines (list marks dropped) and the sentences within each."""
    sentences = []
    for line in text.splitlines():
        line = _LIST_MARK.sub("", line).strip()
        sentences += [_strip_fillers(s) for s in _SENTENCE_END.split(line) if s.strip()]
    return [s for s in sentences if s]


def _clauses(sentence: str) -> list[str]:
    """A sentence's parts: it splits where the words after a comma or "and" begin a new
    question or repeat the pattern of the first clause; fragments borrow what they lack."""
    end = sentence[-1] if sentence[-1] in ".?!" else ""
    body = sentence[:-1] if end else sentence
    pieces = _JOINT.split(body)
    joints = _JOINT.findall(body)
    parts = [pieces[0]]
    for joint, piece in zip(joints, pieces[1:], strict=True):
        completed = _complete(parts[0], _strip_fillers(piece))
        if completed is None:
            parts[-1] = parts[-1] + joint + piece
        else:
            parts.append(completed)
    if len(parts) == 1:
        return [sentence[:1].upper() + sentence[1:]]
    return [_finish(part, end) for part in parts]


def _complete(first: str, piece: str) -> str | None:
    """`piece` as a whole instruction, borrowing from the sentence's first clause; None if it
    does not start a part of its own (it continues the clause before it)."""
    words = _words(piece)
    first_words = _words(first)
    if not words or len(first_words) < 2:  # "Hello, how are you?" stays whole
        return None
    if _superlative(words[-1]) and (thing := _after_superlative(first)):
        piece = f"{piece} {thing}"  # "the largest continent ... and the smallest": continent
        words = _words(piece)
    head = words[0]
    if head in PREPOSITIONS and len(words) > 1 and words[1] in QUESTION_WORDS:
        return piece  # "..., and in what year?": a question of its own, read with the part before
    if head == "how" and len(words) > 2 and first_words[:2] == words[:2] == ["how", "many"]:
        if words[2] in PREPOSITIONS:  # "how many players are on A, and how many on B"
            return _complete(first, piece.split(None, 2)[2])
        if len(words) == 3:  # "how many continents are there, and how many oceans"
            return " ".join([piece, *first.split()[3:]])
    if head in QUESTION_WORDS and len(words) > 2 and words[1] in ("one", "ones"):
        return _complete(first, piece.split(None, 2)[2])  # "and which one in the UK?"
    asks = 2 if words[:2] in (["how", "many"], ["how", "much"]) else 1  # "which", "how many"
    if (
        head in ("which", "what", "how")
        and len(words) > asks + 1
        and words[asks] in AUXILIARIES
        and len(first_words) > asks + 1
        and first_words[:asks] == words[:asks]
        and first_words[asks] not in AUXILIARIES | PREPOSITIONS
    ):  # "which country has A and which has B": which country has B
        thing = first.split()[asks]  # (and "how many legs does A have, and how many does B")
        return " ".join([*first.split()[:asks], thing, *piece.split()[asks:]])
    if head in VERBS or (head in QUESTION_WORDS | AUXILIARIES and len(words) > 2):
        asked = [i for i, word in enumerate(first_words) if word in QUESTION_WORDS]
        if head in QUESTION_WORDS and words[1] not in AUXILIARIES and asked and asked[0] > 0:
            lead_in = " ".join(first.split()[: asked[0]])
            return f"{lead_in} {piece}"  # "tell me what X is and what Y is": tell me what Y is
        return piece
    if head in PREPOSITIONS and f" {head} " in f" {first.lower()} ":
        return _before_last(first, head) + " " + piece  # "in Brazil, in Mexico"
    if (
        head in ("one", "another")
        and len(words) > 1
        and words[1] in PREPOSITIONS
        and f" {words[1]} " in f" {first.lower()} "
    ):  # "a paragraph about cats, one about dogs"
        return _before_last(first, words[1]) + " " + piece.split(None, 1)[1]
    if (
        head in _NUMBER_WORDS
        and len(words) > 1
        and words[1] in PREPOSITIONS
        and len(first_words) > 2
        and first_words[0] in VERBS
        and first_words[1] in _NUMBER_WORDS
        and f" {words[1]} " in f" {first.lower()} "
    ):  # "give three tips for A, two for B": give two tips for B
        verb, _, things = _before_last(first, words[1]).split(None, 2)
        return f"{verb} {words[0]} {things} {piece.split(None, 1)[1]}"
    if head in _DETERMINERS:
        return _second_noun_phrase(first, piece) if len(words) > 2 else None
    if first_words[0] in VERBS and len(first_words) > 1 and head == first_words[1]:
        return f"{first.split()[0]} {piece}"  # "name two rivers ... and two mountains ..."
    if head in _NUMBER_WORDS and first_words[0] in VERBS and first_words[1] in _COUNTS:
        return f"{first.split()[0]} {piece}"  # "name two rivers ... and three mountains ..."
    if (
        (head in _COUNTS or head.isdigit())
        and len(words) > 2
        and first_words[0] in VERBS
        and not _COUNTS & set(first_words)
        and not any(word.isdigit() for word in first_words)
    ):  # "give me a packing list and three tips for ...": give me three tips for ...
        lead = first.split()[: 2 if first_words[1] in ("me", "us") else 1]
        return " ".join([*lead, piece])
    if first_words[0] in VERBS and _preposition_at(first_words[1:]) == _preposition_at(words) != "":
        return f"{first.split()[0]} {piece}"  # "describe summer in Spain, winter in Canada"
    return None


def _preposition_at(words: list[str]) -> str:
    """The preposition that follows a short phrase's first one to three words ("summer *in*
    Spain"); "" if there is none."""
    return next((word for word in words[1:4] if word in PREPOSITIONS), "")


def _second_noun_phrase(first: str, piece: str) -> str | None:
    """`piece`, a noun phrase ("the capital of Spain"), in the place of the first clause's own
    ("what is the capital of Italy" -> "what is the capital of Spain"); None where the first
    clause's noun phrase is a subject whose verb comes later, too short to be a thing asked
    about on its own, where `piece` may instead continue the clause's last noun phrase ("a
    story about a dragon and a knight"), or where the question is about both at once."""
    tokens = first.split()
    words = [_words(token)[0] if _words(token) else "" for token in tokens]
    piece_words = _words(piece)
    if _JOINT_QUESTION & set(_words(first) + piece_words) or piece_words[0] not in words:
        return None
    start = words.index(piece_words[0])
    if start == 0 or words[start - 1] in _SUBJECT_BEFORE_VERB or len(tokens) - start < 3:
        return None
    last = max(i for i, word in enumerate(words) if word in _DETERMINERS)
    parallel = words[start : start + 2] == piece_words[:2] or (  # "the capital of ..." twice
        _superlative(words[start + 1]) and _superlative(piece_words[1])  # "the tallest ..."
    )
    if not parallel and words[last - 1] in PREPOSITIONS:
        return None
    return " ".join(tokens[:start]) + " " + piece


def _superlative(word: str) -> bool:
    return word in ("best", "worst", "most", "least", "first", "last") or (
        len(word) > 5 and word.endswith("est")
    )


def _after_superlative(clause: str) -> str:
    """What follows the clause's first superlative ("the largest continent in the world" ->
    "continent in the world"); "" if none, or if nothing follows it."""
    tokens = clause.split()
    for index, token in enumerate(tokens[:-1]):
        if _superlative("".join(_words(token))):
            return " ".join(tokens[index + 1 :])
    return ""


def _before_last(clause: str, word: str) -> str:
    """The clause up to the last occurrence of `word` (a preposition), without it."""
    index = f" {clause.lower()} ".rindex(f" {word} ")
    return clause[: max(0, index - 1)].rstrip()


def _strip_fillers(piece: str) -> str:
    """The text without leading joining words ("and", "also,", "then")."""
    piece = piece.strip(" ,")
    lowered = piece.lower()
    for filler in FILLERS:
        if lowered.startswith((filler + " ", filler + ",")):
            return _strip_fillers(piece[len(filler) + 1 :])
    return piece


def _finish(part: str, end: str) -> str:
    part = part.strip(" ,;")
    part = part[:1].upper() + part[1:]
    if part and part[-1] not in ".?!":
        words = _words(part)
        question = words[0] in QUESTION_WORDS | AUXILIARIES or (
            len(words) > 1 and words[0] in PREPOSITIONS and words[1] in QUESTION_WORDS
        )
        part += "?" if question else (end or ".")
    return part


_CONTRACTED_IS = re.compile(r"\b(what|who|where|when|why|how|which)'s\b")


def _words(text: str) -> list[str]:
    """Lower-case words; "what's" reads as "what is"."""
    return re.findall(r"[\w']+", _CONTRACTED_IS.sub(r"\1 is", text.lower()))
