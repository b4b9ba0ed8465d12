"""Reading a list of recipients from CSV (an operator's or a county's subscriber export).

Columns, with a header row: phone (E.164), county (6-digit code), languages
(bo, zh, "bo,zh" or "zh,bo"; default zh), channels ("sms", "sms;beidou";
default sms), exercise (yes/no; default no), beidou_card (a known card
address, for recipients with a terminal). Every problem is reported with its
line; the caller imports all rows or none. Pure: no Flask, no database.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection
from dataclasses import dataclass

E164 = re.compile(r"\+[1-9]\d{6,14}")
LANGUAGES = frozenset({"bo", "zh", "bo,zh", "zh,bo"})
CHANNELS = frozenset({"sms", "beidou"})
YES, NO = frozenset({"yes", "y", "true", "1", "是"}), frozenset({"no", "n", "false", "0", "否", ""})
REQUIRED = ("phone", "county")
MAX_ROWS = 200_000


@dataclass(frozen=True)
class RecipientRow:
    phone: str
    county_code: str
    languages: str
    channels: tuple[str, ...]
    exercise: bool
    beidou_card: str | None


def parse_recipients_csv(text: str, counties: Collection[str], cards: Collection[str],
                         max_rows: int = MAX_ROWS) -> tuple[list[RecipientRow], list[str]]:
    """The rows, and the problems as 'line N: …' (an empty list when all rows are good)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if missing := [name for name in REQUIRED if name not in header]:
        return [], [f"line 1: the header lacks {', '.join(missing)} (columns: phone, county, languages, "
                    "channels, exercise, beidou_card)"]
    reader.fieldnames = header
    rows: list[RecipientRow] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        if len(rows) + len(problems) >= max_rows:
            problems.append(f"line {line}: more than {max_rows:,} rows; split the file")
            break
        values = {key: (value or "").strip() for key, value in raw.items() if key is not None}
        row, errors = _row(values, counties, cards)
        if row is not None and row.phone in seen:
            errors.append(f"phone {row.phone} is also on line {seen[row.phone]}")
        if errors or row is None:
            problems.extend(f"line {line}: {error}" for error in errors)
        else:
            seen[row.phone] = line
            rows.append(row)
    if not rows and not problems:
        problems.append("line 2: no recipients in the file")
    return rows, problems


def _row(values: dict[str, str], counties: Collection[str], cards: Collection[str]) -> tuple[RecipientRow | None, list[str]]:
    errors = []
    phone = values.get("phone", "").replace(" ", "").replace("-", "")
    if not E164.fullmatch(phone):
        errors.append(f"phone {values.get('phone')!r} is not an E.164 number such as +8613812345678")
    county = values.get("county", "")
    if county not in counties:
        errors.append(f"county {county!r} is not one of the 31 county codes")
    languages = values.get("languages", "").replace(" ", "") or "zh"
    if languages not in LANGUAGES:
        errors.append(f"languages {languages!r} is not one of bo, zh, bo,zh, zh,bo")
    channels = tuple(dict.fromkeys(part.strip() for part in (values.get("channels") or "sms").split(";") if part.strip()))
    if not channels or not set(channels) <= CHANNELS:
        errors.append(f"channels {values.get('channels')!r}: use sms, beidou or sms;beidou")
    exercise_text = values.get("exercise", "").lower()
    if exercise_text not in YES | NO:
        errors.append(f"exercise {values.get('exercise')!r}: use yes or no")
    card = values.get("beidou_card") or None
    if card is not None and card not in cards:
        errors.append(f"beidou_card {card!r} is not a terminal this service knows")
    if "beidou" in channels and card is None:
        errors.append("channel beidou needs a beidou_card")
    if errors:
        return None, errors
    return RecipientRow(phone, county, languages, channels, exercise_text in YES, card), []
