"""Password hashing with argon2id, the one place a typed password is handled.

Hashing costs tens of milliseconds of CPU by design, so callers in the event loop run
it on a worker thread.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
# Verifying against this when the user does not exist keeps both answers equally slow,
# so response time does not tell which user names exist.
_DUMMY = _HASHER.hash("tingfeng-no-such-user")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
