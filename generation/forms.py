from django import forms
from django.conf import settings

from generation.models import Generation
from generation.services.jobs import DEFAULTS

BASE_MODEL = "base"
# Folded away under "Advanced settings" unless one has an error or a value other than the default.
ADVANCED_FIELDS = ("guidance", "steps", "lora_scale")


class GenerationForm(forms.Form):
    model = forms.ChoiceField(label="Model")
    prompt = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Describe the picture. Your model's trigger word is added if it is missing.",
    )
    num_outputs = forms.TypedChoiceField(
        label="Images", coerce=int, choices=[(n, n) for n in range(1, 5)], initial=DEFAULTS["num_outputs"]
    )
    aspect_ratio = forms.ChoiceField(choices=Generation.AspectRatio.choices, initial=DEFAULTS["aspect_ratio"])
    seed = forms.IntegerField(
        required=False, min_value=0, max_value=2**31 - 1, help_text="Leave empty for a random seed."
    )
    guidance = forms.FloatField(
        min_value=0, max_value=10, initial=DEFAULTS["guidance"], help_text="How closely to follow the prompt (0–10)."
    )
    steps = forms.IntegerField(min_value=1, max_value=50, initial=DEFAULTS["steps"], help_text="28–50 is best.")
    lora_scale = forms.FloatField(
        label="LoRA strength",
        min_value=-1,
        max_value=3,
        initial=DEFAULTS["lora_scale"],
        help_text="How strongly your model shapes the image (1 is normal).",
    )
    output_format = forms.ChoiceField(choices=Generation.OutputFormat.choices, initial=DEFAULTS["output_format"])

    def __init__(self, *args, models, **kwargs):
        super().__init__(*args, **kwargs)
        self.models = {str(run.id): run for run in models}
        choices = [
            (str(run.id), f"{run.project.name} ({run.trigger_word}){' — simulated' if run.simulated else ''}")
            for run in models
        ]
        self.fields["model"].choices = [*choices, (BASE_MODEL, "FLUX.1-dev base model (no LoRA)")]
        self.fields["prompt"].max_length = settings.GENERATION_PROMPT_MAX_CHARS
        self.fields["prompt"].widget.attrs["aria-describedby"] = "prompt-count"

    def basic_fields(self):
        return [self[name] for name in self.fields if name not in ADVANCED_FIELDS]

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
