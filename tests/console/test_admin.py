"""The administrators' pages: users, and recipients imported from CSV all or nothing."""
from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from tests.console.conftest import csrf_token, sign_in
from warning_service.extensions import db
from warning_service.models import Agency, AgencyKind, ApiKey, AuditEvent, BeidouTerminal, Recipient, User
from warning_service.security.api_keys import agency_for_key

GOOD = ("phone,county,languages,channels,exercise,beidou_card\n"
        "+8613812345678,513301,bo,sms,no,\n"
        "+8613812345679,513322,\"zh,bo\",sms;beidou,yes,0247601\n")


def upload(client, text: str, name: str = "recipients.csv"):
    return client.post("/admin/recipients/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, "/admin/"), "file": (io.BytesIO(text.encode()), name)})


def recipients() -> dict[str, Recipient]:
    db.session.expire_all()
    return {r.phone: r for r in db.session.scalars(select(Recipient).where(Recipient.phone.like("+86138%")))}


def test_an_admin_imports_recipients_and_a_second_import_updates_them(client, people):
    db.session.add(BeidouTerminal(card_address="0247601", county_code="513322", name="牧户终端", is_group=False))
    db.session.commit()
    sign_in(client, "admin")
    response = upload(client, GOOD)
    assert response.status_code == 303
    imported = recipients()
    assert imported["+8613812345679"].channels == ["sms", "beidou"] and imported["+8613812345679"].exercise
    assert imported["+8613812345679"].beidou_terminal_id is not None
    assert upload(client, GOOD.replace("513301,bo", "513322,zh")).status_code == 303
    assert recipients()["+8613812345678"].county_code == "513322" and len(recipients()) == 2
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "recipients.import")) == 2


def test_one_bad_line_imports_nothing_and_lists_the_problems(client, people):
    sign_in(client, "admin")
    response = upload(client, GOOD + "12345,513301,,,,\n")  # and the card 0247601 is unknown here
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "line 3: beidou_card" in page and "line 4: phone" in page
    assert recipients() == {}


def test_a_file_that_is_not_utf8_is_refused(client, people):
    sign_in(client, "admin")
    response = client.post("/admin/recipients/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, "/admin/"), "file": (io.BytesIO(GOOD.encode("gb18030") + "县".encode("gb18030")), "x.csv")})
    assert response.status_code == 422 and recipients() == {}


def test_an_admin_creates_and_deactivates_users(client, people):
    sign_in(client, "admin")
    token = csrf_token(client, "/admin/")
    short = client.post("/admin/users", data={"csrf_token": token, "username": "new", "role": "auditor",
                                              "password": "short"})
    assert short.status_code == 422
    made = client.post("/admin/users", data={"csrf_token": token, "username": "new", "role": "auditor",
                                             "password": "a long enough password"})
    assert made.status_code == 303
    user = db.session.scalar(select(User).where(User.username == "new"))
    assert user.check_password("a long enough password") and user.password_hash != "a long enough password"
    assert client.post(f"/admin/users/{user.id}/deactivate", data={"csrf_token": token}).status_code == 303
    db.session.expire_all()
    assert not db.session.get(User, user.id).active
    assert sign_in(client, "new", "a long enough password").status_code == 401


def test_an_admin_issues_a_key_shown_once_and_revokes_it(client, people):
    agency = Agency(name="甘孜州气象局 (test)", kind=AgencyKind.WEATHER, hazards=["rainstorm"], cap_sender="w@test")
    db.session.add(agency)
    db.session.commit()
    sign_in(client, "admin")
    response = client.post(f"/admin/agencies/{agency.id}/keys", data={"csrf_token": csrf_token(client, "/admin/")})
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    key = re.search(r"<code>(ews_[^<]+)</code>", response.get_data(as_text=True)).group(1)
    assert agency_for_key(db.session, key).id == agency.id
    assert key not in client.get("/admin/").get_data(as_text=True)  # shown once only
    issued = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_key.issue"))
    assert issued.actor_type == "user" and issued.detail["via"] == "console"

    api_key = db.session.scalar(select(ApiKey).where(ApiKey.agency_id == agency.id))
    revoked = client.post(f"/admin/keys/{api_key.id}/revoke", data={"csrf_token": csrf_token(client, "/admin/")})
    assert revoked.status_code == 303
    db.session.expire_all()
    assert agency_for_key(db.session, key) is None
    again = client.post(f"/admin/keys/{api_key.id}/revoke", data={"csrf_token": csrf_token(client, "/admin/")})
    assert again.status_code == 422
