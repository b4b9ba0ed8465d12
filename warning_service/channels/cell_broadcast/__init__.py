"""Cell broadcast through the operators' Cell Broadcast Centres (CBCs): one CAP 1.2 message per
operator per area reaches every handset in the cells that cover it (issue 16; the wire contract is
docs/CHANNELS.md). Pure parts only so far: CBS message identifiers and the polygon cover."""
