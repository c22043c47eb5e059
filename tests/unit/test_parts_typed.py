"""Requests as people type them into a chat box: run-on questions, lower case, emoji,
follow-ups that lean on the question before."""

from __future__ import annotations

from modules.manager.languages import language_of
from modules.manager.parts import split


def test_a_question_run_on_into_the_same_question_splits() -> None:
    found = split("how tall is the eiffel tower how tall is big ben")
    assert found.parts == ("How tall is the eiffel tower?", "How tall is big ben?")


def test_a_question_of_its_own_after_and_splits_even_when_it_names_alternatives() -> None:
    found = split("is there a speed limit in germany and do they drive on the left or right")
    assert found.parts[0] == "Is there a speed limit in germany?"
    assert found.parts[1] == "Do they drive on the left or right in germany?"
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


def test_a_follow_up_that_names_only_a_new_thing_takes_the_question_before() -> None:
    found = split("what age can babies have peanut butter. also honey?")
    assert found.parts[1] == "What age can babies have honey?"
    found = split("how do I get wine stains out of a carpet and also out of a white shirt")
    assert found.parts[1] == "How do I get wine stains out of a white shirt?"
    found = split("write a short poem about autumn and another about winter")
    assert found.parts == ("Write a short poem about autumn.", "Write a short poem about winter.")
    found = split("Can you recommend a good sci-fi book? And a fantasy one too?")
    assert found.parts[1] == "Can you recommend a fantasy book too?"
    found = split("how many calories in an avocado and how much protein")
    assert found.parts[1] == "How much protein in an avocado?"


def test_how_long_it_takes_asks_of_what_the_question_before_does() -> None:
    found = split("How do I get from Rome to Florence by train and how long does it take?")
    assert found.parts[1] == "How long does it take to get from Rome to Florence by train?"
    found = split("What main dish can I make for six? dessert?")
    assert found.parts[1] == "What dessert can I make for six?"


def test_inline_items_marked_with_a_dash_or_a_q_number_split() -> None:
    found = split("1- recommend a good beginner dslr 2- a good lens for portraits 3- a tripod")
    assert found.parts == (
        "Recommend a good beginner dslr.",
        "Recommend a good lens for portraits.",
        "Recommend a tripod.",
    )
    found = split("Q1: how many players on a rugby team? Q2: how long is a match?")
    assert found.parts == ("How many players on a rugby team?", "How long is a match?")
    assert found.context == ()
    found = split("Step 1: explain what SEO is. Step 2: list 5 free SEO tools.")
    assert found.parts == ("Explain what SEO is.", "List 5 free SEO tools.")


def test_what_about_in_other_languages_asks_the_question_before_of_the_new_thing() -> None:
    found = split("Wie viel kostet die Gründung einer GmbH? und was ist mit einer UG?")
    assert found.parts[1] == "Wie viel kostet die Gründung einer UG?"
    found = split("Wat kost een fiets in Amsterdam? En hoe zit het met Utrecht?")
    assert found.parts[1] == "Wat kost een fiets in Utrecht?"
    found = split("Quali sono i sintomi dell'influenza? e del covid?")
    assert found.parts[1] == "Quali sono i sintomi del covid?"
    found = split("Quanto tempo leva pra ir de Lisboa ao Porto de trem? e de ônibus?")
    assert found.parts[1] == "Quanto tempo leva pra ir de Lisboa ao Porto de ônibus?"
    found = split("Necesito una receta de paella y también una de sangría sin alcohol")
    assert found.parts[1] == "Necesito una receta de sangría sin alcohol."


def test_an_english_frame_never_reads_words_of_another_language() -> None:
    request = "Was kostet ein Hund im Monat? Und was ist mit einer Katze?"
    assert split(request).parts[1].startswith("Was kostet einer Katze")


def test_a_step_with_a_verb_of_arithmetic_waits_for_the_answer_before() -> None:
    found = split("What's 15% of 240? Then divide that by 4.")
    assert found.parts == ("What's 15% of 240?", "Divide that by 4.")
    assert found.depends_on == ((), (0,))


def test_a_question_after_an_adverb_is_a_part_not_context() -> None:
    found = split("How do I deploy my app to a server? and roughly what would it cost per month")
    assert found.parts[1] == "Roughly what would my app cost per month?"


def test_explain_like_im_new_says_how_to_answer_the_question_before() -> None:
    request = "how does the stock market work? explain like im new to investing"
    assert split(request).parts == (request,)
    request = "What is a mortgage? Explain in simple terms."
    assert len(split(request).parts) == 1


def test_which_after_two_definitions_asks_of_both() -> None:
    found = split("what is a 401k, what is an ira, and which should i put money in first")
    assert found.parts[2] == "Which should i put money in first, a 401k or an ira?"
    found = split("• what is git rebase\n• what is git merge\n• which one should my team use")
    assert found.parts[2] == "Which one should my team use, git rebase or git merge?"


def test_that_name_waits_for_the_part_that_makes_the_name() -> None:
    found = split("come up with a name for a coffee shop and write a slogan using that name")
    assert found.depends_on == ((), (0,))


def test_a_fragment_for_someone_asks_the_first_question_again() -> None:
    found = split("best time of year to visit japan, and for kids?")
    assert found.parts == (
        "Best time of year to visit japan?",
        "Best time of year to visit japan for kids?",
    )
    request = "write a story about a dog, and for kids"
    assert split(request).parts == (request,)


def test_each_and_amounts_of_the_same_shape_are_completed() -> None:
    found = split("explain the difference between TCP and UDP and when would I use each")
    assert found.parts[1] == "When would I use each, TCP or UDP?"
    found = split("how many ounces in a cup, cups in a quart, tablespoons in a cup?")
    assert found.parts == (
        "How many ounces in a cup?",
        "How many cups in a quart?",
        "How many tablespoons in a cup?",
    )


def test_someone_who_does_something_is_no_thing() -> None:
    found = split(
        "Our landlord kept our deposit. What are our options? "
        "Is there a deadline for them to return it?"
    )
    assert found.parts[1] == "Is there a deadline for them to return it?"


def test_a_question_after_and_is_its_own_even_after_a_verb_of_the_first() -> None:
    found = split("what causes a slow draining sink and whats the cheapest way to fix it")
    assert found.parts[1] == "Whats the cheapest way to fix a slow draining sink?"
    found = split("how much does it cost to replace brake pads, and how do i know when to")
    assert found.parts[1] == "How do i know when to?"


def test_also_or_a_second_question_run_on_without_punctuation_splits() -> None:
    found = split("how do i reverse a list in python also how do i sort a dict by value")
    assert found.parts == (
        "How do i reverse a list in python?",
        "How do i sort a dict by value in python?",
    )
    found = split("whats a good road bike under 1000 what frame size do i need for 5'9")
    assert found.parts == (
        "Whats a good road bike under 1000?",
        "What frame size do i need for 5'9?",
    )


def test_a_repeated_question_keeps_the_phrase_the_first_ends_with() -> None:
    found = split("how do you say thank you in japanese and how do you say sorry")
    assert found.parts[1] == "How do you say sorry in japanese?"
    found = split("What gas do plants take in from the air, and what gas do they give off?")
    assert found.parts[1] == "What gas do plants give off?"


def test_do_it_again_with_another_tool_and_which_of_two_compared() -> None:
    found = split("how do i center a div with flexbox and how do i do it with grid")
    assert found.parts[1] == "How do i center a div with grid?"
    found = split("hows a 401k different from a pension and which is better")
    assert found.parts[1] == "Which is better, a 401k or a pension?"


def test_is_it_worth_reading_means_the_book() -> None:
    found = split("Who wrote Pride and Prejudice? Is it worth reading today?")
    assert found.parts[1] == "Is Pride and Prejudice worth reading today?"
    request = "is it worth buying a house now or should i wait"
    assert split(request).parts == (request,)


def test_a_lead_that_asks_for_help_with_a_thing_is_context_for_its_items() -> None:
    found = split("i need help w my resume\n1 should i include a photo\n2 should i list my gpa")
    assert found.context == ("i need help w my resume",)
    assert found.parts == ("Should i include a photo?", "Should i list my gpa?")


def test_a_verb_and_its_subject_after_and_ask_on_their_own_in_other_languages() -> None:
    found = split(
        "Hoe schrijf ik me in bij de gemeente en moet ik ook mijn zorgverzekering aanpassen?"
    )
    assert found.parts == (
        "Hoe schrijf ik me in bij de gemeente?",
        "Moet ik ook mijn zorgverzekering aanpassen?",
    )
    found = split("Comment aller à Lyon en train et dois-je réserver à l'avance ?")
    assert found.parts[1] == "Dois-je réserver à l'avance?"
    request = "Schreib eine kurze Geburtstagskarte für meine Oma, dass ich sie vermisse."
    assert split(request).parts == (request,)
    found = split("Mi consigli un libro e un film sulla seconda guerra mondiale?")
    assert found.parts[1] == "Mi consigli un film sulla seconda guerra mondiale?"


def test_a_chinese_comma_before_also_ends_a_question() -> None:
    found = split("怎么学好英语口语，还有雅思大概要准备多久？")
    assert found.parts == ("怎么学好英语口语？", "雅思大概要准备多久？")


def test_a_thing_of_a_topic_part_is_tied_to_it_not_to_what_a_step_makes() -> None:
    found = split(
        "i) define photosynthesis ii) write the balanced equation iii) name the two main stages"
    )
    assert found.parts[2] == "Name the two main stages of photosynthesis."
    assert found.depends_on == ((), (), ())
    found = split("Suggest a houseplant for a dark room. How much light does the plant need?")
    assert found.depends_on == ((), (0,))


def test_a_phrase_both_things_share_ties_neither_to_the_other() -> None:
    found = split("recommend me a thriller and a comedy from the 90s")
    assert found.parts == (
        "Recommend me a thriller from the 90s.",
        "Recommend me a comedy from the 90s.",
    )
    assert found.depends_on == ((), ())


def test_the_translation_after_a_translation_waits_for_it() -> None:
    found = split(
        "translate 'where is the station' into spanish and then break down the grammar of "
        "the translation"
    )
    assert found.parts[1] == "Break down the grammar of the translation."
    assert found.depends_on == ((), (0,))


