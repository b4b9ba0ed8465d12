"""parse_cap_xml: hostile XML refused untouched, CAP 1.2/1.1 validated and read completely."""
from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warning_service.cap.message import Circle, Reference
from warning_service.intake.cap_xml import parse_cap_xml
from warning_service.intake.errors import IntakeError

CAP12 = "urn:oasis:names:tc:emergency:cap:1.2"
CAP11 = "urn:oasis:names:tc:emergency:cap:1.1"

HEADER = """<identifier>SC-EQ-2024-0001</identifier>
  <sender>cenc@example.cn</sender>
  <sent>2024-05-01T14:30:05+08:00</sent>
  <status>Actual</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {extra}"""

EARTHQUAKE_INFO = """<info>
    <language>zh-CN</language>
    <category>Geo</category>
    <event>地震</event>
    <responseType>Shelter</responseType>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>
    <eventCode><valueName>EWS-HAZARD</valueName><value>earthquake</value></eventCode>
    <onset>2024-05-01T14:29:58+08:00</onset>
    <expires>2024-05-01T18:30:00+08:00</expires>
    <senderName>中国地震台网中心</senderName>
    <headline>  康定市发生5.8级地震  </headline>
    <description>震源深度10千米。</description>
    <instruction>请立即避险。</instruction>
    <parameter><valueName>magnitude</valueName><value>5.8</value></parameter>
    <parameter><valueName>depth_km</valueName><value>10</value></parameter>
    <area>
      <areaDesc>康定市</areaDesc>
      <circle>30.05,101.96 50</circle>
      <geocode><valueName>GB/T 2260</valueName><value>513301</value></geocode>
    </area>
  </info>"""


def cap(*infos: str, namespace: str = CAP12, msg_type: str = "Alert", extra: str = "",
        after: str = "", declaration: str = '<?xml version="1.0" encoding="UTF-8"?>') -> bytes:
    header = HEADER.format(msg_type=msg_type, extra=extra)
    body = "\n  ".join(infos)
    return f'{declaration}\n<alert xmlns="{namespace}">\n  {header}\n  {body}\n  {after}</alert>'.encode()


def info(*, language: str = "zh-CN", event: str = "暴雨", urgency: str = "Immediate", severity: str = "Severe",
         onset: str = "2024-05-01T14:29:58+08:00", headline: str = "预警", areas: str = "") -> str:
    return f"""<info>
    <language>{language}</language><category>Met</category><event>{event}</event>
    <urgency>{urgency}</urgency><severity>{severity}</severity><certainty>Likely</certainty>
    <onset>{onset}</onset><headline>{headline}</headline>{areas}
  </info>"""


def area(*shapes: str, description: str = "区域") -> str:
    return f"<area><areaDesc>{description}</areaDesc>{''.join(shapes)}</area>"


def refused(data: bytes) -> IntakeError:
    with pytest.raises(IntakeError) as caught:
        parse_cap_xml(data)
    return caught.value


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, str]]:
    """A local HTTP endpoint that records whether anything tried to fetch from it."""
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    yield server, f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()


def assert_nothing_fetched(server: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        server.accept()


# --- hostile XML -----------------------------------------------------------------

def test_xxe_file_entity_is_refused_without_reading_the_file(tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:SECRET-MARKER:/root:/bin/bash\n")
    data = (f'<?xml version="1.0"?>\n<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
            f'<alert xmlns="{CAP12}"><identifier>&xxe;</identifier></alert>').encode()

    error = refused(data)

    assert error.status == 400
    assert "DTDs and entity declarations are not accepted" in error.detail
    assert "SECRET-MARKER" not in str(error) and "root:x" not in repr(error)


def test_xxe_on_etc_passwd_is_refused():
    data = (b'<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><note>&xxe;</note></alert>')

    error = refused(data)

    assert error.status == 400
    assert "root:" not in repr(error)


def test_billion_laughs_is_refused_before_any_expansion():
    entities = "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    data = (f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">{entities}]>'
            f'<alert xmlns="{CAP12}"><note>&lol9;</note></alert>').encode()

    error = refused(data)

    assert error.status == 400
    assert "DTDs and entity declarations are not accepted" in error.detail
    assert "lollol" not in repr(error)


