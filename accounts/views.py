from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import selectors, services
from accounts.forms import ApiTokenCreateForm, EmailForm, LanguageForm, LoginForm, ProfileForm, SignupForm
from accounts.models import normalize_email
from core.middleware import language_from_accept_header
from core.ratelimit import by_user, rate_limit

NEW_TOKEN_SESSION_KEY = "accounts.new_api_token"


@require_http_methods(["GET", "POST"])
@rate_limit("signup")
def signup(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_signup(
            email=form.cleaned_data["email"],
            display_name=form.cleaned_data["display_name"],
            password=form.cleaned_data["password1"],
            # Only a language the visitor chose (the switcher's cookie) is saved on the account; the
            # browser's is already what a blank choice means (the verification email is in it).
            language=request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, ""),
            # The page's language: the emails a worker sends before the next visit are in it.
            browser_language=translation.get_language(),
        )
        request.session["accounts.signup_email"] = form.cleaned_data["email"]
        return redirect("accounts:signup_done")
    return render(request, "accounts/signup.html", {"form": form})


@require_safe
def signup_done(request):
    return render(request, "accounts/signup_done.html", {"email": request.session.get("accounts.signup_email")})


@require_safe
def verify_email(request, token):
    try:
        services.user_verify_email(token=token)
    except services.VerificationError as error:
        return render(request, "accounts/verify_failed.html", {"error": error}, status=400)
    messages.success(request, gettext("Your email is verified. You can log in now."))
    return redirect("dashboard" if request.user.is_authenticated else "accounts:login")


@require_http_methods(["GET", "POST"])
@rate_limit("signup")
def resend_verification(request):
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_resend_verification(email=form.cleaned_data["email"])
        request.session["accounts.signup_email"] = form.cleaned_data["email"]
        return redirect("accounts:signup_done")
    return render(request, "accounts/resend_verification.html", {"form": form})


class FormMethodsOnly:
    """GET and POST, as a form page takes (Django's form views also take PUT as POST), refused
    before anything else: LoginView redirects a logged-in visitor, and PasswordResetConfirmView
    checks the link, whatever the method."""

    http_method_names = ["get", "post", "head", "options"]

    def dispatch(self, request, *args, **kwargs):
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            return self.http_method_not_allowed(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)


def _login_account(request) -> str:
    return f"login:{normalize_email(request.POST.get('username', ''))}"


# Per account from every address together; django-axes locks one account from one address.
@method_decorator(rate_limit("login_account", key=_login_account), name="dispatch")
class LoginView(FormMethodsOnly, auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


def _reset_address(request) -> str:
    # Also per address: many clients must not be able to flood one mailbox with reset emails.
    return f"email:{normalize_email(request.POST.get('email', ''))}"


@require_http_methods(["GET", "POST"])
@rate_limit("password_reset")
@rate_limit("password_reset", key=_reset_address)
def password_reset(request):
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_request_password_reset(email=form.cleaned_data["email"])
        return redirect("accounts:password_reset_done")
    return render(request, "accounts/password_reset.html", {"form": form})


class PasswordResetConfirmView(FormMethodsOnly, auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        # Following the emailed link proves the address, as the verification link would.
        services.user_mark_email_verified(user=self.user)
        return super().form_valid(form)


class PasswordChangeView(FormMethodsOnly, auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:settings")

    def form_valid(self, form):
        messages.success(self.request, gettext("Your password has been changed."))
        return super().form_valid(form)


@login_required
# The page shows a new API token's secret once: no browser or proxy may keep a copy.
@never_cache
@require_http_methods(["GET", "POST"])
def account_settings(request):
    profile_form = ProfileForm(request.POST or None, initial={"display_name": request.user.display_name})
    if request.method == "POST" and profile_form.is_valid():
        services.user_update_profile(user=request.user, display_name=profile_form.cleaned_data["display_name"])
        messages.success(request, gettext("Profile saved."))
        return redirect("accounts:settings")
    return _render_settings(request, profile_form=profile_form, token_form=ApiTokenCreateForm())


def _render_settings(request, *, profile_form, token_form, status=200):
    return render(
        request,
        "accounts/settings.html",
        {
            "profile_form": profile_form,
            "language_form": LanguageForm(initial={"language": request.user.language}),
            "token_form": token_form,
            "tokens": selectors.api_token_list_for_user(user=request.user),
            "new_token": request.session.pop(NEW_TOKEN_SESSION_KEY, None),
        },
        status=status,
    )


@login_required
@never_cache
@require_POST
@rate_limit("api_token_create", key=by_user)
def api_token_create(request):
    form = ApiTokenCreateForm(request.POST)
    if form.is_valid():
        try:
            token, raw_token = services.api_token_create(
                user=request.user, name=form.cleaned_data["name"], expires_at=form.expires_at()
            )
        except services.ApiTokenLimitReached as error:
            form.add_error(None, str(error))
        else:
            # Kept in the session for exactly one page view, so a reload never shows it again.
            request.session[NEW_TOKEN_SESSION_KEY] = {"name": token.name, "secret": raw_token}
            return redirect("accounts:settings")
    profile_form = ProfileForm(initial={"display_name": request.user.display_name})
    return _render_settings(request, profile_form=profile_form, token_form=form, status=400)


@login_required
@require_POST
def api_token_revoke(request, token_id):
    token = selectors.api_token_get_for_user(user=request.user, token_id=token_id)
    services.api_token_revoke(token=token)
    messages.success(
        request,
        gettext("Token “%(name)s” revoked. Programs using it can no longer call the API.") % {"name": token.name},
    )
    return redirect("accounts:settings")


@require_POST
def set_language(request):
    """The footer's switcher and the settings page's choice: the language of the pages (a cookie,
    for visitors too) and, when signed in, of the user's pages and emails (saved on the account).
    Blank, from the settings page, goes back to the browser's language. Then back to the page it
    came from (`next`, given by pages shown for a GET) if that is on this site, else home."""
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("landing")
    form = LanguageForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["language"][0])
        return HttpResponseRedirect(back)
    language = form.cleaned_data["language"]
    if request.user.is_authenticated:
        services.user_update_language(user=request.user, language=language)
    response = HttpResponseRedirect(back)
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    else:
        response.delete_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    if request.user.is_authenticated:
        # Said in the language chosen: the next page is in it.
        with translation.override(language or language_from_accept_header(request.headers.get("Accept-Language"))):
            if language:
                said = gettext("Your pages and emails are now in %(language)s.") % {
                    "language": dict(settings.LANGUAGES)[language]
                }
            else:
                said = gettext("Your pages now follow your browser's language, and so do your emails.")
        messages.success(request, said)
    return response
