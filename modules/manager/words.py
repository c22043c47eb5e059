"""The English words the manager reads a request by, in one place.

Structure (lines, numbered items, sentence ends) splits a request in any language; these
words say, for English, which sentences ask something, where a clause starts a question of
its own, and which words refer back to another part. The other languages' words are data
(`modules/manager/languages.toml`, read by `modules.manager.languages`).
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
    "teach help check correct proofread review improve fix rate round think come generate "
    "produce build draw sketch lay map expand elaborate continue shorten simplify rephrase "
    "edit polish format turn recommend tell pick put use try go keep remind divide multiply "
    "subtract analyze analyse debug refactor optimize paraphrase clarify illustrate "
    "demonstrate discuss evaluate assess critique justify prove derive plot break square double "
    "reverse integrate differentiate factor graph"
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
    "in on for of at to from with about by into over under between during among per without"
)
FILLERS = (
    "and then", "and also", "and finally", "then", "also", "and", "plus", "as well as",
    "please", "oh and", "oh", "finally", "lastly", "btw", "by the way", "one more thing",
    "ok so", "okay so", "so basically", "basically", "long story short", "anyway", "anyways",
    "so", "hey", "hi", "hello", "well", "now", "and now", "next",
    "and after that", "after that", "after this", "separately", "additionally", "unrelated",
    "also unrelated", "unrelated but", "on another note", "también", "tambien", "además",
    "ademas", "aussi", "de plus", "en plus", "auch", "außerdem", "ausserdem", "anche",
    "inoltre", "também", "ook", "另外", "还有", "それと", "あと",
    "それから", "そのあと", "その後", "然后", "之后", "接着",
)  # fmt: skip
"""Joining words a part may start with; they are dropped from it."""
THEN = vocabulary("then afterwards それから 然后 之后 接着")
THEN_PHRASES = ("after that", "after this", "and after that")
APART = vocabulary("separately unrelated independently")
"""Words after "then" that make the next part independent ("then separately, what's ...")."""
"""A part after these words works on what the part before it made ("..., then translate
it")."""
PRONOUNS = vocabulary("it its they them their there one he she him her his")
DEMONSTRATIVES = vocabulary("this that these those")
CLAUSE_OPENERS = vocabulary(
    "when whenever while if because although unless quand lorsque wenn falls weil während "
    "cuando porque mientras quando perché mentre enquanto wanneer omdat terwijl"
)
"""Words that open a subordinate clause saying when, why or on what condition, in every
language the manager reads (not those two languages share with another meaning: "si",
"als")."""
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
    "i was wondering", "do you know", "what about", "how about", "need", "looking for",
)  # fmt: skip
"""How an English sentence that asks something may open without a question mark."""
NEED_ALONE = vocabulary("some a little bit of your advice help hand input")
""""I need advice." or "I need some help." asks nothing yet: what follows says what."""
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

