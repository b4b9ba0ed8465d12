"""A Merkle root over a list of leaves, the way Certificate Transparency hashes them (RFC 6962 §2.1).

Leaves and inner nodes are hashed with different one-byte prefixes, so a leaf can never pass for
an inner node; an odd node at the end of a level is carried up as it is, not paired with itself
(pairing it with itself would let two different lists share a root). Twenty lines of hashlib:
the Merkle packages on PyPI are either unmaintained or bring a whole framework with them.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence

LEAF, NODE = b"\x00", b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


def leaf_hash(content: bytes) -> bytes:
    return hashlib.sha256(LEAF + content).digest()


def merkle_root(leaves: Sequence[bytes]) -> str:
    """The hex root over leaf hashes (from `leaf_hash`), in their order."""
    level = list(leaves)
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        paired = [hashlib.sha256(NODE + level[index] + level[index + 1]).digest()
                  for index in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0].hex()
