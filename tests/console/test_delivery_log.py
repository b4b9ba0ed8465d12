"""The delivery log of an alert with more rows than a page: totals and paging, the county found by any
of its names, values that name nothing refused with the reason in the reader's language, and the CSV
export with every matching row."""
from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from tests.support.console import post_form, sign_in
from tests.support.reports import KANGDING
from warning_service.extensions import db
from warning_service.models import AuditEvent


def log_range(page: str) -> str:
    return re.search(r'<span id="log-range">(.*?)</span>', page).group(1)


def next_link(page: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next"', page)
    return found.group(1).replace("&amp;", "&") if found else None


def test_the_log_pages_through_every_row_with_its_totals(client, crowded_alert):
    sign_in(client, "auditor")
    first = client.get(f"/reports/alerts/{crowded_alert}/log").get_data(as_text=True)
    assert log_range(first) == "第 1–200 条，共 330 条" and first.count("<tr><td>") == 200
    assert 'rel="prev"' not in first
    second = client.get(next_link(first)).get_data(as_text=True)
    assert log_range(second) == "第 201–330 条，共 330 条" and second.count("<tr><td>") == 130
    assert next_link(second) is None and 'rel="prev"' in second
    ids = [int(i) for i in re.findall(r"<tr><td>(\d+)</td>", first + second)]
    assert len(set(ids)) == 330 and ids == sorted(ids)

    small = client.get(f"/reports/alerts/{crowded_alert}/log?channel=sms&per_page=50").get_data(as_text=True)
    assert log_range(small) == "第 1–50 条，共 165 条" and "per_page=50" in next_link(small)
    assert "channel=sms" in next_link(small)


@pytest.mark.parametrize("query, reason", [
    ("per_page=100000", "每页条数须为 1–1000 之间的整数"), ("per_page=0", "每页条数"), ("page=abc", "没有第“abc”页"),
    ("page=3", "没有第“3”页：页码为 1–2"), ("county=成都", "没有名称或代码为“成都”的县"),
    ("channel=fax", "未知渠道“fax”"), ("status=lost", "未知状态“lost”"), ("township=kangding", "不是乡镇代码"),
])
def test_a_value_that_names_nothing_is_refused_with_the_reason(client, crowded_alert, query, reason):
    sign_in(client, "auditor")
    response = client.get(f"/reports/alerts/{crowded_alert}/log?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and reason in page and 'id="log"' not in page


@pytest.mark.parametrize("county", ["康定市", "康定", "དར་མདོ", "kangding", "Kāngdìng", "513301"])
def test_the_county_is_found_by_any_of_its_names_or_its_code(client, crowded_alert, county):
    sign_in(client, "auditor")
    page = client.get(f"/reports/alerts/{crowded_alert}/log", query_string={"county": county}).get_data(as_text=True)
    assert log_range(page) == "第 1–200 条，共 220 条" and "<td>513322</td>" not in page
    assert "康定市" in page.split('id="log-counties"')[1].split("</p>")[0]


def test_a_filter_that_matches_no_delivery_says_so(client, crowded_alert):
    sign_in(client, "auditor")
    page = client.get(f"/reports/alerts/{crowded_alert}/log?county=雅江").get_data(as_text=True)  # not targeted
    assert log_range(page) == "没有符合条件的投递。"


def test_the_log_speaks_the_readers_language(client, crowded_alert):
    sign_in(client, "auditor")
    post_form(client, "/language", "/", language="en")
    assert log_range(client.get(f"/reports/alerts/{crowded_alert}/log").get_data(as_text=True)) == "Rows 1–200 of 330"
    refused = client.get(f"/reports/alerts/{crowded_alert}/log?channel=fax").get_data(as_text=True)
    assert "Unknown channel “fax”: choose one of sms, broadcast, beidou, cell_broadcast." in refused


def test_the_csv_gives_every_matching_row_behind_a_bom(client, crowded_alert):
    sign_in(client, "auditor")
    everything = client.get(f"/reports/alerts/{crowded_alert}/deliveries.csv")
    assert everything.status_code == 200 and everything.data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(everything.data.decode("utf-8-sig"))))
    assert len(rows) == 330 and list(rows[0])[0] == "delivery"
    kangding = client.get(f"/reports/alerts/{crowded_alert}/deliveries.csv?county=kangding&status=failed")
    rows = list(csv.DictReader(io.StringIO(kangding.data.decode("utf-8-sig"))))
    assert len(rows) == KANGDING // 10 and {(row["county"], row["status"]) for row in rows} == {("513301", "failed")}
    refused = client.get(f"/reports/alerts/{crowded_alert}/deliveries.csv?channel=fax")
    assert refused.status_code == 400 and "未知渠道" in refused.get_data(as_text=True)
    exports = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "report.export")
                                 .order_by(AuditEvent.id)).all()
    assert [event.detail.get("filters") for event in exports] == [None, {"county": "kangding", "status": "failed"}]