def test_spanish_typed_without_accents_splits_and_keeps_its_question_marks() -> None:
    found = split("hola! cuanto cuesta un billete de metro en madrid y como se compra")
    assert found.parts[0] == "Cuanto cuesta un billete de metro en madrid?"
    assert len(found.parts) == 2 and found.context == ("hola!",)
    found = split("Tengo un perro. ¿Cuánto debe comer al día? ¿Y cuántas veces hay que sacarlo?")
    assert found.parts[1] == "¿Cuántas veces hay que sacarlo?"
    found = split("me puedes recomendar una película de terror y una comedia para el finde?")
    assert found.parts[0] == "Me puedes recomendar una película de terror para el finde?"
    found = split("can u recommend a book and a podcast about stoicism")
    assert found.parts[0] == "Can u recommend a book about stoicism?"


def test_spanish_follow_ups_take_the_right_thing_or_none() -> None:
    found = split("¿Dónde puedo comprar entradas para el Prado y cuánto cuestan?")
    assert found.parts[1] == "¿Cuánto cuestan?"
    assert split("¿Dónde nació Cervantes y cuándo murió?").parts[1] == "¿Cuándo murió Cervantes?"
    found = split("¿Qué tal el clima en Bogotá en diciembre? ¿y en Medellín?")
    assert found.parts[1] == "¿Qué tal el clima en Medellín?"
    found = split("Escribe un poema sobre el mar y luego tradúcelo al inglés")
    assert found.parts == ("Escribe un poema sobre el mar.", "Tradúcelo al inglés.")
    assert found.depends_on == ((), (0,))


def test_items_that_name_things_take_the_place_the_lead_leaves() -> None:
    found = split("Give me recipes for:\n- lasagna\n- tiramisu")
    assert found.parts == ("Give me recipes for lasagna.", "Give me recipes for tiramisu.")
    assert found.context == ()
    found = split("Can you explain these terms simply:\n• inflation\n• recession")
    assert found.parts == ("Can you explain inflation simply?", "Can you explain recession simply?")
    found = split("Quick quiz answers please:\n1. largest planet\n2. smallest country")
    assert found.parts == ("Largest planet.", "Smallest country.")


def test_hash_and_spaced_dash_numbers_mark_items() -> None:
    found = split(
        "#1 best way to clean a cast iron pan\n#2 how to re-season it\n#3 can I use soap on it"
    )
    assert found.parts == (
        "Best way to clean a cast iron pan.",
        "How to re-season a cast iron pan?",
        "Can I use soap on a cast iron pan?",
    )
    found = split("1 - how long to boil an egg\n2 - how do I stop the eggs cracking")
    assert found.parts == ("How long to boil an egg?", "How do I stop the eggs cracking?")


def test_a_closing_thanks_is_context() -> None:
    found = split(
        "1. How do I roll back the update?\n2. Should I reinstall Windows?\nAny help appreciated."
    )
    assert found.parts == ("How do I roll back the update?", "Should I reinstall Windows?")
    assert found.context == ("Any help appreciated.",)
    found = split("how do you say thank you in japanese. and how do you write it in hiragana")
    assert len(found.parts) == 2


def test_what_about_after_a_list_item_takes_its_frame_or_joins_it() -> None:
    found = split("a) how many calories in a banana b) how about an apple")
    assert found.parts[1] == "How many calories in an apple?"
    found = split("1 - how long to boil an egg for a runny yolk\n2 - for a hard yolk")
    assert found.parts[1] == "How long to boil an egg for a hard yolk?"
    found = split("how do I get red wine out of a carpet? what about coffee")
    assert found.parts == ("how do I get red wine out of a carpet? what about coffee",)


def test_them_after_ask_is_people_and_if_clauses_are_no_thing() -> None:
    found = split(
        "1) What are common PM interview questions?\n2) What should I ask them at the end?"
    )
    assert found.parts[1] == "What should I ask them at the end?"
    found = split("1. How do I check if it's the motor?\n2. Can I replace it myself?")
    assert found.parts[1] == "Can I replace it myself?"
    found = split("1) Explain git merge and git rebase\n2) When should I use each?")
    assert found.parts[1] == "When should I use each?"
    found = split(
        "1) Explain the difference between git merge and git rebase\n2) When should I use each?"
    )
    assert found.parts[1] == "When should I use each, git merge or git rebase?"


def test_follow_ups_in_other_languages_take_the_place_of_a_thing_like_them() -> None:
    found = split("Quantas vezes o Benfica foi campeão europeu? E o Porto?")
    assert found.parts[1] == "Quantas vezes o Porto foi campeão europeu?"
    assert split("Quanti scudetti ha vinto la Juventus? E l'Inter?").parts[1] == (
        "Quanti scudetti ha vinto l'Inter?"
    )
    assert split("Meu cachorro pode comer banana? E manga?").parts[1] == (
        "Meu cachorro pode comer manga?"
    )
    found = split("quanto tempo leva pra cozinhar feijão na panela de pressão? e grão de bico?")
    assert found.parts[1] == "Quanto tempo leva pra cozinhar grão de bico na panela de pressão?"
    found = split("Comment faire une capture d'écran sur Windows 11 ? Et sur Mac ?")
    assert found.parts[1] == "Comment faire une capture d'écran sur Mac?"
    found = split(
        "je peux lui donner du doliprane ? et à partir de quand je dois appeler le médecin ?"
    )
    assert found.parts[1] == "À partir de quand je dois appeler le médecin ?"


def test_instructions_and_steps_in_other_languages() -> None:
    found = split("Resuelve 3x + 5 = 20 y explica la fotosíntesis en pocas palabras")
    assert found.parts == ("Resuelve 3x + 5 = 20.", "Explica la fotosíntesis en pocas palabras.")
    found = split("escreve uma mensagem pra minha avó e depois traduz pro inglês")
    assert found.depends_on == ((), (0,))
    found = split("帮我写一首关于春天的短诗，然后翻译成英文")
    assert found.parts == ("帮我写一首关于春天的短诗。", "翻译成英文。")
    assert found.depends_on == ((), (0,))
    found = split("定期存款和货币基金哪个收益高？另外信用卡逾期一天会影响征信吗")
    assert found.parts[1] == "信用卡逾期一天会影响征信吗？"
    found = split("我在学日语，想问几个问题：1. 平假名和片假名有什么区别 2. 学多久能过N3")
    assert found.context == ("我在学日语，想问几个问题：",)
    assert len(found.parts) == 2


def test_they_of_a_place_asks_in_it_and_never_means_a_month() -> None:
    found = split(
        "1. What is the capital of Peru?\n2. What language do they speak there?\n"
        "3. What currency do they use?"
    )
    assert found.parts[2] == "What currency do they use in Peru?"
    found = split("Is it too late to plant tulip bulbs in December, and do they need full sun?")
    assert "December need" not in found.parts[1]
    found = split("(a) what's an index fund (b) how do I buy one (c) are they safe for retirement")
    assert "an index fund" in found.parts[2]


def test_it_after_alternatives_waits_for_the_answer() -> None:
    found = split(
        "Is Ubuntu or Fedora better for a beginner, and can I dual boot it with Windows 11?"
    )
    assert found.parts[1] == "Can I dual boot it with Windows 11?"
    assert found.depends_on == ((), (0,))


def test_a_way_of_a_time_and_another_one_and_how_about_a_tool() -> None:
    found = split(
        "What's the best time of day to water the lawn and how much water does it need per week?"
    )
    assert found.parts[1] == "How much water does the lawn need per week?"
    found = split("Tell me a joke about programmers and another one about cats.")
    assert found.parts == ("Tell me a joke about programmers.", "Tell me a joke about cats.")
    found = split("How do I center a div with flexbox and how about with grid?")
    assert found.parts[1] == "How do I center a div with grid?"


def test_do_it_takes_the_action_of_a_how_often_question_before() -> None:
    found = split(
        "(a) How often should I change the oil in a hybrid?\n(b) Is synthetic oil worth it?\n"
        "(c) Can I do it myself?"
    )
    assert found.parts[2] == "Can I change the oil myself?"


def test_the_thing_a_step_makes_named_with_the_waits_for_it() -> None:
    found = split("Suggest a name for my bakery and write a short slogan that uses the name.")
    assert found.depends_on == ((), (0,))
    found = split("Suggest a name for my bakery and tell me the name of a good flour.")
    assert found.depends_on == ((), ())


def test_she_after_a_who_question_waits_for_who_it_is() -> None:
    found = split(
        "1. Who wrote Pride and Prejudice?\n2. When was it published?\n3. What else did she write?"
    )
    assert found.parts[2] == "What else did she write?"
    assert found.depends_on == ((), (), (0,))


def test_or_should_i_but_also_and_a_second_whats_start_questions() -> None:
    found = split("how do i reset my airpods or should i just take them to the apple store")
    assert found.parts == (
        "How do i reset my airpods?",
        "Should i just take my airpods to the apple store?",
    )
    found = split("tell me a joke about cats but also explain why cats purr")
    assert found.parts == ("Tell me a joke about cats.", "Explain why cats purr.")
    request = "recommend a movie that is funny but also a little scary"
    assert split(request).parts == (request,)
    found = split("whats the boiling point of water in fahrenheit whats the freezing point")
    assert len(found.parts) == 2


def test_same_for_and_what_about_in_a_sentence() -> None:
    found = split("Give me the pros and cons of electric cars, same for hybrids.")
    assert found.parts[1] == "Give me the pros and cons of hybrids."
    found = split("what time is it in tokyo when its noon in new york, and what about in london")
    assert found.parts[1] == "What time is it in london when its noon in new york?"
    request = "how do i get red wine out of a carpet and same for coffee?"
    assert split(request).parts == (request,)  # the wine's place or the carpet's: unsaid
    found = split("what does a notary do, and can I become one online")
    assert found.parts[1] == "Can I become a notary online?"


def test_a_bare_subject_of_a_yes_no_question_is_what_they_or_it_mean() -> None:
    found = split("can dogs eat grapes? can they eat strawberrys?")
    assert found.parts[1] == "Can dogs eat strawberrys?"
    found = split("is pluto a planet or not, and how far is it from the sun")
    assert found.parts[1] == "How far is pluto from the sun?"
    found = split(
        "My landlord wants to raise rent.\n1. Is there a limit?\n"
        "2. How much notice does he have to give?"
    )
    assert found.parts[1] == "How much notice does he have to give?"


