"""Accounts: the only writer of users and grids; passwords, logins and principals."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import Redis
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from backend.accounts.authz import Principal
from backend.accounts.models import GridAssignment, Role, User, UserKind
from backend.accounts.tokens import TokenPair, TokenStore
from backend.crypto import PiiCipher
from backend.errors import NotFound, TooManyRequests, Unauthorized, ValidationFailed
from backend.geo import service as geo_service
from backend.geo.models import Level
from backend.integrity.service import record_event

_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown name as slow as one for a known name.
_DUMMY_HASH = _hasher.hash("yimen-timing-equaliser")

STAFF_JURISDICTION_LEVELS = (Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP)


def hash_password(password: str) -> str:
    """An argon2id hash."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches (constant work whether or not the user exists)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class UserIn:
    """What `yimen user add` and the admin API pass to create or update a user."""

    username: str
    role: str
    jurisdiction: str
    password: str | None = None
    display_name: str = ""
    villages: Sequence[str] = ()


async def upsert_user(*, user_in: UserIn, actor: Principal | None = None) -> tuple[User, bool]:
    """Create a grid worker or staff user, or update the one with that username."""
    username = user_in.username.strip()
    if not (2 <= len(username) <= 64) or any(c.isspace() for c in username):
        raise ValidationFailed("用户名应为 2-64 个字符，且不含空格")
    if user_in.password is not None and len(user_in.password) < 8:
        raise ValidationFailed("密码至少 8 位")
    role: Role | None
    if user_in.role == UserKind.GRID_WORKER.value:
        kind, role = UserKind.GRID_WORKER, None
        villages = await _grid_villages(user_in.jurisdiction, user_in.villages)
        jurisdiction = villages[0][:9]
    else:
        try:
            role = Role(user_in.role)
        except ValueError:
            allowed = ", ".join(["grid_worker", *[r.value for r in Role]])
            raise ValidationFailed(f"未知角色 {user_in.role}，可选：{allowed}") from None
        kind = UserKind.STAFF
        division = await geo_service.ensure_division(code=user_in.jurisdiction)
        if division.level not in STAFF_JURISDICTION_LEVELS:
            raise ValidationFailed("工作人员的管辖范围应为省、市、县或乡镇（街道）代码")
        jurisdiction, villages = division.code, []

    async with in_transaction() as conn:
        user = await User.filter(username=username).using_db(conn).first()
        created = user is None
        before = None if user is None else _snapshot(user)
        if user is None:
            if user_in.password is None:
                raise ValidationFailed("新用户需要设置密码")
            user = User(id=uuid.uuid4(), username=username)
        user.kind = kind
        user.role = role
        user.jurisdiction = jurisdiction
        user.display_name = user_in.display_name or user.display_name or username
        if user_in.password is not None:
            user.password_hash = hash_password(user_in.password)
        await user.save(using_db=conn)
        await GridAssignment.filter(user=user).using_db(conn).delete()
        if villages:
            await GridAssignment.bulk_create(
                [GridAssignment(user=user, village_code=v) for v in villages], using_db=conn
            )
        after = _snapshot(user) | {"villages": villages}
        await record_event(
            actor_id=actor.user_id if actor else None,
            actor_label=actor.label if actor else "cli",
            action="user.create" if created else "user.update",
            entity="user",
            entity_id=str(user.id),
            jurisdiction=jurisdiction,
            before=before,
            after=after,
            using_db=conn,
        )
    return user, created


async def _grid_villages(jurisdiction: str, villages: Sequence[str]) -> list[str]:
    codes = list(dict.fromkeys([*villages] or [jurisdiction]))
    result = []
    for code in codes:
        division = await geo_service.ensure_division(code=code)
        if division.level == Level.VILLAGE:
            result.append(division.code)
        elif division.level == Level.TOWNSHIP:
            children = await geo_service.list_children(code=division.code)
            if not children:
                raise ValidationFailed(f"{division.name}（{code}）下还没有导入村（社区）")
            result.extend(c.code for c in children)
        else:
            raise ValidationFailed("网格员的网格应为村（社区）或乡镇（街道）代码")
    # A township and one of its villages both given: each village once (one row per village).
    return list(dict.fromkeys(result))


def _snapshot(user: User) -> dict[str, object]:
    # No password hash, no phone: the audit trail is read by supervisors.
    return {
        "username": user.username,
        "kind": user.kind.value if user.kind else None,
        "role": user.role.value if user.role else None,
        "jurisdiction": user.jurisdiction,
        "display_name": user.display_name,
        "is_active": user.is_active,
    }