SUBORDINATORS = vocabulary("if since because although though while unless given assuming whenever")
"""Words a clause that only sets a condition for the question after it opens with."""
FRAGMENT_OPENINGS = (
    "what about ", "how about ", "and what about ", "what of ", "same for ", "same with ",
    "same question for ", "and for ", "also for ",
)  # fmt: skip
LEAD_WORDS = vocabulary(
    "ok okay so hi hello hey please can could would you u help me with these this the "
    "following things thing questions question quick few a couple of some two three here is "
    "are what i need"
)
"""Words of a lead line that says only that something follows ("Could you", "ok so:")."""
SUBJECTS = vocabulary("i i'm i've i'd we we're my our it it's this that there he she they")
"""Words a telling sentence opens with ("I'm on a Mac", "It needs to be 10 minutes")."""
OWN_SUBJECTS = vocabulary(
    "mon ma mes je j'ai mein meine meinen ich mis mijn ik mijn meu minha meus minhas eu tengo "
    "ho vorrei io"
)
"""The user's own subject that a telling clause in another language opens with ("Mon chat
vomit souvent ..., est-ce grave ?")."""
LIST_OPENERS = vocabulary(
    "covering including highlighting featuring mentioning especially like such falando "
    "incluindo inclusive incluyendo incluya inclusief einschließlich inklusive notamment "
    "comprenant inclusi compresi about with parlant parlando hablando hablar met avec mit "
    "compris détaillant detallando dettagliando"
)
"""Words that open a list inside one instruction ("an essay covering A, B and C")."""
LIST_VERBS = vocabulary("cover include mention discuss")
"""Verbs whose object may be a list of what an answer should hold ("I'd like you to cover
A, B, and why C"), outside a question ("what should I include in a CV, and how long ...")."""
POLITE = frozenset({"bitte", "please", "por", "favor", "plaît", "favore", "alsjeblieft"})
"""Words of a request's politeness, after its verb ("Erklär mir bitte, ...")."""
COURTESY = POLITE | vocabulary("pls plz s'il vous te per thanks thank you thx")
"""Words of a phrase that is only courtesy (", por favor", ", s'il vous plaît", ", thx")."""
TOLD = frozenset({"me", "mir", "moi", "mi", "uns", "us", "nos", "ons", "noi"})
"""Who an instruction to tell is for ("Erklär [mir]")."""
MANNER = frozenset({"with", "without", "by"})
"""Prepositions whose phrase says how, not for what: "..., with categories for rent" adds
to the instruction before it."""
WHICH = vocabulary("which welche welcher welches cuál cual lequel laquelle quale qual welke")
"""A question that picks one of two things, in each language the manager reads."""
BETWEEN = vocabulary("between zwischen entre tra fra tussen")
"""Words before two things a question compares ("the difference between A and B")."""
CONSTRAINT_VERBS = vocabulary("keep use avoid include don't dont stay limit")
"""Verbs of a clause that says how to answer ("use an analogy", "keep it short"), part of
the instruction before it."""
SUBJECT_PRONOUNS = vocabulary("i you he she we they my our his her their")
"""Words after "when" or "how" that make a clause a statement ("when I bring it up")."""
SINGULAR = {"do": "does", "are": "is", "were": "was", "have": "has", "don't": "doesn't"}
"""A verb of "they" as the verb of the one thing "they" means."""
COPULAS = vocabulary("es está están son est sont ist sind è sono é são")
"""The other languages' "is" and "are": a sentence with one says something of its own."""
BE = vocabulary("is are was were be been")
DEGREES = vocabulary("many much long tall far old big often")
"""Words that make "how" ask a degree ("how tall is ...")."""
PERSONAL = vocabulary("it its they them their he him his she her")
TOPIC_WORDS = vocabulary("about on regarding")
EVENT_NOUNS = vocabulary("battle war siege treaty revolution fall rise invasion sinking")
"""Things that happened to a place ("the battle of Hastings"): "it" after one means it."""
PLACE_PREPOSITIONS = vocabulary("in at on near")
"""Prepositions of a place ("at sea level"), which another place ("in denver") replaces."""
POSSESSIVES = vocabulary("my your our")
ORDINALS = vocabulary(
    "first second third fourth fifth sixth seventh eighth ninth tenth 1st 2nd 3rd 4th 5th"
)
"""Words that say which one of a row ("newton's [second] law")."""
ADVERBS = vocabulary(
    "here there now today exactly actually really usually below above so too very indoors "
    "outdoors inside outside upstairs downstairs abroad"
)
DO_SUPPORT = vocabulary("do does did can could will would should")
ONE_AFTER = vocabulary(
    "need buy get have use want pick which the this that first second third last best each send "
    "rent bring order try write"
)
"""Words after which "one" means a thing named before ("which one", "the second one")."""
ONE_FOR_A_KIND = vocabulary(
    "need buy get have use want during does do is can would will did write make eat become "
    "test build find choose of"
)
"""Words after which "one" means a thing of the kind named before ("do I need [a VPN]")."""
DUMMY_AFTER = vocabulary(
    "ok okay possible safe better best worth necessary true normal bad good hard easy legal "
    "rude wise smart too take takes took cost costs matter matters rain rains snow"
)
"""Words after "it" that make it empty ("is it ok to", "how long does it take")."""
WEATHER = vocabulary("rain raining snow snowing hot cold warm sunny rainy windy humid freezing")
"""Words after "it" that speak of the weather ("is it too hot then?"): it means nothing."""
PEOPLE = vocabulary("he him his she her they them their")
PERSON_PRONOUNS = vocabulary("he him his she her")
"""Pronouns that only ever mean a person."""
PERSON_NOUNS = vocabulary(
    "teen teenager kid kids child children son daughter baby toddler wife husband partner "
    "boyfriend girlfriend mom mother dad father parent parents boss manager friend friends "
    "coworker colleague landlord tenant doctor teacher student students employee employees "
    "customer customers client clients neighbor neighbour roommate grandma grandpa ceo nurse "
    "man men woman women person people adult adults"
)
"""Nouns of people: what "he", "she" or a "they" that is no thing means ("a teen")."""
ANIMALS = vocabulary(
    "dog dogs puppy puppies cat cats kitten kittens rabbit rabbits bunny bunnies hamster "
    "hamsters guinea pig pigs bird birds parrot parrots horse horses cow cows chicken chickens "
    "goat goats sheep ferret ferrets turtle turtles tortoise snake snakes fish lizard lizards "
    "bear bears penguin penguins whale whales shark sharks dolphin dolphins lion lions tiger "
    "tigers elephant elephants monkey monkeys bee bees mouse mice rat rats wolf wolves fox "
    "foxes duck ducks frog frogs deer owl owls"
)
"""Animals, which, like people, are the subjects of what they eat or do ("Can dogs eat X")."""
TOLD_VERBS = vocabulary("ask tell email call text pay thank meet invite")
"""Verbs whose "them" is people ("what questions should I ask them")."""
MOTION = vocabulary("get go travel fly drive move walk come return")
"""Verbs after which "there" is "to" a place."""
PARTICIPLES = vocabulary(
    "built made written known done born found held sold worn drawn given taken seen shown "
    "displayed painted invented discovered designed founded located called used kept allowed"
)
"""Words that end a passive question ("When was the Eiffel Tower built?") after its
subject."""
ABSOLUTES = vocabulary("ideal perfect typical average ultimate right wrong correct proper optimal")
""""the ideal bookshop": a "the" that, like a superlative, needs nothing named before."""
OPENS_A_NAME = vocabulary("the a an my your our his her their this that")
"""Words a thing named in a request opens with ("a Dutch oven", "my passport")."""
MEASURES = vocabulary(
    "population size area height length weight price cost age speed temperature rate number"
)
"""Nouns of how much a thing has, which have no area or history of their own ("the area of
it" after "the population of tokyo": of tokyo)."""
INSTANCE_NOUNS = vocabulary("example examples analogy analogies illustration")
"""Nouns that are always of something ("give two examples"): of the thing before."""
KNOWN_TO_ALL = vocabulary(
    "world weather time news sun moon sky sea ocean earth internet future past day week year "
    "morning night rest same other others first last next best most least difference way ways "
    "government economy president market law planet universe answer question end beginning "
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday weekend winter spring summer fall"
)
"""Nouns that "the" makes definite without a thing named before ("why is the sky blue", "the
best way"): a part with one needs nothing from the part before."""
YES_NO = vocabulary("is are was were do does did can could should would will am has have")


