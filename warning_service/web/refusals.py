"""The registry's and the accounts' refusals (registry.REFUSAL_TEXTS, security/accounts.REFUSAL_TEXTS) in the
admin's language, by their stable codes: the domain keeps English for the CLI and the ledger."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..registry import RegistryError
from ..security.accounts import AccountRefused

REFUSALS = {
    "hazards_missing": _l("Choose at least one hazard, or all hazards."),
    "hazards_all_combined": _l("\"All hazards\" cannot be combined with single hazards."),
    "hazards_unknown": _l("Unknown hazard code(s): %(unknown)s."),
    "sender_malformed": _l("A CAP sender has 1 to %(max)s characters, without spaces, commas, '<' or '&': %(sender)s"),
    "sender_service_own": _l("The CAP sender %(sender)s is the service's own."),
    "sender_taken": _l("The CAP sender %(sender)s is registered to the agency %(agency)s."),
    "senders_missing": _l("An agency needs at least one CAP sender."),
    "agency_name_length": _l("An agency's name has 1 to %(max)s characters."),
    "kind_unknown": _l("Unknown kind of agency: %(kind)s."),
    "agency_name_taken": _l("An agency named %(name)s already exists."),
    "agency_inactive": _l("The agency %(name)s is already inactive."),
    "county_unknown": _l("%(county)s is not one of the 31 counties of Garzê and Ngawa."),
    "url_malformed": _l("Give the platform's http:// or https:// address (at most %(max)s characters)."),
    "target_name_length": _l("A name has at most %(max)s characters."),
    "secret_empty": _l("The signing secret cannot be empty."),
    "url_taken": _l("The active broadcast endpoint %(existing)s already has the address %(url)s."),
    "card_malformed": _l("A BeiDou card address has 7 digits."),
    "township_malformed": _l("A township code has 12 digits and begins with its county's code %(county)s."),
    "card_taken": _l("The card %(card)s is already terminal %(terminal)s."),
    "broadcast_endpoint_inactive": _l("The broadcast endpoint %(id)s (%(name)s) is already inactive."),
    "beidou_terminal_inactive": _l("The BeiDou terminal %(id)s (%(name)s) is already inactive."),
    "password_too_short": _l("A password has at least %(min)d characters."),
    "username_length": _l("A username has 1 to %(max)d characters."),
    "username_taken": _l("A user named %(name)s already exists."),
    "user_inactive": _l("The user %(name)s is already inactive."),
}


def refusal_text(refused: RegistryError | AccountRefused) -> str:
    return str(REFUSALS[refused.code]) % refused.details
