"""The OpenAPI 3.1 description of /api/v1. A test checks it names exactly the API's routes."""
from __future__ import annotations

from ..channels.catalog import county_channels, texts
from ..hazards import AGENCY_KINDS, BO_STATUSES, CAP_CATEGORIES
from ..models import AlertState
from ..rendering.render import LANGUAGES
from .ids import MAX_ID

LEVELS = ["red", "orange", "yellow", "blue"]

_problem = {"$ref": "#/components/responses/Problem"}
_public: list = []  # no key needed
_cap = {"application/cap+xml": {"schema": {"type": "string", "description": "a CAP 1.2 <alert> document, UTF-8"}}}
# The last page a listing serves: beyond it the database's offset would overflow, so the API answers
# 400 before asking it (ids past MAX_ID match no route: 404).
MAX_PAGE = 100_000
_alert_id = {"name": "alert_id", "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}


def _json(schema_name: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}


def _point() -> dict:
    return {
        "type": "array",
        "prefixItems": [
            {"type": "number", "minimum": -90, "maximum": 90, "description": "latitude"},
            {"type": "number", "minimum": -180, "maximum": 180, "description": "longitude"},
        ],
        "minItems": 2,
        "maxItems": 2,
    }


def _alert_body() -> dict:
    """A CAP message (XML) or its JSON form, as POST /alerts and POST /preview take it."""
    xml = {"schema": {"type": "string"}}
    return {
        "required": True,
        "content": {"application/cap+xml": xml, "application/xml": xml, "text/xml": xml, **_json("AlertJson")},
    }


def _strings() -> dict:
    return {"type": "array", "items": {"type": "string"}}


def _by_key(keys, value: dict) -> dict:
    """An object with exactly these keys, each holding `value`."""
    return {"type": "object", "required": list(keys), "properties": {key: value for key in keys},
            "additionalProperties": False}


def _texts(what: str) -> dict:
    return {
        "type": "object",
        "description": f"{what} by language",
        "properties": {"zh": {"type": "string"}, "bo": {"type": "string"}},
        "additionalProperties": False,
    }


SCHEMAS: dict = {
    "AlertJson": {
        "type": "object",
        "description": "The JSON form of a CAP 1.2 alert, with the region's fields.",
        "required": ["status"],
        "additionalProperties": False,
        "properties": {
            "identifier": {"type": "string", "description": "generated when absent"},
            "sender": {"type": "string", "description": "defaults to the agency's CAP sender"},
            "sent": {"type": "string", "format": "date-time"},
            "status": {"enum": ["Actual", "Exercise", "Test"]},
            "msg_type": {"enum": ["Alert", "Update", "Cancel"], "default": "Alert"},
            "scope": {"enum": ["Public", "Restricted", "Private"], "default": "Public"},
            "references": {"type": "array", "items": {"type": "string", "description": "sender,identifier,sent"}},
            "note": {"type": "string"},
            "hazard": {"type": "string", "description": "a code of GET /api/v1/hazards"},
            "level": {"enum": LEVELS},
            "area": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "counties": {
                        "type": "array",
                        "items": {"type": "string", "pattern": "^[0-9]{6}([0-9]{6})?$"},
                        "description": "GB/T 2260 county (6-digit) or township (12-digit) codes",
                    },
                    "named_areas": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string", "pattern": "^[a-z][a-z0-9_-]{1,39}$"},
                        "description": "codes of registered named areas (scenic areas): each resolves to its polygon "
                                       "and the counties it touches; in CAP, <geocode> valueName NAMED_AREA",
                    },
                    "polygon": {"type": "array", "items": _point(), "minItems": 4, "description": "closed ring of [lat, lon]"},
                    "circle": {
                        "type": "object",
                        "required": ["lat", "lon", "radius_km"],
                        "properties": {
                            "lat": {"type": "number", "minimum": -90, "maximum": 90},
                            "lon": {"type": "number", "minimum": -180, "maximum": 180},
                            "radius_km": {"type": "number", "minimum": 0, "maximum": 1000, "description": "0 is a point"},
                        },
                    },
                },
            },
            "onset": {"type": "string", "format": "date-time"},
            "expires": {"type": "string", "format": "date-time"},
            "parameters": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]},
                           "description": "not EWS-LEVEL (use level) nor ACTION_CODE (use actions)"},
            "actions": {
                "type": "array", "items": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                "description": "protective actions by code, each one the hazard offers at the level (GET /api/v1/hazards, "
                               "`actions`); rendered as what to do on every channel, in Tibetan where sourced or approved, "
                               "else in Chinese, listed in missing_terms. In CAP: one <parameter> ACTION_CODE per code. An "
                               "unknown or not offered code is a 422 naming it (location `actions`)",
            },
            "headline": _texts("headline"),
            "description": _texts("description"),
            "instruction": _texts("instruction"),
        },
    },
    "AlertSummary": {
        "type": "object",
        "required": ["id", "identifier", "sender", "state", "links"],
        "properties": {
            "id": {"type": "integer"},
            "identifier": {"type": "string"},
            "sender": {"type": "string"},
            "state": {"enum": [state.value for state in AlertState]},
            "links": {"type": "object", "properties": {"self": {"type": "string"}}},
            "notes": {"type": "array", "items": {"type": "string"},
                      "description": "on creation: what intake filled in, e.g. an Actual alert's default expires"},
        },
    },
    "AlertDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/AlertSummary"},
            {
                "type": "object",
                "properties": {
                    "status": {"type": "string"},
                    "msg_type": {"type": "string"},
                    "sent": {"type": "string", "format": "date-time"},
                    "references": {"type": "array", "items": {"type": "string"}},
                    "hazard": {"type": ["string", "null"]},
                    "level": {"enum": LEVELS + [None]},
                    "event": {"type": ["string", "null"]},
                    "onset": {"type": ["string", "null"]},
                    "expires": {"type": ["string", "null"]},
                    "counties": {"type": "array", "items": {"type": "string"}},
                    "headline": {"type": "object"},
                    "description": {"type": "object"},
                    "instruction": {"type": "object"},
                    "parameters": {"type": "object"},
                    "actions": {"type": "array", "items": {"type": "string"},
                                "description": "the protective action codes chosen (parameters.ACTION_CODE)"},
                    "info_count": {"type": "integer"},
                    "received_at": {"type": "string"},
                    "state_changed_at": {"type": "string"},
                    "superseded_by": {"type": ["integer", "null"]},
                    "deliveries": {
                        "type": "object",
                        "description": "delivery counts: channel -> status -> count",
                        "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer"}},
                    },
                },
            },
        ]
    },
    "AlertPage": {
        "type": "object",
        "required": ["items", "page", "per_page", "total"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/AlertSummary"}},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
        },
    },
    "Hazard": {
        "type": "object",
        "description": "An entry of the region's hazard catalogue (templates_bo_zh/hazards.toml).",
        "required": ["code", "names", "bo_status", "levels", "cap_category", "cap_events", "zh_aliases",
                     "oasis_event_codes", "national_event_codes", "agency_kinds", "parameters", "validity_hours",
                     "actions"],
        "properties": {
            "code": {"type": "string", "description": "send it as the JSON hazard, or CAP eventCode EWS-HAZARD"},
            "names": {
                "type": "object",
                "required": ["zh", "bo", "en"],
                "properties": {
                    "zh": {"type": "string"},
                    "bo": {"type": "string", "description": "empty until a sourced Tibetan term exists"},
                    "en": {"type": "string"},
                },
            },
            "bo_status": {"enum": list(BO_STATUSES)},
            "levels": {"type": "array", "items": {"enum": LEVELS}, "description": "empty: no colour levels"},
            "cap_category": {"enum": list(CAP_CATEGORIES)},
            "cap_events": _strings(),
            "zh_aliases": _strings(),
            "oasis_event_codes": _strings(),
            "national_event_codes": _strings(),
            "agency_kinds": {"type": "array", "items": {"enum": list(AGENCY_KINDS)}},
            "validity_hours": {"type": "integer", "minimum": 1,
                               "description": "how long an Actual alert sent without expires stays in force"},
            "actions": {
                "type": "object",
                "description": "per level (or \"default\" for an alert without one), the protective actions an alert may "
                               "name by code (`actions`, CAP ACTION_CODE); bo only where sourced",
                "additionalProperties": {"type": "array", "items": {
                    "type": "object", "required": ["code", "zh", "en", "bo"],
                    "properties": {"code": {"type": "string"}, "zh": {"type": "string"}, "en": {"type": "string"},
                                   "bo": {"type": ["string", "null"]}},
                }},
            },
            "parameters": {
                "type": "array",
                "description": "the numeric CAP parameters its alerts carry (JSON `parameters`), with the range intake accepts",
                "items": {
                    "type": "object",
                    "required": ["name", "unit", "minimum", "maximum"],
                    "properties": {
                        "name": {"type": "string"},
                        "unit": {"type": "string", "description": "empty for a magnitude"},
                        "minimum": {"type": "number"},
                        "maximum": {"type": "number"},
                    },
                },
            },
        },
    },
    "PreviewText": {
        "type": "object",
        "description": "One channel in one language, fitted to the channel's budget, as it would be sent.",
        "required": ["text", "measure", "shortened", "cut", "warnings", "reviewed", "missing_terms", "chinese_sections",
                     "templates"],
        "properties": {
            "text": {"type": "string"},
            "measure": {
                "type": "object",
                "required": ["units", "parts", "encoding", "fits", "describe"],
                "properties": {
                    "units": {"type": "integer", "description": "as the channel counts: UTF-16 units or septets "
                                                                "(GSM-7, UCS-2), bits (chinese, mixed, code), tenths "
                                                                "of a second (speech), characters (CAP texts)"},
                    "parts": {"type": "integer", "description": "the messages the text takes (segments, short messages)"},
                    "encoding": {"type": "string", "description": "GSM-7, UCS-2, chinese, mixed, code, speech, characters"},
                    "fits": {"type": "boolean"},
                    "describe": {"type": "string", "description": "e.g. '2 UCS-2 segments (121 units)'"},
                },
            },
            "shortened": {"type": "boolean", "description": "optional sections were dropped or the text was cut"},
            "cut": {"type": "boolean"},
            "warnings": {"type": "array", "items": {
                "enum": ["unreviewed Tibetan", "unreviewed Chinese", "shortened", "cut", "over budget"]}},
            "reviewed": {"type": "boolean", "description": "every template involved is reviewed and no term was missing"},
            "missing_terms": {**_strings(), "description": "terms without a sourced Tibetan word (Chinese stands in)"},
            "chinese_sections": {**_strings(), "description": "the sections of a Tibetan text that still carry Chinese "
                                                              "(empty for Chinese texts)"},
            "templates": {**_strings(), "description": "the template files used, under templates_bo_zh/messages/"},
        },
    },
    "Preview": {
        "type": "object",
        "required": ["hazard", "level", "status", "msg_type", "counties", "texts", "reach", "tibetan_free_text",
                     "cell_broadcast"],
        "properties": {
            "hazard": {"$ref": "#/components/schemas/Hazard"},
            "tibetan_free_text": {
                "type": ["object", "null"],
                "description": "Tibetan free text the message carries: no translator reviewed it, the texts carry it "
                               "as written, and it is marked as the sender's (null when there is none)",
                "required": ["fields", "written_by", "reviewed", "label_zh"],
                "properties": {"fields": _strings(), "written_by": {"type": "string"},
                               "reviewed": {"const": False}, "label_zh": {"type": "string"}},
            },
            "level": {"enum": LEVELS + [None]},
            "status": {"enum": ["Actual", "Exercise", "Test"]},
            "msg_type": {"enum": ["Alert", "Update", "Cancel"]},
            "counties": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "name_zh", "name_bo"],
                    "properties": {"code": {"type": "string"}, "name_zh": {"type": "string"}, "name_bo": {"type": "string"}},
                },
            },
            "texts": {
                "description": "channel -> language -> text",
                **_by_key(texts(), _by_key(LANGUAGES, {"$ref": "#/components/schemas/PreviewText"})),
            },
            "reach": {
                "type": "object",
                "description": "county code -> channel -> how many of the channel's targets it would reach (people, "
                               "platforms, cards). Exercise and Test messages count only targets marked for "
                               "exercises; a Cancel counts whoever the alerts it cancels may have reached.",
                "additionalProperties": _by_key([spec.name for spec in county_channels()],
                                                {"type": "integer", "minimum": 0}),
            },
            "cell_broadcast": {
                "type": "object",
                "description": "the operators' Cell Broadcast Centres it would go to: each puts it on every phone in "
                               "the cells over the whole area (texts.cell_broadcast is what those phones show)",
                "required": ["operators"],
                "properties": {"operators": {"type": "array", "items": {
                    "type": "object", "required": ["code", "name"],
                    "properties": {"code": {"type": "string"}, "name": {"type": "string"}}}}},
            },
        },
    },
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details",
        "required": ["status", "title", "detail"],
        "properties": {
            "type": {"type": "string"},
            "status": {"type": "integer"},
            "title": {"type": "string"},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["location", "message"],
                    "properties": {"location": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    },
}


