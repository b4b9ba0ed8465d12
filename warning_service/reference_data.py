"""The region's reference data shipped with the project: 2 prefectures, 31 counties.

Sources and checks are in data/regions/SOURCES.md and checks.txt.
"""
from __future__ import annotations

import csv
import json
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import County, Prefecture

DATA_DIR = Path(__file__).resolve().parent / "data"
REGIONS_DIR = DATA_DIR / "regions"


@lru_cache(maxsize=1)
def county_rows() -> tuple[dict[str, str], ...]:
    with open(REGIONS_DIR / "counties.csv", encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


@lru_cache(maxsize=2)
def boundaries(filename: str) -> dict[str, dict]:
    """GeoJSON geometries by code, from counties.geojson or prefectures.geojson."""
    with open(REGIONS_DIR / filename, encoding="utf-8") as handle:
        collection = json.load(handle)
    return {feature["properties"]["code"]: feature["geometry"] for feature in collection["features"]}


def load_regions(session: Session) -> int:
    """Insert or refresh the prefectures and counties; returns how many rows were written."""
    county_shapes = boundaries("counties.geojson")
    prefecture_shapes = boundaries("prefectures.geojson")
    existing_prefectures = {p.code: p for p in session.scalars(select(Prefecture))}
    existing_counties = {c.code: c for c in session.scalars(select(County))}
    rows = sorted(county_rows(), key=lambda row: (row["code"] != row["prefecture_code"], row["code"]))
    for row in rows:
        is_prefecture = row["code"] == row["prefecture_code"]
        values = dict(
            name_zh=row["name_zh"],
            name_bo=row["name_bo"],
            name_en=row["name_en"],
            seat_lat=float(row["lat"]),
            seat_lon=float(row["lon"]),
        )
        if is_prefecture:
            record: Prefecture | County = existing_prefectures.get(row["code"]) or Prefecture(code=row["code"])
            values["boundary_geojson"] = json.dumps(prefecture_shapes[row["code"]])
        else:
            record = existing_counties.get(row["code"]) or County(code=row["code"])
            values["prefecture_code"] = row["prefecture_code"]
            values["boundary_geojson"] = json.dumps(county_shapes[row["code"]])
        for name, value in values.items():
            setattr(record, name, value)
        session.add(record)
        session.flush()
    return len(rows)
