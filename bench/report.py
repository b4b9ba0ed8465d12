"""Alert report benchmark: one published alert with 1.78 million deliveries, on PostgreSQL.

    .venv/bin/python bench/report.py --runs 5
    .venv/bin/python bench/report.py --runs 5 --reseed     # write the alert's rows again
    .venv/bin/python bench/report.py --runs 5 --townships  # every SMS recipient in one of 20 townships per county
    .venv/bin/python bench/report.py --runs 1 --explain    # and PostgreSQL's plan of the time histogram

Seeds (once, kept between runs; --reseed writes them again) one published alert over the 31
counties with 1,760,000 SMS (to as many recipients), 20,000 BeiDou and 31 broadcast deliveries
(rounded to 1.78 M), written set-based with generate_series in a few statements: a realistic mix of
states (most SMS delivered, some only accepted, some undelivered, failed, pending or sending; failed
SMS partly moved to BeiDou cards), counties, gateway ids and times spread over the first ten
minutes after publishing. Then VACUUM ANALYZE, as autovacuum would after such a load. With
--townships every SMS recipient gets a township (the township counts' worst case: a join of all the
alert's SMS rows); without it, none has one (the seed's default); the change is written when the
flag differs from the database's state.

Times, per run: the report page (GET /reports/alerts/<id> through the Flask test client, signed in
as an auditor) and, separately, each domain figure (counts per channel, county and state; the time
histogram with the percentiles and the delivery-over-time chart derived from it; the township
counts; the gaps). Prints one JSON line per run and the medians. Uses its own database,
ews_bench_report (created if missing).
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
sys.path[0] = str(ROOT)  # the repository in place of bench/, whose twilio.py would stand in for the twilio package

from flask_migrate import upgrade  # noqa: E402

from warning_service.app import create_app  # noqa: E402
from warning_service.audit.charts import channel_charts, delivery_over_time  # noqa: E402
from warning_service.audit.events import record  # noqa: E402
from warning_service.audit.ledger import entry_hash  # noqa: E402
from warning_service.audit.report import counts, gaps, published_at  # noqa: E402
from warning_service.audit.timing import histogram_statement, latency, time_histogram  # noqa: E402
from warning_service.audit.townships import township_counts  # noqa: E402
from warning_service.extensions import db  # noqa: E402
from warning_service.models import (  # noqa: E402
    Alert,
    AlertState,
    CapStatus,
    County,
    Delivery,
    Level,
    MsgType,
    Role,
    User,
    utcnow,
)
from warning_service.reference_data import load_regions  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
DATABASE = "ews_bench_report"
IDENTIFIER = "BENCH-REPORT-1.78M"
SMS, BEIDOU = 1_760_000, 20_000
AUDITOR, PASSWORD = "bench-auditor", "bench-auditor-password"

# One statement per channel. $n: the alert id; counties are picked by id modulo 31 from an array.
SEED_RECIPIENTS = """
INSERT INTO recipients (id, phone, languages, county_code, channels, exercise, active, created_at)
SELECT i, '+86138' || lpad(i::text, 8, '0'), 'bo,zh', (CAST(:counties AS text[]))[1 + i % 31], '["sms"]', false, true, now()
FROM generate_series(1, :sms) AS i
ON CONFLICT (id) DO NOTHING
"""
# Status by i: 88 % delivered, 5 % sent, 3 % undelivered, 2 % failed, 1 % pending, 1 % sending.
SEED_SMS = """
INSERT INTO deliveries (id, alert_id, channel, target_id, county_code, status, attempts, gateway_id, gateway_code,
                        gateway_text, created_at, updated_at, sent_at, delivered_at)
