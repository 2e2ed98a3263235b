"""The one error tree of limelight.

Every error carries a machine-readable ``code`` and an HTTP ``status``. The server renders any
``LimelightError`` as ``{"error": {"code", "message", "details", "request_id"}}``; the SDK maps the
``code`` back to the same class, so callers catch the same exceptions locally and remotely.

* LimelightError (500, ``internal``)
  + BadRequest (400, ``bad_request``)
    - InvalidName (400, ``invalid_name``)
    - InvalidPath (400, ``invalid_path``)
    - InvalidParams (400, ``invalid_params``)
    - InvalidQuery (400, ``invalid_query``; a marketplace search text with no word left to search for, too
      long, or with too many terms; details ``q`` and ``reason``)
    - UntrustedHost (400, ``untrusted_host``; production mode, Host not in ``server.trusted_hosts``)
    - ContextLengthExceeded (400, ``context_length_exceeded``; details ``limit``, ``prompt_tokens``, ``max_tokens``)
    - GrammarInvalid (400, ``grammar_invalid``; llama.cpp cannot parse the GBNF grammar)
    - ResponseFormatUnsupported (400, ``response_format_unsupported``; a JSON schema no grammar expresses)
  + Unauthenticated (401, ``unauthenticated``)
  + Forbidden (403, ``forbidden``)
    - QuotaExceeded (403, ``quota_exceeded``; the org's monthly compute seconds or its storage would pass the
      quota; details ``quota``, ``limit``, ``used``, and ``adding`` for storage)
  + NotFound (404, ``not_found``)
  + Conflict (409, ``conflict``)
    - AlreadyExists (409, ``already_exists``)
    - InUse (409, ``in_use``)
  + PayloadTooLarge (413, ``payload_too_large``)
    - ArchiveTooLarge (413, ``archive_too_large``; too many files, too many bytes unpacked, or a
      compression ratio only a zip bomb has)
    - ImageTooLarge (413, ``image_too_large``; more bytes or pixels than the limit, given in details)
  + UnsupportedMediaType (415, ``unsupported_media_type``)
    - UnsafeArtifactFormat (415, ``unsafe_artifact_format``)
  + Unprocessable (422, ``unprocessable``)
    - ValidationFailed (422, ``validation_failed``)
    - DatasetInvalid (422, ``dataset_invalid``)
    - CutoffOutOfRange (422, ``cutoff_out_of_range``; a behaviour cutoff outside the data's time range)
    - ArtifactInvalid (422, ``artifact_invalid``; the validator crashed, timed out or refused it)
    - ArchiveUnsafe (422, ``archive_unsafe``; an entry's path is absolute or leaves the archive)
    - ImageInvalid (422, ``image_invalid``; not a JPEG, PNG, WebP or GIF image, or one that does not decode)
  + RateLimited (429, ``rate_limited``; carries ``retry_after_s``)
    - LoginThrottled (429, ``login_throttled``: too many failed sign-ins for the account or address)
    - RequestQuotaExceeded (429, ``quota_exceeded``, also a QuotaExceeded: the org used its inference
      requests of the month; ``Retry-After`` is the seconds to the next UTC month; details ``quota``,
      ``limit``, ``used``)
  + GenerationFailed (502, ``generation_failed``; the process running the LLM died; it is restarted)
  + Overloaded (503, ``overloaded``; carries ``retry_after_s``)
  + ModelUnavailable (503, ``model_unavailable``)
  + NotReady (503, ``not_ready``)
  + DeadlineExceeded (504, ``deadline_exceeded``)
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AlreadyExists",
    "ArchiveTooLarge",
    "ArchiveUnsafe",
    "ArtifactInvalid",
    "BadRequest",
    "Conflict",
    "ContextLengthExceeded",
    "DatasetInvalid",
    "DeadlineExceeded",
    "Forbidden",
    "GenerationFailed",
    "GrammarInvalid",
    "ImageInvalid",
    "ImageTooLarge",
    "InUse",
    "InvalidName",
    "InvalidParams",
    "InvalidPath",
    "InvalidQuery",
    "LimelightError",
    "LoginThrottled",
    "ModelUnavailable",
    "NotFound",
    "NotReady",
    "Overloaded",
    "PayloadTooLarge",
    "QuotaExceeded",
    "RateLimited",
    "RequestQuotaExceeded",
    "ResponseFormatUnsupported",
    "Unauthenticated",
    "Unprocessable",
    "UnsafeArtifactFormat",
    "UnsupportedMediaType",
    "UntrustedHost",
    "ValidationFailed",
    "error_class_for_code",
]


class LimelightError(Exception):
    """Base of every error limelight raises on purpose."""

    code: ClassVar[str] = "internal"
    status: ClassVar[int] = 500
    _by_code: ClassVar[dict[str, type[LimelightError]]] = {}
    # a code two classes share (``quota_exceeded``: 403 and 429) is told apart by the status
    _by_code_and_status: ClassVar[dict[tuple[str, int], type[LimelightError]]] = {}
    # Whether a bare HTTP status (a proxy's page, no code) may be read back as this class.
    stands_for_its_status: ClassVar[bool] = True
    # Set by the SDK on errors rebuilt from a response: the server's request id and HTTP status.
    request_id: str | None = None
    http_status: int | None = None

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None) -> None:
        self.message = message or self.default_message()
        self.details = details or {}
        super().__init__(self.message)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        LimelightError._by_code[cls.code] = cls
        LimelightError._by_code_and_status[(cls.code, cls.status)] = cls

    @classmethod
    def default_message(cls) -> str:
        return cls.__name__

    def headers(self) -> dict[str, str]:
        return {}

    def to_body(self, request_id: str | None = None) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "details": self.details,
                "request_id": request_id,
            }
        }


class BadRequest(LimelightError):
    code = "bad_request"
    status = 400


class InvalidName(BadRequest):
    code = "invalid_name"


class InvalidPath(BadRequest):
    code = "invalid_path"


class InvalidParams(BadRequest):
    code = "invalid_params"


class InvalidShare(BadRequest):
    code = "invalid_share"


class InvalidQuery(BadRequest):
    code = "invalid_query"


class UntrustedHost(BadRequest):
    code = "untrusted_host"

    @classmethod
    def default_message(cls) -> str:
        return "This server does not answer to the host named in the request."


class ContextLengthExceeded(BadRequest):
    code = "context_length_exceeded"


class GrammarInvalid(BadRequest):
    code = "grammar_invalid"


class ResponseFormatUnsupported(BadRequest):
    code = "response_format_unsupported"


class Unauthenticated(LimelightError):
    code = "unauthenticated"
    status = 401

    @classmethod
    def default_message(cls) -> str:
        return ("A valid API key or session is required: send the header 'Authorization: Bearer <api key>' "
                "(an owner creates keys on the console's API keys page or with `limelight keys create NAME`).")

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(LimelightError):
    code = "forbidden"
    status = 403

    @classmethod
    def default_message(cls) -> str:
        return "You are not allowed to do this."


class QuotaExceeded(Forbidden):
    """The org reached a monthly quota an administrator set (``PUT /api/v1/orgs/{org}/quotas``)."""

    code = "quota_exceeded"


class NotFound(LimelightError):
    code = "not_found"
    status = 404

    @classmethod
    def default_message(cls) -> str:
        return "Not found."

    @classmethod
    def model(cls, org: str, name: str, **details: Any) -> NotFound:
        """The same answer whether the model is absent or another org's private one, naming where to look."""
        return cls(f"Model {org}/{name} not found. `limelight models list --org {org}` (GET /api/v1/orgs/{org}/models) "
                   "lists the models you can call; public models of other orgs are at GET /api/v1/models.",
                   details=details or None)


