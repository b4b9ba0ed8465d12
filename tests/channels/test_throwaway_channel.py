"""A channel is one package and one registry line: a throwaway one, declared here and nowhere in the
service, takes an agency's alert from intake through the plan and an RQ job to its own adapter, and
its deliveries settle, on SQLite and PostgreSQL. And a channel the catalog does not list is an error.

The throwaway channel ("siren": village sirens that read the warning aloud) has its own target table,
made for the test only on a metadata of its own (the service's schema and migrations never see it),
its own selection of targets for an area, its own settings and budget, and a recording adapter. It
renders the broadcast template: the template is the spec's to choose.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import Boolean, Integer, Select, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from tests.support.cap_builder import cap_xml, info_xml
from tests.support.dispatch import new_alert, work
from warning_service.channels import catalog
from warning_service.channels.base import Capabilities, ChannelAdapter, OutboundMessage, Outcome, SendResult
from warning_service.channels.gateways import build_adapter
from warning_service.channels.spec import PLACE_LANGUAGES, Address, ChannelSpec
from warning_service.config import Settings
from warning_service.dispatch.send import Sender
from warning_service.extensions import db
from warning_service.models import Agency, AgencyKind, Alert, AlertState, Delivery, DeliveryStatus
from warning_service.rendering.budgets import BroadcastBudget, Budget
from warning_service.security.api_keys import add_key

RECORDED_KEY = "ews:test:siren"  # list: one JSON object per message the siren gateway was given
COUNTY, OTHER_COUNTY = "513322", "513301"  # 泸定县 (the alert's), 康定市 (not the alert's)


class SirenBase(DeclarativeBase):
    """Not the service's Base: the siren table exists for this test only."""


class Siren(SirenBase):
    __tablename__ = "test_sirens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = mapped_column(String(6))
    village: Mapped[str] = mapped_column(String(40))
    exercise: Mapped[bool] = mapped_column(Boolean, default=False)


def select_sirens(session: Session, alert: Any, counties: Sequence[str], is_exercise: bool) -> Select:
    return select(Siren.id.label("target_id"), Siren.county_code).where(
        Siren.county_code.in_(counties), Siren.exercise.is_(is_exercise))


def siren_addresses(session: Session, target_ids: Sequence[int]) -> dict[int, Address]:
    rows = session.execute(select(Siren.id, Siren.village).where(Siren.id.in_(list(target_ids))))
    return {siren_id: Address(f"siren:{village}", PLACE_LANGUAGES) for siren_id, village in rows}


def siren_budget(settings: Mapping[str, Any]) -> Budget:
    return BroadcastBudget(float(settings["SIREN_MAX_SECONDS"]))


class RecordingSiren(ChannelAdapter):
    """Accepts every message and records it in Redis (the worker may be another process)."""

    name = "recording"
    channels = frozenset({"siren"})

    def capabilities(self) -> Capabilities:
        return Capabilities(max_batch=50, rate_per_second=None, rate_key="siren")

    def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        redis = Redis.from_url(str(self.settings["REDIS_URL"]))
        for message in messages:
            redis.rpush(RECORDED_KEY, json.dumps({"address": message.address, "texts": message.texts,
                                                  "alert": message.content.alert_id}))
        return [SendResult(message.delivery_id, Outcome.ACCEPTED, gateway_id=f"siren-{message.delivery_id}")
                for message in messages]


SIREN = ChannelSpec(
    name="siren",
    label="Village siren",
    reach_label="Village sirens",
    reach_count="%(count)d village sirens",
    priority=0,  # before every channel of the service
    gateway_setting="SIREN_GATEWAY",
    adapters={"recording": f"{__name__}:RecordingSiren"},
    settings={"SIREN_GATEWAY": "recording", "SIREN_MAX_SECONDS": 90},
    target=Siren,
    select_targets=select_sirens,
    addresses=siren_addresses,
    budget=siren_budget,
    template="broadcast",
)


@pytest.fixture
def siren(app, monkeypatch) -> Iterator[Redis]:
    """The siren channel registered beside the service's, its settings in the app's, three sirens in two
    counties (one for exercises), and the Redis its adapter records in."""
    monkeypatch.setattr(catalog, "CHANNELS", (*catalog.CHANNELS, SIREN))
    for name, default in SIREN.settings.items():
        monkeypatch.setitem(app.config, name, default)
    app.extensions.pop("sender", None)  # the worker's adapters are built afresh, the siren's among them
    SirenBase.metadata.create_all(db.engine)
    db.session.add_all([Siren(county_code=COUNTY, village="磨西村"), Siren(county_code=COUNTY, village="得妥村"),
                        Siren(county_code=COUNTY, village="演练村", exercise=True),
                        Siren(county_code=OTHER_COUNTY, village="榆林村")])
    db.session.commit()
    redis = Redis.from_url(app.config["REDIS_URL"])
    redis.delete(RECORDED_KEY)
    yield redis
    db.session.remove()
    SirenBase.metadata.drop_all(db.engine)
    app.extensions.pop("sender", None)


