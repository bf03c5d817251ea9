from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import RadioSelect
from projects.models import Photo, Project, trigger_word_validator

TRIGGER_WORD_HELP = _("A made-up word your prompts use to mean this subject. Leave empty and we pick one.")


class ProjectForm(forms.ModelForm):
    trigger_word = forms.CharField(
        label=_("Trigger word"),
        max_length=32,
        required=False,
        validators=[trigger_word_validator],
        help_text=TRIGGER_WORD_HELP,
    )

    class Meta:
        model = Project
        fields = ["name", "category", "subject_description", "trigger_word"]
        # The labels live here, not as the model's verbose names: the form is where a user reads them.
        labels = {
            "name": _("Name"),
            "category": _("Category"),
            "subject_description": _("Subject description"),
        }
        widgets = {
            "category": RadioSelect,
            "subject_description": forms.Textarea(attrs={"rows": 3}),
        }


class ProjectEditForm(ProjectForm):
    trigger_word = forms.CharField(
        label=_("Trigger word"), max_length=32, validators=[trigger_word_validator], help_text=TRIGGER_WORD_HELP
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleImageField, self).clean(item, initial) for item in files if item]


class PhotoUploadForm(forms.Form):
    photos = MultipleImageField(
        label=_("Photos"),
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif"}),
        help_text=_("JPEG, PNG, WebP or HEIC. Select several at once."),
    )


class PhotoDescriptionForm(forms.ModelForm):
    class Meta:
        model = Photo
        fields = ["description"]
        labels = {"description": _("Description")}
        widgets = {"description": forms.Textarea(attrs={"rows": 2, "placeholder": _("What does this photo show?")})}
