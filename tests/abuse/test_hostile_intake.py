"""Hostile documents and random bytes against POST /api/v1/alerts (and /preview): never a 5xx,
never stored. The plain bad-input cases are in tests/api/test_bad_input.py; these are the attacks."""
from __future__ import annotations

import http.client
import json

import pytest
from flask import request_finished
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.api import assert_refused_4xx, good_body, nothing_stored, post, post_json
from tests.support.cap_builder import cap_xml, info_xml
from warning_service.channels.catalog import channel as channel_named
from warning_service.channels.catalog import channels
from warning_service.dispatch.content import channel_texts
from warning_service.extensions import db
from warning_service.models import Alert

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def json_body(**changes) -> dict:
    body = {"status": "Actual", "hazard": "rainstorm", "level": "blue", "area": {"counties": ["513301"]}}
    body.update(changes)
    return body


HOSTILE_XML = {
    "xxe-parameter-entity": b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'
                            b'<alert xmlns="' + CAP_NS.encode() + b'"/>',
    "xxe-in-attribute": b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
                        b'<alert xmlns="' + CAP_NS.encode() + b'" a="&x;"/>',
    "quadratic-blowup": b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "' + b"x" * 50_000 + b'">]>'
                        b'<alert xmlns="' + CAP_NS.encode() + b'"><identifier>' + b"&x;" * 2_000 + b"</identifier></alert>",
    "external-dtd-public": b'<?xml version="1.0"?><!DOCTYPE alert PUBLIC "-//X//Y" "http://127.0.0.1:9/x.dtd">'
                           b'<alert xmlns="' + CAP_NS.encode() + b'"/>',
    "xinclude": b'<alert xmlns="' + CAP_NS.encode() + b'" xmlns:xi="http://www.w3.org/2001/XInclude">'
                b'<xi:include href="file:///etc/passwd" parse="text"/></alert>',
    "deep-nesting": b"<alert>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</alert>",
    "deep-nesting-in-cap": good_body().replace(b"</alert>", b"<x>" * 5_000 + b"</x>" * 5_000 + b"</alert>"),
    "invalid-utf8": good_body().replace(b"demo agency", b"demo \xff\xfe agency"),
    "utf8-declared-latin1-bytes": b'<?xml version="1.0" encoding="UTF-8"?>' + good_body().split(b"?>", 1)[-1]
                                  .replace("康定市".encode(), "康定市".encode("gb18030")),
    "wrong-encoding-declared": good_body().replace(b'encoding="UTF-8"', b'encoding="no-such-codec"'),
    "wrong-namespace": good_body().replace(CAP_NS.encode(), b"urn:oasis:names:tc:emergency:cap:9.9"),
    "no-namespace": good_body().replace(b' xmlns="' + CAP_NS.encode() + b'"', b""),
    "html-not-cap": b"<html><body><script>alert(1)</script></body></html>",
    "nul-bytes": good_body().replace(b"demo agency", b"demo\x00agency"),
    "control-characters": good_body().replace(b"demo agency", b"demo \x07\x1b agency"),
    "empty-body": b"",
    "processing-instruction-only": b'<?xml version="1.0"?><?xml-stylesheet href="http://127.0.0.1:9/x.xsl"?>',
}


@pytest.mark.parametrize("document", list(HOSTILE_XML.values()), ids=list(HOSTILE_XML))
def test_hostile_xml_is_refused_and_nothing_is_stored(client, weather, document):
    response = post(client, weather[1], document)
    assert_refused_4xx(response)
    assert "root:" not in response.get_data(as_text=True)
    assert_refused_4xx(client.post("/api/v1/preview", data=document,
                                   headers={**weather[1], "Content-Type": "application/cap+xml"}))


HOSTILE_JSON = {
    "deep-nesting": b"[" * 100_000 + b"]" * 100_000,
    "deep-nesting-in-field": b'{"status": "Actual", "area": ' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}",
    "invalid-utf8": b'{"status": "Actual", "headline": {"zh": "\xff\xfe"}}',
    "lone-surrogate": b'{"status": "Actual", "hazard": "rainstorm", "level": "blue", "area": {"counties": ["513301"]},'
                      b' "headline": {"zh": "\\ud800"}}',
    "nan": b'{"status": "Actual", "hazard": "rainstorm", "level": "blue", "area": {"circle": '
           b'{"lat": NaN, "lon": 102.0, "radius_km": 10}}}',
    "infinity": b'{"status": "Actual", "hazard": "rainstorm", "level": "blue", "area": {"circle": '
                b'{"lat": 30.0, "lon": Infinity, "radius_km": 10}}}',
    "huge-integer": b'{"status": "Actual", "hazard": "rainstorm", "level": "blue", "area": {"circle": '
                    b'{"lat": 30.0, "lon": 102.0, "radius_km": 1' + b"0" * 5000 + b"}}}",
    "duplicate-keys": b'{"status": "Actual", "status": "Exercise", "hazard": "rainstorm", "level": "blue"}',
    "array-not-object": b'[{"status": "Actual"}]',
    "string-not-object": b'"alert"',
    "null": b"null",
    "xml-as-json": good_body(),
}


