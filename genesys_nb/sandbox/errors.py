"""The real API's error bodies: Platform ErrorBody for /api/v2, OAuth style for /oauth/token."""

from __future__ import annotations

import orjson

MESSAGES = {
    "bad.request": "The request could not be understood by the server due to malformed syntax.",
    "not.found": "The requested operation failed with status 404",
    "bad.credentials": "Invalid login credentials.",
    "credentials.expired": "The supplied credentials are expired and cannot be used.",
    "authentication.required": "No authentication bearer token specified in authorization header.",
    "not.authorized": "You are not authorized to perform the requested action.",
    "internal.server.error": "The server encountered an unexpected condition which prevented it from "
                             "fulfilling the request.",
    "service.unavailable": "Service Unavailable - The server is currently unavailable (because it is "
                           "overloaded or down for maintenance).",
    "bad.gateway": "The server, while acting as a gateway or proxy, received an invalid response.",
    "request.timeout": "The server did not receive a timely response from an upstream server.",
    "unsupported.media.type": "Unsupported Media Type - Unsupported or incorrect media type, such as an "
                              "incorrect Content-Type value in the header.",
}


class ApiError(Exception):
    """Raised by endpoint code; turned into an ErrorBody response by the app."""

    def __init__(self, status: int, code: str, message: str | None = None,
                 headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message or MESSAGES.get(code, code))
        self.status = status
        self.code = code
        self.message = message or MESSAGES.get(code, code)
        self.headers = headers or []


def invalid_value(value: object, field: str, allowed: str) -> ApiError:
    """400 invalid.value in the real message format."""
    return ApiError(400, "invalid.value",
                    f"Value [{value}] is not valid for field type [{field}]. Allowable values are: {allowed}")


def missing_permissions(*permissions: str) -> ApiError:
    """403 missing.permissions naming what the caller lacks."""
    names = ", ".join(permissions)
    return ApiError(403, "missing.permissions",
                    f"Unable to perform the requested action. You are missing the following permission(s): {names}")


def error_body(status: int, code: str, message: str, context_id: str) -> bytes:
    """ErrorBody JSON as real bodies carry it: message, code, status, contextId, details, errors."""
    return orjson.dumps({"message": message, "code": code, "status": status, "contextId": context_id,
                         "details": [], "errors": []})


def oauth_error(error: str, description: str) -> bytes:
    """OAuth-style error JSON, with `description` duplicating `error_description` as the real one."""
    return orjson.dumps({"error": error, "description": description, "error_description": description})


def rate_limit_message(seconds: int) -> str:
    """The normalized 429 message."""
    return f"Rate limit exceeded the maximum. Retry the request in [{seconds}] seconds"
