"""The admin pages in a real browser (Playwright driving /usr/bin/chromium): register an agency and get
its key once, add a broadcast platform whose generated secret shows once, add and retire a BeiDou
terminal, and change a user's role."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from tests.support.browser import shot, sign_in
from warning_service.extensions import db
from warning_service.models import Agency, AuditEvent, BeidouTerminal, BroadcastEndpoint, Role, User


def test_browser_an_admin_registers_an_agency_and_edits_it(page, people, request):
    sign_in(page, "admin")
    page.click("#nav-admin")
    page.click("#nav-agencies")
    form = page.locator("#add-agency")
    form.locator("input[name=name]").fill("甘孜州气象局")
    form.locator("select[name=kind]").select_option("weather")
    form.locator("input[name=hazards][value=rainstorm]").check()
    form.locator("input[name=hazards][value=snowstorm]").check()
    form.locator("button[type=submit]").click()
    key = page.locator("#new-key code")
    expect(key).to_have_text(re.compile(r"^ews_"))
    shot(page, f"admin-agency-{request.node.callspec.id}")
    page.reload()  # a POST answer: the browser asks again; the key is not on any GET
    page.goto("/admin/agencies")
    expect(page.locator("#new-key")).to_have_count(0)
    page.click("#agency-list a:text('甘孜州气象局')")
    page.locator("#edit-form input[name=hazards][value=snowstorm]").uncheck()
    page.click("#edit-form button[type=submit]")
    expect(page.locator(".flash.ok")).to_contain_text("甘孜州气象局")
    expect(page.locator("#agency-list")).to_contain_text("暴雨")  # rainstorm, named in the interface language
    expect(page.locator("#agency-list")).not_to_contain_text("暴雪")
    db.session.expire_all()
    assert db.session.scalar(select(Agency.hazards)) == ["rainstorm"]


def test_browser_an_admin_adds_a_platform_and_a_terminal_and_changes_a_role(page, people, request):
    sign_in(page, "admin")
    page.goto("/admin/endpoints")
    broadcast = page.locator("#add-broadcast")
    broadcast.locator("select[name=broadcast-county]").select_option("513322")
    broadcast.locator("input[name=broadcast-url]").fill("ftp://ebm.luding.test/")
    broadcast.locator("button[type=submit]").click()
    expect(page.locator("#add-broadcast .flash.error")).to_contain_text("http:// 或 https://")  # said, not a 500
    page.locator("#add-broadcast input[name=broadcast-url]").fill("https://ebm.luding.test/ebm")
    page.locator("#add-broadcast button[type=submit]").click()
    secret = page.locator("#new-secret code").inner_text()
    db.session.expire_all()
    assert db.session.scalar(select(BroadcastEndpoint.secret)) == secret and len(secret) >= 32
    expect(page.locator("#broadcast-list")).to_contain_text("泸定县应急广播平台")

    beidou = page.locator("#add-beidou")
    beidou.locator("select[name=beidou-county]").select_option("513322")
    beidou.locator("input[name=beidou-card]").fill("0247601")
    beidou.locator("button[type=submit]").click()
    expect(page.locator("#beidou-list")).to_contain_text("0247601")
    page.goto("/admin/endpoints")
    assert secret not in page.content()
    page.locator("#beidou-list tr:has-text('0247601') button").click()
    expect(page.locator(".flash.ok")).to_contain_text("0247601")
    db.session.expire_all()
    assert not db.session.scalar(select(BeidouTerminal.active))
    shot(page, f"admin-endpoints-{request.node.callspec.id}")

    page.click("#nav-admin")
    auditor = db.session.scalar(select(User).where(User.username == "auditor"))
    row = page.locator(f"#user-{auditor.id}")
    row.locator("select[name=role]").select_option("duty_officer")
    row.locator("button:text('Change role'), button:text('更改角色')").click()
    expect(page.locator(".flash.ok")).to_contain_text("值班员")
    db.session.expire_all()
    assert db.session.get(User, auditor.id).role is Role.DUTY_OFFICER
    actors = set(db.session.scalars(select(AuditEvent.actor_id).where(AuditEvent.action.in_(
        ["broadcast_endpoint.add", "beidou_terminal.add", "beidou_terminal.deactivate", "user.set_role"]))))
    assert actors == {db.session.scalar(select(User.id).where(User.username == "admin"))}
