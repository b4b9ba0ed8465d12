"""The administrators' page of the operators' Cell Broadcast Centres (/admin/cbc): list, add (secrets typed
hidden, never shown back), refusals in the admin's language, deactivate; the ledger names the admin."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.support.console import post_form, sign_in, waiting_alert, work
from warning_service.channels.cell_broadcast.callbacks import StatusCallback, apply_status
from warning_service.extensions import db
from warning_service.models import AuditEvent, CbcOperator, CbcState, User, utcnow
from warning_service.services.cbc_operators import add_operator

TOKEN = "page-token-" + "12" * 12
SECRET = "page-secret-" + "34" * 12
FORM = {"code": "cmcc", "name": "中国移动", "url": "https://cbc.cmcc.example/cap",
        "failover_url": "https://cbc2.cmcc.example/cap", "token": TOKEN, "callback_secret": SECRET,
        "max_vertices": "80", "identifiers": ""}


def add(client, **fields):
    return post_form(client, "/admin/cbc/", "/admin/cbc/", **{**FORM, **fields})


def test_an_admin_adds_lists_and_deactivates_a_cbc(client, people):
    sign_in(client, "admin")
    assert add(client, exercise="y").status_code == 303
    operator = db.session.scalar(select(CbcOperator))
    assert (operator.code, operator.max_vertices, operator.exercise, operator.token) == ("cmcc", 80, True, TOKEN)
    page = client.get("/admin/cbc/").get_data(as_text=True)
    assert "已添加小区广播中心 中国移动" in page and '<tr data-code="cmcc">' in page and "尚未测试" in page
    assert TOKEN not in page and SECRET not in page
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "cbc_operator.add"))
    assert (event.actor_id, event.detail["via"], operator.created_by_id) == (admin.id, "console", admin.id)
    deactivated = post_form(client, f"/admin/cbc/{operator.id}/deactivate", "/admin/cbc/")
    assert deactivated.status_code == 303 and not db.session.get(CbcOperator, operator.id).active
    again = post_form(client, f"/admin/cbc/{operator.id}/deactivate", "/admin/cbc/")
    assert again.status_code == 409 and "运营商 cmcc 已停用" in again.get_data(as_text=True)


@pytest.mark.parametrize(("fields", "status", "wording"), [
    ({"code": "CMCC"}, 422, "代码为 2 至 20 个字符"),
    ({"failover_url": FORM["url"]}, 422, "备用地址必须与主地址不同"),
    ({"max_vertices": "3"}, 422, "多边形顶点数为 5 至 10000"),
    ({"identifiers": "red=4370"}, 422, "每项自定义消息标识"),
    ({"token": ""}, 422, "访问令牌"),
])
def test_refusals_redisplay_the_form_in_chinese_and_store_nothing(client, people, fields, status, wording):
    sign_in(client, "admin")
    response = add(client, **fields)
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert wording in page and TOKEN not in page and SECRET not in page
    assert db.session.scalar(select(CbcOperator)) is None


def test_a_taken_code_is_a_conflict(client, people):
    sign_in(client, "admin")
    add(client)
    response = add(client, name="另一家")
    assert response.status_code == 409 and "该代码已属于运营商 中国移动" in response.get_data(as_text=True)


def test_only_admins(client, people):
    sign_in(client, "officer")
    assert client.get("/admin/cbc/").status_code == 403
    assert post_form(client, "/admin/cbc/", "/", **FORM).status_code == 403
    assert db.session.scalar(select(CbcOperator)) is None


def test_a_cbc_not_answering_shows_as_a_banner_on_every_page(client, people):
    db.session.add(CbcOperator(code="cucc", name="中国联通", url="http://127.0.0.1:1/cap", token="t",
                               callback_secret="s", link_checked_at=utcnow(), link_primary_ok=False))
    db.session.commit()
    sign_in(client, "officer")
    for path in ("/", "/compose"):
        page = client.get(path).get_data(as_text=True)
        assert 'id="cbc-down"' in page and "小区广播：中国联通 在最近一次链路测试" in page
    operator = db.session.scalar(select(CbcOperator))
    operator.link_primary_ok = True
    db.session.commit()
    assert 'id="cbc-down"' not in client.get("/").get_data(as_text=True)


def test_progress_the_alert_report_and_the_period_report_show_each_operators_cells(app, client, people):
    for code, name in (("cmcc", "中国移动"), ("cucc", "中国联通")):
        add_operator(db.session, None, "test", code=code, name=name, url=f"http://127.0.0.1:1/{code}",
                     failover_url=None, token="t", callback_secret="s")
    db.session.commit()
    sign_in(client, "officer")
    alert_id = waiting_alert()
    page = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert "小区广播：经由中国移动、中国联通，送达预警区域内各小区的每一部手机。" in page
    assert re.search(r"小区广播 \d+/15 页", page)  # the handset text's size in CBS pages of 15, in the preview
    post_form(client, f"/alerts/{alert_id}/publish", f"/alerts/{alert_id}", confirm_status="Actual")
    work(app)  # CELL_BROADCAST_GATEWAY=log: accepted
    cmcc = db.session.scalar(select(CbcOperator).where(CbcOperator.code == "cmcc"))
    assert apply_status(db.session, cmcc, StatusCallback("cmcc-1", f"EWS-{alert_id}-cmcc", CbcState.COMPLETED, 37, 3))
    progress = client.get(f"/alerts/{alert_id}/progress").get_json()
    assert [(row["code"], row["state_label"], row["cells"], row["failed_cells"]) for row in progress["operators"]] \
        == [("cmcc", "播发完成", 37, 3), ("cucc", "已接收，尚无状态报告", 0, 0)]
    assert progress["unsettled"] == 1  # cucc's CBC has not reported its cells yet
    assert {row["channel"] for row in progress["rows"]} <= {"sms", "broadcast", "beidou"}  # by county: not cell broadcast
    page = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert '<tr data-operator="cmcc" data-state="completed"><td>中国移动</td>' in page
    report = client.get(f"/reports/alerts/{alert_id}").get_data(as_text=True)
    assert 'id="reach-cell_broadcast"' in report and "<td>37</td><td>3</td>" in report
    period = client.get("/reports/period").get_data(as_text=True)
    assert '<td class="broadcasts">2/2</td>' in period and '<td class="cells">37</td>' in period
