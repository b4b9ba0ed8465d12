"""Named areas: places officers and agencies target by name (a scenic area, a valley), not by county.

A named area is a shape an admin registered, with where it comes from and how exact it is: the warning
reaches its polygon (cell broadcast) and the counties it touches (the county-based channels).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .types import UTCDateTime, utcnow

MAX_CODE = 40
MAX_NAME_ZH = 80
MAX_NAME_EN = 120
MAX_NAME_BO = 200
MAX_ACCURACY = 300


class NamedArea(Base):
    __tablename__ = "named_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(MAX_CODE), unique=True, doc="ASCII slug agencies send, e.g. hailuogou")
    name_zh: Mapped[str] = mapped_column(String(MAX_NAME_ZH))
    name_en: Mapped[str] = mapped_column(String(MAX_NAME_EN))
    # Tibetan only from a sourced glossary entry; empty rather than composed.
    name_bo: Mapped[str | None] = mapped_column(String(MAX_NAME_BO))
    geometry_geojson: Mapped[str] = mapped_column(Text, doc="GeoJSON Polygon or MultiPolygon, WGS84 lon/lat")
    # The counties the shape shares an area with, computed when it is registered (GB/T 2260 codes).
    county_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(Text, doc="where the shape comes from")
    accuracy: Mapped[str] = mapped_column(String(MAX_ACCURACY), doc="e.g. approximate: circle of 8 km around ...")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: a command or the seed
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
