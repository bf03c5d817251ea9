from core.failures import Kind


class Refusal(Exception):
    """A request we refuse, with a message for the user (the exception's text).

    Every user-facing refusal of a service derives from it. The API's exception handler maps it
    once to the JSON error body (`code`, HTTP `status_code`), the website once to a message; views
    do not catch it themselves.
    """

    # What the API answered before refusals had one base: a 400 `invalid` whose details name the
    # field the refusal is about (`non_field_errors` when it is about the whole request).
    code = "invalid"
    status_code = 400
    field: str | None = "non_field_errors"

    def __init__(
        self, message: str, *, code: str | None = None, status_code: int | None = None, field: str | None = None
    ):
        super().__init__(message)
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        if field is not None:
            self.field = field

    @property
    def message(self) -> str:
        return str(self)


class ProviderError(Exception):
    """A call to an external provider failed. `permanent` decides whether a retry can help; `kind`
    (core.failures.Kind) what to tell the user if it ends the work."""

    permanent = False
    kind = Kind.PROVIDER_DOWN

    def __init__(self, message: str, *, status_code: int | None = None, kind: Kind | None = None):
        super().__init__(message)
        self.status_code = status_code
        if kind is not None:
            self.kind = kind


class TransientProviderError(ProviderError):
    """Worth retrying later: timeouts, connection errors, 429 and 5xx."""


class UnexpectedStepError(TransientProviderError):
    """A step raised something no provider mapping knows (a bug, a malformed answer we did not
    foresee, a database hiccup): retried like a transient error, and the step's attempt budget
    ends the work if it keeps happening."""

    kind = Kind.INTERNAL


class PermanentProviderError(ProviderError):
    """Retrying will not help: bad credentials, bad request, not found."""

    permanent = True
    kind = Kind.UNKNOWN


class OutputUnusable(PermanentProviderError):
    """The provider's output is not something we accept (an unknown kind of address, too large,
    not an image or a LoRA)."""

    kind = Kind.BAD_OUTPUT


class OutputGone(OutputUnusable):
    """The provider no longer has this output (deleted after its retention period)."""

    kind = Kind.EXPIRED_OUTPUTS


class InvalidWebhook(Exception):
    """A webhook delivery whose signature headers or signature do not check out: a backend's
    `verify_webhook` raises it, core.webhooks answers 401."""

    def __init__(self, message: str, *, signature_mismatch: bool = False):
        super().__init__(message)
        self.signature_mismatch = signature_mismatch
