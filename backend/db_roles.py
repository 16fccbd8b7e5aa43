"""The application's PostgreSQL role: DML on its tables, append-only on the audit table."""

from __future__ import annotations

import re

import asyncpg

AUDIT_TABLE = "integrity_audit_event"
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


async def create_or_update_app_role(*, owner_dsn: str, role: str, password: str) -> None:
    """Create or update the app's login role and its grants (idempotent; run as the owner).

    The owner (who runs migrations) keeps DDL and TRUNCATE; the role may read and write rows,
    but on the audit table only SELECT and INSERT. Default privileges cover tables that later
    migrations create, so the grants never fall behind the schema.
    """
    if not _ROLE_NAME.match(role):
        raise ValueError(f"not a plain role name: {role!r}")
    if len(password) < 12:
        raise ValueError("the application role's password must have at least 12 characters")
    dsn = owner_dsn.replace("asyncpg://", "postgres://", 1)
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            # Serialise concurrent runs (two migrate containers) on CREATE ROLE.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('yimen-app-role'))")
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            verb = "ALTER" if exists else "CREATE"
            # Identifiers and the password quoted by the server (no bind parameters in DDL).
            await conn.execute(
                await conn.fetchval(
                    f"SELECT format('{verb} ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB "
                    "NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L', $1::text, $2::text)",
                    role,
                    password,
                )
            )
            database = await conn.fetchval("SELECT current_database()")
            owner = await conn.fetchval("SELECT current_user")
            for sql in (
                'GRANT CONNECT, TEMPORARY ON DATABASE "{db}" TO "{r}"',
                # PostgreSQL before 15 lets every role create in public: not this one.
                "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
                'GRANT USAGE ON SCHEMA public TO "{r}"',
                'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{r}"',
                'REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON "{audit}" FROM "{r}"',
                'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO "{r}"',
                'ALTER DEFAULT PRIVILEGES FOR ROLE "{o}" IN SCHEMA public '
                'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{r}"',
                'ALTER DEFAULT PRIVILEGES FOR ROLE "{o}" IN SCHEMA public '
                'GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO "{r}"',
            ):
                await conn.execute(sql.format(db=database, r=role, o=owner, audit=AUDIT_TABLE))
    finally:
        await conn.close()
