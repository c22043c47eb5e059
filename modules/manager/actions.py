"""A part that names the action of the part before without saying it again.

"... who was the first woman to do it" after "how long does it take to climb Everest":
"to climb Everest"; "how do i do it with grid" after "how do i center a div with flexbox":
"center a div"; "How long does it take?" after "How do I get to Porto?": "... to get to
Porto?". And a sentence that only says how to do the action before ("Write an essay on X.
Use an academic tone."), which joins it.
"""

from __future__ import annotations

import re

from modules.manager.words import (
    CONSTRAINT_VERBS,
    LIST_VERBS,
    PREPOSITIONS,
    REQUEST_LEAD,
    VERBS,
    words_of,
)

DONE_AGAIN = re.compile(r"\b(?:to |)(?:do|did|does|doing) (?:it|that|so|this)\b", re.IGNORECASE)
"""A part that refers to the action of the part before ("... and who was the first woman to
do it?")."""


HOW_DO_I = (
    r"(?:how|where)(?: often| much| long)? (?:do|can|should|could) (?:i|we|you) "
    r"(\w+(?: [\w'’-]+){0,3}?)(?= (?:with|in|on|using|by|without)\b| ?[?.!]*$)"
)
"""A question after how to do something, and what it does ("[center a div] with flexbox")."""
DOING = r"(?:how|where) (?:do|can|should|could) (?:i|we|you) (.+?)[?.!]*$"
"""A how-to question and all it asks to do ("how do i [reset my iphone to factory settings]")."""


def done_again(before: list[str], text: str) -> str | None:
    """`text` with "do it" replaced by what the nearest part before (`before`: latest first)
    that asks to do something asks to do ("to climb Everest"); None when it has no "do it"
    or no part before says "to VERB ..." or asks how to do something."""
    found = DONE_AGAIN.search(text)
    action = next((a for part in before if (a := _action(part)) is not None), None)
    if found is None or action is None:
        return None
    after = words_of(text[found.end() :])[:1]
    if (
        found.group().split()[-2].lower() in ("does", "did")
        and after
        and after[0] not in PREPOSITIONS
    ):
        return None  # "how long does it take": "does" helps another verb
    doing = found.group(0).split()
    verb = action.group(1)
    to = "to " if doing[0].lower() == "to" else ""
    return f"{text[: found.start()]}{to}{verb}{text[found.end() :]}"


def _action(part: str) -> re.Match[str] | None:
    """What a part asks to do: in a how-to question ("how do i [center a div] with flexbox"),
    or after its last "to" ("... the first woman [to climb Everest]")."""
    how = re.match(HOW_DO_I, part.strip(), re.I) or re.match(DOING, part.strip(), re.I)
    return how or re.search(r"\bto ((?:[\w'’-]+)(?: [\w'’-]+){0,4})[?.!]?$", part.strip())


def spent_on(before: list[str], text: str) -> str | None:
    """ "How long does it take?" (or "how much does it cost", "do I need special tools")
    after "How do I get from Rome to Florence by train?" (the nearest how-to question of the
    parts `before`, latest first): "... take to get from Rome to Florence by train?"; None for
    any other part."""
    asked = (
        r"(how (?:long|much) (?:does|will|would) it (?:take|cost)|do (?:i|we) need [\w ]+?)"
        r"\s*([?.!]?)"
    )
    spent = re.fullmatch(asked, text.strip(), re.I)
    asked_how = (re.match(DOING, part.strip(), re.I) for part in before)  # latest first
    action = next((found for found in asked_how if found is not None), None)
    if spent is None or action is None:
        return None
    return f"{spent.group(1)} to {action.group(1)}{spent.group(2) or '?'}"


WORK_SHOWN = re.compile(
    r"(?:show|explain|include|give)(?: me)?(?: the| your| all the| each| every)?"
    r"(?: \w+)? (?:steps?|work|working|reasoning|calculations?|math)$"
)
"""A clause that asks to see how the answer was reached ("and show the steps")."""
INCLUDE_HAN = re.compile(r"(?:含めて|入れて|包括)[^。？?]{0,6}[。.！!]?\s*$")
"""A Japanese or Chinese sentence that says what the answer should include ("お寺、食事を含めて
ください。")."""
ANSWER_FORM = re.compile(
    r"(?:i(?:'d| would) like|i want|i need|i'm looking for)\s+(?:an?\s+(?:[\w-]+\s+){0,3}?"
    r"(?:explanation|answer|overview|summary|response|breakdown|walkthrough)\b|something\b)",
    re.IGNORECASE,
)
"""A sentence that says what the answer should be ("I'd like a fairly detailed explanation
that covers ...", "I want something I can share with my brother")."""


def says_how(previous: str, text: str, step: bool) -> bool:
    """Whether a sentence only says how to answer the instruction before it ("Use an
    academic tone.", "Keep it under 400 words.", "Make it warm but professional.", "I'd
    like a detailed explanation that covers A and B."), unless
    it is a `step` of its own (joined by "then", or an item)."""
    words = words_of(REQUEST_LEAD.sub("", text))
    if WORK_SHOWN.match(" ".join(words)) or INCLUDE_HAN.search(text):
        return not step  # "calculate the force ... and show the steps"
    if _style_only(words):
        return not step  # "How do stocks work? Explain like I'm 5."
    uses_it = words[:2] in (["use", "it"], ["use", "them"])  # "use it in a sentence": a step
    how = words[:1] and (
        words[0] in CONSTRAINT_VERBS | LIST_VERBS and not uses_it or words[:2] == ["make", "it"]
    )
    instructs = words_of(REQUEST_LEAD.sub("", previous))[:1]
    told = bool(instructs) and instructs[0] in VERBS
    return (bool(how) or ANSWER_FORM.match(text) is not None) and told and not step


def _style_only(words: list[str]) -> bool:
    """Whether an instruction only says in what style to explain ("explain like im new to
    investing", "explain in simple terms"; not "describe it briefly": that is about a
    thing)."""
    if words[:1] != ["explain"]:
        return False
    rest = words[1:]
    plain = rest[:1] == ["in"] and rest[1:2] != [] and rest[1] in ("simple", "plain", "layman's")
    return rest[:1] in (["like"], ["simply"], ["briefly"]) or rest[:2] == ["as", "if"] or plain