def test_an_alert_reaches_a_channel_declared_only_in_its_package(app, client, siren):
    agency = Agency(name="四川省地震局", kind=AgencyKind.SEISMIC, hazards=["earthquake"], auto_publish=True,
                    cap_senders=["seismic.demo@ews.example"])
    db.session.add(agency)
    key = {"Authorization": f"Bearer {add_key(db.session, agency)}"}
    db.session.commit()
    body = cap_xml("SIREN-1", info_xml(category="Geo", event="地震", severity="Severe", geocodes=(COUNTY,),
                                       parameters=(("magnitude", "5.9"), ("depth_km", "12"))),
                   sender="seismic.demo@ews.example")
    response = client.post("/api/v1/alerts", data=body, headers={**key, "Content-Type": "application/cap+xml"})
    assert response.status_code == 201, response.get_json()
    alert_id = response.get_json()["id"]
    assert response.get_json()["state"] == "publishing"

    work(app)

    rows = db.session.execute(select(Delivery.channel, Delivery.target_id, Delivery.status, Delivery.gateway_id)
                              .where(Delivery.alert_id == alert_id)).all()
    sirens = {siren.id: siren.village for siren in db.session.scalars(select(Siren))}
    assert {(channel, sirens[target], status) for channel, target, status, _ in rows} == {
        ("siren", "磨西村", DeliveryStatus.SENT), ("siren", "得妥村", DeliveryStatus.SENT)}
    assert all(gateway_id == f"siren-{_id}" for _id, gateway_id in db.session.execute(
        select(Delivery.id, Delivery.gateway_id).where(Delivery.alert_id == alert_id)))
    assert db.session.get(Alert, alert_id).state == AlertState.PUBLISHED

    recorded = [json.loads(item) for item in siren.lrange(RECORDED_KEY, 0, -1)]
    assert sorted(item["address"] for item in recorded) == ["siren:得妥村", "siren:磨西村"]
    for item in recorded:
        assert item["alert"] == alert_id
        assert any("地震" in text for text in item["texts"])  # the broadcast template, rendered for the siren

    detail = client.get(f"/api/v1/alerts/{alert_id}", headers=key).get_json()
    assert detail["deliveries"]["siren"] == {"sent": 2}
    preview = client.post("/api/v1/preview", data=body.replace(b"SIREN-1", b"SIREN-2"),
                          headers={**key, "Content-Type": "application/cap+xml"}).get_json()
    assert preview["reach"][COUNTY]["siren"] == 2 and "siren" not in preview["texts"]  # its template is broadcast's


def test_its_settings_are_read_from_the_environment_like_any(monkeypatch, tmp_path):
    monkeypatch.setattr(catalog, "CHANNELS", (*catalog.CHANNELS, SIREN))
    monkeypatch.setenv("SIREN_MAX_SECONDS", "45")
    config = Settings.from_env(str(tmp_path), catalog.settings_schema()).as_flask_config()
    assert config["SIREN_MAX_SECONDS"] == 45 and config["SIREN_GATEWAY"] == "recording"
    assert config["SMS_GATEWAY"] == "log"  # the service's own channels' settings beside it
    assert catalog.budget_for("broadcast", config) != siren_budget(config)  # each channel its own budget
    assert catalog.plan_order()[0] is SIREN and type(build_adapter("siren", config)) is RecordingSiren


def test_a_channel_the_catalog_does_not_list_is_an_error(app):
    with pytest.raises(catalog.UnknownChannel, match="'siren' is not a channel"):
        catalog.channel("siren")
    with pytest.raises(catalog.UnknownChannel):
        build_adapter("siren", app.config)
    # A row naming a channel no package declares (its package removed since) is refused, never sent elsewhere.
    alert = new_alert((COUNTY,))
    stale = Delivery(alert_id=alert.id, channel="siren", target_id=1, county_code=COUNTY)
    db.session.add(stale)
    db.session.commit()
    with pytest.raises(catalog.UnknownChannel):
        Sender(app.config, Redis.from_url(app.config["REDIS_URL"])).send(db.session, [stale.id])
