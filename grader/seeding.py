"""Deterministic variant seeds.

seed = HMAC-SHA256(secret, quiz id, student id, exercise id, generator version), read as a
128-bit big-endian integer.  The fields are joined with a unit separator (0x1F) so that no
two different tuples of fields give the same message.  Same inputs, same seed, on any
machine; without the secret, nobody can recompute another student's seed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_BYTES = 32
_SEPARATOR = b"\x1f"


def new_secret() -> bytes:
    """32 fresh random bytes for a quiz secret."""
    return secrets.token_bytes(SECRET_BYTES)


def variant_seed(
    secret: bytes, quiz_id: str, student_id: str, exercise_id: str, generator_version: int
) -> int:
    """The variant seed for one student's copy of one exercise (an int in [0, 2**128))."""
    fields = (quiz_id, student_id, exercise_id, str(int(generator_version)))
    for name, value in zip(("quiz_id", "student_id", "exercise_id"), fields):
        if "\x1f" in value:
            raise ValueError(f"{name} must not contain the unit separator character")
    message = _SEPARATOR.join(field.encode("utf-8") for field in fields)
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return int.from_bytes(digest[:16], "big")