def test_external_dtd_is_refused_and_never_fetched(listener):
    server, url = listener
    data = f'<?xml version="1.0"?><!DOCTYPE alert SYSTEM "{url}/cap.dtd"><alert xmlns="{CAP12}"/>'.encode()

    error = refused(data)

    assert error.status == 400
    assert "DTDs" in error.detail
    assert_nothing_fetched(server)


def test_parameter_entities_are_refused_and_never_fetched(listener):
    server, url = listener
    data = (f'<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY % remote SYSTEM "{url}/evil.dtd"> %remote;]>'
            f'<alert xmlns="{CAP12}"/>').encode()

    error = refused(data)

    assert error.status == 400
    assert "entity declarations are not accepted" in error.detail
    assert_nothing_fetched(server)


def test_schema_location_hints_are_never_fetched(listener):
    server, url = listener
    hint = (f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:schemaLocation="{CAP12} {url}/evil.xsd"')
    data = cap(EARTHQUAKE_INFO).replace(f'<alert xmlns="{CAP12}"'.encode(), f'<alert xmlns="{CAP12}" {hint}'.encode())

    assert parse_cap_xml(data).infos[0].event == "地震"
    assert_nothing_fetched(server)


def test_xinclude_is_not_processed():
    include = '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>'

    error = refused(cap(EARTHQUAKE_INFO, extra=f"<note>{include}</note>"))

    assert error.status == 422
    assert "root:" not in repr(error)


def test_dtd_is_refused_even_in_a_multibyte_encoding():
    data = ('<?xml version="1.0" encoding="GB18030"?><!DOCTYPE alert [<!ENTITY a "地震">]>'
            f'<alert xmlns="{CAP12}"><note>&a;</note></alert>').encode("gb18030")

    assert refused(data).status == 400


# --- not XML ---------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    pytest.param(b"", id="empty"),
    pytest.param(b"  \n ", id="blank"),
    pytest.param(b"not xml at all", id="text"),
    pytest.param(b'{"status": "Actual"}', id="json"),
    pytest.param(b"<alert><identifier>x</alert>", id="mismatched-tag"),
    pytest.param(b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><note>\xff\xfe</note></alert>', id="bad-utf8"),
    pytest.param(b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><note>&undefined;</note></alert>',
                 id="undefined-entity"),
    pytest.param(b'<?xml version="1.0" encoding="x-no-such"?><alert/>', id="unknown-encoding"),
    pytest.param(b'<?xml version="1.0" encoding="GBK"?><alert>' + b"\x81", id="bad-gbk"),
])
def test_a_body_that_is_not_xml_is_400(data):
    error = refused(data)

    assert error.status == 400
    assert error.title == "Malformed message"


def test_not_well_formed_detail_gives_line_and_column():
    error = refused(b"<alert>\n  <identifier>x</sender>\n</alert>")

    assert error.status == 400
    assert "line 2, column" in error.detail


# --- root and namespace --------------------------------------------------------------

