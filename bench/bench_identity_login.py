"""Password sign-ins per second per core, against the raw argon2id rate measured in the same run.

Starts identity in this process on 127.0.0.1, on a database and broker names of its own that are
created here and dropped at the end. It registers `USERS` people and solves `LOGINS` captchas through
the development endpoint before the clock starts. Then it times `LOGINS` sign-ins (POST /sessions)
with at most `CONCURRENCY` in flight. The baseline is argon2id verification with the service's own parameters on
one thread per core, timed in the same process just before and just after the sign-ins, so both meet
the same load from other processes. Client, service and PostgreSQL share this machine's cores, so the
sign-in figure is a lower bound for a service with cores of its own.
"""

import asyncio
import os
import platform
import threading
import time
import uuid

import aiohttp
import argon2
from aiohttp import web

from services.common.broker_cleanup import delete_broker_objects
from services.common.db import drop_database, ensure_database
from services.common.ports import free_port
from services.common.settings import Settings
from services.identity.app import create_app
from tests.support import Portal, new_person

LOGINS = 200
CONCURRENCY = 8
USERS = 20
HASH_SAMPLES = 60
ADMIN_PASSWORD = "Bench#2026Login!"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def bench_settings() -> Settings:
    run = uuid.uuid4().hex[:10]
    base = Settings()
    port = free_port()
    return Settings(env="test", database_url=base.database_url.rsplit("/", 1)[0] + f"/talent_bench_{run}",
                    broker_prefix=f"bench-{run}.", admin_password=ADMIN_PASSWORD, identity_port=port,
                    identity_url=f"http://127.0.0.1:{port}")


def argon2_rate(settings: Settings, threads: int) -> float:
    """argon2id verifications per second per thread, with `threads` threads verifying at once and the
    service's parameters. argon2-cffi releases the GIL, so each thread keeps one core busy."""
    hasher = argon2.PasswordHasher(time_cost=settings.password_time_cost, memory_cost=settings.password_memory_kib,
                                   parallelism=settings.password_parallelism, type=argon2.Type.ID)
    password_hash = hasher.hash("Jilin#2026talent")

    def verify_samples() -> None:
        for _ in range(HASH_SAMPLES):
            hasher.verify(password_hash, "Jilin#2026talent")

    workers = [threading.Thread(target=verify_samples) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return HASH_SAMPLES / (time.perf_counter() - started)


async def timed_logins(portal: Portal, people: list[dict], captchas: list[dict]) -> float:
    """Sign in once per captcha with at most CONCURRENCY requests in flight; return the seconds taken."""
    limit = asyncio.Semaphore(CONCURRENCY)

    async def sign_in(index: int, captcha: dict) -> None:
        person = people[index % len(people)]
        async with limit:
            await portal.post("identity", "/sessions", {"account": person["mobile"], "password": person["password"],
                                                        **captcha}, expect=201)

    started = time.perf_counter()
    await asyncio.gather(*(sign_in(index, captcha) for index, captcha in enumerate(captchas)))
    return time.perf_counter() - started


async def main() -> None:
    settings = bench_settings()
    cores = os.cpu_count() or 1
    await ensure_database(settings.database_url)
    runner = web.AppRunner(create_app(settings), access_log=None)
    try:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", settings.identity_port).start()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
            portal = Portal(http, {"identity": settings.identity_url})
            people = [new_person() for _ in range(USERS)]
            for person in people:
                await portal.register_person(person)
            warm_up = [await portal.solve_captcha() for _ in range(CONCURRENCY)]
            await timed_logins(portal, people, warm_up)
            captchas = [await portal.solve_captcha() for _ in range(LOGINS)]
            hash_rate_before = await asyncio.to_thread(argon2_rate, settings, cores)
            seconds = await timed_logins(portal, people, captchas)
            hash_rate_after = await asyncio.to_thread(argon2_rate, settings, cores)
    finally:
        await runner.cleanup()
        await drop_database(settings.database_url)
        await delete_broker_objects(settings.amqp_url, settings.broker_prefix)

    hash_rate = (hash_rate_before + hash_rate_after) / 2
    login_rate = LOGINS / seconds
    per_core = login_rate / cores
    print(f"machine: {cores} cores ({cpu_model()}), Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"argon2id m={settings.password_memory_kib} KiB, t={settings.password_time_cost}, "
          f"p={settings.password_parallelism}: {hash_rate:.1f} verifications/s per core "
          f"({hash_rate_before:.1f} before and {hash_rate_after:.1f} after the sign-ins, {cores} threads)")
    print(f"password sign-ins: {LOGINS} in {seconds:.2f} s with {CONCURRENCY} in flight = {login_rate:.1f}/s, "
          f"{per_core:.1f}/s per core")
    print(f"sign-ins per core / argon2id verifications per core: {per_core / hash_rate:.2f}")
    print(f"target 30 sign-ins/s per core: {'met' if per_core >= 30 else 'not met'}")
