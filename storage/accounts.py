"""Console accounts, sessions and login attempts: the only code that reads or writes them.

Passwords arrive here already hashed (argon2 lives in daemon/web/passwords.py) and session
tokens arrive already hashed too, so this module never holds a secret a person typed.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func
from sqlmodel import col, select

from storage.console_models import AuditEntry, LoginAttempt, User, WebSession
from storage.db import Database
from storage.types import utcnow


class AccountError(Exception):
    """A request about accounts that cannot be carried out; the message is for people."""


async def add_user(db: Database, name: str, password_hash: str, *, admin: bool = False) -> User:
    async with db.writing() as session:
        if (await session.exec(select(User).where(User.name == name))).first():
            raise AccountError(f'user "{name}" already exists')
        user = User(name=name, password_hash=password_hash, role="admin" if admin else "staff")
        session.add(user)
        await session.flush()
        session.add(AuditEntry(action="user.add", target=name, detail={"role": user.role}))
        await session.commit()
        return user


async def find_user(db: Database, name: str) -> User | None:
    async with db.session() as session:
        return (await session.exec(select(User).where(User.name == name))).first()


async def get_user(db: Database, user_id: int) -> User | None:
    async with db.session() as session:
        return await session.get(User, user_id)


async def list_users(db: Database) -> list[User]:
    async with db.session() as session:
        return list(await session.exec(select(User).order_by(col(User.name))))


async def set_password(db: Database, name: str, password_hash: str) -> None:
    """A new password also ends every session the user had."""
    async with db.writing() as session:
        user = (await session.exec(select(User).where(User.name == name))).first()
        if user is None:
            raise AccountError(f'no user "{name}"')
        user.password_hash = password_hash
        session.add(user)
        await session.exec(
            delete(  # type: ignore[call-overload]
                WebSession
            ).where(col(WebSession.user_id) == user.id)
        )
        session.add(AuditEntry(user_id=user.id, action="user.passwd", target=name))
        await session.commit()


async def set_disabled(db: Database, name: str, disabled: bool = True) -> None:
    """A disabled user's sessions end at once; enabling again does not revive them."""
    async with db.writing() as session:
        user = (await session.exec(select(User).where(User.name == name))).first()
        if user is None:
            raise AccountError(f'no user "{name}"')
        user.disabled = disabled
        session.add(user)
        if disabled:
            await session.exec(
                delete(  # type: ignore[call-overload]
                    WebSession
                ).where(col(WebSession.user_id) == user.id)
            )
        action = "user.disable" if disabled else "user.enable"
        session.add(AuditEntry(user_id=user.id, action=action, target=name))
        await session.commit()


async def open_session(
    db: Database, user_id: int, token_hash: str, csrf_token: str, expires_at: datetime, ip: str
) -> None:
    async with db.writing() as session:
        session.add(
            WebSession(
                token_hash=token_hash,
                user_id=user_id,
                csrf_token=csrf_token,
                expires_at=expires_at,
                ip=ip,
            )
        )
        await session.commit()


async def session_user(db: Database, token_hash: str) -> tuple[User, WebSession] | None:
    """The live session's user: unexpired, and the user not disabled."""
    async with db.session() as session:
        row = (
            await session.exec(
                select(WebSession, User)
                .join(User, col(User.id) == WebSession.user_id)
                .where(WebSession.token_hash == token_hash)
                .where(col(WebSession.expires_at) > utcnow())
                .where(col(User.disabled).is_(False))
            )
        ).first()
    if row is None:
        return None
    web_session, user = row
    return user, web_session


async def close_session(db: Database, token_hash: str) -> None:
    async with db.writing() as session:
        await session.exec(
            delete(  # type: ignore[call-overload]
                WebSession
            ).where(col(WebSession.token_hash) == token_hash)
        )
        await session.exec(
            delete(  # type: ignore[call-overload]
                WebSession
            ).where(col(WebSession.expires_at) <= utcnow())
        )
        await session.commit()


async def record_attempt(db: Database, user_name: str, ip: str, ok: bool) -> None:
    async with db.writing() as session:
        session.add(LoginAttempt(user_name=user_name, ip=ip, ok=ok))
        await session.commit()


async def failures_since(
    db: Database, since: datetime, *, user_name: str, ip: str
) -> tuple[int, int]:
    """Failed logins since ``since``: (for this user name, from this address)."""

    def failed(where: ColumnElement[bool]) -> Select[Any]:
        return (
            select(func.count())
            .select_from(LoginAttempt)
            .where(where, col(LoginAttempt.ok).is_(False), col(LoginAttempt.at) >= since)
        )

    async with db.session() as session:
        by_user = await session.scalar(failed(col(LoginAttempt.user_name) == user_name))
        by_ip = await session.scalar(failed(col(LoginAttempt.ip) == ip))
    return int(by_user or 0), int(by_ip or 0)


async def _set_token(db: Database, user_id: int, field: str, value: str, action: str) -> None:
    """Replace one of the user's tokens; whatever used the old one stops working at once."""
    async with db.writing() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise AccountError(f"no user with id {user_id}")
        setattr(user, field, value)
        session.add(user)
        session.add(AuditEntry(user_id=user_id, action=action, target=user.name))
        await session.commit()


async def set_api_token(db: Database, user_id: int, token_hash: str) -> None:
    """Give the user a new API token (its SHA-256)."""
    await _set_token(db, user_id, "api_token_hash", token_hash, "user.api_token")


async def rotate_feed_token(db: Database, user_id: int) -> str:
    """Give the user a new feed token; links made with the old one stop working."""
    token = secrets.token_urlsafe(24)
    await _set_token(db, user_id, "feed_token", token, "feed.rotate")
    return token


async def api_token_user(db: Database, token_hash: str) -> User | None:
    """The enabled user whose API token has this SHA-256."""
    async with db.session() as session:
        return (
            await session.exec(
                select(User)
                .where(User.api_token_hash == token_hash)
                .where(col(User.disabled).is_(False))
            )
        ).first()


async def feed_user(db: Database, token: str) -> User | None:
    """The enabled user whose feed token this is (None for a wrong or revoked one)."""
    if not token:
        return None
    async with db.session() as session:
        return (
            await session.exec(
                select(User).where(User.feed_token == token).where(col(User.disabled).is_(False))
            )
        ).first()
