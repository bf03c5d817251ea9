from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from generation.models import Generation
from generation.services.jobs import DEFAULTS

BASE_MODEL = "base"
# Folded away under "Advanced settings" unless one has an error or a value other than the default.
ADVANCED_FIELDS = ("guidance", "steps", "lora_scale")


class GenerationForm(forms.Form):
    model = forms.ChoiceField(label=_("Model"))
    prompt = forms.CharField(
        label=_("Prompt"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Describe the picture. Your model's trigger word is added if it is missing."),
    )
    translate_prompt = forms.BooleanField(
        label=_("Translate my prompt to English"),
        required=False,
        initial=True,
        help_text=_(
            "FLUX.1-dev reads English best. Your trigger word and anything in quotes are kept as you typed them."
        ),
    )
    # A prompt we offered in the user's language, with its English original (signed): sent
    # unchanged, the original goes (generation.selectors.prompt_suggestion_token).
    suggestion = forms.CharField(required=False, widget=forms.HiddenInput)
    num_outputs = forms.TypedChoiceField(
        label=_("Images"), coerce=int, choices=[(n, n) for n in range(1, 5)], initial=DEFAULTS["num_outputs"]
    )
    aspect_ratio = forms.ChoiceField(
        label=_("Aspect ratio"), choices=Generation.AspectRatio.choices, initial=DEFAULTS["aspect_ratio"]
    )
    seed = forms.IntegerField(
        label=_("Seed"), required=False, min_value=0, max_value=2**31 - 1, help_text=_("Leave empty for a random seed.")
    )
    guidance = forms.FloatField(
        label=_("Guidance"),
        min_value=0,
        max_value=10,
        initial=DEFAULTS["guidance"],
        help_text=_("How closely to follow the prompt (0–10)."),
    )
    steps = forms.IntegerField(
        label=_("Steps"), min_value=1, max_value=50, initial=DEFAULTS["steps"], help_text=_("28–50 is best.")
    )
    lora_scale = forms.FloatField(
        label=_("LoRA strength"),
        min_value=-1,
        max_value=3,
        initial=DEFAULTS["lora_scale"],
        help_text=_("How strongly your model shapes the image (1 is normal)."),
    )
    output_format = forms.ChoiceField(
        label=_("Output format"), choices=Generation.OutputFormat.choices, initial=DEFAULTS["output_format"]
    )

    def __init__(self, *args, models, **kwargs):
        super().__init__(*args, **kwargs)
        self.models = {str(run.id): run for run in models}
        choices = [(str(run.id), self._model_label(run)) for run in models]
        self.fields["model"].choices = [*choices, (BASE_MODEL, gettext("FLUX.1-dev base model (no LoRA)"))]
        self.fields["prompt"].max_length = settings.GENERATION_PROMPT_MAX_CHARS
        self.fields["prompt"].widget.attrs["aria-describedby"] = "prompt-count"

    @staticmethod
    def _model_label(run) -> str:
        if run.simulated:
            return gettext("%(project)s (%(trigger)s) — simulated") % {
                "project": run.project.name,
                "trigger": run.trigger_word,
            }
        return f"{run.project.name} ({run.trigger_word})"

    def basic_fields(self):
        return [self[name] for name in self.fields if name not in ADVANCED_FIELDS and name != "suggestion"]

    def advanced_fields(self):
        return [self[name] for name in ADVANCED_FIELDS]

    def advanced_open(self) -> bool:
        """Open the advanced settings when one of them needs the user's eye: an error, or a changed value."""
        for name in ADVANCED_FIELDS:
            if self[name].errors:
                return True
            try:
                if float(self[name].value()) != float(DEFAULTS[name]):
                    return True
            except (TypeError, ValueError):
                return True
        return False

    def training_run(self):
        return self.models.get(self.cleaned_data["model"])
