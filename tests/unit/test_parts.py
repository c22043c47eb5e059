"""The parts of a request: structure in any language, context apart, the user's words kept."""

from __future__ import annotations

import random
import re
import tomllib
from pathlib import Path

import pytest

from cortex.bench.parts import PARTICLES
from modules.manager.languages import language_of
from modules.manager.parts import Split, split
from modules.manager.skeleton import wants_skeleton
from modules.manager.words import (
    DETERMINERS,
    PREPOSITIONS,
    words_of,
)

HAN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
SEEN = Path(__file__).parents[2] / "docs" / "parts-corpus" / "seen.toml"


def seen_requests() -> list[str]:
    return [case["request"] for case in tomllib.loads(SEEN.read_text())["case"]]


def gained_words(request: str, found: Split) -> set[str]:
    """Content words of the parts and context that are not in the request ("its
    population" may become "the population of Peru", "gli orari" "gli orari del
    Colosseo"); Chinese and Japanese by the character, but for Japanese particles."""
    language = language_of(request)
    ties = language.of | language.determiners | language.prepositions | {"and"} | PARTICLES
    said = _words(request) | DETERMINERS | PREPOSITIONS | ties
    return {w for text in (*found.parts, *found.context) for w in _words(text)} - said


def _words(text: str) -> set[str]:
    return {piece for word in words_of(text) for piece in (word if HAN.search(word) else [word])}


def test_no_part_of_the_corpus_gains_a_word() -> None:
    for request in seen_requests():
        assert not gained_words(request, split(request)), request


def test_no_part_of_a_word_salad_gains_a_word() -> None:
    vocabulary = [
        'what', 'is', 'the', 'a', 'of', 'and', ',', ';', '?', '.', 'which', 'how', 'many',
        'one', 'largest', 'it', 'give', 'three', 'in', "'s", '¿', 'y', 'de', 'la', 'et', '1.',
        '(2)', 'first', 'second', ':', 'then', 'what', 'about', 'also', 'its', 'there', 'who',
        'painted', 'tell', 'me',
    ]  # fmt: skip
    rng = random.Random(1)
    for _ in range(3000):
        text = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 14)))
        found = split(text)
        assert 1 <= len(found.parts) <= 4, text
        assert not gained_words(text, found), text


@pytest.mark.parametrize(
    ("request_text", "parts", "context"),
    [
        (
            "I'm planning a trip to Lisbon in May. Can you give me a packing list? And what's "
            "the weather like then?",
            ["Can you give me a packing list?", "What's the weather like then?"],
            ["I'm planning a trip to Lisbon in May."],
        ),
        (
            "Some background: we keep bees.\n- when do we harvest honey\n- how do we feed "
            "them in winter",
            ["When do we harvest honey?", "How do we feed them in winter?"],
            ["Some background: we keep bees."],
        ),
        (
            "I have a few questions. How deep is the Mariana Trench? How was it formed?",
            ["How deep is the Mariana Trench?", "How was the Mariana Trench formed?"],
            ["I have a few questions."],
        ),
    ],
)
def test_sentences_that_ask_nothing_are_context_never_parts(
    request_text: str, parts: list[str], context: list[str]
) -> None:
    found = split(request_text)
    assert [p.lower() for p in found.parts] == [p.lower() for p in parts]
    assert list(found.context) == context
    assert found.instruction(0).startswith(context[0])  # every part's delegate reads it


@pytest.mark.parametrize(
    ("request_text", "count"),
    [
        ("Wie alt ist der Kölner Dom? Wer hat ihn gebaut?", 2),
        ("1. Qu'est-ce qu'un volcan ?\n2. Pourquoi le ciel est-il bleu ?", 2),
        ("Primero, ¿qué es un agujero negro? Segundo, ¿cómo se forma?", 2),
        ("Quanto è alto il Monte Bianco e quanti anni ha la Torre di Pisa?", 2),
        ("Qual é a capital da Austrália e qual é a do Canadá?", 2),
        ("(a) hoe laat is het in Tokio (b) hoe ver is de maan", 2),
        ("富士山はどこにありますか？東京タワーの高さは？", 2),
        ("Erkläre den Unterschied zwischen Wetter und Klima.", 1),
        ("¿Cuál es la diferencia entre un lago y una laguna?", 1),
    ],
)
def test_requests_in_other_languages_split_by_their_structure(
    request_text: str, count: int
) -> None:
    assert len(split(request_text).parts) == count, split(request_text)