def test_a_lone_question_word_and_if_so_and_the_longest_too() -> None:
    found = split("when did the berlin wall fall and why")
    assert found.parts == ("When did the berlin wall fall?", "Why did the berlin wall fall?")
    found = split(
        "i have a layover in amsterdam. can i leave the airport? and if so what should i see"
    )
    assert found.parts == ("Can i leave the airport?", "If so what should i see?")
    assert found.depends_on == ((), (0,))
    found = split("what's the tallest mountain in africa? and the longest river?")
    assert found.parts[1] == "What's the longest river in africa?"
    found = split(
        "What are some plants that do well in low light? And how often should I water them?"
    )
    assert found.depends_on == ((), (0,))
    found = split("give me a random word and use it in a sentence")
    assert found.depends_on == ((), (0,))


def test_the_same_step_on_another_thing_waits_for_nothing() -> None:
    found = split("define photosynthesis. then define cellular respiration.")
    assert found.depends_on == ((), ())
    found = split(
        "Write a tagline for a water bottle. Then write three captions using that tagline."
    )
    assert found.depends_on == ((), (0,))
    found = split("whats the populaton of canada and how about mexico")
    assert found.parts[1] == "Whats the populaton of mexico?"


def test_a_spanish_follow_up_typed_in_lower_case_keeps_its_case() -> None:
    found = split("¿Cómo se dice perro en italiano? ¿Y gato?")
    assert found.parts[1] == "¿Cómo se dice gato en italiano?"
    found = split("¿Cuántas calorías tiene un aguacate? ¿Y un plátano?")
    assert found.parts[1] == "¿Cuántas calorías tiene un plátano?"
    found = split("c'est quoi la différence entre un PEA et une assurance vie et lequel choisir")
    assert found.parts[1] == "Lequel choisir, un PEA ou une assurance vie?"


def test_something_for_someone_else_and_a_plus_start_parts() -> None:
    found = split(
        "whats a good gift for my dad who likes fishing? and something for my mom who loves baking"
    )
    assert found.parts[1] == "Whats a good gift for my mom who loves baking?"
    found = split("need a packing list for a week in iceland in march + tips for driving there")
    assert found.parts[1] == "Tips for driving in iceland."  # "in march" is no place
    request = "what is 2 + 2"
    assert split(request).parts == (request,)


def test_do_i_need_takes_the_nearest_how_to_and_can_dogs_what_about_replaces_the_food() -> None:
    found = split(
        "1- how do i change a bike tire 2- what pressure should it be at 3- do i need special tools"
    )
    assert found.parts[2] == "Do i need special tools to change a bike tire?"
    found = split("can dogs eat grapes?? what about blueberries")
    assert found.parts[1] == "Can dogs eat blueberries?"  # dogs eat: a food takes the grapes'
    assert split("Can dogs eat grapes? What about cats?").parts[1] == "Can cats eat grapes?"
    request = "Can vinegar remove rust? what about baking soda"
    assert split(request).parts == (request,)  # the vinegar's place or the rust's: unsaid
    found = split("Is coffee bad for you? What about tea?")
    assert found.parts[1] == "Is tea bad for you?"


def test_they_of_the_capital_of_a_place_asks_in_the_place() -> None:
    found = split("1. what is the capital of peru 2. what currency do they use")
    assert found.parts[1] == "What currency do they use in peru?"


def test_it_and_they_mean_the_thing_of_a_plural_or_of_a_dummy_it_question() -> None:
    found = split("What are the symptoms of strep throat and is it contagious?")
    assert found.parts[1] == "Is strep throat contagious?"
    found = split("Is it too late to plant tulip bulbs in December, and do they need full sun?")
    assert found.parts[1] == "Do tulip bulbs need full sun?"
    found = split(
        "What time zone is Chicago in and what time is it there when it's noon in London?"
    )
    assert found.parts[1] == "What time is it in Chicago when it's noon in London?"
    found = split("what's the capital of canada and what's its population")
    assert found.parts[1] == "What's the population of canada?"


def test_a_bare_follow_up_takes_the_subject_place_and_never_the_object() -> None:
    found = split("how tall is the eiffel tower? and big ben?")
    assert found.parts == ("How tall is the eiffel tower?", "How tall is big ben?")
    request = "how long do i boil an egg for soft yolk? what about hard boiled"
    assert split(request).parts == (request,)


def test_five_items_are_five_parts_and_what_to_cover_stays_with_its_request() -> None:
    found = split(
        "Quiz:\n1. largest planet\n2. smallest country\n3. longest river\n4. gold's"
        " symbol\n5. year the Berlin Wall fell"
    )
    assert len(found.parts) == 5
    request = (
        "Can you explain how a transformer works? I'd like you to cover the attention mechanism,"
        " positional encoding, and why it replaced RNNs. Please keep it accessible."
    )
    assert split(request).parts == (request,)


def test_his_after_a_name_means_it_and_do_that_is_the_how_to_said_again() -> None:
    found = split(
        "First, summarize the plot of Hamlet. Finally, explain why Hamlet delays his revenge."
    )
    assert found.parts[1] == "Explain why Hamlet delays his revenge."
    assert found.depends_on == ((), ())
    found = split(
        "how do i reset my iphone to factory settings? will i lose my photos if i do that"
    )
    assert found.parts[1] == "Will i lose my photos if i reset my iphone to factory settings?"
    found = split("1. how do I set up a venv in python\n2. how do I deactivate it")
    assert found.parts[1] == "How do I deactivate a venv?"
    found = split(
        "1. How often should I change the oil?\n2. Is it normal for the AC to smell musty?"
    )
    assert found.parts[1] == "Is it normal for the AC to smell musty?"


def test_a_place_follow_up_replaces_the_place_and_aspects_after_a_colon_stay_whole() -> None:
    found = split("whats the boiling point of water at sea level and what about in denver")
    assert found.parts[1] == "Whats the boiling point of water in denver?"
    request = (
        "Explain how the 2008 financial crisis happened: what caused it, who was involved"
        " and why it spread around the world"
    )
    assert split(request).parts == (request,)


def test_a_repeated_how_question_and_a_bare_superlative_take_the_frame() -> None:
    found = split("how long should i boil an egg for a runny yolk, and how long for hard boiled")
    assert found.parts[1] == "How long should i boil an egg for hard boiled?"
    found = split("how many calories in an avocado? how much protein?")
    assert found.parts[1] == "How much protein in an avocado?"
    found = split("How many moons does Mars have? How many does Jupiter have?")
    assert found.parts[1] == "How many moons does Jupiter have?"
    found = split("1. How many bones are in the human body?\n2. Which is the smallest?")
    assert found.parts[1] == "Which is the smallest of the bones in the human body?"


def test_a_topic_stays_with_its_own_thing_and_a_place_replaces_the_place() -> None:
    found = split("recommend me a good sci fi book and also a podcast about history")
    assert found.parts == (
        "Recommend me a good sci fi book.",
        "Recommend me a podcast about history.",
    )
    found = split("recommend a book and a movie about the cold war")
    assert found.parts[0] == "Recommend a book about the cold war."
    found = split("is it legal to record a call in california? what about texas")
    assert found.parts[1] == "Is it legal to record a call in texas?"


def test_a_german_or_dutch_subject_pronoun_means_the_thing_of_its_article() -> None:
    found = split("Wie alt ist der Kölner Dom und wie hoch ist er?")
    assert found.parts[1] == "Wie hoch ist der Kölner Dom?"
    assert found.depends_on == ((), ())
    found = split("Hoe vaak moet ik mijn hond uitlaten en hoeveel voer heeft hij per dag nodig?")
    assert found.parts[1] == "Hoeveel voer heeft mijn hond per dag nodig?"


def test_he_after_who_holds_a_role_means_the_role_and_let_takes_its_noun() -> None:
    found = split("whos the ceo of nvidia and how old is he")
    assert found.parts[1] == "How old is the ceo of nvidia?"
    found = split("Who wrote Hamlet and when was he born?")
    assert found.depends_on == ((), (0,))  # the answer names him
    found = split("how long should i let steak rest after cooking, and should i salt it before")
    assert found.parts[1] == "Should i salt steak before?"


def test_a_setting_is_not_tied_to_a_thing_named_vaguely_before() -> None:
    found = split("how do i change a flat tire\nand how far can i drive on the spare")
    assert found.parts[1] == "How far can i drive on the spare?"
    found = split("who won the 2018 world cup and who scored in the final")
    assert found.parts[1] == "Who scored in the final of the 2018 world cup?"


def test_it_after_the_n_of_a_name_means_the_name_and_a_participle_ends_a_subject() -> None:
    found = split("1) what's the capital of Canada 2) how many provinces does it have")
    assert found.parts[1] == "How many provinces does Canada have?"
    found = split("When was the Treaty of Versailles signed and who signed it?")
    assert found.parts[1] == "Who signed the Treaty of Versailles?"


def test_a_french_possessive_names_its_owner() -> None:
    found = split("Quel est le plafond du livret A en ce moment et quel est son taux ?")
    assert found.parts[1] == "Quel est le taux du livret A?"
    found = split("Quel âge a la tour Eiffel et quelle est sa hauteur ?")
    assert found.parts[1] == "Quelle est la hauteur de la tour Eiffel?"
    found = split("Qui a fondé Apple et quel est son âge ?")
    assert found.depends_on == ((), (0,))  # no owner named with an article: the answer's


def test_there_of_a_place_typed_in_lower_case_is_the_place() -> None:
    found = split("1. what is the capital of peru 2. what language do they speak there")
    assert found.parts[1] == "What language do they speak in peru?"
    found = split("how far is the moon from earth and how long did apollo 11 take to get there")
    assert found.parts[1] == "How long did apollo 11 take to get to the moon?"


def test_a_bare_follow_up_takes_the_place_of_the_words_it_opens_like() -> None:
    found = split("how many players on a rugby union team? and rugby league?")
    assert found.parts[1] == "How many players on a rugby league team?"
    found = split("What's the price of an iPhone 15? And iPhone 14?")
    assert found.parts[1] == "What's the price of an iPhone 14?"


def test_a_run_on_who_after_a_participle_is_a_question_of_its_own() -> None:
    found = split("what year was google founded who founded it and where is its headquarters")
    assert found.parts == (
        "What year was google founded?",
        "Who founded google?",
        "Where is the headquarters of google?",
    )
    request = "who was the guy who invented the telephone"
    assert split(request).parts == (request,)


