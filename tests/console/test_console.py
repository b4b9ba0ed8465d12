"""The duty officers' console through its HTTP interface: sign-in, CSRF, roles, publish safeguards,
reject, one-click cancel and live progress. Runs on SQLite and PostgreSQL with the real Redis."""
from __future__ import annotations

import html
import json
import re
from datetime import timedelta

from sqlalchemy import func, select

from tests.support.console import PASSWORD, compose, expiry_in, post_form, sign_in, state_of, waiting_alert, work
from warning_service.extensions import db
from warning_service.models import (
    Alert,
    AlertState,
    AuditEvent,
    CapStatus,
    Delivery,
    DeliveryStatus,
    Level,
    MsgType,
    Recipient,
    User,
)


def test_sign_in_sets_a_guarded_session_cookie_and_wrong_passwords_are_refused(app, client, people):
    assert client.get("/").status_code == 302  # to the login page
    assert sign_in(client, "officer", "wrong").status_code == 401
    response = sign_in(client, "officer")
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert client.get("/").status_code == 200
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=app.config["CONSOLE_IDLE_MINUTES"])


def test_repeated_failed_sign_ins_lock_the_username(app, client, people):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert sign_in(client, "officer", "wrong").status_code == 401
    locked = sign_in(client, "officer")  # even the right password waits now
    assert locked.status_code == 429 and "登录失败次数过多" in locked.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "user.login_failed")) == app.config["LOGIN_MAX_FAILURES"]


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(client, people):
    sign_in(client, "officer")
    alert_id = waiting_alert()
    response = client.post(f"/alerts/{alert_id}/publish", data={"confirm_status": "Actual"})
    assert response.status_code == 400 and "CSRF" in response.get_json()["detail"]
    assert state_of(alert_id) == AlertState.PENDING_REVIEW
    assert client.post("/login", data={"username": "officer", "password": PASSWORD}).status_code == 400


def test_the_alert_page_shows_both_scripts_the_reach_and_the_kind_of_message(client, people):
    sign_in(client, "auditor")
    page = client.get(f"/alerts/{waiting_alert(status=CapStatus.EXERCISE)}").get_data(as_text=True)
    assert "EXERCISE" in page and "སྦྱོང་བརྡར" in page and "ACTUAL" not in page
    assert re.search(r"[\u0F00-\u0FFF]{4}", page) and "暴雨" in page
    assert "康定" in page and "泸定" in page
    assert "publish-form" not in page  # an auditor reads, never publishes


def test_publishing_needs_the_matching_confirmation(app, client, people):
    sign_in(client, "officer")
    alert_id = waiting_alert(status=CapStatus.EXERCISE)
    page = f"/alerts/{alert_id}"
    refused = post_form(client, f"{page}/publish", page, confirm_status="Actual")
    assert refused.status_code == 303 and state_of(alert_id) == AlertState.PENDING_REVIEW
    assert "未发布任何内容" in client.get(page).get_data(as_text=True)  # the officer's language, Chinese
    assert post_form(client, f"{page}/publish", page, confirm_status="Exercise").status_code == 303
    assert state_of(alert_id) == AlertState.PUBLISHING
    work(app)
    assert state_of(alert_id) == AlertState.PUBLISHED
    deliveries = db.session.scalars(select(Delivery).where(Delivery.alert_id == alert_id,
                                                           Delivery.channel == "sms")).all()
    exercise_ids = set(db.session.scalars(select(Recipient.id).where(Recipient.exercise.is_(True))))
    assert deliveries and {d.target_id for d in deliveries} <= exercise_ids
    progress = client.get(f"{page}/progress").get_json()
    assert progress["state"] == "published" and progress["unsettled"] == 0
    assert sum(sum(statuses.values()) for statuses in progress["progress"]["sms"].values()) == len(deliveries)


