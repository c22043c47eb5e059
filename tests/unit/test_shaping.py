"""Answer shaping without a model: what of a decoded answer is shown, and where it ends."""

from __future__ import annotations

from modules.engines import FinishReason, Piece
from modules.shaping import AnswerShaper, may_end_here


def shown(
    shaper: AnswerShaper, words: list[str], reason: FinishReason | None = "length"
) -> tuple[str, int]:
    """The text shown for pieces of `words` fed in order, and how many were read before the
    answer was done (all of them where it never was)."""
    out: list[Piece] = []
    for count, word in enumerate(words, start=1):
        out += shaper.feed(Piece(count, word))
        if shaper.done:
            return "".join(p.text for p in out), count
    out += shaper.finish(reason)
    return "".join(p.text for p in out), len(words)


def test_past_its_wrap_up_point_an_answer_ends_at_a_sentence_end() -> None:
    words = ["One", " two.", " Three", " four.", " Five", " six."]
    assert shown(AnswerShaper(8), words) == ("One two. Three four.", 4)


def test_a_shorter_share_wraps_up_sooner() -> None:
    words = ["One.", " Two.", " Three.", " Four."]
    assert shown(AnswerShaper(8, share=0.5), words) == ("One. Two.", 2)


def test_a_list_ends_after_the_items_asked_for() -> None:
    words = ["1. a", "\n", "2. b", "\n", "3. c", "\n", "4. d", "\n"]
    assert shown(AnswerShaper(4, items=2), words) == ("1. a\n2. b", 4)
    assert shown(AnswerShaper(4, items=3), words) == ("1. a\n2. b\n3. c", 6)


def test_a_sentence_unfinished_when_the_budget_runs_out_is_dropped() -> None:
    words = ["One", " two", " three.", " Four", " five", " six", " seven", " eight"]
    assert shown(AnswerShaper(8), words, "length") == ("One two three.", 8)


def test_an_answer_the_model_ended_is_shown_whole() -> None:
    words = ["One", " two", " three.", " Four", " five"]
    assert shown(AnswerShaper(8), words, "stop") == ("One two three. Four five", 5)


def test_trailing_white_space_is_held_until_text_follows_it() -> None:
    shaper = AnswerShaper(100)
    assert [p.text for p in shaper.feed(Piece(1, "Hi"))] == ["Hi"]
    assert shaper.feed(Piece(2, " ")) == []
    assert [p.text for p in shaper.feed(Piece(3, "there"))] == [" ", "there"]
    assert shaper.feed(Piece(4, "\n")) == [] and shaper.finish("stop") == []


def test_prose_without_punctuation_is_shown_whole_at_the_budget() -> None:
    words = ["one", " two", " three", " four", " five", " six"]
    assert shown(AnswerShaper(6), words, "length") == ("one two three four five six", 6)


def test_without_wrap_up_every_piece_shows_and_the_answer_never_ends_early() -> None:
    words = ["One.", " Two.", " Three", " four"]
    assert shown(AnswerShaper(4, wraps_up=False), words) == ("One. Two. Three four", 4)


def test_a_start_is_shown_first_and_read_as_the_answer_s_beginning() -> None:
    shaper = AnswerShaper(2, start="The capital of Spain is")
    opening = shaper.opening([7, 8, 9])
    assert [(p.token_id, p.text) for p in opening] == [(7, ""), (8, ""), (9, shaper.start)]
    assert shown(shaper, [" Madrid.", " It is"]) == (" Madrid.", 1)


def test_a_line_announcing_what_follows_is_shown_only_with_what_follows() -> None:
    words = ["Mix", " it", " well.", " Then:", "\n", "1.", " Bake", "\n"]
    for reason in ("length", "stop"):  # nothing came after it: it is not shown
        assert shown(AnswerShaper(8, items=1), words[:5], reason) == ("Mix it well.", 5)
    assert shown(AnswerShaper(8, items=1), words) == ("Mix it well. Then:\n1. Bake", 8)


def test_an_answer_does_not_end_after_an_announcement() -> None:
    assert not may_end_here("It works like this:\n\n")
    assert may_end_here("It works like this.\n\n")


def test_where_the_model_stopped_too_soon_the_answer_goes_on() -> None:
    short = AnswerShaper(100, items=5)
    shown(short, ["1. a", "\n", "2) b"], "stop")
    assert short.resumption() == "\n3)" and short.listed() == 2
    bullets = AnswerShaper(100, items=3)
    shown(bullets, ["- a", "\n", "- b"], "stop")
    assert bullets.resumption() == "\n-"
    unasked = AnswerShaper(100)  # no number asked: two items may be all there is
    shown(unasked, ["- a", "\n", "- b"], "stop")
    assert unasked.resumption() == ""
    announcing = AnswerShaper(100)
    shown(announcing, ["It", " works", " so:"], "stop")
    assert announcing.resumption() == "\n"