ANSWER_REFERENCE = re.compile(
    r"\b(?:your (?:answer|list|reply|response|poem|story|text|version|suggestions?|ideas?|"
    r"names?|picks?)|(?:that|this|the) (?:answer|list|result|translation)|(?:that|those) (?:names?|"
    r"titles?|poems?|story|recipes?|itinerary|plan|slogan|script|function|code|number|total|"
    r"translation|summary|ideas?|questions)|the above|you (?:used|wrote|gave|suggested|"
    r"picked|chose|made|listed|came up with)|an? (?:shorter|longer|simpler|different) version"
    r"(?! of)|based on (?:that|this|those|these|it)(?=\s*[,?.]|$)|with that in mind|"
    r"(?:convert|round|double|halve|multiply|divide) (?:that|it|this)|which ones|"
    r"how (?:long|much|many) each|each (?:one|of them))\b",
    re.IGNORECASE,
)
"""Words of a part that works on another part's answer ("translate your answer", "explain
the rhyme scheme you used", "a slogan using that name")."""
RELATIVE_WORDS = vocabulary("who which whose whom")
"""Question words that, inside a fragment, open a clause about its thing ("something for my
mom who loves baking")."""
CLAUSE_STARTS = vocabulary("if whether that who")
"""Words that end a thing and begin a clause about it ("[some plants] that do well")."""
HAN_THEN = ("然后", "之后", "接着", "そのあと", "その後", "それから")
"""Words a Chinese or Japanese step on what the one before made opens with."""
HAN_REQUEST = (
    "请", "請", "帮我", "幫我", "给我", "告诉我", "推荐", "写", "解释", "翻译", "介绍", "列出",
    "总结", "比较", "描述",
)  # fmt: skip
"""Words a Chinese instruction opens with ("帮我写一首短诗", "推荐一本书")."""
HAN_ASKING = ("ください", "知りたい", "教えて", "お願い", "想知道", "想了解")
"""Words that make a Japanese or Chinese sentence ask, wherever they stand ("...も知りたいです")."""
HAN_QUESTION = (
    "怎么",
    "什么",
    "哪",
    "多少",
    "多久",
    "为什么",
    "如何",
    "吗",
    "呢",
    "几",
    "どう",
    "何",
    "いつ",
    "どこ",
)
"""Words that make a Chinese or Japanese sentence a question without its mark."""
REQUEST_LEAD = re.compile(
    r"^(?:(?:can|could|would|will) you|please|i(?:'d| would) like you to|i want you to)\s+",
    re.IGNORECASE,
)
"""The polite start of an instruction ("Can you explain ...", "I'd like you to cover ...")."""


