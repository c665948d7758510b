"""Resilience fixtures: a running campaign with a crowd of reporters, and a helper that starts
many requests at the same instant."""
import threading
from types import SimpleNamespace

import pytest

from tests import factories
from tests.reporting.conftest import assignment_of, jpeg_bytes, make_running_campaign  # noqa: F401

CROWD = 20
JOIN_SECONDS = 300  # a guard against a hang, not a timing assertion


@pytest.fixture
def crowd(db, tree, users):
    """CROWD extra villages each with its reporter, and CROWD clerks of village_a1, in a running campaign."""
    villages = [factories.make_unit("village", tree.township_b, f"压测{index:02d}村") for index in range(CROWD)]
    running = make_running_campaign(tree)
    reporters = [factories.make_user(role="village_reporter", unit=village, username=f"reporter{index:02d}",
                                     display_name=f"{village.name}文书") for index, village in enumerate(villages)]
    clerks = [factories.make_user(role="village_reporter", unit=tree.village_a1, username=f"clerk{index:02d}",
                                  display_name=f"文书{index:02d}") for index in range(CROWD)]
    db.session.commit()
    return SimpleNamespace(
        running=running,
        reporters=reporters,
        clerks=clerks,
        signs=[assignment_of(running.signs, village).id for village in villages],
        leaflets=[assignment_of(running.leaflets, village).id for village in villages],
        signs_a1=assignment_of(running.signs, tree.village_a1).id,
        leaflets_a1=assignment_of(running.leaflets, tree.village_a1).id,
    )


def all_at_once(jobs):
    """Run the callables in threads released together by a barrier; their results in order.
    An exception in a job is returned in its place, so the test shows it."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(position, job):
        barrier.wait()
        try:
            results[position] = job()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            results[position] = error

    threads = [threading.Thread(target=run, args=(position, job), daemon=True) for position, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    return results