def test_a_red_actual_warning_waits_for_a_second_officer(app, client, people):
    alert_id = waiting_alert(level=Level.RED)
    page = f"/alerts/{alert_id}"
    sign_in(client, "officer")
    post_form(client, f"{page}/publish", page, confirm_status="Actual")
    assert state_of(alert_id) == AlertState.PENDING_REVIEW
    post_form(client, f"{page}/publish", page, confirm_status="Actual")  # the same officer again
    assert state_of(alert_id) == AlertState.PENDING_REVIEW
    post_form(client, "/logout", "/")
    sign_in(client, "officer2")
    post_form(client, f"{page}/publish", page, confirm_status="Actual")
    assert state_of(alert_id) == AlertState.PUBLISHING
    approvers = db.session.scalars(select(AuditEvent.actor_id).where(AuditEvent.action == "alert.approve")).all()
    assert len(set(approvers)) == 2


def test_only_earthquake_early_warning_may_skip_the_second_officer(client, people):
    sign_in(client, "officer")
    rain = waiting_alert(level=Level.RED)
    post_form(client, f"/alerts/{rain}/publish", f"/alerts/{rain}", confirm_status="Actual", emergency_override="1")
    assert state_of(rain) == AlertState.PENDING_REVIEW
    quake = waiting_alert(level=None, hazard="earthquake_early_warning")
    db.session.get(Alert, quake).level = Level.RED
    db.session.commit()
    post_form(client, f"/alerts/{quake}/publish", f"/alerts/{quake}", confirm_status="Actual", emergency_override="1")
    assert state_of(quake) == AlertState.PUBLISHING
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "alert.emergency_override")) == 1


def test_one_click_cancel_stops_the_rest_and_tells_those_reached(app, client, people):
    sign_in(client, "officer")
    alert_id = waiting_alert()
    page = f"/alerts/{alert_id}"
    post_form(client, f"{page}/publish", page, confirm_status="Actual")
    work(app)
    response = post_form(client, f"{page}/cancel", page, confirm_cancel=str(alert_id))
    assert response.status_code == 303
    assert state_of(alert_id) == AlertState.CANCELLED
    cancellation = db.session.scalar(select(Alert).where(Alert.msg_type == MsgType.CANCEL))
    assert response.headers["Location"].endswith(f"/alerts/{cancellation.id}")
    work(app)
    reached = db.session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.alert_id == alert_id, Delivery.status == DeliveryStatus.SENT))
    told = db.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.alert_id == cancellation.id))
    assert reached > 0 and told == reached
    again = post_form(client, f"{page}/cancel", page, confirm_cancel=str(alert_id))  # not twice
    assert again.status_code == 303 and db.session.scalar(
        select(func.count()).select_from(Alert).where(Alert.msg_type == MsgType.CANCEL)) == 1


def published_alert(app, client) -> int:
    """An Actual alert published by the signed-in officer, its deliveries worked off."""
    alert_id = waiting_alert()
    post_form(client, f"/alerts/{alert_id}/publish", f"/alerts/{alert_id}", confirm_status="Actual")
    work(app)
    return alert_id


def test_a_cancel_without_the_confirmation_is_refused_with_the_reason(app, client, people):
    sign_in(client, "officer")
    alert_id = published_alert(app, client)
    page = f"/alerts/{alert_id}"
    for confirmation in ({}, {"confirm_cancel": ""}, {"confirm_cancel": str(alert_id + 1)}):
        refused = post_form(client, f"{page}/cancel", page, **confirmation)
        assert refused.status_code == 422 and "未确认取消" in refused.get_data(as_text=True)
        assert state_of(alert_id) == AlertState.PUBLISHED
    assert db.session.scalar(select(func.count()).select_from(Alert).where(Alert.msg_type == MsgType.CANCEL)) == 0