@pytest.mark.parametrize(
    ("request_text", "code"),
    [
        ("Describe tea and describe coffee.", "en"),  # "describe" is Spanish as well
        ("Compare tea and coffee, then describe both.", "en"),
        ("Describe el mar y compara los ríos.", "es"),
        ("Décris la mer et compare les rivières.", "fr"),
    ],
)
def test_words_two_languages_share_do_not_decide_the_language(request_text: str, code: str) -> None:
    assert language_of(request_text).code == code


@pytest.mark.parametrize(
    ("request_text", "depends_on"),
    [
        ("Write a haiku about the sea, then give it a title.", ((), (0,))),
        ("Suggest a houseplant for a dark room and tell me how to water it.", ((), (0,))),
        ("Who designed the Sydney Opera House and when was it finished?", ((), ())),
        ("Name a fruit, write a poem about it and name a tree.", ((), (0,), ())),
        ("Nenn mir einen berühmten Maler und beschreib eines seiner Bilder.", ((), (0,))),
        ("Propose un nom pour mon chien et écris une chanson sur cette idée.", ((), (0,))),
        ("Dame una receta de sopa y dime sus calorías.", ((), (0,))),
    ],
)
def test_a_part_that_works_on_what_another_makes_depends_on_it(
    request_text: str, depends_on: tuple[tuple[int, ...], ...]
) -> None:
    assert split(request_text).depends_on == depends_on


def test_a_pronoun_that_names_a_thing_of_the_request_is_completed_from_it() -> None:
    found = split("What's the capital of Peru and what is its population?")
    assert found.parts == ("What's the capital of Peru?", "What is the population of Peru?")


@pytest.mark.parametrize(
    ("request_text", "skeleton"),
    [
        ("Explain how vaccines train the immune system.", True),
        ("Give me advice on starting a vegetable garden.", True),
        ("Write an essay about the history of the printing press.", True),
        ("Explain in one sentence what a vaccine is.", False),
        ("Write a Python function that reverses a string.", False),
        ("What is 17 x 23?", False),
        ("Who wrote Middlemarch?", False),
        ("Write a haiku about autumn.", False),
        ("Translate 'good morning' into German.", False),
        ("Explícame cómo funciona un motor eléctrico.", True),
        ("Explain in detail how python's garbage collection works.", True),
        ("Give me a thorough explanation of how a transistor works.", True),
        ("Briefly, in detail: what is a transistor?", False),
        ("What are the best practices for naming database tables?", True),
    ],
)
def test_the_router_gives_open_ended_requests_a_skeleton(request_text: str, skeleton: bool) -> None:
    assert wants_skeleton(request_text, language_of(request_text)) is skeleton


@pytest.mark.parametrize(
    ("request_text", "parts"),
    [
        ("I want a plan to lose weight and build muscle", 1),
        ("Write a story about a cat and a mouse who become friends", 1),
        ("give me a recipe with chicken, rice and broccoli", 1),
        ("Who is taller, Messi or Ronaldo?", 1),
        ("Is it better to rent or buy in Berlin?", 1),
        ("Translate 'bread and butter' to Spanish", 1),
        ("If a ticket costs $12 after tax, what was the price before tax?", 1),
        ("Name three fruits and three vegetables that are orange", 2),
        ("Who invented the telephone? And the light bulb?", 2),
        ("I am vegan. What should I eat for breakfast? Lunch? Dinner?", 3),
        ("Is coffee bad for you? What about tea?", 2),
        ("how tall is an adult giraffe how much does it weigh", 2),
    ],
)
def test_things_joined_by_and_split_only_where_each_asks_on_its_own(
    request_text: str, parts: int
) -> None:
    assert len(split(request_text).parts) == parts, split(request_text)


def test_a_fragment_takes_the_frame_of_the_question_before() -> None:
    assert split("Is coffee bad for you? What about tea?").parts[1] == "Is tea bad for you?"
    assert split("What should I eat for breakfast? Lunch?").parts[1] == (
        "What should I eat for lunch?"
    )
    later = split("Quelle heure est-il à New York quand il est midi à Paris ? Et à Tokyo ?")
    assert " à Tokyo" in later.parts[1] and "à À" not in later.parts[1]


