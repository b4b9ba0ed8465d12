"""Local stand-ins for the gateways the service talks to: Twilio (twilio_peer), the county emergency-broadcast
platforms (broadcast_peer) and a BeiDou terminal (beidou_peer), on loopback. `flask demo serve` runs them
(`python -m peers`); the tests and the benchmarks start them in-process. Not part of the service."""