def test_and_also_before_a_question_is_one_joint_and_so_it_means_its_own_thing() -> None:
    found = split("how do i make pancakes and also how do i store them")
    assert found.parts == ("How do i make pancakes?", "How do i store pancakes?")
    found = split(
        "How do I sum a column in Google Sheets and also how do I lock the header row so it stays"
    )
    assert found.parts[1].startswith("How do I lock the header row so it stays")


def test_them_means_two_things_defined_before_or_waits_and_apart_means_both() -> None:
    found = split(
        "i) explain what a p-value is\nii) explain what a confidence interval is\n"
        "iii) explain why people confuse them"
    )
    assert found.parts[2] == "Explain why people confuse a p-value and a confidence interval."
    found = split("whats the sql to get duplicate emails from users and how do i delete them")
    assert found.parts[1] == "How do i delete them?"
    found = split("What time zone is Chicago in? And how far apart are they by car?")
    assert "Chicago" not in found.parts[1]


def test_one_after_a_verb_is_another_of_the_thing_made_before() -> None:
    found = split("Can you:\n1. write a regex for a US zip code\n2. write one for a UK postcode")
    assert found.parts[1] == "Write a regex for a UK postcode."
    assert found.depends_on == ((), ())


def test_the_thing_of_define_x_who_discovered_x_and_a_named_subject() -> None:
    found = split("(a) Define photosynthesis. (b) Write the balanced equation for it.")
    assert found.parts[1] == "Write the balanced equation for photosynthesis."
    found = split("1. who discovered penicillin 2. how does it actually kill bacteria")
    assert found.parts[1] == "How does penicillin actually kill bacteria?"
    found = split("Does a 2015 Honda Civic use a timing belt? And what oil weight does it take?")
    assert found.parts[1] == "What oil weight does a 2015 Honda Civic take?"


def test_an_essay_request_with_its_phrases_and_what_to_discuss_stays_whole() -> None:
    request = (
        "Please explain, in an essay of around 800 words, how the printing press changed"
        " European society, including its effects on religion and science, and discuss"
        " whether its impact has been overstated."
    )
    assert split(request).parts == (request,)


def test_a_step_on_that_thing_depends_on_the_part_that_named_it() -> None:
    found = split(
        "pick a random country in south america, tell me its capital, then tell me the"
        " population of that capital"
    )
    assert found.depends_on == ((), (0,), (1,))
    request = "Write a paragraph about coffee, then summarise it and suggest a title for it."
    assert split(request).depends_on == ((), (0,), (0,))


def test_chinese_items_keep_their_question_words_and_one_two_lines_are_items() -> None:
    found = split(
        "1. 如何在Excel里冻结首行？\n2. 怎么把两列合并成一列？\n3. VLOOKUP和XLOOKUP有什么区别？"
    )
    assert found.parts == (
        "如何在Excel里冻结首行？",
        "怎么把两列合并成一列？",
        "VLOOKUP和XLOOKUP有什么区别？",
    )
    found = split(
        "two things:\none, how do i clear cache on safari\ntwo, how do i stop apps tracking me"
    )
    assert found.parts == ("How do i clear cache on safari?", "How do i stop apps tracking me?")


def test_them_of_a_person_and_one_as_a_number() -> None:
    found = split("is 37.9 a fever in a toddler? when should i take them to the er")
    assert found.parts[1] == "When should i take a toddler to the er?"
    found = split("pick a number between 1 and 10. then add one to it")
    assert "add a number" not in found.parts[-1].lower()


def test_a_bare_number_asks_the_question_before_of_it() -> None:
    found = split("convert 72 fahrenheit to celsius. and 100?")
    assert found.parts[1] == "Convert 100 fahrenheit to celsius?"
    request = "what is 15% of 80? and 120?"
    assert len(split(request).parts) == 1  # which number 120 replaces is unsaid


def test_it_under_a_lead_about_the_user_s_own_thing_is_not_a_thing_merely_mentioned() -> None:
    found = split("i need help w my resume\n1 should i include a photo\n2 how long should it be")
    assert found.parts[1] == "How long should it be?"
    assert found.context == ("i need help w my resume",)
    found = split("Write an essay on the French Revolution. Use an academic tone.")
    assert found.parts == ("Write an essay on the French Revolution. Use an academic tone.",)


def test_it_after_an_event_of_a_place_means_the_event() -> None:
    found = split("who won the battle of Hastings and why does it still matter today")
    assert found.parts[1] == "Why does the battle of Hastings still matter today?"


def test_a_telling_sentence_that_ends_on_is_that_bad_asks() -> None:
    found = split("my starter smells like nail polish is that bad. also how often should i feed it")
    assert found.parts[0] == "My starter smells like nail polish is that bad."
    assert found.context == ()


def test_it_after_a_quoted_word_whose_meaning_is_asked_is_that_word() -> None:
    found = split("What does 'per se' mean and how do you pronounce it?")
    assert found.parts[1] == "How do you pronounce 'per se'?"
    assert not any(found.depends_on)
    found = split(
        "What does 'NoneType object is not subscriptable' mean in Python and how do I fix it?"
    )
    assert found.parts[1] == "How do I fix 'NoneType object is not subscriptable'?"  # no "Python"
    found = split("What does 'pending' mean here? Can you rewrite it in plain English?")
    assert "'pending'" not in found.parts[1]  # "here": the text it came from


def test_a_lead_that_asks_of_each_item_is_put_in_every_part() -> None:
    found = split("Can you give me a one-sentence definition of each:\n- inflation\n- deflation")
    assert found.parts[1] == "Can you give me a one-sentence definition of deflation?"
    found = split("Can you calculate: (1) 15% of 240, (2) compound interest on $5,000 at 4%")
    assert found.parts == (
        "Can you calculate 15% of 240?",
        "Can you calculate compound interest on $5,000 at 4%?",
    )
    found = split("In Python, how do I: a) read a CSV file, b) remove duplicate rows")
    assert found.parts[1] == "In Python, how do I remove duplicate rows?"
    found = split("Translate these into Spanish:\n- good morning\n- where is the train station")
    assert found.parts[1] == "Translate where is the train station into Spanish."
    found = split("Can you:\n1. Explain what a SQL JOIN is\n2. Show an example of a LEFT JOIN")
    assert found.parts[0] == "Explain what a SQL JOIN is."


def test_a_place_typed_in_lower_case_takes_the_place_of_the_place_asked_about() -> None:
    found = split("what time zone is chicago in? what about denver? and phoenix?")
    assert found.parts[1:] == ("What time zone is denver in?", "What time zone is phoenix in?")
    found = split("what is the population of japan and what language do they speak in brazil")
    assert found.parts[1] == "What language do they speak in brazil?"  # its own place


def test_a_percentage_asked_again_replaces_the_percentage() -> None:
    assert split("What's 15% of 240? And 20%?").parts[1] == "What's 20% of 240?"


def test_a_line_that_asks_for_help_before_items_is_context() -> None:
    found = split("Can you help with my homework?\n(a) What is 2+2?\n(b) What is a mole?")
    assert found.context == ("Can you help with my homework?",)
    assert len(found.parts) == 2


def test_it_after_who_did_something_embedded_means_the_object() -> None:
    found = split("First, tell me who wrote Pride and Prejudice. Second, when was it published?")
    assert found.parts[1] == "When was Pride and Prejudice published?"


def test_quoted_words_keep_their_places() -> None:
    request = "write a function that takes dictionaries with 'name' and 'price' keys"
    assert len(split(request).parts) == 1
    found = split("how do I say 'hello' in French and 'goodbye' in Spanish")
    assert found.parts[1] == "How do I say 'goodbye' in Spanish?"
    found = split("how do you say 'cat' in japanese? and 'dog'?")
    assert found.parts[1] == "How do you say 'dog' in japanese?"


def test_two_things_after_a_german_preposition_are_one_object() -> None:
    request = "Schreib mir eine kurze Geschichte über einen Hund und eine Katze."
    assert split(request).parts == (request,)
    assert len(split("Empfiehl mir einen Film und ein Buch.").parts) == 2


def test_a_list_opened_by_with_belongs_to_its_request() -> None:
    request = "I need an essay on the French Revolution, with an intro, three parts and an end."
    assert split(request).parts == (request,)


def test_it_means_a_bare_subject_and_not_what_is_said_of_it() -> None:
    found = split("when was gladiator released and who composed the music for it")
    assert found.parts[1] == "Who composed the music for gladiator?"
    found = split("why is the sky blue and why is it dark at night")
    assert found.parts[1] == "Why is the sky dark at night?"


def test_it_never_means_several_known_things_an_instruction_names() -> None:
    found = split("i) Define photosynthesis. ii) Name the two stages. iii) Where does it occur?")
    assert found.parts[2] == "Where does photosynthesis occur?"
    assert not any(found.depends_on)
    found = split("write 3 haikus about autumn and translate it into French")
    assert found.parts[1] == "Translate it into French."  # what was written, not autumn
    assert found.depends_on == ((), (0,))


def test_an_item_that_only_names_a_place_or_a_superlative_asks_the_item_before_again() -> None:
    found = split("1. translate 'good morning' into spanish 2. and into german")
    assert found.parts[1] == "Translate 'good morning' into german."
    found = split("1) largest country in South America 2) smallest")
    assert found.parts[1] == "Smallest country in South America."


def test_also_before_a_question_runs_on_into_a_part_of_its_own() -> None:
    found = split("can you explain what an escrow account is also should i pay points")
    assert found.parts == ("Can you explain what an escrow account is?", "Should i pay points?")


def test_a_formula_is_not_tied_to_the_thing_before() -> None:
    found = split("Q1. What's the derivative of x^3 sin(x)?\nQ2. Integrate e^(2x) dx.")
    assert found.parts[1] == "Integrate e^(2x) dx."


def test_a_superlative_asked_again_takes_the_place_of_the_superlative() -> None:
    found = split("whats the tallest mountain in asia? tallest in europe?")
    assert found.parts[1] == "Whats the tallest mountain in europe?"
    found = split("what is sourdough? best flour?")
    assert found.parts[1] == "Best flour for sourdough?"


def test_it_after_is_the_thing_open_means_the_thing() -> None:
    found = split("Is the stock market open on Good Friday? Also what time does it close")
    assert found.parts[1] == "What time does the stock market close?"


def test_a_question_that_opens_with_its_preposition_is_one_part_or_a_whole_question() -> None:
    request = "who painted the mona lisa and in what year?"
    assert split(request).parts == (request,)  # "In what year?" alone asks nothing
    found = split("who painted the mona lisa, and in what year did he finish it?")
    assert found.parts[1] == "In what year did he finish it?"
    found = split("Chi ha scritto Il nome della rosa e in che anno è uscito?")
    assert found.parts[1] == "In che anno è uscito Il nome della rosa?"


