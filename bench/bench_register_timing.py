"""Does `POST /auth/register` take the same time whatever the number is?

A caller must not learn from the response time whether a number has an active account, a
deactivated one, or is in a region codes are not sent to (issue #9: 8.6 ms vs 13.2 ms median).
This starts a real `watchroster serve` (with its embedded dispatcher, as deployed by default),
seeds accounts straight into the database, then times `samples` registers of each kind,
interleaved in a shuffled order per round so drift (WAL growth, caches) hits every kind alike.
Each sample uses a number not used before, so every request does a first send's work.

    uv run python -m bench.bench_register_timing [--db sqlite|postgresql] [--samples 200]

Prints the median of each kind and the largest gap between medians (exits 1 when it is 1 ms or
more), and the median difference of each kind from an active number within the same round.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.common import server_process, throwaway_database
from watchroster.auth.models import User
from watchroster.db.engine import Database

MAX_GAP_MS = 1.0
WARM_UP_REQUESTS = 30
# Valid numbers, one per sample: ZA mobiles (sent to) and GB mobiles (not in the allow-list).
ZA_PREFIXES = {"active": "+2782", "deactivated": "+2783", "unknown": "+2784", "warm-up": "+2781"}
GB_PREFIX = "+447400"
KINDS = ("active", "deactivated", "blocked", "unknown")


def phone_of(kind: str, index: int) -> str:
    if kind == "blocked":
        return f"{GB_PREFIX}{100000 + index}"
    return f"{ZA_PREFIXES[kind]}{1000000 + index}"


def seed_accounts(database_url: str, samples: int) -> None:
    """Active and deactivated accounts; blocked and unknown numbers have none."""
    db = Database(database_url)
    now = datetime.now(UTC)
    with db.write() as session:
        for index in range(samples):
            for kind, active in (("active", True), ("deactivated", False)):
                session.add(User(phone=phone_of(kind, index), active=active, created_at=now))
    db.dispose()


def server_env(database_url: str, directory: Path) -> dict[str, str]:
    """Generous abuse limits: this measures the work of a send, not a 429."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("WATCHROSTER_")}
    env.update(
        {
            "WATCHROSTER_DATABASE_URL": database_url,
            "WATCHROSTER_LOG_LEVEL": "WARNING",
            "WATCHROSTER_MESSAGE_BACKEND": "file",
            "WATCHROSTER_MESSAGE_FILE": str(directory / "messages.jsonl"),
            "WATCHROSTER_OTP_ALLOWED_REGIONS": "ZA",
            "WATCHROSTER_OTP_RESEND_SECONDS": "0",
            "WATCHROSTER_OTP_MAX_PER_PHONE_HOUR": "1000000",
            "WATCHROSTER_OTP_MAX_PER_IP_HOUR": "1000000",
        }
    )
    return env


def register_ms(client: httpx.Client, phone: str) -> float:
    started = time.perf_counter()
    response = client.post("/auth/register", json={"phone": phone, "name": "Bench"})
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"register {phone[:6]}… answered {response.status_code}")
    return elapsed


def sample(url: str, samples: int, seed: int) -> dict[str, list[float]]:
    shuffle = random.Random(seed)
    timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
    with httpx.Client(base_url=url, timeout=10) as client:
        for index in range(WARM_UP_REQUESTS):
            register_ms(client, phone_of("warm-up", index))
        for index in range(samples):
            order = list(KINDS)
            shuffle.shuffle(order)
            for kind in order:
                timings[kind].append(register_ms(client, phone_of(kind, index)))
    return timings


def report(timings: dict[str, list[float]]) -> float:
    medians = {kind: statistics.median(values) for kind, values in timings.items()}
    for kind, values in timings.items():
        quartiles = statistics.quantiles(values, n=4)
        print(
            f"{kind:<12} median {medians[kind]:6.2f} ms  "
            f"quartiles {quartiles[0]:6.2f} / {quartiles[2]:6.2f} ms  n={len(values)}"
        )
    gap = max(medians.values()) - min(medians.values())
    print(f"largest gap between medians: {gap:.2f} ms (must be under {MAX_GAP_MS:.0f} ms)")
    # Samples of one round ran back to back: their differences cancel most of the machine's
    # own noise (other processes), which can move whole rounds by milliseconds.
    for kind in KINDS[1:]:
        paired = statistics.median(
            other - active for other, active in zip(timings[kind], timings["active"], strict=True)
        )
        print(f"median of paired differences {kind} - active: {paired:+.2f} ms")
    return gap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument(
        "--no-worker", action="store_true", help="serve without the embedded dispatcher"
    )
    args = parser.parse_args()
    with (
        throwaway_database(args.db) as database_url,
        tempfile.TemporaryDirectory(prefix="watchroster-timing-") as directory,
    ):
        seed_accounts(database_url, args.samples)
        folder = Path(directory)
        # The server's output goes to a file: a refused number's log line would flood the figures.
        with server_process(
            database_url,
            server_env(database_url, folder),
            worker=not args.no_worker,
            cwd=folder,
            log_file=folder / "serve.log",
        ) as url:
            print(f"POST /auth/register on {args.db}, {args.samples} samples of each kind")
            gap = report(sample(url, args.samples, args.seed))
    sys.exit(0 if gap < MAX_GAP_MS else 1)


if __name__ == "__main__":
    main()