@pytest.mark.parametrize("document", list(HOSTILE_JSON.values()), ids=list(HOSTILE_JSON))
def test_hostile_json_is_refused_and_nothing_is_stored(client, weather, document):
    assert_refused_4xx(post(client, weather[1], document, "application/json"))
    assert_refused_4xx(client.post("/api/v1/preview", data=document,
                                   headers={**weather[1], "Content-Type": "application/json"}))


def test_a_20_mb_body_is_refused_before_it_is_read(app, client, weather, monkeypatch):
    """MAX_CONTENT_LENGTH answers 413 from the declared length: the parser never sees the body."""
    parsed = []
    monkeypatch.setattr("warning_service.web.api.parse_cap_xml", lambda body: parsed.append(body))
    body = b"<alert>" + b" " * (20 * 1024 * 1024) + b"</alert>"
    for content_type in ("application/cap+xml", "application/json"):
        assert_refused_4xx(post(client, weather[1], body, content_type), 413)
    assert_refused_4xx(client.post("/api/v1/preview", data=body, headers={**weather[1], "Content-Type": "text/xml"}), 413)
    assert parsed == []


@pytest.mark.parametrize("content_type", ["application/cap+xml", "application/json"])
def test_a_chunked_body_over_the_limit_is_refused(app, served_app, weather, content_type):
    """No Content-Length to refuse early on (a real server, chunked): a valid message padded past
    MAX_CONTENT_LENGTH is refused with 413, not cut at the limit and parsed.

    The server answers once it has read up to the limit and closes with the rest of the body unread, so
    the client may see its connection reset before it reads the answer. The server's own record of what it
    answered decides then; a reset without that 413 fails."""
    host, port = served_app.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    valid = good_body("PADDED-1") if content_type != "application/json" else json.dumps(json_body()).encode()
    chunks = [valid] + [b" " * (1024 * 1024)] * 12
    answered: list[int] = []
    seen: int | None = None  # the status the client read, if the connection lasted long enough

    def note(sender, response, **extra) -> None:
        answered.append(response.status_code)

    with request_finished.connected_to(note, app):
        try:
            connection.request("POST", "/api/v1/alerts", body=iter(chunks), encode_chunked=True,
                               headers={**weather[1], "Content-Type": content_type, "Transfer-Encoding": "chunked"})
            seen = connection.getresponse().status
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            connection.close()
    assert answered == [413], answered
    assert seen in (413, None)
    assert nothing_stored() == (0, 0, 0)


IMPOSSIBLE_XML_AREAS = {
    "self-intersecting-polygon": {"polygon": "30.0,101.9 30.2,102.2 30.0,102.2 30.2,101.9 30.0,101.9"},
    "latitude-over-90": {"polygon": "95.0,101.9 96.0,102.0 95.0,102.1 95.0,101.9"},
    "longitude-over-180": {"circle": "30.0,190.0 10"},
    "negative-radius": {"circle": "30.0,102.0 -5"},
    "nan-radius": {"circle": "30.0,102.0 NaN"},
    "infinite-latitude": {"circle": "inf,102.0 5"},
    "polygon-of-one-point-repeated": {"polygon": "30.0,102.0 30.0,102.0 30.0,102.0 30.0,102.0"},
    "polygon-garbage": {"polygon": "30.0;102.0 abc"},
    "circle-without-radius": {"circle": "30.0,102.0"},
}


@pytest.mark.parametrize("area", list(IMPOSSIBLE_XML_AREAS.values()), ids=list(IMPOSSIBLE_XML_AREAS))
def test_impossible_geometry_in_cap_is_refused(client, weather, area):
    assert_refused_4xx(post(client, weather[1], cap_xml("GEO-1", info_xml(**area))), 400, 422)


IMPOSSIBLE_JSON_AREAS = {
    "negative-radius": {"circle": {"lat": 30.0, "lon": 102.0, "radius_km": -5}},
    "latitude-under-minus-90": {"circle": {"lat": -91, "lon": 102.0, "radius_km": 5}},
    "radius-as-text": {"circle": {"lat": 30.0, "lon": 102.0, "radius_km": "five"}},
    "radius-as-bool": {"circle": {"lat": 30.0, "lon": 102.0, "radius_km": True}},
    "self-intersecting-polygon": {"polygon": [[30.0, 101.9], [30.2, 102.2], [30.0, 102.2], [30.2, 101.9], [30.0, 101.9]]},
    "polygon-of-strings": {"polygon": ["a", "b", "c", "d"]},
    "polygon-not-closed": {"polygon": [[30.0, 101.9], [30.1, 102.0], [30.0, 102.1], [29.9, 102.0]]},
    "county-not-a-code": {"counties": ["../../etc/passwd"]},
    "counties-not-a-list": {"counties": "513301"},
    "empty-area": {},
}


@pytest.mark.parametrize("area", list(IMPOSSIBLE_JSON_AREAS.values()), ids=list(IMPOSSIBLE_JSON_AREAS))
def test_impossible_geometry_in_json_is_refused(client, weather, area):
    assert_refused_4xx(post_json(client, weather[1], json_body(area=area)), 400, 422)


