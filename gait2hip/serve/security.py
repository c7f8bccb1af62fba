"""Access token, safe file names and the HTTP security headers of the clinic service.

The token is a random 256-bit secret kept in a file readable only by its owner (mode 0600).
Requests carry it as ``Authorization: Bearer <token>`` (or ``X-Gait2hip-Token``); it is compared
in constant time (:func:`hmac.compare_digest`).
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
import stat
from pathlib import Path

from gait2hip.errors import Gait2HipInputError

#: Bytes of randomness in a new token (256 bits).
TOKEN_BYTES = 32
#: Shortest token accepted from a user-written token file.
MIN_TOKEN_CHARS = 16
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")

#: Headers on every response. The page's own scripts and styles only; nothing from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; "
        "connect-src 'self'; frame-src 'self' blob:; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def ensure_token_file(path: str | Path) -> tuple[str, bool]:
    """Read the token in ``path``, or create it (mode 0600) with a new random token.

    Returns
    -------
    (token, created)
        ``created`` is True when the file was written now (the caller shows the token once).

    Raises
    ------
    Gait2HipInputError
        The file is readable by other users, or holds a token shorter than ``MIN_TOKEN_CHARS``.
    """
    path = Path(path)
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise Gait2HipInputError(
                f"the token file is readable or writable by other users (mode {mode:o}).",
                file=path,
                fix=f"chmod 600 {path}",
            )
        token = path.read_text(encoding="utf-8").strip()
        if len(token) < MIN_TOKEN_CHARS:
            raise Gait2HipInputError(
                f"the token file holds a token of {len(token)} characters (< {MIN_TOKEN_CHARS}).",
                file=path,
                fix="delete the file to have a new random token made, or write a longer one.",
            )
        return token, False
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    # O_EXCL: never follow or reuse a file someone else created meanwhile; 0600 from the start.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token, True


def token_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented token with the expected one."""
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def presented_token(headers) -> str | None:
    """The token a request carries (``Authorization: Bearer …`` or ``X-Gait2hip-Token``)."""
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return headers.get("x-gait2hip-token") or None


def safe_filename(name: str | None, *, default: str = "upload") -> str:
    """A client's file name reduced to a harmless display name.

    Only the last path component is kept (both ``/`` and ``\\`` separators), characters outside
    ``A-Za-z0-9._-`` become ``_``, leading dots are dropped and the result is at most 100
    characters. The name is only ever shown back to the user: uploads are never stored under it.
    """
    text = (name or "").replace("\\", "/").split("/")[-1]
    text = _SAFE.sub("_", text).lstrip(".")
    if len(text) > 100:
        stem, dot, suffix = text.rpartition(".")
        text = (stem[: 100 - len(suffix) - 1] + dot + suffix) if dot and len(suffix) <= 8 else text[:100]
    return text or default
