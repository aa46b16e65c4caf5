"""PostgreSQL access: one asyncpg pool per service on its own schema, and versioned migrations.

Migrations are plain SQL files named `NNNN_description.sql`. The kit's own files (outbox, inbox,
idempotency keys) are applied to every schema first, then the service's. A transaction-scoped
advisory lock per schema makes concurrent starters apply each file exactly once.
"""

import logging
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

log = logging.getLogger(__name__)

KIT_MIGRATIONS = Path(__file__).parent / "migrations"
_FILE_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class DatabaseUnavailable(Exception):
    """PostgreSQL cannot be reached or did not respond in time."""


async def create_pool(dsn: str, schema: str, *, size: int = 10, timeout: float = 5.0) -> asyncpg.Pool:
    _check_schema_name(schema)
    try:
        return await asyncpg.create_pool(
            dsn, min_size=1, max_size=size, timeout=timeout, command_timeout=timeout * 6,
            server_settings={"search_path": schema, "application_name": f"talent-{schema}"},
        )
    except (OSError, asyncpg.PostgresError) as e:
        raise DatabaseUnavailable(f"cannot open a pool for schema {schema}: {e}") from e


async def ensure_database(dsn: str) -> None:
    """Create the database named in `dsn` when it does not exist yet."""
    parts = urlsplit(dsn)
    name = parts.path.lstrip("/")
    admin_dsn = urlunsplit(parts._replace(path="/postgres"))
    connection = await asyncpg.connect(admin_dsn)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            try:
                await connection.execute(f'CREATE DATABASE "{name}"')
            except asyncpg.DuplicateDatabaseError:
                pass
    finally:
        await connection.close()


async def drop_database(dsn: str) -> None:
    parts = urlsplit(dsn)
    name = parts.path.lstrip("/")
    connection = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def migration_files(folder: Path) -> list[tuple[int, str, Path]]:
    files = []
    for path in sorted(folder.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file name {path.name} must look like 0001_description.sql")
        files.append((int(match.group(1)), path.stem, path))
    versions = [version for version, _, _ in files]
    if len(versions) != len(set(versions)):
        raise ValueError(f"duplicate migration versions in {folder}")
    return files


async def apply_migrations(connection: asyncpg.Connection, schema: str, folder: Path) -> list[str]:
    """Apply the kit's and the service's pending migrations to `schema`; return the names applied."""
    _check_schema_name(schema)
    applied_now = []
    for source, source_folder in (("kit", KIT_MIGRATIONS), ("service", folder)):
        for version, name, path in migration_files(source_folder):
            async with connection.transaction():
                await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"migrate:{schema}")
                await connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                await connection.execute(
                    f'CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations ('
                    " source text NOT NULL, version integer NOT NULL, name text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (source, version))")
                done = await connection.fetchval(
                    f'SELECT 1 FROM "{schema}".schema_migrations WHERE source = $1 AND version = $2',
                    source, version)
                if done:
                    continue
                await connection.execute(f'SET LOCAL search_path TO "{schema}"')
                await connection.execute(path.read_text(encoding="utf-8"))
                await connection.execute(
                    f'INSERT INTO "{schema}".schema_migrations (source, version, name) VALUES ($1, $2, $3)',
                    source, version, name)
                applied_now.append(f"{source}/{name}")
    if applied_now:
        log.info("applied migrations to schema %s: %s", schema, ", ".join(applied_now))
    return applied_now


async def migrate(dsn: str, schema: str, folder: Path) -> list[str]:
    connection = await asyncpg.connect(dsn)
    try:
        return await apply_migrations(connection, schema, folder)
    finally:
        await connection.close()


def _check_schema_name(schema: str) -> None:
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"schema name {schema!r} must be lower-case letters, digits and underscores")