WRONG_ENUMS_XML = {
    "status": {"status": "Real"},
    "msg_type": {"msg_type": "Alarm"},
}
WRONG_ENUMS_INFO = {
    "category": {"category": "Weather"},
    "severity": {"severity": "Catastrophic"},
}


@pytest.mark.parametrize("alert_field, info_field", [*((v, {}) for v in WRONG_ENUMS_XML.values()),
                                                      *(({}, v) for v in WRONG_ENUMS_INFO.values())],
                         ids=[*WRONG_ENUMS_XML, *WRONG_ENUMS_INFO])
def test_every_cap_enum_wrong_is_refused(client, weather, alert_field, info_field):
    body = cap_xml("ENUM-1", info_xml(geocodes=("513301",), **info_field), **alert_field)
    assert_refused_4xx(post(client, weather[1], body), 400, 422)


@pytest.mark.parametrize("right, wrong", [(b"<urgency>Immediate", b"<urgency>Now"),
                                          (b"<certainty>Observed", b"<certainty>Sure"),
                                          (b"<scope>Public", b"<scope>Everyone"),
                                          (b"<language>zh-CN", b"<language>not a language tag")])
def test_cap_urgency_certainty_scope_language_wrong_are_refused(client, weather, right, wrong):
    body = cap_xml("ENUM-2", info_xml(geocodes=("513301",)))
    assert right in body
    assert_refused_4xx(post(client, weather[1], body.replace(right, wrong)), 400, 422)


@pytest.mark.parametrize("field, wrong", [("status", "Real"), ("msg_type", "Alarm"), ("scope", "Everyone"),
                                          ("level", "purple"), ("hazard", "volcano"), ("level", None),
                                          ("status", 1), ("msg_type", ["Alert"])])
def test_every_json_enum_wrong_is_refused(client, weather, field, wrong):
    assert_refused_4xx(post_json(client, weather[1], json_body(**{field: wrong})), 400, 422)


# --- random input ---------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
field_names = st.sampled_from(["identifier", "sender", "sent", "status", "msg_type", "scope", "references", "note",
                               "hazard", "level", "area", "onset", "expires", "parameters", "headline",
                               "description", "instruction"])


@FUZZ
@given(body=st.dictionaries(field_names, json_values, max_size=8))
def test_random_json_alerts_never_5xx_and_what_is_refused_stores_nothing(client, weather, body):
    before = nothing_stored()
    response = post_json(client, weather[1], body)
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code >= 400:
        assert nothing_stored() == before


@FUZZ
@given(body=st.binary(max_size=2000), content_type=st.sampled_from(["application/cap+xml", "application/json"]))
def test_random_bytes_never_5xx(client, weather, body, content_type):
    response = post(client, weather[1], body, content_type)
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
    assert nothing_stored() == (0, 0, 0)


def _mutations() -> st.SearchStrategy[bytes]:
    """A valid CAP message with one stretch replaced by random bytes or text."""
    valid = good_body("FUZZ-1")
    return st.tuples(st.integers(0, len(valid) - 1), st.integers(0, 40), st.binary(max_size=40) | st.text(max_size=20)
                     .map(str.encode)).map(lambda t: valid[:t[0]] + t[2] + valid[t[0] + t[1]:])


@FUZZ
@given(body=_mutations())
def test_mutated_cap_messages_never_5xx(client, weather, body):
    before = nothing_stored()
    response = post(client, weather[1], body)
    assert response.status_code < 500, (body, response.get_data(as_text=True)[:300])
    if response.status_code >= 400:
        assert nothing_stored() == before


# Zero-width and bidirectional formatting (Trojan Source): U+200B-U+200F, U+202A-U+202E, U+2066-U+2069, U+FEFF.
INVISIBLE = "".join(map(chr, (*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF)))


@pytest.mark.parametrize("content_type", ["application/cap+xml", "application/json"])
def test_invisible_formatting_in_an_alert_never_reaches_a_channel(app, client, weather, content_type):
    """Stored as sent (the original is evidence); what every channel carries has none of it."""
    headline, description = f"\u202e警预雨暴\u202c{INVISIBLE}康定", f"雨量\u200b可达\u2066八十\u2069毫米{INVISIBLE}"
    if content_type == "application/json":
        body = json.dumps(json_body(headline={"zh": headline}, description={"zh": description},
                                    instruction={"zh": f"请\u200d转移{INVISIBLE}"})).encode()
    else:
        body = cap_xml("BIDI-1", info_xml(headline=headline, description=description, geocodes=("513301",)))
    response = post(client, weather[1], body, content_type)
    assert response.status_code == 201, response.get_data(as_text=True)
    alert = db.session.get(Alert, response.get_json()["id"])
    for channel in channels():
        content = channel_texts(alert, channel, app.config).content
        for text in (*content.bodies.values(), *content.titles.values()):
            assert text and not set(text) & set(INVISIBLE), (channel, text)
    sms = channel_texts(alert, channel_named("sms"), app.config).content.bodies["zh"]
    assert "雨量可达八十毫米" in sms, sms