def test_a_question_of_its_own_that_leaves_its_subject_out_takes_the_thing_before() -> None:
    found = split("Quando è stata costruita la Torre di Pisa? E perché è pendente?")
    assert found.parts[1] == "Perché è pendente la Torre di Pisa?"
    found = split("¿Cuál es el río más largo de Francia? ¿Y en Italia?")
    assert found.parts[1] == "¿Cuál es el río más largo en Italia?"


def test_french_il_and_elle_mean_a_named_thing_before() -> None:
    found = split("Quelle est la capitale du Canada et combien d'habitants a-t-elle ?")
    assert found.parts[1] == "Combien d'habitants la capitale du Canada a-t-elle?"
    found = split("Quand a été construite la tour Eiffel ? Combien de temps il faut pour monter ?")
    assert found.parts[1] == "Combien de temps il faut pour monter ?"  # "il faut": no thing
    assert not any(found.depends_on)


def test_it_after_how_a_quoted_word_is_said_is_that_word() -> None:
    found = split("how do you pronounce 'quinoa' and what is it exactly")
    assert found.parts[1] == "What is 'quinoa' exactly?"


def test_both_at_the_end_means_the_two_things_compared_before() -> None:
    request = (
        "i) what's the difference between a Roth IRA and a traditional IRA "
        "ii) how much can I put into an IRA per year iii) can I have both"
    )
    assert split(request).parts[2] == "Can I have both a Roth IRA and a traditional IRA?"


def test_a_second_object_one_takes_the_first_object_s_noun() -> None:
    found = split("recommend me a good sci fi book and also a fantasy one")
    assert found.parts[1] == "Recommend me a fantasy book."


def test_the_n_after_an_instruction_about_a_title_is_of_that_title() -> None:
    found = split("Give me 5 discussion questions for The Great Gatsby. Who is the narrator?")
    assert found.parts[1] == "Who is the narrator of The Great Gatsby?"
    assert not any(found.depends_on)


def test_it_s_before_a_preposition_is_it_and_the_result_is_the_step_before_s() -> None:
    found = split(
        "name a famous painting, tell me who painted it, and tell me which museum it's in"
    )
    assert found.depends_on == ((), (0,), (0,))
    found = split("who painted the mona lisa and which museum it's in")
    assert found.parts[1] == "Which museum the mona lisa is in?"
    found = split(
        "give me a random number between 1 and 100, square it, then tell me if the result is even"
    )
    assert found.parts[1] == "Square it."
    assert found.depends_on == ((), (0,), (1,))


def test_single_requests_that_describe_their_answer_or_offer_a_choice_stay_whole() -> None:
    request = (
        "Can you explain how the immune system fights a virus? I'd like a fairly detailed "
        "explanation that covers both innate and adaptive immunity."
    )
    assert split(request).parts == (request,)
    request = "Write a function that takes dictionaries with keys 'name', 'age' and 'city'."
    assert len(split(request).parts) == 1
    found = split("The transmission is slipping. Is it worth repairing, or should I sell it?")
    assert found.parts == ("Is it worth repairing, or should I sell it?",)


def test_quoted_words_share_the_phrase_after_the_last() -> None:
    found = split("how do you say 'hello' and 'goodbye' in japanese")
    assert found.parts == (
        "How do you say 'hello' in japanese?",
        "How do you say 'goodbye' in japanese?",
    )


def test_a_lead_that_asks_to_be_told_each_item_is_put_in_every_part() -> None:
    request = (
        "Can you tell me 1) what a Roth IRA is, 2) the limit for 2024, 3) whether I can have one"
    )
    found = split(request)
    assert found.parts[0] == "Can you tell me what a Roth IRA is?"
    assert found.parts[2] == "Can you tell me whether I can have a Roth IRA?"  # one of a kind
    found = split("What's the plural of each of these German nouns?\n- Haus\n- Kind")
    assert found.parts == ("What's the plural of Haus?", "What's the plural of Kind?")


def test_an_object_pronoun_before_a_verb_is_no_thing_to_tie_to() -> None:
    request = (
        "1. À quel âge faut-il le stériliser ?\n2. Combien de fois par jour dois-je le nourrir ?"
    )
    assert split(request).parts[1] == "Combien de fois par jour dois-je le nourrir ?"


def test_pronouns_in_other_languages_take_the_thing_in_its_case_and_words() -> None:
    found = split("Comment on fait une pâte brisée et combien de temps elle doit reposer ?")
    assert found.parts[1] == "Combien de temps une pâte brisée doit reposer?"
    found = split("Was ist ein ETF und wie kann ich ihn in Deutschland kaufen?")
    assert found.parts[1] == "Wie kann ich einen ETF in Deutschland kaufen?"
    found = split("Wer hat den Kölner Dom gebaut? Wann wurde er fertig?")
    assert found.parts[1] == "Wann wurde der Kölner Dom fertig?"
    found = split("¿Quién escribió Cien años de soledad y en qué año se publicó?")
    assert found.parts[1] == "¿En qué año se publicó Cien años de soledad?"
    found = split("Come si fa il ragù alla bolognese? e quanto tempo deve cuocere?")
    assert found.parts[1] == "Quanto tempo deve cuocere il ragù alla bolognese?"
    assert not any(found.depends_on)


def test_either_both_or_each_in_a_part_names_the_two_things_compared() -> None:
    request = (
        "First, what's the difference between a latte and a flat white? "
        "Finally, can I make either without an espresso machine?"
    )
    found = split(request)
    assert (
        found.parts[1] == "Can I make either a latte or a flat white without an espresso machine?"
    )


def test_a_pronoun_under_a_lead_about_the_user_s_own_thing_means_that_thing() -> None:
    found = split("Two things about my car: a) what does the engine light mean b) can I drive it")
    assert found.parts[1] == "Can I drive my car?"
    assert found.context == ("Two things about my car:",)
    plants = split("Questions about my tomato plants:\n- why are they pale\n- when to water them")
    assert plants.parts[1] == "When to water my tomato plants?"
    cat = split("Some questions about my cat:\n* why does she knead\n* should I trim her claws")
    assert cat.parts == ("Why does my cat knead?", "Should I trim her claws?")  # possessive


def test_a_pronoun_under_help_with_a_thing_or_a_telling_sentence_stays_as_typed() -> None:
    found = split("help with my python setup:\n1) how do I install pyenv\n2) make a venv with it")
    assert found.parts[1] == "Make a venv with it."
    laptop = split("I run a flask app on my laptop. How do I deploy it? What would it cost?")
    assert laptop.parts[0] == "How do I deploy it?"


def test_they_means_things_of_a_kind_named_before_rather_than_one_of_them() -> None:
    request = "1- can rabbits eat carrots\n2- why does my rabbit thump\n3- do they need a friend"
    assert split(request).parts[2] == "Do rabbits need a friend?"


def test_german_sie_and_ob_after_a_telling_lead() -> None:
    request = "Kannst du mir erklären, wie eine Wärmepumpe funktioniert und ob sie sich lohnt?"
    assert split(request).parts == (
        "Kannst du mir erklären, wie eine Wärmepumpe funktioniert?",
        "Kannst du mir erklären, ob eine Wärmepumpe sich lohnt?",
    )
    found = split("Schreib mir eine kurze Bewerbung und übersetz sie dann ins Englische")
    assert found.depends_on == ((), (0,))  # what the delegate writes


def test_a_shorter_version_works_on_what_was_made() -> None:
    found = split(
        "Draft a tweet about our launch, then give me three hashtags for it, and a shorter version"
    )
    assert found.depends_on == ((), (0,), (0,))


def test_french_inverted_verbs_mark_the_language_and_faut_il_means_nothing() -> None:
    found = split("Y a-t-il un métro à Lyon ? Combien coûte-t-il ?")
    assert found.parts[1] == "Combien un métro à Lyon coûte-t-il ?"
    request = "1. Comment changer un joint de robinet ?\n2. Quels outils faut-il ?"
    assert split(request).parts[1] == "Quels outils faut-il ?"


def test_short_french_requests_read_as_french() -> None:
    assert language_of("Combien coûte un café à Paris ?").code == "fr"
    assert language_of("What is the à la carte menu").code == "en"


def test_a_language_s_own_marks_count_twice() -> None:
    assert language_of("¿Cuánto cuesta un café?").code == "es"
    assert language_of("Qui a peint la Joconde ?").code == "fr"
    assert language_of("Onde fica a estação?").code == "pt"
    assert language_of("Waarom is de lucht blauw?").code == "nl"
    assert language_of("Was Napoleon short?").code == "en"


def test_a_german_question_that_opens_with_its_preposition_takes_the_lead_in() -> None:
    found = split("Kannst du mir sagen, wann der Laden öffnet und bis wann er offen hat?")
    assert found.parts[1] == "Kannst du mir sagen, bis wann der Laden offen hat?"


def test_a_spanish_question_with_se_that_leaves_its_thing_out_takes_the_thing() -> None:
    found = split("¿Quién pintó Las Meninas y dónde se puede ver?")
    assert found.parts[1] == "¿Dónde se puede ver Las Meninas?"


def test_a_count_asked_again_of_its_own_thing_is_not_completed_from_the_first() -> None:
    found = split("convert 100 f to c and 30 c to f")
    assert found.parts == ("Convert 100 f to c.", "Convert 30 c to f.")


def test_a_setting_before_the_first_comma_is_every_part_s() -> None:
    found = split("in python, how do i read a file and how do i write to one?")
    assert found.parts == ("In python, how do i read a file?", "In python, how do i write to one?")
    assert split("in python, how do i read a file?").parts == ("in python, how do i read a file?",)
    found = split("In which country are the pyramids of Giza, and how old are they?")
    assert found.parts[1] == "How old are they?"  # not "In how old are they?"


def test_a_telling_clause_before_a_question_after_a_comma_is_context() -> None:
    found = split("my mom is turning 60 next month, what should i get her")
    assert found.parts == ("What should i get her?",)
    assert found.context == ("My mom is turning 60 next month.",)
    request = "hey quick question, whats the max carry-on size for ryanair"
    assert split(request).parts == (request,)