def animate(word: str) -> bool:
    """Whether a word names people or animals ("dogs", "a toddler"), the subjects of what
    they eat, do or may ("Can dogs eat grapes? What about cats?")."""
    singular = {word.removesuffix("s"), re.sub(r"ies$", "y", word)}  # "babies"
    return bool(({word} | singular) & (PERSON_NOUNS | ANIMALS))


def superlative(word: str) -> bool:
    """Whether a word reads as a superlative ("best", "tallest"; not "forest", "chest")."""
    return word in ("best", "worst", "most", "least", "first", "last") or (
        len(word) > 5 and word.endswith("est")
    )


_WORD = re.compile(r"[\w'’-]+")


ASKED_AT_THE_END = re.compile(r"\b(?:is|isn't|was) (?:that|this) (?:\w+ )?\w+[.!]*$", re.I)
"""A question a telling sentence ends on, typed without its mark ("... is that bad.")."""
FOLLOWING = re.compile(r"(?i)[a-z]+ (?:this|these|the following)\s*:")
"""An instruction on the text after its colon, with a verb of any kind ("Balance this:")."""
THANKS = re.compile(r"\b(?:appreciated?|thanks?|thx|ty|cheers)\b", re.I)
"""Words of a sentence that only thanks ("Any help appreciated.", "Thanks in advance!")."""
PLACEHOLDER = re.compile(
    r"\b(?:(?:each|all|any|both) of )?(?:these|the following)(?:(?:\s+[\w-]+){0,2}?\s+[\w-]+s)?\b"
    r"|\beach\b$",
    re.I,
)
"""Where a lead leaves the place of its items ("explain [these soccer rules]:", "a definition
of [each]:")."""
HOW_DO_I = re.compile(r"\b(?:how|where) (?:do|can|would|should) (?:i|we|you)$|\bhow to$", re.I)
"""A lead that asks how to do what each item says ("In Python, how do I: a) read a CSV")."""
TELL_ME = re.compile(
    r"\b(?:tell|show|remind) (?:me|us)$|\blet (?:me|us) know$"
    r"|\b(?:explain|describe|define|clarify)(?: (?:to )?(?:me|us))?$|(?:告诉我|解释一下|介绍一下)$",
    re.I,
)
"""A lead that asks to be told each item ("Can you tell me 1) what a Roth IRA is, 2) ...",
"Can you explain:" + "- what a window function is")."""


def words_of(text: str) -> list[str]:
    """Lower-case words; "what's" reads as "what is", "it's" before a preposition or at
    the end as "it is" ("which museum it's in"; not "it's battery")."""
    text = re.sub(r"\b(what|who|where|when|why|how|which)(?:['’]s|s)\b", r"\1 is", text.lower())
    text = re.sub(r"\bit['’]s\b(?=\s+(?:in|on|at|from|for|of|by|about)\b|\W*$)", "it is", text)
    return [word.replace("’", "'") for word in _WORD.findall(text)]
