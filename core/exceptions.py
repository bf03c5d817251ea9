class ProviderError(Exception):
    """A call to an external provider failed. `permanent` decides whether a retry can help."""

    permanent = False

    def __init__(self, message: str, *, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


class TransientProviderError(ProviderError):
    """Worth retrying later: timeouts, connection errors, 429 and 5xx."""


class PermanentProviderError(ProviderError):
    """Retrying will not help: bad credentials, bad request, not found."""

    permanent = True
