"""Intake limits benchmark (issue 13): how long the intake takes to refuse oversized messages, and
to read the largest ones it accepts, in process (parse and region rules; no web server, no database).

    .venv/bin/python bench/limits.py            # 5 runs of each case
    .venv/bin/python bench/limits.py --quick    # 1 run

Cases: 5,000 and 15,000 <area> elements, a 200,000-point polygon (CAP XML and JSON), refused by
the default limits; 2,000 areas (the limit) and the corpus's 41,009-point polygon, read and
interpreted. Prints one JSON line per case and a Markdown table of the medians, of the wall time and
of this process's CPU time (the figure to read on a shared, busy machine).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # the repository in place of bench/, whose twilio.py would stand in for the twilio package

from tests.support.cap_builder import area_xml, message_xml  # noqa: E402
from warning_service.hazards import catalogue  # noqa: E402
from warning_service.intake.cap_json import parse_alert_json  # noqa: E402
from warning_service.intake.cap_xml import parse_cap_xml  # noqa: E402
from warning_service.intake.errors import IntakeError  # noqa: E402
from warning_service.intake.interpret import interpret  # noqa: E402

LARGEST_REAL = ROOT / "tests" / "data" / "cap-real" / "wmo-composer-bf_thunderstorm-fr-signed.xml"


def outcome(read: Callable[[], object]) -> str:
    try:
        read()
    except IntakeError as error:
        return str(error.status)
    return "read"


def cases() -> dict[str, Callable[[], object]]:
    polygon_xml = message_xml(area_xml(polygons=(" ".join(["30.0,101.9"] * 200_000),)))
    polygon_json = json.dumps({"status": "Actual", "hazard": "rainstorm", "level": "blue",
                               "area": {"polygon": [[30.0, 101.9]] * 200_000}}).encode()
    areas = {count: message_xml(*[area_xml()] * count) for count in (2_000, 5_000, 15_000)}
    real = LARGEST_REAL.read_bytes()
    return {
        "5,000 areas (XML)": lambda: parse_cap_xml(areas[5_000]),
        "15,000 areas (XML, as a preview)": lambda: parse_cap_xml(areas[15_000]),
        "200,000-point polygon (XML)": lambda: parse_cap_xml(polygon_xml),
        "200,000-point polygon (JSON)": lambda: parse_alert_json(polygon_json, "bench@ews.example"),
        "2,000 areas, read and interpreted": lambda: interpret(parse_cap_xml(areas[2_000]), catalogue()),
        "41,009-point real polygon, read": lambda: parse_cap_xml(real),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one run of each case")
    arguments = parser.parse_args()
    runs = 1 if arguments.quick else arguments.runs
    rows = []
    for name, read in cases().items():
        wall, cpu = [], []
        for _ in range(runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            answer = outcome(read)
            wall.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        wall_ms, cpu_ms = statistics.median(wall) * 1000, statistics.median(cpu) * 1000
        print(json.dumps({"case": name, "answer": answer, "runs": runs, "median_wall_ms": round(wall_ms, 1),
                          "median_cpu_ms": round(cpu_ms, 1)}, ensure_ascii=False))
        rows.append((name, answer, wall_ms, cpu_ms))
    print("\n| case | answer | median wall ms | median CPU ms |\n| --- | --- | --- | --- |")
    for name, answer, wall_ms, cpu_ms in rows:
        print(f"| {name} | {answer} | {wall_ms:.0f} | {cpu_ms:.0f} |")


if __name__ == "__main__":
    main()
