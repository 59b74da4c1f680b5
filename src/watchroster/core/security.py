"""Secrets: login codes, session tokens and how they are stored (only as keyed hashes)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

CODE_DIGITS = 6


def new_login_code() -> str:
    """Six digits from the OS CSPRNG (~20 bits, the NIST floor for a short-lived code)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def new_session_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def keyed_hash(secret_key: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 of `value`, bound to a purpose so a code hash can never match a token hash.

    A leaked database alone does not let anyone test guesses offline without the secret key.
    """
    message = f"{purpose}\x00{value}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def hashes_match(expected_hex: str, candidate_hex: str) -> bool:
    return hmac.compare_digest(expected_hex, candidate_hex)
