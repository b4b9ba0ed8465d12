"""Delivery-over-time benchmark: the alert report's chart query over one alert of N deliveries, on PostgreSQL.

    .venv/bin/python bench/delivery_chart.py --deliveries 1780000 --runs 5

Fills its own database (ews_bench_chart, kept between runs of the same size) with one published
alert whose SMS deliveries were accepted over ten minutes and delivered up to half a minute later,
then times `delivery_over_time` (one grouped query) and the SVG geometry built from it. Prints one
JSON line per run, the medians, and PostgreSQL's plan of the query.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg
from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from warning_service import create_app  # noqa: E402
from warning_service.audit.charts import channel_charts, delivery_over_time, over_time_statement  # noqa: E402
from warning_service.extensions import db  # noqa: E402
from warning_service.models import (  # noqa: E402
    Alert, AlertState, CapStatus, County, Level, MsgType, utcnow,
)
from warning_service.reference_data import load_regions  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
DATABASE = "ews_bench_chart"


def prepare(deliveries: int) -> tuple[int, object]:
    """The alert and its publish time; the rows are written once per size, in SQL."""
    alert = db.session.scalar(select(Alert).where(Alert.identifier == f"BENCH-CHART-{deliveries}"))
    if alert is not None:
        return alert.id, alert.published_at
    db.session.execute(text("TRUNCATE deliveries, alerts RESTART IDENTITY CASCADE"))
    since = utcnow() - timedelta(hours=1)
    alert = Alert(identifier=f"BENCH-CHART-{deliveries}", sender="bench@ews.example", sent=since,
                  status=CapStatus.ACTUAL, msg_type=MsgType.ALERT, hazard_code="rainstorm", level=Level.YELLOW,
                  expires=since + timedelta(hours=6), headline={"zh": "基准测试"}, original=b"{}",
                  original_format="json", state=AlertState.PUBLISHED, published_at=since)
    alert.counties = list(db.session.scalars(select(County)))
    db.session.add(alert)
    db.session.flush()
    counties = [county.code for county in alert.counties]
    db.session.execute(text("""
        INSERT INTO deliveries (alert_id, channel, target_id, county_code, status, attempts, sent_at, delivered_at,
                                created_at, updated_at)
        SELECT :alert, 'sms', n, (CAST(:counties AS text[]))[1 + n % :county_count], 'delivered', 1, sent, sent + random() * interval '30 s',
               CAST(:since AS timestamptz), CAST(:since AS timestamptz)
        FROM (SELECT n, CAST(:since AS timestamptz) + random() * interval '600 s' AS sent FROM generate_series(1, :rows) AS n) AS rows
    """), {"alert": alert.id, "counties": counties, "county_count": len(counties), "since": since, "rows": deliveries})
    db.session.commit()
    return alert.id, since


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=1_780_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"})
    with app.app_context():
        upgrade()
        if not db.session.scalar(select(func.count()).select_from(County)):
            load_regions(db.session)
            db.session.commit()
        alert_id, since = prepare(args.deliveries)
        db.session.execute(text("ANALYZE deliveries"))
        db.session.commit()
        seconds = []
        for run in range(args.runs):
            started = time.perf_counter()
            over_time = delivery_over_time(db.session, alert_id, since)
            charts = channel_charts(over_time, {"sms": args.deliveries})
            seconds.append(time.perf_counter() - started)
            print(json.dumps({"run": run + 1, "deliveries": args.deliveries, "seconds": round(seconds[-1], 3),
                              "minutes": len(over_time["sms"]["accepted"]), "points": len(charts["sms"].lines)}))
        print(json.dumps({"median_seconds": round(statistics.median(seconds), 3)}))
        plan = db.session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + compiled_sql(alert_id, since))).scalars()
        print("\n".join(plan))


def compiled_sql(alert_id: int, since) -> str:
    """The chart's statement as PostgreSQL runs it, with its values inlined for EXPLAIN."""
    statement = over_time_statement(alert_id, since, "postgresql")
    return str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


if __name__ == "__main__":
    main()
