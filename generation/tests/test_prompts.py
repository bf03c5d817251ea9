"""The prompt a job is made with."""

from generation.services.prompts import prompt_with_trigger


def test_the_trigger_word_is_kept_when_the_prompt_has_it():
    assert prompt_with_trigger(prompt="TOKQ  in  a park", trigger_word="TOKQ") == ("TOKQ in a park", False)
    assert prompt_with_trigger(prompt="in a park", trigger_word="TOKQ") == ("a photo of TOKQ, in a park", True)
    assert prompt_with_trigger(prompt="TOKQX in a park", trigger_word="TOKQ")[1] is True
