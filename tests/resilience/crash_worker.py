"""A worker that dies in the middle of a save: run by tests/resilience/test_faults.py in its own
process on the same database and upload folder. It does a report's writes through the services
(an instalment, a save and a photo upload), flushes them, says "flushed" on stdout and waits to
be killed before it can commit — what a gunicorn worker killed mid-request leaves behind.

    python -m tests.resilience.crash_worker '{"database": …, "uploads": …, "user_id": …, …}'
"""
import json
import sys
import time
from datetime import date


def main(spec):
    from campaign import create_app

    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": spec["database"],
                      "UPLOAD_DIR": spec["uploads"]})
    with app.test_request_context(f"/reports/{spec['assignment_id']}", method="POST"):
        from campaign.accounts.models import User
        from campaign.evidence.services import store_bytes
        from campaign.extensions import db
        from campaign.reporting import services

        user = db.session.get(User, spec["user_id"])
        assignment = services.assignment_for(user, spec["assignment_id"])
        services.add_instalment(assignment, user, quantity=7, reported_on=date.fromisoformat(spec["day"]),
                                note="写到一半")
        services.save_report(assignment, user, expected_version=assignment.version, note="写到一半")
        upload = store_bytes(bytes.fromhex(spec["photo"]), "IMG_half.jpg")
        services.add_evidence(assignment, user, [upload])
        db.session.flush()
        print("flushed", flush=True)
        time.sleep(spec.get("wait", 120))  # killed here, before the commit
        print("not killed", flush=True)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
