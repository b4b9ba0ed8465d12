"""Real agencies' CAP messages (ten countries) through the whole intake: a 2xx or a clear 4xx, never a 5xx."""
from __future__ import annotations

from pathlib import Path

import pytest

CORPUS = sorted((Path(__file__).resolve().parent.parent / "data" / "cap-real").glob("*.xml"))


def test_the_corpus_is_there():
    assert len(CORPUS) == 42


@pytest.mark.parametrize("path", CORPUS, ids=[path.stem for path in CORPUS])
def test_real_message_gets_a_clear_answer(client, make_agency, path):
    _, key = make_agency("corpus test agency", "other")
    response = client.post("/api/v1/alerts", data=path.read_bytes(),
                           headers={**key, "Content-Type": "application/cap+xml"})
    assert response.status_code in (200, 201, 400, 403, 409, 422), response.get_data(as_text=True)[:300]
    if response.status_code >= 400:
        problem = response.get_json()
        assert response.mimetype == "application/problem+json" and problem["detail"]