SELECT i, :alert, 'sms', i, (CAST(:counties AS text[]))[1 + i % 31], s.status,
       CASE WHEN s.status = 'pending' THEN 0 ELSE 1 + (i % 97 = 0)::int END,
       CASE WHEN s.status IN ('sent', 'delivered', 'undelivered') THEN 'SM' || md5(i::text) END,
       CASE s.status WHEN 'undelivered' THEN '30003' WHEN 'failed' THEN '21211' END,
       CASE s.status WHEN 'failed' THEN 'invalid ''To'' phone number' END,
       :published, :published + make_interval(secs => 600),
       CASE WHEN s.status IN ('sent', 'delivered', 'undelivered') THEN :published + make_interval(secs => s.accepted) END,
       CASE WHEN s.status = 'delivered' THEN :published + make_interval(secs => s.accepted + 1 + (i * 7919 % 30000) / 1000.0) END
FROM generate_series(1::bigint, :sms) AS i,
     LATERAL (SELECT CASE WHEN i % 100 < 88 THEN 'delivered' WHEN i % 100 < 93 THEN 'sent'
                          WHEN i % 100 < 96 THEN 'undelivered' WHEN i % 100 < 98 THEN 'failed'
                          WHEN i % 100 < 99 THEN 'pending' ELSE 'sending' END AS status,
                     0.2 + (i::float / :sms) * 540 + (i * 104729 % 60000) / 1000.0 AS accepted) AS s
"""
# BeiDou: the first half of the failed SMS moved to cards (failover_of_id), the rest group cards.
SEED_BEIDOU = """
INSERT INTO deliveries (id, alert_id, channel, target_id, county_code, status, attempts, failover_of_id,
                        created_at, updated_at, sent_at)
SELECT :sms + k, :alert, 'beidou', k, (CAST(:counties AS text[]))[1 + k % 31], CASE WHEN k % 20 = 0 THEN 'pending' ELSE 'sent' END,
       1, CASE WHEN k <= :beidou / 2 THEN (k - 1) * 100 + 96 END,
       :published, :published, CASE WHEN k % 20 <> 0 THEN :published + make_interval(secs => 30 + k % 600) END
FROM generate_series(1, :beidou) AS k
"""
SEED_BROADCAST = """
INSERT INTO deliveries (id, alert_id, channel, target_id, county_code, status, attempts, created_at, updated_at, sent_at)
SELECT :sms + :beidou + c, :alert, 'broadcast', c, (CAST(:counties AS text[]))[c], 'sent', 1, :published, :published,
       :published + make_interval(secs => 0.3 + c / 10.0)
FROM generate_series(1, 31) AS c
"""


def ensure_database() -> str:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    return f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"


def seed(reseed: bool) -> int:
    """The benchmark's alert (its id), written unless it is there already."""
    alert = db.session.scalar(select(Alert).where(Alert.identifier == IDENTIFIER))
    if alert is not None and not reseed:
        return alert.id
    started = time.perf_counter()
    db.session.execute(text("TRUNCATE deliveries, delivery_attempts, delivery_seals RESTART IDENTITY CASCADE"))
    if alert is not None:
        db.session.execute(text("DELETE FROM audit_events WHERE subject_type = 'alerts' AND subject_id = :id"),
                           {"id": alert.id})
    codes = list(db.session.scalars(select(County.code).order_by(County.code)))
    published = utcnow() - timedelta(hours=1)
    if alert is None:
        alert = Alert(identifier=IDENTIFIER, sender="bench@ews.example", sent=published, status=CapStatus.ACTUAL,
                      msg_type=MsgType.ALERT, hazard_code="rainstorm", level=Level.ORANGE,
                      expires=published + timedelta(hours=12), headline={"zh": "基准测试", "bo": "ཉེན་བརྡ"},
                      original=b"{}", original_format="json", state=AlertState.PUBLISHED, published_at=published)
        alert.counties = [db.session.get(County, code) for code in codes]
        db.session.add(alert)
        db.session.flush()
    event = record(db.session, None, "alert.publish", alert, state="publishing")
    event.at = published  # the ledger's publish time, as the report reads it (chained with this time)
    event.hash = entry_hash(event.prev_hash, event)
    parameters = {"alert": alert.id, "counties": codes, "sms": SMS, "beidou": BEIDOU, "published": published}
    for statement in (SEED_RECIPIENTS, SEED_SMS, SEED_BEIDOU, SEED_BROADCAST):
        db.session.execute(text(statement), parameters)
    db.session.execute(text("SELECT setval('deliveries_id_seq', (SELECT max(id) FROM deliveries))"))
    db.session.execute(text("SELECT setval('recipients_id_seq', (SELECT max(id) FROM recipients))"))
    if db.session.scalar(select(User).where(User.username == AUDITOR)) is None:
        auditor = User(username=AUDITOR, role=Role.AUDITOR)
        auditor.set_password(PASSWORD)
        db.session.add(auditor)
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE deliveries"))
        connection.execute(text("VACUUM ANALYZE recipients"))
    print(json.dumps({"seeded_deliveries": SMS + BEIDOU + 31, "seconds": round(time.perf_counter() - started, 1)}),
          flush=True)
    return alert.id