# One name over every address, atomically: refuse while locked; else count the attempt, and
# once the count reaches the ceiling lock the name for base * 2^(count - ceiling) seconds (at
# most max). The count outlives the longest lock, so the backoff keeps growing while the
# attack goes on; a successful login gives its attempt back.
_NAME_GATE = """
local lock = redis.call('PTTL', KEYS[2])
if lock > 0 then return lock end
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
local ceiling = tonumber(ARGV[1])
if n >= ceiling then
  local wait = math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) * 2 ^ (n - ceiling))
  redis.call('SET', KEYS[2], '1', 'PX', math.floor(wait * 1000))
end
return 0
"""
_SHANGHAI = ZoneInfo("Asia/Shanghai")
# The devices a name keeps recognised (the most recent ones): an upper bound on the set.
_KNOWN_DEVICES_KEPT = 50


def _wait(seconds: float) -> tuple[int, str, str]:
    """Whole seconds to wait, the Beijing time they end and the wait in words."""
    wait = max(1, math.ceil(seconds))
    at = (datetime.now(UTC) + timedelta(seconds=wait)).astimezone(_SHANGHAI)
    spoken = f"{wait} 秒" if wait < 60 else f"{math.ceil(wait / 60)} 分钟"
    return wait, f"{at:%H:%M:%S}", spoken


def _locked(seconds: float) -> TooManyRequests:
    """The 429 a locked login gets: when to try again, in the detail and in Retry-After."""
    wait, at, spoken = _wait(seconds)
    return TooManyRequests(
        f"登录失败次数过多，已暂时锁定。请在 {at}（北京时间）后再试，约 {spoken}。",
        headers={"Retry-After": str(wait)},
        retry_after=wait,
    )


def _address_busy(seconds: float) -> TooManyRequests:
    """The 429 of an address that tried too many names: not this person's failures."""
    wait, at, spoken = _wait(seconds)
    return TooManyRequests(
        f"该网络的登录尝试过多，请在 {at}（北京时间）后再试，约 {spoken}；"
        "如在办公网络，可稍后重试或联系管理员。",
        headers={"Retry-After": str(wait)},
        retry_after=wait,
    )


@dataclass(frozen=True)
class LoginLimits:
    """The login limits (see Settings.login_* for what each means)."""

    per_name_and_address: str = "10/minute"
    per_name: str = "30/hour"
    backoff_base: int = 60
    backoff_max: int = 3600
    per_address: str = "60/minute"
    known_days: int = 30