@pytest.mark.parametrize(
    ("request_text", "second"),
    [
        ("¿Qué es la paella y cómo se hace?", "¿Cómo se hace la paella?"),
        ("¿Cuándo nació Picasso y dónde murió?", "¿Dónde murió Picasso?"),
        ("Quando è stato costruito il Colosseo e quanto costa?", "Quanto costa il Colosseo?"),
        ("¿Dónde vives y qué haces?", "¿Qué haces?"),  # nothing named: nothing added
    ],
)
def test_a_question_that_leaves_its_subject_out_takes_the_first_ones(
    request_text: str, second: str
) -> None:
    assert split(request_text).parts[1] == second


def test_a_lead_in_that_asks_to_be_told_stays_with_each_question() -> None:
    whole = "Kannst du mir erklären, wie eine Solaranlage funktioniert?"
    assert split(whole).parts == (whole,)
    assert split("Kannst du mir sagen, wo der Bahnhof ist und wann der Zug fährt?").parts == (
        "Kannst du mir sagen, wo der Bahnhof ist?",
        "Kannst du mir sagen, wann der Zug fährt?",
    )
    assert split("¿Me puedes decir dónde está la estación y cuándo sale el tren?").parts == (
        "¿Me puedes decir dónde está la estación?",
        "¿Me puedes decir cuándo sale el tren?",
    )


@pytest.mark.parametrize(
    "request_text",
    [
        "What is the area of Chile, and what about its capital?",
        "What is the area of Chile? What about its capital?",
    ],
)
def test_what_about_its_thing_asks_the_same_of_that_thing(request_text: str) -> None:
    assert split(request_text).parts == (
        "What is the area of Chile?",
        "What is the area of Chile's capital?",
    )


@pytest.mark.parametrize(
    ("request_text", "second"),
    [
        (
            "Is it safe to swim in the sea when it rains? And in a lake?",
            "Is it safe to swim in a lake when it rains?",
        ),
        (
            "What do flights to Oslo cost when I book a month ahead? And to Rome?",
            "What do flights to Rome cost when I book a month ahead?",
        ),
        (
            "Wie warm ist es in Rom, wenn es in Berlin schneit? Und in Madrid?",
            "Wie warm ist es in Madrid, wenn es in Berlin schneit?",
        ),
    ],
)
def test_a_fragment_names_a_new_thing_for_the_main_clause_not_its_when_clause(
    request_text: str, second: str
) -> None:
    assert split(request_text).parts[1] == second


def test_a_pasted_text_is_context_even_when_it_asks_something() -> None:
    found = split(
        "Email from my boss:\n\nCan you cover the Henderson account on Monday? Sarah is "
        "away.\n\nhow do I say no politely? and should I ask for a raise"
    )
    assert len(found.parts) == 2 and "Can you cover" in found.context[-1]


def test_with_a_picture_every_part_may_say_it() -> None:
    """Every part reads the picture's description, so "it" needs no part before it."""
    found = split("what is this, and what does it usually eat?", shown=True)
    assert found.parts == ("What is this?", "What does it usually eat?")
    assert found.depends_on == ((), ())


def test_a_thing_named_before_completes_a_bare_the() -> None:
    assert split("What is ibuprofen? What are the side effects?").parts[1] == (
        "What are the side effects of ibuprofen?"
    )
    assert split("Who wrote Hamlet? When did the author die?").parts[1] == (
        "When did the author of Hamlet die?"
    )
    assert split("What's the population of Tokyo? What is the main airport?").parts[1] == (
        "What is the main airport of Tokyo?"
    )
    assert split("1. what is sourdough\n2. best flour?").parts[1] == "Best flour for sourdough?"


def test_a_the_that_needs_nothing_before_stays_as_typed() -> None:
    for request in (
        "Why is the sky blue? Why is the sea salty?",
        "What is the capital of France? What is the boiling point of water?",
        "What is ibuprofen? What is the best way to store medicine?",
    ):
        assert split(request).parts == tuple(
            f"{s.strip()}?" for s in request.split("?") if s.strip()
        ), request


