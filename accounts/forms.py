from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts import selectors
from accounts.models import User, normalize_email


class SignupForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    display_name = forms.CharField(
        label=_("Display name"),
        max_length=80,
        required=False,
        help_text=_("How we greet you. Optional."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters; not a common password, not all digits."),
    )
    password2 = forms.CharField(
        label=_("Confirm password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", gettext("The two passwords do not match."))
        elif password1:
            candidate = User(email=cleaned.get("email", ""), display_name=cleaned.get("display_name", ""))
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("That email and password do not match an account. Check both and try again."),
    }

    def get_invalid_login_error(self):
        # After django-axes counted this failure: say how close the lockout is, so nobody walks into it.
        tries = selectors.login_tries_left(request=self.request, email=self.cleaned_data.get("username", ""))
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        message = str(self.error_messages["invalid_login"])
        if tries:
            lockout = ngettext(
                "%(tries)d try left before a %(minutes)d-minute lockout.",
                "%(tries)d tries left before a %(minutes)d-minute lockout.",
                tries,
            ) % {"tries": tries, "minutes": minutes}
            message = f"{message} {lockout}"
        return forms.ValidationError(message, code="invalid_login")

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.is_email_verified:
            raise forms.ValidationError(
                format_html(
                    gettext(
                        "Please verify your email first: open the link we sent to {email}. "
                        '<a href="{link}">Send a new link</a>.'
                    ),
                    email=user.email,
                    link=reverse("accounts:resend_verification"),
                ),
                code="unverified",
            )


class EmailForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=80, required=False)


def language_choices() -> list[tuple[str, str]]:
    """The shipped languages, each by its own name ("Deutsch"), after the browser's own."""
    return [("", gettext("Your browser's language")), *settings.LANGUAGES]


class LanguageForm(forms.Form):
    """The language of the website and the emails: one of the shipped ones, or blank for the
    browser's (the footer's switcher sends one of the shipped ones, the settings page either)."""

    language = forms.ChoiceField(
        label=_("Language"),
        choices=language_choices,
        required=False,
        error_messages={"invalid_choice": _("That language is not available: choose one from the list.")},
    )


class ApiTokenCreateForm(forms.Form):
    EXPIRY_CHOICES = [
        ("30", _("30 days")),
        ("90", _("90 days")),
        ("365", _("1 year")),
        ("never", _("Never")),
    ]

    name = forms.CharField(
        label=_("Token name"), max_length=80, help_text=_("What uses this token, e.g. “laptop script”.")
    )
    expires_in = forms.ChoiceField(choices=EXPIRY_CHOICES, initial="90", label=_("Expires"))

    def expires_at(self):
        value = self.cleaned_data["expires_in"]
        return None if value == "never" else timezone.now() + timedelta(days=int(value))