class LoginService:
    """Password logins with rate limiting and Redis-held tokens."""

    def __init__(
        self,
        *,
        tokens: TokenStore,
        limiter_storage: RedisStorage,
        redis: Redis,
        prefix: str,
        limits: LoginLimits,
        secret_key: str,
    ) -> None:
        self.tokens = tokens
        self._limiter = MovingWindowRateLimiter(limiter_storage)
        self._redis = redis
        self._prefix = prefix + "login:"
        self._pair = parse(limits.per_name_and_address)
        self._address = parse(limits.per_address)
        self._name = parse(limits.per_name)
        self._limits = limits
        self._gate = redis.register_script(_NAME_GATE)
        self._known_ttl = limits.known_days * 24 * 3600
        self._device_key = hashlib.sha256(b"yimen known device\x00" + secret_key.encode()).digest()

    def _name_keys(self, username: str) -> tuple[str, str, str, str]:
        # Hashed: any characters a name may hold, and one hash slot per name on a cluster.
        tag = hashlib.sha256(username.lower().encode()).hexdigest()[:32]
        base = f"{self._prefix}{{{tag}}}:"
        return base + "n", base + "lock", base + "known", base + "dev"

    @staticmethod
    def _address_id(client_ip: str) -> str:
        return hashlib.sha256(client_ip.encode()).hexdigest()[:32]

    def _device_hash(self, device: str) -> str:
        # Keyed: a copy of Redis does not give away device ids to present.
        return hmac.new(self._device_key, device.encode(), hashlib.sha256).hexdigest()[:32]

    async def _count(
        self,
        limit: RateLimitItem,
        *key: str,
        refusal: Callable[[float], TooManyRequests] = _locked,
    ) -> None:
        # hit() is one Lua script: counting and deciding are one step, so parallel attempts
        # cannot all pass a check made before any of them was counted.
        if not await self._limiter.hit(limit, *key):
            stats = await self._limiter.get_window_stats(limit, *key)
            raise refusal(stats.reset_time - time.time())

    async def _is_known(self, username: str, client_ip: str, device: str | None) -> bool:
        """Whether the name signed in from this address, or with this device, lately."""
        _count_key, _lock_key, known_key, device_key = self._name_keys(username)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.sismember(known_key, self._address_id(client_ip))
            pipe.zscore(device_key, self._device_hash(device) if device else "-")
            address_known, device_seen = await pipe.execute()
        recent = device_seen is not None and float(device_seen) >= time.time() - self._known_ttl
        return bool(address_known) or recent

    async def _count_name(self, username: str) -> None:
        """Count an attempt against the name's ceiling (429 while the name is locked)."""
        count_key, lock_key, _known_key, _device_key = self._name_keys(username)
        window = max(self._name.get_expiry(), self._limits.backoff_max * 2)
        locked_ms = await self._gate(
            keys=[count_key, lock_key],
            args=[self._name.amount, window, self._limits.backoff_base, self._limits.backoff_max],
        )
        if int(locked_ms) > 0:
            raise _locked(int(locked_ms) / 1000)

    async def remember_device(self, username: str, device: str) -> None:
        """Record that the name signed in with this device now (after a successful login)."""
        *_keys, device_key = self._name_keys(username)
        now = time.time()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(device_key, {self._device_hash(device): now})
            pipe.zremrangebyscore(device_key, "-inf", now - self._known_ttl)
            pipe.zremrangebyrank(device_key, 0, -_KNOWN_DEVICES_KEPT - 1)
            pipe.expire(device_key, self._known_ttl)
            await pipe.execute()

    async def login(
        self,
        *,
        username: str,
        password: str,
        client_ip: str,
        kinds: Sequence[UserKind],
        device_id: str | None = None,
        device: str | None = None,
    ) -> tuple[User, TokenPair]:
        """Check a password login; the attempt is counted first, then the password checked.

        `device_id` goes into the tokens. `device` names what the attempt comes from for the
        known-device check: the console's signed cookie id, never a client-chosen device_id
        (anyone who learned it could present it and guess without the name's ceiling). An
        address or device this name signed in with lately is spared the per-address and
        per-name limits, never the per-name-and-address one nor the password.
        """
        name = username.lower()
        await self._count(self._pair, "login-pair", name, client_ip)
        known = await self._is_known(name, client_ip, device)
        if not known:
            await self._count(self._address, "login-ip", client_ip, refusal=_address_busy)
            await self._count_name(name)
        user = await User.filter(username=username).first()
        # argon2 takes a fifth of a second of CPU: off the event loop.
        ok = await asyncio.to_thread(
            verify_password, user.password_hash if user else None, password
        )
        if not ok or user is None or not user.is_active or user.kind not in kinds:
            raise Unauthorized("用户名或密码错误", type_slug="invalid-credentials")
        if _hasher.check_needs_rehash(user.password_hash or ""):
            user.password_hash = hash_password(password)
            await user.save(update_fields=["password_hash"])
        count_key, _lock_key, known_key, _device_key = self._name_keys(name)
        async with self._redis.pipeline(transaction=True) as pipe:
            if not known:
                pipe.decr(count_key)
            # Signed in from here: failures elsewhere, and other names tried from this
            # address, no longer lock this address out.
            pipe.sadd(known_key, self._address_id(client_ip))
            pipe.expire(known_key, self._known_ttl)
            await pipe.execute()
        if device:
            await self.remember_device(name, device)
        await self._limiter.clear(self._pair, "login-pair", name, client_ip)
        return user, await self.tokens.issue(user.id, device_id=device_id)


async def load_principal(*, user_id: uuid.UUID, token_id: str, family: str) -> Principal:
    """The principal for a verified token (401 when the user is gone or disabled)."""
    user = await User.filter(id=user_id).prefetch_related("grid").first()
    if user is None or not user.is_active:
        raise Unauthorized("账号不存在或已停用", type_slug="account-disabled")
    return Principal(
        user_id=user.id,
        kind=user.kind,
        display_name=user.display_name,
        role=user.role,
        jurisdiction=user.jurisdiction,
        villages=frozenset(g.village_code for g in user.grid),
        openid=user.openid,
        token_id=token_id,
        token_family=family,
    )