def test_a_the_meaning_what_a_part_makes_waits_for_that_part() -> None:
    found = split("Suggest a houseplant. How much light does the plant need?")
    assert found.parts[1] == "How much light does the plant need?"
    assert found.depends_on == ((), (0,))


def test_a_thing_named_before_completes_a_question_in_other_languages() -> None:
    assert split("Qu'est-ce que le Louvre ? Quels sont les horaires ?").parts[1] == (
        "Quels sont les horaires du Louvre ?"
    )
    assert split("¿Dónde está Madrid? ¿Cuál es la población?").parts[1] == (
        "¿Cuál es la población de Madrid?"
    )
    assert split("故宫在哪里？是什么时候建的？").parts[1] == "故宫是什么时候建的？"
    assert split("东京有多少人口？北京呢？").parts[1] == "北京有多少人口？"


def test_what_about_a_word_asks_the_same_of_that_word() -> None:
    found = split("How do you say hello in Greek? What about goodbye? And thank you?")
    assert found.parts == (
        "How do you say hello in Greek?",
        "How do you say goodbye in Greek?",
        "How do you say thank you in Greek?",
    )


def test_a_sentence_opening_with_or_is_an_alternative_of_the_question_before() -> None:
    found = split("My phone is slow. Should I reset it? Or buy a new one?")
    assert found.parts == ("Should I reset it, or buy a new one?",)


def test_a_bare_the_leans_on_the_context_before_the_part_before() -> None:
    found = split("I have two questions. How long is a triathlon? Who holds the record?")
    assert found.parts[1] == "Who holds the record of a triathlon?"
    article = "The mayor of Springfield opened a new library on Monday, funded by the council. "
    found = split(f"Here is an article: {article * 3}Summarise the article. Who is the mayor?")
    assert found.parts == ("Summarise the article.", "Who is the mayor?")


def test_a_query_typed_as_phrases_splits_like_a_question() -> None:
    assert split("density of gold and density of silver").parts == (
        "Density of gold.",
        "Density of silver.",
    )
    assert split("melting point of tin and of lead").parts == (
        "Melting point of tin.",
        "Melting point of lead.",
    )
    for whole in ("salt and pepper", "pros and cons of solar panels", "bread, milk and eggs"):
        assert split(whole).parts == (whole,)


def test_an_instruction_after_a_polite_one_keeps_its_lead_and_its_thing() -> None:
    found = split("Can you explain inheritance and give a Java example?")
    assert found.parts == (
        "Can you explain inheritance?",
        "Can you give a Java example of inheritance?",
    )
    assert split("Please define deflation and give two examples.").parts[1] == (
        "Give two examples of deflation."
    )


def test_it_means_the_thing_before_unless_it_is_empty() -> None:
    assert split("What is GDP? Why does it matter?").parts[1] == "Why does GDP matter?"
    assert split("how many calories in an avocado and is it good for weight loss").parts[1] == (
        "Is an avocado good for weight loss?"
    )
    found = split("What's a 529 plan? How much can I put in per year? Is it better than an IRA?")
    assert found.parts[2] == "Is a 529 plan better than an IRA?"
    request = "Can I eat raw cookie dough? Is it safe to eat raw eggs?"
    assert split(request).parts[1] == "Is it safe to eat raw eggs?"
    found = split("How do I get to Porto? How long does it take?")
    assert found.parts[1] == "How long does it take to get to Porto?"
    found = split("1. What is the capital of Chile? 2. What language do they speak there?")
    assert found.parts[1] == "What language do they speak in Chile?"
    assert split("什么是区块链？它有哪些用途？").parts[1] == "区块链有哪些用途？"
    assert split("a) who wrote Dracula / b) when was it published").parts == (
        "Who wrote Dracula?",
        "When was Dracula published?",
    )


def test_a_step_after_that_or_with_its_reason_waits_for_the_step_before() -> None:
    found = split("Write a cover letter for a barista job. After that, make a shorter version.")
    assert found.parts[1] == "Make a shorter version."
    assert found.depends_on == ((), (0,))
    found = split("list 3 names for a bakery then pick the best one and explain why")
    assert found.parts[1] == "Pick the best one and explain why."
    assert found.depends_on == ((), (0,))