def test_the_cancel_question_names_the_headline_the_counties_and_the_reach(app, client, people):
    sign_in(client, "officer")
    alert_id = published_alert(app, client)
    sent, delivered = (db.session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.alert_id == alert_id, Delivery.status == status)) for status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED))
    page = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    question = re.search(r'id="cancel-confirm">.*?</label>', page, re.S).group(0)  # without JavaScript
    assert sent + delivered > 0 and "暴雨预警" in question and "康定市、泸定县" in question
    assert f"已送达 {delivered} 条" in question and f"另已发出 {sent} 条" in question
    dialog = re.search(r'data-confirm="([^"]*)"', page).group(1)  # the dialog fills in the latest poll's counts
    assert "已送达 {delivered} 条" in dialog and "另已发出 {sent} 条" in dialog
    counts = json.loads(html.unescape(re.search(r'data-reached="([^"]*)"', page).group(1)))
    assert counts == {"delivered": delivered, "sent": sent}
    reached = client.get(f"/alerts/{alert_id}/progress").get_json()["reached"]
    assert reached == {"delivered": delivered, "sent": sent}
    post_form(client, "/language", "/", language="bo")
    tibetan = re.search(r'data-confirm="([^"]*)"', client.get(f"/alerts/{alert_id}").get_data(as_text=True)).group(1)
    assert "དར་མདོ་གྲོང་ཁྱེར" in tibetan and "康定" not in tibetan  # counties in the officer's language


def test_a_cancelled_alert_and_its_cancellation_say_so_in_a_banner(app, client, people):
    sign_in(client, "officer")
    alert_id = published_alert(app, client)
    page = f"/alerts/{alert_id}"
    preview = client.get(page).get_data(as_text=True)
    assert "取消预览" in preview and "【取消】此前发布的康定市、泸定县暴雨黄色预警（III级）已取消" in preview
    cancelled = post_form(client, f"{page}/cancel", page, confirm_cancel=str(alert_id))
    cancellation = client.get(cancelled.headers["Location"]).get_data(as_text=True)
    assert 'id="cancellation-banner"' in cancellation and f'href="/alerts/{alert_id}"' in cancellation
    earlier = client.get(page).get_data(as_text=True)
    assert 'id="cancelled-banner"' in earlier and "此预警已被撤回" in earlier and "cancel-form" not in earlier


def test_reject_needs_a_reason_which_is_kept_shown_and_recorded(client, people):
    sign_in(client, "officer")
    alert_id = waiting_alert()
    page = f"/alerts/{alert_id}"
    for reason, says in (("", "请填写驳回理由"), ("   ", "请填写驳回理由"), ("x" * 501, "最多 500"),
                         ("重复\x07发送", "控制字符"), ("两行\n理由", "控制字符")):
        refused = post_form(client, f"{page}/reject", page, reason=reason)
        assert refused.status_code == 422 and says in refused.get_data(as_text=True), reason
        assert state_of(alert_id) == AlertState.PENDING_REVIEW
    post_form(client, f"{page}/reject", page, reason="  区域填错：应为泸定县  ")
    assert state_of(alert_id) == AlertState.REJECTED
    assert db.session.get(Alert, alert_id).reject_reason == "区域填错：应为泸定县"
    entry = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "alert.reject"))
    assert entry.subject_id == alert_id and entry.detail["reason"] == "区域填错：应为泸定县"
    assert db.session.scalar(select(func.count()).select_from(Delivery)) == 0
    assert "驳回理由：区域填错：应为泸定县" in client.get(page).get_data(as_text=True)
    assert "驳回理由：区域填错：应为泸定县" in client.get(f"/reports/alerts/{alert_id}").get_data(as_text=True)


def test_the_inbox_lists_waiting_alerts_newest_first(client, people):
    older, newer = waiting_alert(), waiting_alert(status=CapStatus.EXERCISE)
    sign_in(client, "auditor")
    rows = client.get("/inbox/rows").get_data(as_text=True)
    assert rows.index(f"/alerts/{newer}") < rows.index(f"/alerts/{older}")
    assert "EXERCISE" in rows and "ACTUAL" in rows


def test_composing_a_yellow_rainstorm_for_two_counties_waits_for_review(client, people):
    sign_in(client, "officer")
    typed, stored = expiry_in(hours=9)
    response = compose(client, expires=typed)
    assert response.status_code == 303
    alert = db.session.scalar(select(Alert))
    assert response.headers["Location"].endswith(f"/alerts/{alert.id}")
    assert (alert.state, alert.status, alert.level, alert.county_codes) == \
        (AlertState.PENDING_REVIEW, CapStatus.ACTUAL, Level.YELLOW, ["513301", "513322"])
    assert alert.expires == stored  # typed in Beijing time, kept in UTC
    assert alert.agency_id is None and alert.created_by_id is not None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "康定市、泸定县暴雨黄色预警" in page and re.search(r"[\u0F00-\u0FFF]{4}", page)


