"""The administrators' pages: users, and recipients imported from CSV all or nothing."""
from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from tests.support.console import csrf_token, sign_in
from warning_service.extensions import db
from warning_service.models import (
    Agency,
    AgencyKind,
    ApiKey,
    AuditEvent,
    BeidouTerminal,
    BroadcastEndpoint,
    Recipient,
    User,
)
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
    taken = client.post("/admin/users", data={"csrf_token": token, "username": " new ", "role": "admin",
                                              "password": "another long password"})
    assert taken.status_code == 422 and "用户 new 已存在。" in taken.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.username == "new"))
    assert user.check_password("a long enough password") and user.password_hash != "a long enough password"
    assert client.post(f"/admin/users/{user.id}/deactivate", data={"csrf_token": token}).status_code == 303
    db.session.expire_all()
    assert not db.session.get(User, user.id).active
    again = client.post(f"/admin/users/{user.id}/deactivate", data={"csrf_token": token})
    assert again.status_code == 409 and "new" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "user.deactivate")) == 1
    assert sign_in(client, "new", "a long enough password").status_code == 401


def test_an_admin_issues_a_key_shown_once_and_revokes_it(client, people):
    agency = Agency(name="甘孜州气象局 (test)", kind=AgencyKind.WEATHER, hazards=["rainstorm"], cap_senders=["w@test"])
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


def audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def admin_id() -> int:
    return db.session.scalar(select(User.id).where(User.username == "admin"))


def test_an_admin_registers_edits_and_deactivates_an_agency(client, people):
    sign_in(client, "admin")
    token = csrf_token(client, "/admin/agencies")
    bad = client.post("/admin/agencies", data={"csrf_token": token, "name": "阿坝州地质局", "kind": "geology",
                                               "hazards": ["all", "landslide"]})
    assert bad.status_code == 422 and "不能与单个灾种同时选择" in bad.get_data(as_text=True)
    none = client.post("/admin/agencies", data={"csrf_token": token, "name": "阿坝州地质局", "kind": "geology"})
    assert none.status_code == 422 and "请至少选择一种灾种" in none.get_data(as_text=True)
    made = client.post("/admin/agencies", data={"csrf_token": token, "name": "阿坝州地质局", "kind": "geology",
                                                "hazards": ["landslide", "debris_flow"]})
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"
    key = re.search(r"<code>(ews_[^<]+)</code>", made.get_data(as_text=True)).group(1)
    agency = agency_for_key(db.session, key)
    assert agency.name == "阿坝州地质局" and agency.hazards == ["landslide", "debris_flow"]
    assert key not in client.get("/admin/agencies").get_data(as_text=True)
    [created] = audit("agency.create")
    assert (created.actor_type, created.actor_id, created.detail["via"]) == ("user", admin_id(), "console")

    taken = client.post("/admin/agencies", data={"csrf_token": token, "name": "阿坝州地质局", "kind": "geology",
                                                 "hazards": ["landslide"]})
    assert taken.status_code == 409 and "的机构已存在" in taken.get_data(as_text=True)

    edit = f"/admin/agencies/{agency.id}"
    assert "阿坝州地质局" in client.get(edit).get_data(as_text=True)
    saved = client.post(edit, data={"csrf_token": token, "name": "阿坝州自然资源局", "kind": "geology",
                                    "hazards": ["landslide"], "auto_publish": "y",
                                    "senders": "nr.aba@test\r\nnr2.aba@test"})
    assert saved.status_code == 303
    db.session.expire_all()
    agency = db.session.get(Agency, agency.id)
    assert (agency.name, agency.hazards, agency.auto_publish, agency.cap_senders) == (
        "阿坝州自然资源局", ["landslide"], True, ["nr.aba@test", "nr2.aba@test"])
    assert audit("agency.update")[0].detail["name"] == "阿坝州自然资源局"
    assert client.post(edit, data={"csrf_token": token, "name": "x", "kind": "geology", "hazards": ["landslide"],
                                   "senders": "has space"}).status_code == 422

    assert client.post(f"{edit}/deactivate", data={"csrf_token": token}).status_code == 303
    assert agency_for_key(db.session, key) is None  # its keys stop working at once
    assert client.post(f"{edit}/deactivate", data={"csrf_token": token}).status_code == 409
    assert client.get("/admin/agencies/999999").status_code == 404


def test_a_sender_another_agency_holds_is_refused_and_the_list_shows_each_agencys(client, people):
    other = Agency(name="甘孜州气象台 (test)", kind=AgencyKind.WEATHER, hazards=["rainstorm"],
                   cap_senders=["gz.met@test", "gz.met2@test"])
    db.session.add(other)
    db.session.commit()
    sign_in(client, "admin")
    token = csrf_token(client, "/admin/agencies")
    fields = {"csrf_token": token, "name": "阿坝州气象台", "kind": "weather", "hazards": ["rainstorm"]}
    taken = client.post("/admin/agencies", data={**fields, "senders": "ab.met@test\ngz.met2@test"})
    assert taken.status_code == 409 and "甘孜州气象台 (test)" in taken.get_data(as_text=True)
    assert db.session.scalar(select(Agency).where(Agency.name == "阿坝州气象台")) is None
    assert client.post("/admin/agencies", data={**fields, "senders": "ab.met@test"}).status_code == 201
    listing = client.get("/admin/agencies").get_data(as_text=True)
    assert "<code>gz.met@test</code><br><code>gz.met2@test</code>" in listing and "<code>ab.met@test</code>" in listing
    assert "CAP 发送方" in listing
    [created] = [event for event in audit("agency.create") if event.detail["name"] == "阿坝州气象台"]
    assert created.detail["cap_senders"] == ["ab.met@test"]