class Conflict(LimelightError):
    code = "conflict"
    status = 409


class AlreadyExists(Conflict):
    code = "already_exists"


class InUse(Conflict):
    code = "in_use"


class AlreadyMember(Conflict):
    code = "already_member"


class InvitationUsed(Conflict):
    code = "invitation_used"


class QuotaBelowUsage(Conflict):
    """A quota set below what the org already used this month (or stores now)."""

    code = "quota_below_usage"


class ExperimentRunning(Conflict):
    code = "experiment_running"


class ExperimentStopped(Conflict):
    code = "experiment_stopped"


class Gone(LimelightError):
    code = "gone"
    status = 410


class InvitationExpired(Gone):
    code = "invitation_expired"


class InvitationRevoked(Gone):
    code = "invitation_revoked"


class PayloadTooLarge(LimelightError):
    code = "payload_too_large"
    status = 413


class ArchiveTooLarge(PayloadTooLarge):
    code = "archive_too_large"


class ImageTooLarge(PayloadTooLarge):
    code = "image_too_large"


class UnsupportedMediaType(LimelightError):
    code = "unsupported_media_type"
    status = 415


class UnsafeArtifactFormat(UnsupportedMediaType):
    code = "unsafe_artifact_format"


class Unprocessable(LimelightError):
    code = "unprocessable"
    status = 422


