"""The OpenAPI 3.1 description of /api/v1. A test checks it names exactly the API's routes."""
from __future__ import annotations

from ..models import AlertState

LEVELS = ["red", "orange", "yellow", "blue"]

_problem = {"$ref": "#/components/responses/Problem"}


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
            "parameters": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
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
            "description": "Agencies post CAP 1.2 (or 1.1) XML or the JSON form; answers are JSON, errors RFC 9457 problem+json.",
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
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/cap+xml": {"schema": {"type": "string"}},
                            "application/xml": {"schema": {"type": "string"}},
                            "text/xml": {"schema": {"type": "string"}},
                            **_json("AlertJson"),
                        },
                    },
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
                        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
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
                    "parameters": [{"name": "alert_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                    "responses": {
                        "200": {"description": "the alert", "content": _json("AlertDetail")},
                        **{code: _problem for code in ("401", "403", "404")},
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "the OpenAPI document", "content": {"application/json": {}}}},
                }
            },
        },
    }