def test_what_a_request_tells_is_context_and_its_lists_stay_in_it() -> None:
    story = "My cat scratches the sofa, and when I stop her she bites"
    found = split(f"I need some help. {story}, so how do I train her?")
    assert found.parts == ("How do I train her?",)
    assert found.context == ("I need some help.", f"{story}.")
    essay = "Write a report on energy in Europe, including solar, wind, and hydro, with a summary."
    assert split(essay).parts == (essay,)


def test_a_subject_left_out_or_a_phrase_after_without_is_completed_right() -> None:
    assert split("¿Qué es la inflación y por qué es importante?").parts[1] == (
        "¿Por qué es importante la inflación?"
    )
    found = split("how do I remove a stain without bleach and how do I stop it coming back")
    assert found.parts[1] == "How do I stop a stain coming back?"


def test_one_a_kind_and_which_one_of_two_things_are_completed() -> None:
    found = split("Can you explain what a Rust macro is? Also, how do I write one that loops?")
    assert found.parts[1] == "How do I write a Rust macro that loops?"
    found = split("what's the difference between a lease and a loan. which one is cheaper")
    assert found.parts[1] == "Which one is cheaper, a lease or a loan?"
    assert split("Do I need a visa for Chile, and how do I get one?").parts[1] == (
        "How do I get a visa?"
    )
    found = split("how much protein is in an egg, and is it ok to eat one every day?")
    assert found.parts[1] == "Is it ok to eat an egg every day?"


def test_a_list_of_aspects_stays_in_its_instruction_and_steps_after_a_semicolon() -> None:
    request = (
        "Can you explain how a compiler works, including parsing, type checking, and how "
        "code is generated?"
    )
    assert split(request).parts == (request,)
    found = split("Write a limerick about tea; after that, write a title for it.")
    assert found.parts == ("Write a limerick about tea.", "Write a title for it.")
    assert found.depends_on == ((), (0,))
    found = split("explain tides simply. then separately, what's the boiling point of ethanol")
    assert found.parts[1] == "What's the boiling point of ethanol?"
    assert found.depends_on == ((), ())


def test_a_reference_never_takes_a_wrong_thing() -> None:
    found = split("how do I rebase two branches in git? how do I undo it?")
    assert found.parts[1] == "How do I undo it?" and found.depends_on == ((), (0,))
    assert split("Is Lisbon busy in July? Is it too hot then?").parts[1] == "Is it too hot then?"
    found = split("1 best trail shoes\n2 how often to replace them\n3 are carbon plates worth it")
    assert found.parts[1:] == (
        "How often to replace best trail shoes?",
        "Are carbon plates worth it?",
    )
    found = split("Translate 'thank you' into Korean. What's the polite version?")
    assert found.parts[1] == "What's the polite version of 'thank you'?"


def test_every_split_has_one_dependency_tuple_per_part() -> None:
    for request in ("Explain how tides work.", "What is a VPN and do I need one?"):
        found = split(request)
        assert len(found.depends_on) == len(found.parts), request


def test_a_follow_up_keeps_what_follows_its_thing_and_works_on_both_answers() -> None:
    found = split("what's a good substitute for butter in cookies? and for sugar?")
    assert found.parts[1] == "What's a good substitute for sugar in cookies?"
    found = split("Write a haiku about snow; after that, write a title for it and translate both.")
    assert found.depends_on == ((), (0,), (0, 1))
    found = split("犬にぶどうをあげても大丈夫ですか？それと、りんごはどうですか？")
    assert found.parts[1] == "犬にりんごをあげても大丈夫ですか？"


def test_they_after_a_question_for_things_of_a_kind_wait_for_its_answer() -> None:
    found = split("What vegetables grow well in shade? How often should I water them?")
    assert found.parts[1] == "How often should I water them?"
    assert found.depends_on == ((), (0,))
    assert split("Why do owls hoot? Why do they hunt at night?").parts[1] == (
        "Why do owls hunt at night?"
    )


def test_follow_ups_typed_in_lower_case_ask_the_same_of_their_thing() -> None:
    assert split("what is inflation. what about deflation").parts == (
        "What is inflation.",
        "What is deflation?",
    )
    assert split("how often should i clean my fridge? and the oven?").parts[1] == (
        "How often should i clean the oven?"
    )
    assert split("¿Quién fue José Martí? ¿Y Rubén Darío?").parts[1] == "¿Quién fue Rubén Darío?"


