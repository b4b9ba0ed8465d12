"""The operators' CBCs in tests: real peers (peers/cbc_peer.py) on loopback, registered as an admin would,
calling back the served app (the `cbcs` fixture is in fixtures.py)."""
from __future__ import annotations

from peers.cbc_peer import OPERATORS, CbcPeer
from warning_service.extensions import db
from warning_service.models import CbcOperator

TOKEN = "dispatch-cbc-token"
SECRET = "dispatch-cbc-secret"
MAX_VERTICES = 60


def register_cbc(code: str, peer: CbcPeer, exercise: bool = False) -> CbcOperator:
    """The peer registered as operator `code` (named as the demo names the three), both its fronts."""
    operator = CbcOperator(code=code, name=OPERATORS.get(code, code.upper()), url=peer.url(),
                           failover_url=peer.url("failover"), token=TOKEN, callback_secret=SECRET,
                           max_vertices=MAX_VERTICES, exercise=exercise)
    db.session.add(operator)
    db.session.commit()
    return operator