def test_a_bare_thing_after_what_is_the_n_of_x_takes_x_s_place() -> None:
    found = split("what is the population of france? and germany?")
    assert found.parts[1] == "What is the population of germany?"
    found = split("what is a good name for a bakery? and a slogan?")
    assert found.parts[1] == "What is a slogan for a bakery?"


def test_a_question_of_its_own_typed_whats_is_not_the_first_s_kind_again() -> None:
    found = split("what time is it in tokyo and what's the weather there")
    assert found.parts[1] == "What's the weather in tokyo?"
    found = split("How many legs does a spider have, and how many does an ant?")
    assert found.parts[1] == "How many legs does an ant have?"


def test_there_it_and_the_n_mean_the_thing_they_name() -> None:
    found = split("how much is a flight to bali and what's the best time of year to go there")
    assert found.parts[1] == "What's the best time of year to go to bali?"
    found = split("what is the population of tokyo and what is the area of it")
    assert found.parts[1] == "What is the area of tokyo?"
    found = split(
        "what's bigger, a blue whale or a megalodon, and how much did the megalodon weigh"
    )
    assert found.parts[1] == "How much did the megalodon weigh?"


def test_numbers_inside_a_sentence_are_no_items_but_step_1_step_2_are() -> None:
    found = split("how do i get between terminal 1 and terminal 2 and how long does it take")
    assert found.parts[0] == "How do i get between terminal 1 and terminal 2?"
    found = split("step 1 explain what a VPN does, step 2 tell me if i need one for public wifi")
    assert found.parts == ("Explain what a VPN does.", "Tell me if i need a VPN for public wifi.")
    assert found.context == ()


def test_a_text_after_the_colon_of_two_instructions_is_context_for_both() -> None:
    found = split("explain this code and suggest improvements: def f(x): return x*2")
    assert found.parts == ("Explain this code.", "Suggest improvements.")
    assert found.context == ("def f(x): return x*2",)
    found = split("list 5 fruits and 5 vegetables that are high in fiber")
    assert found.parts[1] == "List 5 vegetables that are high in fiber."


def test_pronouns_that_would_garble_stay_as_typed() -> None:
    found = split("what type of cat is the friendliest and what's the best litter for it")
    assert "friendliest" not in found.parts[1]
    found = split("what kind of dog is best for apartments and what's the best food for it")
    assert "apartments" not in found.parts[1]
    found = split("what is 10% of 50 and 50% of 10 and are they equal")
    assert found.parts[1] == "Are they equal?"
    found = split("what's the weather like in barcelona in october and what should i wear there")
    assert found.parts[1] == "What should i wear in barcelona?"
    found = split("my code: `if (a && b) { return c || d; }` - what does it return?")
    assert found.parts == ("`if (a && b) { return c || d; }` - what does it return?",)


def test_a_pasted_text_that_says_when_is_context_not_a_question() -> None:
    article = "Maria opened a bakery. It nearly closed in its first winter, when the ovens failed. "
    found = split(f"Here is an article: {article * 3}\n\nSummarise it, and suggest a title.")
    assert found.parts == ("Summarise it.", "Suggest a title.")


def test_one_before_a_noun_is_a_count_and_the_user_s_thing_is_no_mentioned_one() -> None:
    request = "Help me with my resume?\n- should I add a photo\n- is one page still the rule"
    assert split(request).parts[1] == "Is one page still the rule?"  # not "of a photo"
    assert split("What is a VPN? Is one necessary for travel?").parts[1] == (
        "Is a VPN necessary for travel?"
    )


def test_a_participle_setting_or_a_unit_does_not_end_a_question() -> None:
    found = split("Ignoring air resistance, how long does a ball take to fall 45 m?")
    assert found.parts == ("Ignoring air resistance, how long does a ball take to fall 45 m?",)
    thrown = split("A ball is thrown up at 20 m/s. How long is it in the air?")
    assert thrown.context == ("A ball is thrown up at 20 m/s.",)


def test_an_instruction_on_the_text_after_its_colon_is_a_part_of_its_own() -> None:
    found = split("how do i calculate molar mass? also balance this: H2 + O2 -> H2O")
    assert found.parts[1].startswith("Balance this: H2 + O2 -> H2O")
    assert found.context == ()
    translated = split("What is a mole? Also, translate this into Spanish: I am tired")
    assert translated.parts[1].startswith("Translate this into Spanish: I am tired")


def test_it_means_what_how_much_how_far_or_the_leaves_of_a_thing_ask_about() -> None:
    creatine = split("how much creatine should i take a day, and does it cause hair loss")
    assert creatine.parts[1] == "Does creatine cause hair loss?"
    assert not any(creatine.depends_on)
    mars = split("how far away is mars? how long would it take to get there?")
    assert mars.parts[1] == "How long would it take to get to mars?"
    plant = split(
        "why are the leaves on my monstera turning yellow and how often should i water it"
    )
    assert plant.parts[1] == "How often should i water my monstera?"
    texas = split("how big is texas? what is its capital?")
    assert texas.parts[1] == "What is the capital of texas?"
    starter = split("- how do i make sourdough starter\n- how long until its ready")
    assert starter.parts[1] == "How long until its ready?"  # "it's", typed without its mark


def test_a_pronoun_no_part_resolves_means_what_the_lead_is_about() -> None:
    holes = split("Questions on black holes\n1 - how do they form\n2 - what is the event horizon")
    assert holes.parts[0] == "How do black holes form?"
    korean = split("Two questions about learning Korean:\n1. Is it hard?\n2. A good app for it?")
    assert korean.parts == ("Is learning Korean hard?", "A good app for learning Korean?")
    visa = split("Questions about moving to Canada:\n1. do I need a visa\n2. how do I get it")
    assert visa.parts[1] == "How do I get a visa?"  # the lead ends on no thing


def test_a_short_question_after_one_about_a_trip_asks_of_that_trip() -> None:
    found = split("東京から大阪まで新幹線で何時間かかりますか？また、料金はいくらですか？")
    assert found.parts[1] == "東京から大阪まで新幹線の料金はいくらですか？"
    found = split("北京到上海坐高铁要多久？票价大概多少？")
    assert found.parts[1] == "北京到上海坐高铁票价大概多少？"


def test_a_chinese_what_about_takes_the_subject_before_can() -> None:
    assert split("猫可以吃巧克力吗？狗呢？").parts[1] == "狗可以吃巧克力吗？"
    found = split("想问几个问题：1. 学多久能过N3 2. 有什么好用的app")
    assert found.parts[1] == "有什么好用的app？"  # "学多久" asks; it is no subject


def test_that_year_after_what_year_waits_for_its_answer() -> None:
    found = split("what year did the titanic sink? who was the us president that year?")
    assert found.depends_on == ((), (0,))
    found = split("which city hosted the 2012 olympics? how big is that city?")
    assert found.depends_on == ((), (0,))


def test_a_question_takes_the_setting_the_question_before_ends_on() -> None:
    found = split("whats the difference between let and const in javascript? also when to use var")
    assert found.parts[1] == "When to use var in javascript?"
    found = split("how do i freeze the top row in google sheets also how do i make a dropdown")
    assert found.parts[1] == "How do i make a dropdown in google sheets?"
    assert split("is iceland cold in march and what should i pack").parts[1] == (
        "What should i pack?"  # a month is a time, not a setting
    )
    assert split("How can I process it in chunks? would polars be faster?").parts[1] == (
        "Would polars be faster?"
    )


def test_what_one_needs_is_asked_for_what_the_question_before_asks_how_to_do() -> None:
    found = split("how do i fix a leaky faucet and what tools do i need")
    assert found.parts[1] == "What tools do i need to fix a leaky faucet?"
    found = split("1. how do i repot an orchid\n2. what soil do i need")
    assert found.parts[1] == "What soil do i need to repot an orchid?"


def test_two_quoted_words_compared_in_a_setting_stay_one_question() -> None:
    request = 'what is the difference between "let" and "var" in javascript'
    assert split(request).parts == (request,)
    found = split('how do you say "hello" and "goodbye" in japanese')
    assert found.parts[1] == 'How do you say "goodbye" in japanese?'


def test_a_french_or_dutch_pronoun_under_a_lead_about_the_user_s_thing_means_it() -> None:
    found = split("Sur mon chat :\n1. Faut-il le stériliser ?\n2. Est-ce normal qu'il dorme ?")
    assert found.parts == ("Faut-il stériliser mon chat ?", "Est-ce normal que mon chat dorme ?")
    found = split("Vragen over mijn fiets:\n- Hoe vaak smeren?\n- Kan ik hem buiten laten staan?")
    assert found.parts[1] == "Kan ik mijn fiets buiten laten staan?"


def test_a_lead_s_thing_or_a_setting_is_not_taken_where_it_does_not_fit() -> None:
    found = split("Questions about my wife's car:\n- is it safe\n- can she drive it at night")
    assert found.parts == ("Is my wife's car safe?", "Can my wife drive it at night?")
    found = split("questions about my car: why does it click. how often should i change its oil")
    assert found.parts[1] == "How often should i change the oil of my car?"
    found = split("what should i do when youre in love? how do i know if its real")
    assert found.parts[1] == "How do i know if its real?"  # a state, no setting
    found = split("how do you say thank you in japanese? whats the capital of japan")
    assert found.parts[1] == "Whats the capital of japan?"  # a thing of its own
    found = split("how do i make a pivot table in google sheets? how do i freeze the top row")
    assert found.parts[1] == "How do i freeze the top row in google sheets?"
    found = split("東京から大阪まで新幹線で何時間かかりますか？天気はどうですか？")
    assert found.parts[1] == "天気はどうですか？"  # not the trip's, nor from 天気 to 大阪


def test_what_about_takes_the_slot_like_it_or_joins_the_question() -> None:
    follow = {
        "do penguins live in the arctic? what about bears": "Do bears live in the arctic?",
        "is coffee bad for pregnant women? what about kids": "Is coffee bad for kids?",
        "how much does a tesla cost? what about a bmw": "How much does a bmw cost?",
        "do i need a visa for japan? what about china": "Do i need a visa for china?",
    }
    for request, second in follow.items():
        assert split(request).parts[1] == second
    for request in (
        "what's the best time to visit japan? what about korea",  # visit korea, or go to it
        "how long does it take to fly from london to paris? what about by train",
        "can i drink alcohol on antibiotics? what about coffee",  # the alcohol's place or not
        "paris or london for a honeymoon? what about rome",
        "why do cats purr? what about dogs wagging their tails",
    ):
        assert split(request).parts == (request,)