def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Garzê–Ngawa early-warning service: agency API",
            "version": "1",
            "description": "Agencies post CAP 1.2 (or 1.1) XML or the JSON form, and may preview it first; answers "
                           "are JSON (CAP 1.2 XML and Atom where said), errors RFC 9457 problem+json. The hazard "
                           "catalogue, the feed and published warnings' CAP messages are public.",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"agencyKey": {"type": "http", "scheme": "bearer", "description": "the agency's API key"}},
            "schemas": SCHEMAS,
            "responses": {
                "Problem": {
                    "description": "an error, as RFC 9457 problem details",
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
            },
        },
        "security": [{"agencyKey": []}],
        "paths": {
            "/alerts": {
                "post": {
                    "operationId": "postAlert",
                    "summary": "Submit a CAP alert, update or cancel (idempotent on sender and identifier)",
                    "requestBody": _alert_body(),
                    "responses": {
                        "201": {"description": "a new alert", "content": _json("AlertSummary")},
                        "200": {"description": "this (sender, identifier) was already received", "content": _json("AlertSummary")},
                        **{code: _problem for code in ("400", "401", "403", "409", "413", "415", "422")},
                    },
                },
                "get": {
                    "operationId": "listAlerts",
                    "summary": "The agency's own alerts, newest first",
                    "parameters": [
                        {"name": "state", "in": "query", "schema": {"enum": [state.value for state in AlertState]}},
                        {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}},
                        {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}},
                    ],
                    "responses": {
                        "200": {"description": "a page of alerts", "content": _json("AlertPage")},
                        **{code: _problem for code in ("400", "401")},
                    },
                },
            },
            "/alerts/{alert_id}": {
                "get": {
                    "operationId": "getAlert",
                    "summary": "One of the agency's alerts, its state and its deliveries per channel and status",
                    "parameters": [_alert_id],
                    "responses": {
                        "200": {"description": "the alert", "content": _json("AlertDetail")},
                        **{code: _problem for code in ("401", "403", "404")},
                    },
                }
            },
            "/alerts/{alert_id}/cap": {
                "get": {
                    "operationId": "getAlertCap",
                    "summary": "The service's own CAP 1.2 message for one of the agency's alerts: one <info> per "
                               "language (bo-CN, zh-CN) with the rendered texts; validated against the CAP 1.2 schema",
                    "parameters": [_alert_id],
                    "responses": {
                        "200": {"description": "the CAP message", "content": _cap},
                        **{code: _problem for code in ("401", "403", "404")},
                    },
                }
            },
            "/preview": {
                "post": {
                    "operationId": "previewAlert",
                    "summary": "Read, render and count an alert as POST /alerts would, storing nothing: every channel's "
                               "text in Tibetan and Chinese with its measure and warnings, and whom it would reach",
                    "requestBody": _alert_body(),
                    "responses": {
                        "200": {"description": "the preview", "content": _json("Preview")},
                        **{code: _problem for code in ("400", "401", "403", "413", "415", "422")},
                    },
                }
            },
            "/hazards": {
                "get": {
                    "operationId": "listHazards",
                    "summary": "The region's hazard catalogue: codes, names, levels, CAP categories and event codes",
                    "security": _public,
                    "responses": {"200": {"description": "every hazard", "content": {
                        "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Hazard"}}}}}},
                }
            },
            "/feed.atom": {
                "get": {
                    "operationId": "feed",
                    "summary": "Atom 1.0 feed of the published Actual warnings, newest first (at most 50); each entry "
                               "links (rel alternate, application/cap+xml) to its public CAP message",
                    "security": _public,
                    "responses": {"200": {"description": "the feed", "content": {"application/atom+xml": {"schema": {"type": "string"}}}}},
                }
            },
            "/public/alerts/{alert_id}/cap": {
                "get": {
                    "operationId": "getPublicAlertCap",
                    "summary": "The CAP 1.2 message of a published Actual warning (as in the feed)",
                    "security": _public,
                    "parameters": [_alert_id],
                    "responses": {
                        "200": {"description": "the CAP message", "content": _cap},
                        "404": _problem,
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "security": _public,
                    "responses": {"200": {"description": "the OpenAPI document", "content": {"application/json": {}}}},
                }
            },
        },
    }
