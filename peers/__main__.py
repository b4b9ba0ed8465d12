"""Run the gateway peers together, for the demo: `python -m peers < config.json`.

`flask demo serve` starts this so a new user sees real traffic: SMS through a
local Twilio (with signed status callbacks to the service), EBMs to each county's
broadcast platform (signature checked with that platform's secret), BeiDou
sentences to a simulated terminal at its card interval, and a Cell Broadcast
Centre per operator (CAP checked against the contract, signed status callbacks).
The configuration comes as one JSON object on standard input, so no secret shows
in a process list:

    {"ports": {"broadcast": 8701, "twilio": 8702, "beidou": 8703},
     "twilio": {"account_sid": "AC…", "auth_token": "…"},
     "broadcast_secrets": {"513301": "…", "513301/exercise": "…"},
     "beidou": {"card": "0241636", "interval": 1.0},
     "cbc": {"callback_base": "http://127.0.0.1:5000",
             "operators": {"cmcc": {"ports": {"primary": 8704, "failover": 8705}, "token": "…",
                                    "callback_secret": "…", "max_vertices": 100, "exercise": false}}}}

It prints one line per message the peers take in, and runs until SIGTERM or Ctrl-C.
"""
from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack

from peers.beidou_peer import BeidouPeer
from peers.broadcast_peer import BroadcastPeer
from peers.cbc_peer import CbcPeer
from peers.received import Received
from peers.twilio_peer import TwilioPeer

POLL_SECONDS = 0.5


def describe_sms(message: Received) -> str:
    return f"twilio: SMS to {message.address} accepted as {message.extra['sid']}"


def describe_ebm(message: Received) -> str:
    platform = message.address.rsplit("/ebm/", 1)[-1]
    return (f"broadcast {platform}: EBM {message.extra['ebm_id']} ({message.extra['msg_type']}) signature verified, "
            f"languages {','.join(message.extra['languages'])}, areas {','.join(message.extra['area_codes'])}")


def describe_cbc(message: Received) -> str:
    extra = message.extra
    return (f"cbc {message.address}: {extra['msg_type']} {extra['identifier']} taken at the {extra['front']} URL as "
            f"{extra['cbc_message_id']}, identifiers {extra['message_identifiers']['zh-CN']}/"
            f"{extra['message_identifiers']['bo-CN']}, {sum(map(len, extra['polygons']))} polygon points")


def describe_beidou(message: Received) -> str:
    kind = "group" if message.extra["broadcast"] else "card"
    return f"beidou: {kind} {message.address} received {message.extra['parts']} part(s), mode {message.extra['mode']}"


class _Printer:
    """Prints what a peer took in since the last look."""

    def __init__(self, read: Callable[[], Sequence], describe: Callable) -> None:
        self.read, self.describe, self.seen = read, describe, 0

    def flush(self) -> None:
        items = self.read()
        for item in items[self.seen:]:
            print(self.describe(item), flush=True)
        self.seen = len(items)


def main() -> None:
    config = json.load(sys.stdin)
    ports = config["ports"]
    operators = config.get("cbc", {}).get("operators", {})  # a benchmark may run without cell broadcast
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with ExitStack() as running:
        try:
            twilio = running.enter_context(TwilioPeer(
                account_sid=config["twilio"]["account_sid"], auth_token=config["twilio"]["auth_token"],
                port=ports["twilio"], callback_delay=1.0))
            broadcast = running.enter_context(BroadcastPeer(config["broadcast_secrets"], port=ports["broadcast"]))
            beidou = running.enter_context(BeidouPeer(
                card_address=config["beidou"]["card"], interval=config["beidou"]["interval"], port=ports["beidou"]))
            cbcs = [running.enter_context(CbcPeer(
                code, operator["token"], operator["callback_secret"], ports=operator["ports"],
                callback_url=f"{config['cbc']['callback_base']}/webhooks/cbc/{code}/status",
                max_vertices=operator["max_vertices"], exercise=operator["exercise"], callback_delay=1.0))
                for code, operator in operators.items()]
        except OSError as error:
            wanted = sorted([*ports.values(), *(port for operator in operators.values()
                                                for port in operator["ports"].values())])
            sys.exit(f"gateway peers: cannot listen on 127.0.0.1 ports {wanted}: {error.strerror}")
        printers = [
            _Printer(twilio.received, describe_sms),
            _Printer(twilio.callbacks, lambda c: f"twilio: callback {c.params['MessageStatus']} for "
                                                 f"{c.params['MessageSid']} answered {c.answered}"),
            _Printer(broadcast.received, describe_ebm),
            _Printer(beidou.received, describe_beidou),
            *(_Printer(cbc.received, describe_cbc) for cbc in cbcs),
            *(_Printer(cbc.callbacks, lambda c: f"cbc: callback {c.body['state']} for {c.body['identifier']} "
                                                f"({c.body['cells']} cells) answered {c.answered}") for cbc in cbcs),
        ]
        print(f"gateway peers: twilio {twilio.base_url}, broadcast {broadcast.url('<county>')}, beidou {beidou.url}, "
              f"cbc {', '.join(f'{cbc.operator} {cbc.url()}' for cbc in cbcs)}", flush=True)
        try:
            while True:
                time.sleep(POLL_SECONDS)
                for printer in printers:
                    printer.flush()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