class ValidationFailed(Unprocessable):
    code = "validation_failed"


class DatasetInvalid(Unprocessable):
    code = "dataset_invalid"


class CutoffOutOfRange(Unprocessable):
    """A behaviour cutoff whose history or horizon falls outside the data's time range."""

    code = "cutoff_out_of_range"


class NotRetrainable(Unprocessable):
    """A fork asked to retrain from a version no recipe trained (an uploaded file)."""

    code = "not_retrainable"


class ArtifactInvalid(Unprocessable):
    code = "artifact_invalid"


class ArchiveUnsafe(Unprocessable):
    code = "archive_unsafe"


class ImageInvalid(Unprocessable):
    code = "image_invalid"


class GenerationFailed(LimelightError):
    """The child process generating the answer crashed; only the requests it was running fail."""

    code = "generation_failed"
    status = 502
    stands_for_its_status = False  # a proxy's 502 is not a crashed generation

    @classmethod
    def default_message(cls) -> str:
        return "The text generation process stopped unexpectedly; retry the request."


class _RetryLater(LimelightError):
    code = "retry_later"
    status = 503

    def __init__(
        self, message: str | None = None, *, retry_after_s: float = 1.0, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(max(1, round(self.retry_after_s)))}


class RateLimited(_RetryLater):
    code = "rate_limited"
    status = 429


class LoginThrottled(RateLimited):
    code = "login_throttled"


class RequestQuotaExceeded(RateLimited, QuotaExceeded):
    """The org's inference requests of the month are used up; retry when the next UTC month starts."""

    code = "quota_exceeded"
    status = 429


class Overloaded(_RetryLater):
    code = "overloaded"
    status = 503


class ModelUnavailable(LimelightError):
    code = "model_unavailable"
    status = 503


class NotReady(LimelightError):
    code = "not_ready"
    status = 503


class DeadlineExceeded(LimelightError):
    code = "deadline_exceeded"
    status = 504


LimelightError._by_code["internal"] = LimelightError


def error_class_for_code(code: str, status: int) -> type[LimelightError]:
    """The error class for a wire ``code``; falls back to the class of the HTTP status."""
    if (code, status) in LimelightError._by_code_and_status:
        return LimelightError._by_code_and_status[(code, status)]
    if code in LimelightError._by_code:
        return LimelightError._by_code[code]
    for cls in LimelightError._by_code.values():
        if cls.status == status and cls.__base__ is LimelightError and cls.stands_for_its_status:
            return cls
    return LimelightError