def set_townships(wanted: bool) -> None:
    """Every recipient in one of 20 townships of its county, or none in any; written only if it changes."""
    has = db.session.scalar(text("SELECT EXISTS (SELECT 1 FROM recipients WHERE township_code IS NOT NULL)"))
    if has == wanted:
        return
    db.session.execute(text("UPDATE recipients SET township_code = "
                            + ("county_code || lpad((id % 20)::text, 3, '0') || '000'" if wanted else "NULL")))
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE recipients"))


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return round((time.perf_counter() - started) * 1000, 1)


def one_run(app, alert_id: int) -> dict:
    client = app.test_client()
    response = client.post("/login", data={"username": AUDITOR, "password": PASSWORD})
    assert response.status_code == 302, f"the auditor could not sign in: {response.status_code}"
    result: dict[str, float] = {}

    def page() -> None:
        response = client.get(f"/reports/alerts/{alert_id}")
        assert response.status_code == 200, response.status_code

    result["ms_report_page"] = timed(page)
    alert = db.session.get(Alert, alert_id)
    since = published_at(db.session, alert_id)
    table = {}
    result["ms_counts"] = timed(lambda: table.update(counts(db.session, alert_id)))

    def time_figures() -> None:
        histogram = time_histogram(db.session, alert_id, since)
        latency(histogram, "accepted"), latency(histogram, "delivered")
        channel_charts(delivery_over_time(histogram), {channel: SMS for channel in histogram})

    result["ms_percentiles_and_chart"] = timed(time_figures)
    result["ms_townships"] = timed(lambda: township_counts(db.session, alert_id))
    result["ms_gaps"] = timed(lambda: list(gaps(db.session, alert, table)))  # from the counts, as the page does
    db.session.rollback()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reseed", action="store_true", help="write the alert's deliveries again")
    parser.add_argument("--townships", action="store_true", help="give every SMS recipient a township")
    parser.add_argument("--explain", action="store_true", help="print the plan of the time histogram's statement")
    args = parser.parse_args()
    app = create_app({"SQLALCHEMY_DATABASE_URI": ensure_database(), "WTF_CSRF_ENABLED": False,
                      "SECRET_KEY": "bench-only", "REDIS_URL": "redis://127.0.0.1:6379/14"})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        if not db.session.scalar(select(func.count()).select_from(County)):
            load_regions(db.session)
            db.session.commit()
        alert_id = seed(args.reseed)
        set_townships(args.townships)
        total = db.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.alert_id == alert_id))
        results = []
        for run in range(args.runs):
            result = one_run(app, alert_id)
            print(json.dumps({"run": run + 1, **result}), flush=True)
            results.append(result)
        medians = {key: statistics.median(r[key] for r in results) for key in results[0]}
        print(json.dumps({"median_of": len(results), "deliveries": total, "townships": args.townships, **medians}))
        if args.explain:
            statement = histogram_statement(alert_id, published_at(db.session, alert_id), "postgresql")
            sql = str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
            print("\n".join(db.session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql)).scalars()))


if __name__ == "__main__":
    main()