def test_a_generated_signing_secret_is_shown_once_and_a_typed_one_never(client, people):
    sign_in(client, "admin")
    token = csrf_token(client, "/admin/endpoints")
    fields = {"csrf_token": token, "broadcast-county": "513301", "broadcast-url": "https://ebm.kangding.test/ebm"}
    made = client.post("/admin/broadcast", data=fields)
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"
    endpoint = db.session.scalar(select(BroadcastEndpoint))
    assert len(endpoint.secret) >= 32 and endpoint.secret in made.get_data(as_text=True)
    assert endpoint.name == "康定市应急广播平台"
    assert endpoint.secret not in client.get("/admin/endpoints").get_data(as_text=True)
    assert endpoint.secret not in client.get(f"/admin/broadcast/{endpoint.id}").get_data(as_text=True)
    [added] = audit("broadcast_endpoint.add")
    assert added.actor_id == admin_id() and endpoint.secret not in str(added.detail)

    again = client.post("/admin/broadcast", data=fields)  # the same URL on an active endpoint
    assert again.status_code == 409 and "已使用地址" in again.get_data(as_text=True)
    bad = client.post("/admin/broadcast", data={**fields, "broadcast-url": "ftp://x.test/"})
    assert bad.status_code == 422 and "http:// 或 https://" in bad.get_data(as_text=True)

    typed = client.post(f"/admin/broadcast/{endpoint.id}", data={
        **fields, "broadcast-secret": "typed-secret-42", "broadcast-exercise": "y"})
    assert typed.status_code == 303
    db.session.expire_all()
    endpoint = db.session.get(BroadcastEndpoint, endpoint.id)
    assert endpoint.secret == "typed-secret-42" and endpoint.exercise
    assert "typed-secret-42" not in client.get(f"/admin/broadcast/{endpoint.id}").get_data(as_text=True)
    [updated] = audit("broadcast_endpoint.update")
    assert updated.detail["secret"] == "replaced" and "typed-secret-42" not in str(updated.detail)

    regenerated = client.post(f"/admin/broadcast/{endpoint.id}", data={**fields, "broadcast-generate_secret": "y"})
    db.session.expire_all()
    secret = db.session.get(BroadcastEndpoint, endpoint.id).secret
    assert regenerated.status_code == 200 and secret != "typed-secret-42"
    assert secret in regenerated.get_data(as_text=True) and regenerated.headers["Cache-Control"] == "no-store"

    assert client.post(f"/admin/broadcast/{endpoint.id}/deactivate", data={"csrf_token": token}).status_code == 303
    db.session.expire_all()
    assert not db.session.get(BroadcastEndpoint, endpoint.id).active
    assert audit("broadcast_endpoint.deactivate")[0].actor_id == admin_id()


def test_an_admin_adds_edits_and_deactivates_a_beidou_terminal(client, people):
    sign_in(client, "admin")
    token = csrf_token(client, "/admin/endpoints")
    fields = {"csrf_token": token, "beidou-county": "513322", "beidou-card": "0412345",
              "beidou-township": "513322100000", "beidou-is_group": "y"}
    assert client.post("/admin/beidou", data=fields).status_code == 303
    terminal = db.session.scalar(select(BeidouTerminal))
    assert (terminal.card_address, terminal.county_code, terminal.is_group) == ("0412345", "513322", True)
    assert client.post("/admin/beidou", data=fields).status_code == 409  # the card is taken
    wrong = client.post("/admin/beidou", data={**fields, "beidou-card": "0412346", "beidou-township": "513301100000"})
    assert wrong.status_code == 422 and "并以所属县代码" in wrong.get_data(as_text=True)
    unticked = {name: value for name, value in fields.items() if name != "beidou-is_group"}
    edited = client.post(f"/admin/beidou/{terminal.id}", data={**unticked, "beidou-name": "泸定牧区组播"})
    assert edited.status_code == 303
    db.session.expire_all()
    terminal = db.session.get(BeidouTerminal, terminal.id)
    assert terminal.name == "泸定牧区组播" and not terminal.is_group  # the unticked box is saved too
    assert client.post(f"/admin/beidou/{terminal.id}/deactivate", data={"csrf_token": token}).status_code == 303
    assert [event.action for event in audit("beidou_terminal.add") + audit("beidou_terminal.update")
            + audit("beidou_terminal.deactivate")] == ["beidou_terminal.add", "beidou_terminal.update",
                                                       "beidou_terminal.deactivate"]


def test_an_admin_changes_a_role_and_resets_a_password(client, people):
    sign_in(client, "admin")
    token = csrf_token(client, "/admin/")
    auditor = db.session.scalar(select(User).where(User.username == "auditor"))
    assert client.post(f"/admin/users/{auditor.id}/role", data={"csrf_token": token,
                                                                "role": "duty_officer"}).status_code == 303
    assert client.post(f"/admin/users/{auditor.id}/password", data={"csrf_token": token,
                                                                    "password": "short"}).status_code == 422
    assert client.post(f"/admin/users/{auditor.id}/password", data={"csrf_token": token,
                                                                    "password": "a brand new password"}).status_code == 303
    assert client.post(f"/admin/users/{admin_id()}/role", data={"csrf_token": token,
                                                               "role": "auditor"}).status_code == 422  # not oneself
    db.session.expire_all()
    auditor = db.session.get(User, auditor.id)
    assert auditor.role.value == "duty_officer" and auditor.check_password("a brand new password")
    [role_change], [reset] = audit("user.set_role"), audit("user.reset_password")
    assert role_change.actor_id == reset.actor_id == admin_id()
    assert "a brand new password" not in str(reset.detail)
