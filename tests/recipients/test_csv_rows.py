"""Reading recipients from CSV: good rows, and every problem reported with its line."""
from __future__ import annotations

from warning_service.recipients.csv_rows import RecipientRow, parse_recipients_csv

COUNTIES = {"513301", "513322"}
CARDS = {"0247601"}


def test_good_rows_with_defaults_and_a_card():
    rows, problems = parse_recipients_csv(
        "\ufeffphone,county,languages,channels,exercise,beidou_card\n"
        "+8613812345678,513301,,,,\n"
        "+86 138-1234-5679,513322,\"bo,zh\",sms;beidou,yes,0247601\n", COUNTIES, CARDS)
    assert problems == []
    assert rows == [RecipientRow("+8613812345678", "513301", "zh", ("sms",), False, None),
                    RecipientRow("+8613812345679", "513322", "bo,zh", ("sms", "beidou"), True, "0247601")]


def test_every_problem_names_its_line():
    rows, problems = parse_recipients_csv(
        "phone,county,languages,channels,exercise,beidou_card\n"
        "13812345678,513301,,,,\n"
        "+8613812345678,999999,en,fax,maybe,0999999\n"
        "+8613812345670,513301,,beidou,,\n"
        "+8613812345671,513301,,,,\n"
        "+8613812345671,513322,,,,\n", COUNTIES, CARDS)
    assert [row.phone for row in rows] == ["+8613812345671"]
    assert problems[0].startswith("line 2: phone '13812345678'")
    assert [p.split(":")[0] for p in problems[1:6]] == ["line 3"] * 5  # county, languages, channels, exercise, card
    assert "line 4: channel beidou needs a beidou_card" in problems
    assert "line 6: phone +8613812345671 is also on line 5" in problems


def test_a_file_without_the_columns_or_rows_says_so():
    assert parse_recipients_csv("name,tel\nA,1\n", COUNTIES, CARDS)[1][0].startswith("line 1: the header lacks phone, county")
    assert parse_recipients_csv("phone,county\n", COUNTIES, CARDS) == ([], ["line 2: no recipients in the file"])


def test_a_file_too_long_stops_with_a_reason():
    text = "phone,county\n" + "".join(f"+86138000000{i:02d},513301\n" for i in range(5))
    rows, problems = parse_recipients_csv(text, COUNTIES, CARDS, max_rows=3)
    assert len(rows) == 3 and problems == ["line 5: more than 3 rows; split the file"]