def test_the_text_after_an_instruction_on_this_is_its_text_not_parts() -> None:
    request = "translate this to spanish: where is the bathroom? how much does it cost?"
    assert split(request).parts == (request,)  # a short text stays in its instruction
    found = split("Summarize this: The cat sat on the mat. The dog barked. What did the cat do?")
    assert found.parts == ("Summarize this.",)
    assert found.context == ("The cat sat on the mat. The dog barked. What did the cat do?",)
    found = split("fix this code: def add(a, b):\n    return a - b\nprint(add(2, 3))")
    assert found.parts == ("Fix this code.",)  # its lines too
    found = split("summarize: The patient presented with fever and cough. Then translate it")
    assert found.depends_on == ((), (0,))  # a step after the text is the user's
    assert split("Can you do these: explain gravity; define mass").parts == (
        "Explain gravity.",
        "Define mass.",
    )


def test_a_pronoun_takes_a_whole_noun_phrase_and_no_comparison() -> None:
    found = split("how do i tell my parents i'm gay? what if they get angry")
    assert found.parts[1] == "What if my parents get angry?"
    found = split("questions about the roman empire: when did it fall? who was its last emperor")
    assert found.parts[1] == "Who was the last emperor of the roman empire?"
    found = split("whats better, guitar or piano and how long does it take to learn it")
    assert "better" not in found.parts[-1]  # "it" is no comparison


def test_what_about_an_animal_a_place_or_the_named_subject_takes_its_slot() -> None:
    follow = {
        "how long do cats live on average? and dogs?": "How long do dogs live on average?",
        "how much water should a cat drink per day? same for dogs?": (
            "How much water should dogs drink per day?"
        ),
        "what's the boiling point of water at sea level? what about on everest": (
            "What's the boiling point of water on everest?"
        ),
        "is the louvre open on mondays? what about the orsay": "Is the orsay open on mondays?",
        "is the U.S. bigger than canada? what about china": "Is china bigger than canada?",
        "two questions about my bank account: can i close it online? will i lose its interest": (
            "Will i lose the interest of my bank account?"
        ),
    }
    for request, second in follow.items():
        assert split(request).parts[1] == second
    request = "whats the difference between a virus and bacteria? what about fungi"
    assert split(request).parts == (request,)  # a third thing compared, or instead: unsaid


def test_a_question_after_an_abbreviation_s_full_stop_opens_a_sentence() -> None:
    found = split("I meet Mr. Johnson from Acme Inc. What should I prepare? How long is it?")
    assert found.context == ("I meet Mr. Johnson from Acme Inc.",)
    assert found.parts[0] == "What should I prepare?"


def test_a_route_a_time_and_a_repeated_setting_in_follow_ups() -> None:
    follow = {
        "how long is the flight from nyc to la? same question for chicago to miami": (
            "How long is the flight from chicago to miami?"
        ),
        "what's the weather like in rome in april? same for florence": (
            "What's the weather like in florence in april?"
        ),
        "what's the average salary for a nurse in the uk? and for a teacher in the uk?": (
            "What's the average salary for a teacher in the uk?"
        ),
    }
    for request, second in follow.items():
        assert split(request).parts[1] == second
    request = "is python faster than java? what about rust compared to go"
    assert split(request).parts == (request,)  # it compares things of its own


def test_a_version_a_setting_opening_a_question_and_an_adverb_opening_an_instruction() -> None:
    request = "in python 3.12, how do i read a csv?"
    assert split(request).parts == (request,)  # not "In python 3.12?"
    found = split("in windows 11 how do i change the browser. also how do i turn off updates")
    assert found.parts[0] == "In windows 11 how do i change the browser." and not found.context
    found = split("quickly explain recursion. and give an example in python")
    assert found.parts[0] == "Quickly explain recursion."
    found = split("how do i take a screenshot on mac? how do i record the screen?")
    assert found.parts[1] == "How do i record the screen?"  # not "of a screenshot"


def test_a_verb_after_and_a_chinese_de_and_that_city_after_what_is() -> None:
    found = split("Couple qs about git - what does rebase do? how is it different from merge?")
    assert " - " not in found.parts[1]  # a thing named last stops at a dash
    found = split("name a famous painter from spain and list three of his works")
    assert found.parts[1] == "List three of his works."
    assert split("法国的首都是哪里？德国的呢？").parts[1] == "德国的首都是哪里？"
    found = split("what is the capital of peru? what's the population of that city?")
    assert found.depends_on == ((), (0,))
    assert split("what is a VPN? is that legal?").depends_on == ((), ())
    found = split("東京から大阪まで新幹線でどのくらいかかりますか？京都までは？")
    assert found.parts[1] == "京都までは？"  # what it asks of Kyoto is unsaid


def test_courtesy_and_shown_work_join_the_request_and_pronouns_find_their_thing() -> None:
    for request in (
        "explica a lei de Ohm de um jeito simples, por favor",
        "what's the difference between mitosis and meiosis, with examples pls",
        "calculate the force needed to lift a 5 kg box and show the steps",
    ):
        assert split(request).parts == (request,)
    follow = {
        "when should i start peppers indoors? how far apart should i plant them outside": (
            "How far apart should i plant peppers outside?"
        ),
        "who is eligible for a pell grant and how much is it worth": (
            "How much is a pell grant worth?"
        ),
        "why do my roses have black spots and can i still cut flowers from them": (
            "Can i still cut flowers from my roses?"
        ),
        "is it safe for a puppy to eat carrots? how many hours do they sleep": (
            "How many hours does a puppy sleep?"
        ),
        "what does a tritone sound like and why is it so tense": "Why is a tritone so tense?",
    }
    for request, second in follow.items():
        assert split(request).parts[1] == second


def test_a_thing_after_and_in_a_topic_or_a_relative_clause_is_no_second_object() -> None:
    for request in (
        "write a short poem about a knight and a dragon in a cave",
        "write a function that takes a list and a number and returns the sum",
    ):
        assert split(request).parts == (request,)
    found = split("recommend a book about dragons and a movie about knights")
    assert found.parts == ("Recommend a book about dragons.", "Recommend a movie about knights.")


def test_i_also_need_to_know_and_shiritai_ask_and_based_on_that_waits() -> None:
    found = split("how long does a refund take? I also need to know if I can file late")
    assert found.parts[1] == "I also need to know if I can file late." and not found.context
    found = split("転職活動中です。履歴書のコツを教えてください。あと、面接の質問も知りたいです。")
    assert found.parts[1] == "面接の質問も知りたいです。"
    found = split("what's the average rent in denver? and based on that, how much should i earn?")
    assert found.parts[1] == "Based on that, how much should i earn?"
    assert found.depends_on == ((), (0,))


def test_that_n_named_before_takes_its_words_or_waits_for_the_best_one() -> None:
    found = split("density of steel with 1% carbon? how heavy is a 1 m bar of that steel?")
    assert found.parts[1] == "How heavy is a 1 m bar of steel with 1% carbon?"
    found = split("what's the best lens for portraits? how much does that lens cost?")
    assert found.depends_on == ((), (0,))
    found = split("- how much food to leave out\n- what info to write down\n- should i board him")
    assert found.parts[2] == "Should i board him?"  # no thing in "what info to write down"
    found = split("Mon chat vomit souvent après avoir mangé, est-ce grave ?")
    assert found.parts == ("Est-ce grave?",)
    assert found.context == ("Mon chat vomit souvent après avoir mangé.",)


def test_a_lead_that_asks_to_be_told_each_item_is_every_item_s_in_any_language() -> None:
    found = split("Can you explain:\n- recursion\n- what a closure is")
    assert found.parts == ("Can you explain recursion?", "Can you explain what a closure is?")
    found = split("Mi spieghi:\n- cos'è la fotosintesi\n- perché il cielo è blu")
    assert found.parts[1] == "Mi spieghi perché il cielo è blu." and not found.context
    found = split("请告诉我：\n1. 什么是通货膨胀\n2. 为什么房价会涨")
    assert found.parts == ("请告诉我什么是通货膨胀？", "请告诉我为什么房价会涨？")


def test_a_chinese_question_with_a_subject_after_its_question_word_keeps_it() -> None:
    assert split("什么是通货膨胀？为什么房价会涨？").parts[1] == "为什么房价会涨？"
    assert split("长城有多长？为什么要建它？").parts[1] == "长城为什么要建它？"


def test_items_that_describe_the_user_s_case_are_context_for_the_question_after() -> None:
    found = split("my stats:\n- 34 years old\n- 80 kg\nhow many calories should i eat?")
    assert found.parts == ("How many calories should i eat?",)
    assert found.context == ("my stats:", "34 years old", "80 kg")
    found = split("questions:\n- capital of france\n- population of germany")
    assert found.parts == ("Capital of france.", "Population of germany.")


def test_a_role_of_several_words_a_modal_without_subject_and_his_as_possessive() -> None:
    found = split("who was the first king of norway and when did he die")
    assert found.parts[1] == "When did the first king of norway die?"
    found = split("who is the ceo of tesla and what is his salary")
    assert found.parts[1] == "What is the ceo of tesla's salary?"
    request = "should i rent or buy when i'm 30 and might move in two years"
    assert split(request).parts == (request,)
    assert len(split("is it safe to eat raw eggs and can i give them to my kids").parts) == 2


def test_also_words_open_a_question_and_a_lower_case_german_name_stays_whole() -> None:
    assert split("como hago un commit? tambien que es un .gitignore").parts[1] == (
        "Que es un .gitignore?"
    )
    found = split("wie alt ist der kölner dom? außerdem, wer hat ihn gebaut?")
    assert found.parts[1] == "Wer hat den kölner dom gebaut?"


def test_what_about_takes_no_time_s_place_and_in_my_x_is_a_setting_of_its_own() -> None:
    found = split("what's the tax rate on bonds held over a year? what about gold?")
    assert found.parts[1] == "What's the tax rate on gold held over a year?"
    found = split("how often should i clean the filter in my dryer, and the vent in my kitchen?")
    assert found.parts[1] == "How often should i clean the vent in my kitchen?"


def test_a_phrase_after_which_and_the_nth_one_take_the_first_question_s_frame() -> None:
    found = split("when was the treaty signed, where, and by which king")
    assert found.parts[2] == "By which king was the treaty signed?"
    found = split("what was the first crusade about? and the second one?")
    assert found.parts[1] == "What was the second crusade about?"


