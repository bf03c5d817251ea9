from django import forms

from core.forms import RadioSelect
from projects.models import Photo, Project, trigger_word_validator


class ProjectForm(forms.ModelForm):
    trigger_word = forms.CharField(
        max_length=32,
        required=False,
        validators=[trigger_word_validator],
        help_text="A made-up word your prompts use to mean this subject. Leave empty and we pick one.",
    )

    class Meta:
        model = Project
        fields = ["name", "category", "subject_description", "trigger_word"]
        widgets = {
            "category": RadioSelect,
            "subject_description": forms.Textarea(attrs={"rows": 3}),
        }


class ProjectEditForm(ProjectForm):
    trigger_word = forms.CharField(
        max_length=32, validators=[trigger_word_validator], help_text=ProjectForm.base_fields["trigger_word"].help_text
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
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif"}),
        help_text="JPEG, PNG, WebP or HEIC. Select several at once.",
    )


class PhotoDescriptionForm(forms.ModelForm):
    class Meta:
        model = Photo
        fields = ["description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2, "placeholder": "What does this photo show?"})}