def test_compose_refuses_what_intake_refuses_and_stores_nothing(client, people):
    sign_in(client, "officer")
    no_kind = compose(client, status=None)
    assert no_kind.status_code == 422 and "请选择真实预警或演练" in no_kind.get_data(as_text=True)
    no_area = compose(client, counties=[])
    assert no_area.status_code == 422 and "area" in no_area.get_data(as_text=True)
    wrong_level = compose(client, hazard="earthquake", level="yellow")
    assert wrong_level.status_code == 422 and "does not use level" in wrong_level.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 0


def test_compose_offers_the_hazards_parameters_and_intake_checks_them(client, people):
    from warning_service.hazards import PARAMETER_RULES
    from warning_service.web.forms import PARAMETER_LABELS

    assert set(PARAMETER_LABELS) == set(PARAMETER_RULES)  # every parameter a hazard may define has its label
    sign_in(client, "officer")
    page = client.get("/compose").get_data(as_text=True)
    magnitude = re.search(r'<label class="parameter" data-hazards="([^"]*)">[^<]*<input[^>]*name="magnitude"', page)
    assert magnitude and set(magnitude.group(1).split()) == {"earthquake", "earthquake_early_warning", "aftershock"}
    assert re.search(r'data-hazards="[^"]*\brainstorm\b[^"]*">[^<]*<input[^>]*name="rain_mm"', page)
    quake = {"hazard": "earthquake", "level": None}
    too_big = compose(client, **quake, magnitude="11")
    assert too_big.status_code == 422 and "parameters.magnitude" in too_big.get_data(as_text=True)
    assert compose(client, **quake, depth_km="deep").status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 0
    saved = compose(client, **quake, magnitude="6.8", depth_km="16", latitude="29.59", longitude="102.08",
                    rain_mm="80")  # rain is not an earthquake's: dropped
    assert saved.status_code == 303
    alert = db.session.scalar(select(Alert))
    assert alert.parameters == {"magnitude": "6.8", "depth_km": "16", "latitude": "29.59", "longitude": "102.08"}
    preview = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "6.8级" in preview and "16公里" in preview


def test_the_county_list_offers_pinyin_with_tone_marks(client, people):
    sign_in(client, "officer")
    page = client.get("/compose").get_data(as_text=True)
    assert "kāng dìng shì" in page and "lú dìng xiàn" in page and "mǎ ěr kāng shì" in page


def test_each_county_box_is_inside_its_label_and_the_map_names_counties_in_the_officers_language(client, people):
    sign_in(client, "officer")
    for language, luding, map_label in (("zh", "泸定县", "县域地图"), ("bo", "ལྕགས་ཟམ", "县域地图"),
                                        ("en", "Luding County", "County map")):
        assert post_form(client, "/language", "/", language=language).status_code == 303
        page = client.get("/compose").get_data(as_text=True)
        boxes_in_labels = re.findall(r'<li><label><input [^>]*name="counties"[^>]*type="checkbox"[^>]*> <span>', page)
        assert len(boxes_in_labels) == 31, language
        assert re.search(r'data-code="513322"[^>]*><title>([^<]*)</title>', page)[1] == luding
        assert f'aria-label="{map_label}"' in page, language


def test_a_refusal_is_in_the_officers_language(client, people):
    sign_in(client, "officer")
    alert_id = waiting_alert(status=CapStatus.EXERCISE)
    page = f"/alerts/{alert_id}"
    for language, phrase in (("zh", "未发布任何内容"), ("bo", "未发布任何内容"), ("en", "Nothing was published")):
        assert post_form(client, "/language", "/", language=language).status_code == 303
        post_form(client, f"{page}/publish", page, confirm_status="Actual")
        assert phrase in client.get(page).get_data(as_text=True), language
    assert state_of(alert_id) == AlertState.PENDING_REVIEW


def test_an_auditor_cannot_compose(client, people):
    sign_in(client, "auditor")
    assert client.get("/compose").status_code == 403


