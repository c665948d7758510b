"""The login throttle's cost against the login's own floor (the password hash), in one run.

    .venv/bin/python bench/login_throttle_bench.py [--attempts 200000] [--database URL]

Fills ``login_attempt`` with failures spread over the last hour (a botnet guessing: many addresses,
many usernames), then times ``throttle_wait()`` for a clean address and for a guessing one, and
``check_password_hash`` with the production scrypt parameters. Prints medians and the ratio of the
throttle to the hash: the throttle must stay a small fraction of what a login costs anyway.
"""
import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from werkzeug.security import check_password_hash, generate_password_hash  # noqa: E402

from campaign import create_app  # noqa: E402
from campaign.accounts.models import LoginAttempt  # noqa: E402
from campaign.accounts.services import throttle_wait  # noqa: E402
from campaign.database import utcnow  # noqa: E402
from campaign.extensions import db  # noqa: E402

REPEATS = 200


def median_ms(function, repeats=REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def fill(attempts: int):
    now = utcnow()
    rows = [
        {"username": f"user{random.randrange(5000)}", "address": f"10.{random.randrange(8)}.{random.randrange(250)}.1",
         "succeeded": False, "at": now - timedelta(seconds=random.randrange(3600))}
        for _ in range(attempts)
    ]
    for start in range(0, len(rows), 10000):
        db.session.execute(insert(LoginAttempt), rows[start:start + 10000])
    db.session.commit()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=200_000)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database or f"sqlite:///{scratch}/bench.sqlite3"
        app = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                          "UPLOAD_DIR": scratch})
        with app.app_context():
            upgrade()
            fill(args.attempts)
            hashed = generate_password_hash("Passw0rd123", method=app.config["PASSWORD_HASH_METHOD"])
            floor = median_ms(lambda: check_password_hash(hashed, "Passw0rd123"), repeats=20)
            clean = median_ms(lambda: (throttle_wait("user42", "192.0.2.1"), db.session.rollback()))
            guessing = median_ms(lambda: (throttle_wait("user42", "10.1.7.1"), db.session.rollback()))
            print(f"database: {db.engine.dialect.name}, {args.attempts:,} failed attempts in the last hour")
            print(f"floor   check_password_hash ({app.config['PASSWORD_HASH_METHOD']}): {floor:.2f} ms")
            print(f"throttle_wait, clean address:    {clean:.2f} ms  = {clean / floor:.3f} × floor")
            print(f"throttle_wait, guessing address: {guessing:.2f} ms  = {guessing / floor:.3f} × floor")


if __name__ == "__main__":
    main()
