"""Builders and real local servers for the chasing and reminder tests: an SMTP server (aiosmtpd)
and an HTTP SMS gateway (http.server) that record what they receive."""
import json
import socket
import threading
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller

from campaign.campaigns.models import Assignment, Instalment
from campaign.extensions import db
from campaign.timeutil import local_today
from tests.factories import make_campaign, make_task, make_user

TITLE = "2026年森林防火宣传月活动"


def make_report(campaign, task, unit, status="not_started", quantities=(), first_submitted_at=None):
    assignment = Assignment(campaign=campaign, task=task, unit=unit, status=status,
                            first_submitted_at=first_submitted_at)
    db.session.add(assignment)
    db.session.flush()
    for quantity in quantities:
        db.session.add(Instalment(assignment=assignment, quantity=quantity, reported_on=local_today()))
    db.session.flush()
    return assignment


def chased_campaign(tree, users):
    """The county's forest-fire month, part reported:

    signs (village, community): village_a1 approved; village_a2 returned; community_a draft; village_b1 not started
    plan (village, yes/no):      village_a1 not started; village_a2 submitted; village_b1 not started
    township plan (township):    township_a approved; township_b not started

    Users: village_a1's reporter (phone + e-mail), a second active reporter there with neither,
    village_a2's reporter (phone only), village_b1's reporter (e-mail only) and an inactive one.
    """
    campaign = make_campaign(tree.county, title=TITLE, status="active")
    signs = make_task(campaign, "设置永久性宣传标牌", kinds=("village", "community"), target=10)
    plan = make_task(campaign, "制定村级防火公约", kinds=("village",), measure="done")
    township_plan = make_task(campaign, "制定实施方案", kinds=("township",), measure="done")
    deadline = campaign.deadline_at
    make_report(campaign, signs, tree.village_a1, "approved", (12,), deadline - timedelta(days=1))
    make_report(campaign, signs, tree.village_a2, "returned", (3,), deadline - timedelta(days=1))
    make_report(campaign, signs, tree.community_a, "draft", (1,))
    make_report(campaign, signs, tree.village_b1)
    make_report(campaign, plan, tree.village_a1)
    make_report(campaign, plan, tree.village_a2, "submitted", (), deadline - timedelta(days=1))
    make_report(campaign, plan, tree.village_b1)
    make_report(campaign, township_plan, tree.township_a, "approved", (), deadline - timedelta(days=2))
    make_report(campaign, township_plan, tree.township_b)

    tree.village_a1.contact_name = "李四"
    tree.village_a1.phone = "=HYPERLINK(\"http://evil\")"
    tree.village_b1.contact_name = "王五"
    tree.village_b1.phone = "0571-63700000"
    users.village_reporter.phone = "13800000001"
    users.village_reporter.email = "a1@example.cn"
    a1_second = make_user("village_reporter", tree.village_a1, "a1_second")
    a2_reporter = make_user("village_reporter", tree.village_a2, "a2_reporter", phone="13800000002")
    b1_reporter = make_user("village_reporter", tree.village_b1, "b1_reporter", email="b1@example.cn")
    b1_gone = make_user("village_reporter", tree.village_b1, "b1_gone", phone="13800000009", active=False)
    township_b_officer = make_user("township_officer", tree.township_b, "tb_officer", phone="13800000003",
                                   email="tb@example.cn")
    db.session.commit()
    return SimpleNamespace(campaign=campaign, signs=signs, plan=plan, township_plan=township_plan,
                           a1_second=a1_second, a2_reporter=a2_reporter, b1_reporter=b1_reporter,
                           b1_gone=b1_gone, township_b_officer=township_b_officer)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RecordingHandler:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(SimpleNamespace(
            sender=envelope.mail_from,
            recipients=list(envelope.rcpt_tos),
            message=message_from_bytes(envelope.original_content or envelope.content, policy=default_policy),
        ))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 at a free port; .messages holds what it received."""
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SimpleNamespace(host="127.0.0.1", port=controller.port, messages=handler.messages)
    finally:
        controller.stop()


@pytest.fixture
def sms_gateway():
    """A real HTTP endpoint; .requests records each POST; set .fail = True to answer 500."""
    state = SimpleNamespace(requests=[], fail=False)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            state.requests.append(SimpleNamespace(path=self.path, headers=dict(self.headers), body=body,
                                                  json=json.loads(body.decode("utf-8"))))
            status = 500 if state.fail else 200
            payload = b'{"error": "gateway down"}' if state.fail else b'{"ok": true}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/send"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def configured(app):
    """configured(KEY=value, …) sets app settings for this test only."""
    saved = {}

    def apply(**settings):
        for key, value in settings.items():
            saved.setdefault(key, app.config.get(key))
            app.config[key] = value

    yield apply
    app.config.update(saved)
