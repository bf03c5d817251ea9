from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.compatibility)
def prompts_are_translated_when_images_are_paid(app_configs=None, **kwargs):
    """Real, paid images from untranslated prompts lose most of their meaning: say so at start-up."""
    from generation.backends.translation import get_translation_backend

    if settings.DEMO_MODE or get_translation_backend().translates:
        return []
    return [
        checks.Warning(
            "Images are made by a real provider, but prompts typed in another language are sent untranslated.",
            hint="Set HF_TOKEN (Hugging Face Inference translates them) or PROMPT_TRANSLATION_BACKEND.",
            id="generation.W001",
        )
    ]