def test_correct_offers_the_alerts_wording_and_publishing_it_supersedes(app, client, people):
    sign_in(client, "officer")
    alert_id = waiting_alert()
    page = f"/alerts/{alert_id}"
    assert client.get(f"{page}/correct").status_code == 303  # not published yet
    post_form(client, f"{page}/publish", page, confirm_status="Actual")
    work(app)
    form = client.get(f"{page}/correct").get_data(as_text=True)
    assert "暴雨预警" in form and db.session.get(Alert, alert_id).cap_reference in form
    reference = db.session.get(Alert, alert_id).cap_reference
    response = compose(client, references=reference, headline="暴雨预警（更正）")
    assert response.status_code == 303
    update = db.session.scalar(select(Alert).where(Alert.msg_type == MsgType.UPDATE))
    assert update.references == [reference] and update.state == AlertState.PENDING_REVIEW
    assert state_of(alert_id) == AlertState.PUBLISHED  # in force until the correction is published
    post_form(client, f"/alerts/{update.id}/publish", f"/alerts/{update.id}", confirm_status="Actual")
    assert state_of(alert_id) == AlertState.SUPERSEDED


def test_the_interface_language_is_the_users_choice(client, people):
    sign_in(client, "auditor")
    assert '<html lang="zh">' in client.get("/").get_data(as_text=True)
    assert "收件箱" in client.get("/").get_data(as_text=True)
    assert post_form(client, "/language", "/", language="en").status_code == 303
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page and "Inbox" in page
    assert post_form(client, "/language", "/", language="fr").status_code == 400
    db.session.expire_all()
    assert db.session.scalar(select(User.locale).where(User.username == "auditor")) == "en"


def test_the_sign_in_page_switches_language_before_anyone_signs_in(client, people):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh">' in page and 'action="/login/language"' in page
    for code, name in (("zh", "中文"), ("bo", "བོད་ཡིག"), ("en", "English")):
        assert f'value="{code}" lang="{code}"' in page and name in page
    assert post_form(client, "/login/language", "/login", language="en").status_code == 303
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page
    assert post_form(client, "/login/language", "/login", language="xx").status_code == 400
    assert client.post("/login/language", data={"language": "bo"}).status_code == 400  # no CSRF token


def favicon_of(client, path: str):
    link = re.search(r'<link rel="icon" href="([^"]+)"', client.get(path).get_data(as_text=True))
    assert link, f"{path} links no icon"
    return client.get(link.group(1))


def test_every_page_links_the_favicon_and_it_is_served(client, people):
    icon = favicon_of(client, "/login")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data
    sign_in(client, "auditor")
    assert favicon_of(client, "/").status_code == 200


def test_the_heaviest_page_loads_in_seconds_on_a_256_kbit_link(client, people):
    """Compose (with its map) and what it pulls in, as a county office's 256 kbit/s link fetches them."""
    sign_in(client, "officer")
    page = client.get("/compose")
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.get_data(as_text=True))
    assert sorted(asset.rsplit(".", 1)[1] for asset in assets) == ["css", "js", "svg"]  # stylesheet, script, icon
    total = len(page.data) + sum(len(client.get(asset).data) for asset in assets)
    seconds = total * 8 / 256_000
    assert seconds < 5, f"{total:,} bytes: {seconds:.1f} s at 256 kbit/s"


def test_people_get_error_pages_and_machines_problem_documents(client, people):
    sign_in(client, "auditor")
    page = client.get("/compose", headers={"Accept": "text/html"})
    assert page.status_code == 403 and page.mimetype == "text/html"
    assert "您的角色无权执行此操作" in page.get_data(as_text=True)
    assert client.get("/alerts/999", headers={"Accept": "text/html"}).mimetype == "text/html"
    api = client.get("/api/v1/alerts/999", headers={"Accept": "text/html"})
    assert api.status_code == 401 and api.mimetype == "application/problem+json"


def test_every_refusal_of_the_domain_has_its_console_text(app):
    from warning_service.dispatch.review import REFUSAL_TEXTS
    from warning_service.web.console import REFUSALS

    assert set(REFUSALS) == set(REFUSAL_TEXTS)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert {code: str(text) for code, text in REFUSALS.items()} == REFUSAL_TEXTS  # English is the msgid