@pytest.mark.parametrize("data, found", [
    pytest.param(f'<alerts xmlns="{CAP12}"><alert/></alerts>'.encode(), "<alerts>", id="alerts-wrapper"),
    pytest.param(b"<alert><identifier>x</identifier></alert>", "no namespace", id="no-namespace"),
    pytest.param(b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.0"/>', "cap:1.0", id="cap-1.0"),
    pytest.param(b'<feed xmlns="http://www.w3.org/2005/Atom"/>', "<feed>", id="atom"),
])
def test_wrong_root_or_namespace_is_422_naming_found_and_expected(data, found):
    error = refused(data)

    assert error.status == 422
    assert found in error.detail
    assert CAP12 in error.detail


# --- schema --------------------------------------------------------------------------

def test_schema_error_names_the_element_path():
    error = refused(cap(info(urgency="Soon"), info(severity="Dire")))

    assert error.status == 422
    by_location = {item.location: item.message for item in error.errors}
    assert "'Soon'" in by_location["/alert/info[1]/urgency"]
    assert "'Immediate'" in by_location["/alert/info[1]/urgency"]
    assert "'Dire'" in by_location["/alert/info[2]/severity"]
    assert "{urn:" not in by_location["/alert/info[1]/urgency"]


def test_thousands_of_schema_errors_give_a_short_answer():
    """The answer names the first 50 errors and counts the rest (no wall-clock bound: see bench/)."""
    error = refused(cap(*[info(urgency="Soon") for _ in range(3000)]))

    assert len(error.errors) == 50
    assert error.errors[-1].location == "/alert/info[50]/urgency"
    assert "50 of 3000" in error.detail


def test_a_huge_wrong_value_is_cut_short_in_the_message():
    error = refused(cap(info(urgency="Soon" * 50_000)))

    assert len(error.errors[0].message) < 200


def test_missing_required_element_is_422():
    data = f'<alert xmlns="{CAP12}"><identifier>x</identifier><sent>2024-05-01T00:00:00+08:00</sent></alert>'

    error = refused(data.encode())

    assert error.status == 422
    [problem] = error.errors
    assert problem.location == "/alert/sent"
    assert "Expected is ( sender )" in problem.message


PREFIXED = f"""<cap:alert xmlns:cap="{CAP12}">
  <cap:identifier>P-1</cap:identifier><cap:sender>s@example.cn</cap:sender>
  <cap:sent>2024-05-01T14:30:05+08:00</cap:sent><cap:status>Actual</cap:status>
  <cap:msgType>Alert</cap:msgType><cap:scope>Public</cap:scope>
  <cap:info><cap:category>Geo</cap:category><cap:event>地震</cap:event><cap:urgency>{{urgency}}</cap:urgency>
    <cap:severity>Minor</cap:severity><cap:certainty>Likely</cap:certainty></cap:info>
  <info xmlns="{CAP12}"><category>Geo</category><event>余震</event><urgency>Past</urgency>
    <severity>Minor</severity><certainty>Likely</certainty></info>
</cap:alert>"""


def test_prefixed_cap_elements_are_read_and_located():
    error = refused(PREFIXED.format(urgency="Now").encode())

    assert [item.location for item in error.errors] == ["/alert/info[1]/urgency"]
    assert [block.event for block in parse_cap_xml(PREFIXED.format(urgency="Past").encode()).infos] == ["地震", "余震"]


def test_cap12_time_without_zone_fails_the_schema():
    data = cap(info()).replace(b"2024-05-01T14:30:05+08:00", b"2024-05-01T14:30:05")

    error = refused(data)

    assert error.status == 422
    assert [item.location for item in error.errors] == ["/alert/sent"]


# --- reading CAP 1.2 --------------------------------------------------------------------

def test_earthquake_with_circle_is_read_completely():
    message = parse_cap_xml(cap(EARTHQUAKE_INFO, extra="<note>M5.8</note><incidents>EQ-1 EQ-2</incidents>"))

    assert (message.identifier, message.sender, message.status, message.msg_type, message.scope) == (
        "SC-EQ-2024-0001", "cenc@example.cn", "Actual", "Alert", "Public")
    assert message.format == "cap1.2"
    china = timezone(timedelta(hours=8))
    assert message.sent == datetime(2024, 5, 1, 14, 30, 5, tzinfo=china)
    assert message.sent.utcoffset() == timedelta(hours=8)
    assert message.note == "M5.8"
    assert message.incidents == ["EQ-1", "EQ-2"]
    [block] = message.infos
    assert block.language == "zh-CN"
    assert block.categories == ["Geo"]
    assert block.event == "地震"
    assert block.response_types == ["Shelter"]
    assert (block.urgency, block.severity, block.certainty) == ("Immediate", "Severe", "Observed")
    assert block.event_codes == [("EWS-HAZARD", "earthquake")]
    assert block.onset == datetime(2024, 5, 1, 14, 29, 58, tzinfo=china)
    assert block.expires == datetime(2024, 5, 1, 18, 30, tzinfo=china)
    assert block.sender_name == "中国地震台网中心"
    assert block.headline == "康定市发生5.8级地震"
    assert block.instruction == "请立即避险。"
    assert block.parameters == [("magnitude", "5.8"), ("depth_km", "10")]
    [zone] = block.areas
    assert zone.description == "康定市"
    assert zone.circles == [Circle(lat=30.05, lon=101.96, radius_km=50.0)]
    assert zone.geocodes == [("GB/T 2260", "513301")]
    assert zone.polygons == []


def test_bilingual_message_keeps_both_infos_in_order():
    data = cap(info(language="zh-CN", headline="康定市地震预警"),
               info(language="bo-CN", headline="དར་རྩེ་མདོ་གྲོང་ཁྱེར་གྱི་ས་ཡོམ་ཉེན་བརྡ།"))

    message = parse_cap_xml(data)

    assert [block.language for block in message.infos] == ["zh-CN", "bo-CN"]
    assert message.infos[0].headline == "康定市地震预警"
    assert "ས་ཡོམ" in message.infos[1].headline


def test_info_without_language_defaults_to_en_us():
    data = cap(info()).replace(b"<language>zh-CN</language>", b"")

    assert parse_cap_xml(data).infos[0].language == "en-US"


def test_cancel_without_info_has_no_infos():
    data = cap(msg_type="Cancel", extra="<references>cenc@example.cn,SC-EQ-1,2024-05-01T14:00:00+08:00</references>")

    message = parse_cap_xml(data)

    assert message.msg_type == "Cancel"
    assert message.infos == []
    assert message.references == [Reference("cenc@example.cn", "SC-EQ-1", "2024-05-01T14:00:00+08:00")]


def test_signed_message_is_accepted():
    signature = ('<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/>'
                 "<SignatureValue>AAAA</SignatureValue></Signature>")

    message = parse_cap_xml(cap(EARTHQUAKE_INFO, after=signature))

    assert len(message.infos) == 1


def test_comments_inside_text_do_not_cut_it():
    data = cap(info(headline="康定<!-- note -->市预警"))

    assert parse_cap_xml(data).infos[0].headline == "康定市预警"


# --- geometry and references ---------------------------------------------------------------

def test_polygons_in_several_areas_are_read_as_lat_lon_pairs():
    square = "30.0,101.0 30.0,102.0 31.0,102.0 31.0,101.0 30.0,101.0"
    triangle = "29.5,100.0 29.6,100.5 29.4,100.2 29.5,100.0"
    data = cap(info(areas=area(f"<polygon>{square}</polygon>") + area(
        f"<polygon>\n  {triangle}\n</polygon><polygon>{square}</polygon>",
        "<altitude>3000</altitude><ceiling>5000.5</ceiling>")))

    first, second = parse_cap_xml(data).infos[0].areas

    assert first.polygons == [[(30.0, 101.0), (30.0, 102.0), (31.0, 102.0), (31.0, 101.0), (30.0, 101.0)]]
    assert second.polygons[0] == [(29.5, 100.0), (29.6, 100.5), (29.4, 100.2), (29.5, 100.0)]
    assert len(second.polygons) == 2
    assert (second.altitude, second.ceiling) == (3000.0, 5000.5)


@pytest.mark.parametrize("polygon", [
    "30.0,101.0 30.0 31.0,102.0 30.0,101.0",
    "30.0;101.0 30.0;102.0 31.0;102.0 30.0;101.0",
    "30.0,101.0,3000 30.0,102.0 31.0,102.0 30.0,101.0",
    "north,east 30.0,102.0 31.0,102.0 30.0,101.0",
    "nan,101.0 30.0,102.0 31.0,102.0 nan,101.0",
    "1e1,101.0 30.0,102.0 31.0,102.0 1e1,101.0",
    "30.0,101.0 30.0,102.0 31.0,102.0 30.0,101.0,",
])
def test_malformed_polygon_is_422_with_its_location(polygon):
    data = cap(info(areas=area("<polygon>30,101 30,102 31,102 30,101</polygon>")
                    + area(f"<polygon>{polygon}</polygon>")))

    error = refused(data)

    assert error.status == 422
    assert [item.location for item in error.errors] == ["/alert/info[1]/area[2]/polygon[1]"]


@pytest.mark.parametrize("circle", ["30.05,101.96", "30.05 101.96 50", "30.05,101.96 fifty", "30.05,101.96,0 50"])
def test_malformed_circle_is_422_with_its_location(circle):
    error = refused(cap(info(areas=area(f"<circle>{circle}</circle>"))))

    assert error.status == 422
    assert [item.location for item in error.errors] == ["/alert/info[1]/area[1]/circle[1]"]


def test_references_are_split_into_triples():
    references = ("cenc@example.cn,SC-EQ-1,2024-05-01T14:00:00+08:00\n"
                  "  sccma@example.cn,urn:oid:2.49.0.1.156.1,2024-05-01T14:10:00+08:00")
    data = cap(info(), msg_type="Update", extra=f"<references>{references}</references>")

    message = parse_cap_xml(data)

    assert message.references == [
        Reference("cenc@example.cn", "SC-EQ-1", "2024-05-01T14:00:00+08:00"),
        Reference("sccma@example.cn", "urn:oid:2.49.0.1.156.1", "2024-05-01T14:10:00+08:00"),
    ]


@pytest.mark.parametrize("references", [
    "cenc@example.cn,SC-EQ-1", "a,b,c,d", "cenc@example.cn,,2024-05-01T14:00:00+08:00"])
def test_malformed_reference_is_422(references):
    error = refused(cap(info(), msg_type="Update", extra=f"<references>{references}</references>"))

    assert error.status == 422
    assert [item.location for item in error.errors] == ["/alert/references"]


def test_every_unreadable_value_is_reported_at_once():
    data = cap(info(areas=area("<polygon>x,y</polygon>", "<circle>1,2</circle>")),
               msg_type="Update", extra="<references>only-one-part</references>")

    error = refused(data)

    assert {item.location for item in error.errors} == {
        "/alert/references", "/alert/info[1]/area[1]/polygon[1]", "/alert/info[1]/area[1]/circle[1]"}


# --- CAP 1.1 and encodings ------------------------------------------------------------------

def test_cap11_is_accepted_as_cap11():
    message = parse_cap_xml(cap(EARTHQUAKE_INFO, namespace=CAP11))

    assert message.format == "cap1.1"
    assert message.infos[0].areas[0].circles == [Circle(30.05, 101.96, 50.0)]


def test_cap11_with_a_trailing_signature_is_accepted():
    signature = '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo/></ds:Signature>'

    assert parse_cap_xml(cap(EARTHQUAKE_INFO, namespace=CAP11, after=signature)).format == "cap1.1"


def test_cap11_is_validated_against_the_cap11_schema():
    error = refused(cap(info(urgency="Soon"), namespace=CAP11))

    assert error.status == 422
    assert [item.location for item in error.errors] == ["/alert/info[1]/urgency"]


def test_cap11_time_without_zone_is_422_with_its_location():
    error = refused(cap(info(onset="2024-05-01T14:29:58"), namespace=CAP11))

    assert error.status == 422
    assert [item.location for item in error.errors] == ["/alert/info[1]/onset"]
    assert "time zone" in error.errors[0].message


def test_iso_8859_1_declared_message_parses():
    data = cap(info(event="Séisme", headline="Séisme à Kangding"),
               declaration='<?xml version="1.0" encoding="ISO-8859-1"?>')
    data = data.decode("utf-8").encode("iso-8859-1")

    assert parse_cap_xml(data).infos[0].headline == "Séisme à Kangding"


@pytest.mark.parametrize("encoding", ["GBK", "GB18030"])
def test_chinese_legacy_encodings_parse(encoding):
    data = cap(info(headline="康定市地震预警"), declaration=f'<?xml version="1.0" encoding="{encoding}"?>')
    data = data.decode("utf-8").encode(encoding)

    assert parse_cap_xml(data).infos[0].headline == "康定市地震预警"


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_arbitrary_bytes_give_only_400_or_422(data):
    with pytest.raises(IntakeError) as caught:
        parse_cap_xml(data)
    assert caught.value.status in (400, 422)
