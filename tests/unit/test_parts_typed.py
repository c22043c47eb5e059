"""Requests as people type them into a chat box: run-on questions, lower case, emoji,
follow-ups that lean on the question before."""

from __future__ import annotations

from modules.manager.parts import split


def test_a_question_run_on_into_the_same_question_splits() -> None:
    found = split("how tall is the eiffel tower how tall is big ben")
    assert found.parts == ("How tall is the eiffel tower?", "How tall is big ben?")


def test_a_question_of_its_own_after_and_splits_even_when_it_names_alternatives() -> None:
    found = split("is there a speed limit in germany and do they drive on the left or right")
    assert found.parts[0] == "Is there a speed limit in germany?"
    assert found.parts[1].startswith("Do they drive on the left or right")
    request = "is it better to lease or buy a car if i drive 20k miles a year"
    assert split(request).parts == (request,)


def test_which_one_after_a_difference_asks_of_its_two_things() -> None:
    found = split(
        "what's the difference between baking soda and baking powder and which one goes in pancakes"
    )
    assert found.parts == (
        "What's the difference between baking soda and baking powder?",
        "Which one goes in pancakes, baking soda or baking powder?",
    )


def test_a_person_pronoun_means_the_person_named_not_the_thing() -> None:
    found = split(
        "whats a good first car for a teen, how much should insurance cost, and should they "
        "get a manual or automatic"
    )
    assert found.parts[2] == "Should a teen get a manual or automatic?"
    found = split("whats a good stretch for lower back pain and how often should i do it")
    assert found.parts[1] == "How often should i do a good stretch?"


def test_an_emoji_ends_a_sentence_that_a_new_clause_follows() -> None:
    found = split(
        "my dog is a 7 year old lab and hes gained weight lately 😕 how much should he eat per day"
    )
    assert found.parts == ("How much should he eat per day?",)
    assert found.context == ("my dog is a 7 year old lab and hes gained weight lately 😕",)
    request = "write a poem about pizza 🍕 and pasta"
    assert split(request).parts == (request,)


def test_a_need_without_its_subject_asks() -> None:
    found = split(
        "need a name for my new kitten. shes grey with white paws!! also what food is best for "
        "kittens"
    )
    assert found.parts == ("Need a name for my new kitten.", "What food is best for kittens?")
    assert found.context == ("shes grey with white paws!!",)
    assert split("I need advice. How do I talk to my boss?").context == ("I need advice.",)