def test_how_to_answer_and_its_details_stay_with_the_instruction() -> None:
    for request in (
        "Plan a wedding for 120 guests with a $25,000 budget, with a vegetarian menu.",
        "solve x^2 = 9 and simplify",
        "explain black holes to a child, use a metaphor and keep it short",
        "I need a study plan for chemistry — topics, a weekly schedule, and practice tests.",
        "Erklär mir bitte, wie ein Kühlschrank funktioniert, und zwar Schritt für Schritt.",
    ):
        assert len(split(request).parts) == 1, request


def test_what_a_request_tells_or_asks_for_in_other_scripts_lands_right() -> None:
    found = split("When I run npm install I get EACCES. What does that mean?")
    assert found.parts == ("What does that mean?",)
    assert found.context == ("When I run npm install I get EACCES.",)
    found = split("敬語の使い方を教えてください。それから、例文を二つ作ってください。")
    assert found.parts[1] == "例文を二つ作ってください。"
    assert found.depends_on == ((), (0,))
    found = split("• What were the main causes? • Who was Bismarck? • How did it end?")
    assert found.parts[2] == "How did it end?"


def test_steps_that_work_on_earlier_answers_depend_on_the_right_ones() -> None:
    found = split("Write a limerick about a cat and one about a dog, then translate both")
    assert found.depends_on[-1] == (0, 1)
    found = split(
        "explain the chain rule. then give me 2 exercises on it. then the solutions to them"
    )
    assert found.parts[2] == "Give me the solutions to them."
    assert found.depends_on[2] == (1,)
    found = split("Write a poem about the sea. Then a haiku about the moon.")
    assert found.parts[1] == "Write a haiku about the moon." and found.depends_on[1] == ()


def test_which_after_two_things_compared_asks_which_of_them() -> None:
    found = split("1. what is a bond / 2. how is it different from a stock / 3. which is riskier")
    assert found.parts[2] == "Which is riskier, a bond or a stock?"
    found = split("¿Cuál es la diferencia entre un río y un arroyo? ¿Cuál es más largo?")
    assert found.parts[1] == "¿Cuál es más largo, un río o un arroyo?"


def test_questions_of_the_quality_sets_keep_their_parts() -> None:
    found = split(
        "In which country are the pyramids of Giza, and in which country is the Eiffel Tower?"
    )
    assert found.parts == (
        "In which country are the pyramids of Giza?",
        "In which country is the Eiffel Tower?",
    )
    found = split("What gas do plants take in from the air, and what gas do they give off?")
    assert found.parts[1] == "What gas do plants give off?"
    found = split(
        "Suggest a name for a bakery, write a slogan for a gym and describe the ideal cafe."
    )
    assert found.parts[2] == "Describe the ideal cafe." and found.depends_on[2] == ()


def test_items_instructions_and_relative_clauses_keep_their_meaning() -> None:
    assert split("Is it safe to eat raw sushi? and what about raw oysters?").parts[1] == (
        "Is it safe to eat raw oysters?"
    )
    found = split("a) What is the GDP of Spain? b) And Italy? c) Which is bigger?")
    assert found.parts[1] == "What is the GDP of Italy?"
    found = split("What's the difference between HTTP and FTP, and which one does email use?")
    assert found.parts[1] == "Which one does email use, HTTP or FTP?"
    for whole in (
        "Can you recommend a phone that's small, has a good camera, and costs under $500?",
        "Write a short essay on the causes of WW2. Use a neutral tone and include a conclusion.",
        "Write a bio for my website. Keep it under 100 words and make it friendly.",
    ):
        assert len(split(whole).parts) == 1, whole
    found = split("- what temp to roast a chicken\n- how long does cooked pasta last in the fridge")
    assert found.parts[1] == "How long does cooked pasta last in the fridge?"


def test_items_after_a_colon_with_dashes_are_parts() -> None:
    found = split("errands: - book a dentist visit - renew my passport - buy printer ink")
    assert found.parts == ("Book a dentist visit.", "Renew my passport.", "Buy printer ink.")
    assert found.context == ("errands:",)
    note = "Note: the Spider-Man film runs 2-3 hours - is that normal?"
    assert len(split(note).parts) == 1
