"""The prompt a job is made with."""

import re


def prompt_with_trigger(*, prompt: str, trigger_word: str | None) -> tuple[str, bool]:
    """The prompt with the model's trigger word in it, and whether we had to add it."""
    prompt = " ".join(prompt.split())
    if not trigger_word or re.search(rf"\b{re.escape(trigger_word)}\b", prompt):
        return prompt, False
    return f"a photo of {trigger_word}, {prompt}", True
