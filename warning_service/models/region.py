"""Prefectures and counties, keyed by their GB/T 2260 codes."""
from __future__ import annotations

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base


class _Place:
    """What a prefecture and a county both have: names in three languages, a seat, a boundary."""

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(80))
    name_bo: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(120))
    seat_lat: Mapped[float] = mapped_column(Float)
    seat_lon: Mapped[float] = mapped_column(Float)
    boundary_geojson: Mapped[str] = mapped_column(Text, doc="GeoJSON geometry, WGS84 lon/lat")


class Prefecture(_Place, Base):
    __tablename__ = "prefectures"

    counties: Mapped[list[County]] = relationship(back_populates="prefecture", order_by="County.code")


class County(_Place, Base):
    __tablename__ = "counties"

    prefecture_code: Mapped[str] = mapped_column(ForeignKey("prefectures.code"), index=True)

    prefecture: Mapped[Prefecture] = relationship(back_populates="counties")