def test_type_ii_is_no_item_mark_and_between_waits_for_its_second_thing() -> None:
    request = "I have an exam. Can you explain type I vs type II errors with an example"
    assert split(request).parts == ("Can you explain type I vs type II errors with an example?",)
    request = "whats the relationship between sleep and how tired i feel"
    assert split(request).parts == (request,)


def test_there_means_the_place_named_with_its_article_and_a_participle_ends_a_thing() -> None:
    found = split("when is monsoon season in the Philippines? is it safe to travel there in july?")
    assert found.parts[1] == "Is it safe to travel to the Philippines in july?"
    found = split("what's the weather like in the Alps in winter? is it crowded there?")
    assert found.parts[1] == "Is it crowded in the Alps?"
    found = split("how much does a rowing machine cost? is the subscription required?")
    assert found.parts[1] == "Is the subscription of a rowing machine required?"


def test_they_after_who_makes_things_means_the_things_and_a_lead_after_a_dash() -> None:
    found = split("who makes the airpods and how much do they cost")
    assert found.parts[1] == "How much do the airpods cost?"
    found = split("who painted the mona lisa and where did they live")
    assert found.depends_on == ((), (0,))  # a person, the answer's
    found = split("how hot is venus in kelvin? convert that to celsius")
    assert found.depends_on == ((), (0,))
    found = split("quick question - can you explain:\n- recursion\n- closures")
    assert found.parts == ("Can you explain recursion?", "Can you explain closures?")
    assert found.context == ("quick question",)


def test_aspects_of_one_piece_of_writing_and_what_the_answer_should_be_stay_whole() -> None:
    for request in (
        "write an essay on how the printing press spread and why it mattered so much",
        "Explain the rules of chess and how I'd actually get better at it.",
        "Can you explain how interest works? I want something I can share with my son.",
    ):
        assert len(split(request).parts) == 1
    found = split("Explain what a p-value is and what a confidence interval is")
    assert found.parts == ("Explain what a p-value is.", "Explain what a confidence interval is.")


def test_ones_and_so_many_name_the_things_before_and_options_join_their_question() -> None:
    found = split("what are good shoes for running? are the cheap ones worth it?")
    assert found.parts[1] == "Are the cheap shoes worth it?"
    found = split("how do tornadoes form? why does kansas get so many?")
    assert found.parts[1] == "Why does kansas get so many tornadoes?"
    found = split("how do bees make honey? why do they need so many")
    assert found.parts[1] == "Why do bees need so many?"  # "they" are the bees, not "so many"
    request = "which one is better? the red one or the blue one"
    assert split(request).parts == (request,)


def test_one_after_a_verb_means_the_thing_named_and_then_verb_one_is_another() -> None:
    found = split("how long should a cover letter be? should i send one with every application?")
    assert found.parts[1] == "Should i send a cover letter with every application?"
    found = split("write a limerick about cats and then write one about dogs")
    assert found.parts == ("Write a limerick about cats.", "Write a limerick about dogs.")
    assert found.depends_on == ((), ())


def test_what_a_guide_covers_after_its_colon_is_one_request() -> None:
    request = (
        "write a beginner's guide to running covering the first month: what shoes to buy, how "
        "far to go, rest days"
    )
    assert split(request).parts == (request,)


def test_what_a_helper_found_garbled_lost_or_sent_as_a_part_reads_right() -> None:
    follow = {
        "what's the weather like in porto in may, and is it a good time to visit?": (
            "Is it a good time to visit?"  # "it" is no weather
        ),
        "What's the distance between Earth and Venus and how long would it take to go there?": (
            "How long would it take to go to Venus?"
        ),
        "Tell me about the Leaning Tower of Pisa. How tall is it?": (
            "How tall is the Leaning Tower of Pisa?"
        ),
        "How do I write a for loop in Go and how is it different from a while loop?": (
            "How is a for loop different from a while loop?"
        ),
        "When is the next comet visible from Chile and how can I see it?": (
            "How can I see the next comet?"
        ),
        "Is the new Mario game good and is it worth buying a Switch for it?": (
            "Is it worth buying a Switch for the new Mario game?"
        ),
        'Explain the difference between "affect" and "effect" and give me a few examples.': (
            'Give me a few examples of "affect" and "effect".'
        ),
    }
    for request, second in follow.items():
        assert split(request).parts[1] == second
    found = split("Check out https://example.com/a?b=1 and tell me what you think of the logo.")
    assert len(found.parts) == 1 and "https://example.com/a?b=1" in found.parts[0]
    found = split(
        "so basically i just moved to berlin and my visa expires in june, how do i renew it"
    )
    assert found.parts == ("How do i renew it?",)
    found = split("Please review my code and tell me what's wrong:\ndef f(x):\n    return x - 1")
    assert found.parts == (
        "Please review my code and tell me what's wrong:\ndef f(x):\n    return x - 1",
    )
    found = split("List the steps to brew beer and tell me how long each takes.")
    assert found.depends_on == ((), (0,))


def test_aspects_and_listed_things_of_one_long_request_stay_one_request() -> None:
    for request in (
        "explain what inflation is, why it happens, how central banks measure it, and the main "
        "tools they use to bring it down like interest rates and bond sales",
        "how should i prepare for a job interview at a law firm, like the written test, the "
        "partner interview, what to wear, and what to ask them at the end",
        "i need a detailed comparison of two laptops for someone who cares about battery life, "
        "weight, the keyboard and how well it runs linux",
        "escreve um texto sobre a importância das abelhas, falando da polinização, do mel e "
        "do impacto dos pesticidas",
    ):
        assert len(split(request).parts) == 1, request
    found = split("Tell me a joke about cats and a fun fact about dogs.")
    assert len(found.parts) == 2
    found = split("choose a language for me to learn and make me a 4 week study plan for it")
    assert found.depends_on == ((), (0,))


def test_what_a_second_helper_found_garbled_or_sent_as_a_part_reads_right() -> None:
    for request in (
        "Write a eulogy for my uncle, who was a baker, a soldier and a fan of the Yankees.",
        "Write me a 4-day itinerary for Rome with museums, food and a day trip, and keep it cheap.",
        "Escreve um texto sobre o Brasil, falando da música, da comida e do futebol.",
    ):
        assert len(split(request).parts) == 1, request
    found = split("Tell me about Petra. Are the camel rides safe and how much are they?")
    assert found.parts[1] == "Are the camel rides of Petra safe?"
    found = split("What's the history of the Paralympic Games, and how did they change?")
    assert found.parts[1] == "How did the Paralympic Games change?"
    assert split("O que é o Pix? É seguro?").parts[1] == "É seguro?"
    found = split(
        "hey so I'm moving to Lisbon in May and I've never been, is it safe and where should I live"
    )
    assert found.context and found.context[0].startswith("I'm moving to Lisbon")


def test_a_list_of_a_thing_s_aspects_after_an_instruction_is_one_request() -> None:
    for request in (
        "Explain the Cold War, its causes, the main crises and its end.",
        "Explica la Revolución Mexicana, sus causas, los líderes y sus consecuencias.",
        "Erkläre mir die Reformation, ihre Ursachen, die wichtigsten Personen und ihre Folgen.",
        "Explique-moi la digestion, en détaillant l'estomac, l'intestin et le foie.",
        "Give me a history of blues, its main styles, the key players and where to start.",
    ):
        assert len(split(request).parts) == 1, request
    found = split("Recommend a book about Rome, a podcast about Greece and a film about Egypt.")
    assert len(found.parts) == 3  # things of their own, no aspects of one thing


def test_a_short_question_after_a_part_about_a_place_by_name_is_asked_of_it() -> None:
    found = split("Tell me about Kyoto. Where should I stay and when is the best time to go?")
    assert found.parts[1:] == (
        "Where should I stay in Kyoto?",
        "When is the best time to go to Kyoto?",
    )
    found = split("What is Lisbon like? Is it walkable and what should I eat?")
    assert found.parts[2] == "What should I eat in Lisbon?"
    found = split("tell me about photosynthesis. why do plants need light?")
    assert found.parts[1] == "Why do plants need light?"  # no place by name


def test_a_step_after_pick_the_best_one_waits_for_the_pick_and_include_says_how() -> None:
    found = split("Come up with five band names, then pick the best one and write a slogan for it.")
    assert found.depends_on == ((), (0,), (1,))
    found = split("write a poem about the sea, then translate it, then give it a title")
    assert found.depends_on == ((), (0,), (0,))
    request = "大阪で二日間の旅行プランを作ってください。食事と交通手段を含めてください。"
    assert split(request).parts == (request,)


def test_a_route_an_instruction_describes_goes_on_past_and_finally() -> None:
    request = "Describe the life of a frog, from egg to tadpole and finally to adult."
    assert split(request).parts == (request,)
    found = split("what's the distance from paris to rome, and to madrid?")
    assert found.parts[1] == "What's the distance from paris to madrid?"


def test_how_much_should_i_take_asks_of_the_thing_before() -> None:
    follow = {
        "what are the benefits of taking magnesium, and how much should I take?": (
            "How much magnesium should I take?"
        ),
        "what are the side effects of aspirin? how much can i take?": (
            "How much aspirin can i take?"
        ),
        "what is a good protein powder for runners? how much should i take": (
            "How much protein powder should i take?"  # not "runners"
        ),
    }
    for request, second in follow.items():
        assert split(request).parts[1] == second


def test_a_new_rule_does_not_swallow_a_question_after_and_or_one() -> None:
    found = split("Tell me the difference between stocks and bonds, and which is riskier.")
    assert found.parts[1] == "Which is riskier, stocks or bonds?"
    found = split("Can you explain what an API is and give an example of one I use every day?")
    assert len(found.parts) == 2
    found = split("Tell me about Chernobyl. Can tourists visit and is the radiation dangerous?")
    assert found.parts[1] == "Can tourists visit Chernobyl?"
    found = split("What is the Trans-Siberian Railway? How much are tickets?")
    assert found.parts[1] == "How much are tickets?"  # a place by name only after "like"


def test_what_about_a_name_takes_the_name_s_place_not_the_quote_s_or_the_article() -> None:
    found = split("How do you say 'good night' in Italian? What about German?")
    assert found.parts[1] == "How do you say 'good night' in German?"
    found = split("Is Mars bigger than the Moon? What about Venus?")
    assert found.parts[1] == "Is Mars bigger than Venus?"
