"""The operators' CBC registry (services/cbc_operators.py): its rules, its ledger entries, and that the bearer
token and callback secret are stored for use but never put in the ledger."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from warning_service.extensions import db
from warning_service.models import AuditEvent, CbcOperator
from warning_service.services.cbc_operators import CbcOperatorRefused, add_operator, deactivate_operator, operators

TOKEN = "token-" + "7e" * 16
SECRET = "callback-" + "9f" * 16


def add(**fields) -> CbcOperator:
    values = {"code": "cmcc", "name": "中国移动", "url": "https://cbc.cmcc.example/cap",
              "failover_url": "https://cbc2.cmcc.example/cap", "token": TOKEN, "callback_secret": SECRET, **fields}
    return add_operator(db.session, None, "test", **values)


def test_an_operator_is_stored_with_its_secrets_and_audited_without_them(app):
    operator = add(max_vertices=60, identifiers="red=4370,4383", exercise=True)
    db.session.commit()
    stored = db.session.get(CbcOperator, operator.id)
    assert (stored.token, stored.callback_secret) == (TOKEN, SECRET)
    assert (stored.max_vertices, stored.identifiers, stored.exercise, stored.active) == (60, {"red": [4370, 4383]},
                                                                                         True, True)
    assert stored.link_checked_at is None and not stored.link_down
    [event] = db.session.scalars(select(AuditEvent))
    assert event.action == "cbc_operator.add" and event.subject_type == "cbc_operators"
    assert event.detail["code"] == "cmcc" and event.detail["token_set"] and event.detail["callback_secret_set"]
    ledger = json.dumps(event.detail, ensure_ascii=False)
    assert TOKEN not in ledger and SECRET not in ledger


def test_defaults_no_failover_and_a_hundred_vertices(app):
    operator = add(failover_url="  ", max_vertices=None)
    assert (operator.failover_url, operator.max_vertices, operator.identifiers) == (None, 100, {})


@pytest.mark.parametrize(("fields", "field", "code"), [
    ({"code": "CMCC"}, "code", "code_malformed"),
    ({"code": "c"}, "code", "code_malformed"),
    ({"code": "中国"}, "code", "code_malformed"),
    ({"name": " "}, "name", "name_length"),
    ({"url": "cbc.example/cap"}, "url", "url_malformed"),
    ({"failover_url": "ftp://cbc.example/cap"}, "failover_url", "url_malformed"),
    ({"failover_url": "https://cbc.cmcc.example/cap"}, "failover_url", "failover_same"),
    ({"token": ""}, "token", "token_empty"),
    ({"callback_secret": " "}, "callback_secret", "secret_empty"),
    ({"max_vertices": 4}, "max_vertices", "max_vertices_range"),
    ({"max_vertices": 100_000}, "max_vertices", "max_vertices_range"),
    ({"identifiers": "red:4370"}, "identifiers", "identifiers_malformed"),
    ({"identifiers": "purple=4370,4383"}, "identifiers", "identifiers_key"),
    ({"identifiers": ["red=4370,4383", "orange=1,2"]}, "identifiers", "identifiers_range"),
])
def test_bad_input_is_refused_naming_the_field(app, fields, field, code):
    with pytest.raises(CbcOperatorRefused) as refused:
        add(**fields)
    assert (refused.value.field, refused.value.code, refused.value.conflict) == (field, code, False)
    assert refused.value.message  # the CLI's English text, with its details filled in


def test_a_code_is_never_reused_and_deactivating_keeps_the_row(app):
    operator = add()
    deactivate_operator(db.session, None, "test", operator)
    with pytest.raises(CbcOperatorRefused) as again:
        deactivate_operator(db.session, None, "test", operator)
    assert again.value.code == "operator_inactive" and again.value.conflict
    with pytest.raises(CbcOperatorRefused) as taken:
        add(name="另一个")
    assert (taken.value.code, taken.value.conflict) == ("code_taken", True)
    add(code="cucc", name="中国联通", url="https://cbc.cucc.example/cap", failover_url=None)
    assert [o.code for o in operators(db.session)] == ["cmcc", "cucc"]
    assert [o.code for o in operators(db.session, active_only=True)] == ["cucc"]
    actions = [event.action for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["cbc_operator.add", "cbc_operator.deactivate", "cbc_operator.add"]