async def get_user(*, user_id: uuid.UUID) -> User:
    """A user by id, or 404."""
    user = await User.filter(id=user_id).prefetch_related("grid").first()
    if user is None:
        raise NotFound("找不到该用户")
    return user


async def set_user_active(*, username: str, active: bool, tokens: TokenStore) -> User:
    """Enable or disable a user; disabling revokes every token at once."""
    user = await User.filter(username=username).first()
    if user is None:
        raise NotFound(f"找不到用户 {username}")
    async with in_transaction() as conn:
        before = _snapshot(user)
        user.is_active = active
        await user.save(using_db=conn, update_fields=["is_active", "updated_at"])
        await record_event(
            actor_id=None,
            actor_label="cli",
            action="user.activate" if active else "user.disable",
            entity="user",
            entity_id=str(user.id),
            jurisdiction=user.jurisdiction,
            before=before,
            after=_snapshot(user),
            using_db=conn,
        )
    if not active:
        await tokens.revoke_user(user.id)
    return user


async def get_or_create_resident(*, openid: str, display_name: str = "") -> tuple[User, bool]:
    """The resident bound to a WeChat openid, created on first sign-in."""
    if not openid or len(openid) > 64:
        raise ValidationFailed("openid 无效")
    user = await User.filter(openid=openid).first()
    if user is not None:
        return user, False
    try:
        return await _create_resident(openid=openid, display_name=display_name), True
    except IntegrityError:
        # Two first logins at once (two requests after one wx.login): the other one won.
        return await User.get(openid=openid), False


async def _create_resident(*, openid: str, display_name: str) -> User:
    async with in_transaction() as conn:
        user = await User.create(
            id=uuid.uuid4(),
            kind=UserKind.RESIDENT,
            openid=openid,
            display_name=display_name or "居民",
            using_db=conn,
        )
        await record_event(
            actor_id=user.id,
            actor_label="resident",
            action="user.create",
            entity="user",
            entity_id=str(user.id),
            jurisdiction=None,
            after=_snapshot(user),
            using_db=conn,
        )
    return user


async def refresh_login(
    *, tokens: TokenStore, refresh_token: str, kinds: Sequence[UserKind]
) -> TokenPair:
    """Rotate a refresh token; a disabled account loses every token.

    A token of another kind of user (a grid worker's sent to the resident API) is refused
    before it is used: the person's own login elsewhere goes on working.
    """
    owner = await User.filter(id=tokens.refresh_owner(refresh_token)).first()
    if owner is not None and owner.is_active and owner.kind not in kinds:
        raise Unauthorized("登录凭证无效，请重新登录", type_slug="invalid-token")
    user_id, pair = await tokens.rotate(refresh_token)
    user = await User.filter(id=user_id).first()
    if user is None or not user.is_active or user.kind not in kinds:
        await tokens.revoke_user(user_id)
        raise Unauthorized("账号已停用", type_slug="account-disabled")
    return pair


async def list_investigators(*, township_code: str) -> list[User]:
    """The active investigators of a township, for the assign form."""
    return (
        await User.filter(
            kind=UserKind.STAFF,
            role=Role.INVESTIGATOR,
            jurisdiction=township_code,
            is_active=True,
        )
        .order_by("display_name", "username")
        .limit(200)
    )


USER_PHONE_PURPOSE = "user.phone"


async def set_resident_phone(*, user_id: uuid.UUID, phone: str, cipher: PiiCipher) -> User:
    """Bind the phone WeChat vouched for to a resident (encrypted, with its blind index)."""
    async with in_transaction() as conn:
        user = await User.filter(id=user_id).select_for_update().using_db(conn).first()
        if user is None or user.kind != UserKind.RESIDENT:
            raise NotFound("找不到该用户")
        user.phone_enc = cipher.encrypt(phone, purpose=USER_PHONE_PURPOSE)
        user.phone_index = cipher.blind_index(phone, purpose=USER_PHONE_PURPOSE)
        await user.save(using_db=conn, update_fields=["phone_enc", "phone_index", "updated_at"])
        await record_event(
            actor_id=user.id,
            actor_label="resident",
            action="user.phone_bind",
            entity="user",
            entity_id=str(user.id),
            jurisdiction=None,
            after={"phone": "bound"},
            using_db=conn,
        )
    return user


def resident_phone(user: User, cipher: PiiCipher) -> str | None:
    """A resident's bound phone in clear (for the server's own use, never logged)."""
    return cipher.decrypt_optional(user.phone_enc, purpose=USER_PHONE_PURPOSE)
