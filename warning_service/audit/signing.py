"""The ledger's head, signed, for an outside auditor to keep and check the ledger against later.

A signed head is a small JSON document: the last entry's id, hash and time, when it was signed,
and an Ed25519 signature (the `cryptography` library) over those fields as canonical JSON. Whoever
holds the public key can later check that the document is genuine and that the ledger still holds
that entry with that hash, and that the chain up to it verifies: nothing before it was rewritten.
No Flask here.
"""
from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT = "ews-audit-head/1"
SIGNED_FIELDS = ("format", "entry", "hash", "at", "signed_at")


class SigningError(Exception):
    """A key or a signed head that cannot be used; the message says why, for the command line."""


def generate_key_pair(private_path: Path, public_path: Path) -> None:
    """Write a new Ed25519 key pair as PEM; the private key readable by its owner only. Never overwrites."""
    for path in (private_path, public_path):
        if path.exists():
            raise SigningError(f"{path} already exists; move it away first (a signing key is never overwritten)")
    key = Ed25519PrivateKey.generate()
    private_path.parent.mkdir(parents=True, exist_ok=True)
    private_path.touch(mode=0o600)
    private_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    public_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SigningError(f"no {what} at {path}") from None
    except OSError as error:
        raise SigningError(f"cannot read the {what} {path}: {error.strerror}") from None


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(_read(path, "private key"), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SigningError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{path} is not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(_read(path, "public key"))
    except (ValueError, UnsupportedAlgorithm):
        raise SigningError(f"{path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"{path} is not an Ed25519 public key")
    return key


def _message(document: dict) -> bytes:
    return json.dumps({name: document[name] for name in SIGNED_FIELDS}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode()


def sign_head(key: Ed25519PrivateKey, entry_id: int, entry_hash: str, at: datetime, signed_at: datetime) -> dict:
    document = {"format": FORMAT, "entry": entry_id, "hash": entry_hash, "at": at.isoformat(),
                "signed_at": signed_at.isoformat()}
    document["signature"] = base64.b64encode(key.sign(_message(document))).decode()
    return document


def public_key_path(private_path: Path) -> Path:
    """Where `generate_key_pair` puts the public key of a private key: beside it, .pem -> .pub."""
    return private_path.with_name(private_path.name.removesuffix(".pem") + ".pub")


def read_signed_head(path: Path, key: Ed25519PublicKey) -> dict:
    """The document in `path` if its signature is good under `key`; SigningError saying why not."""
    try:
        document = json.loads(_read(path, "signed head"))
    except (ValueError, UnicodeDecodeError):
        raise SigningError(f"{path} is not JSON: not a signed head") from None
    return checked_head(document, key, str(path))


def checked_head(document: object, key: Ed25519PublicKey, where: str) -> dict:
    """`document` if it is a signed head whose signature is good under `key`; SigningError naming `where`."""
    if not isinstance(document, dict) or document.get("format") != FORMAT or not all(
            name in document for name in (*SIGNED_FIELDS, "signature")):
        raise SigningError(f"{where} is not a signed head ({FORMAT}: {', '.join(SIGNED_FIELDS)}, signature)")
    if not isinstance(document["entry"], int) or not isinstance(document["hash"], str):
        raise SigningError(f"{where}: entry must be a number and hash a string")
    try:
        key.verify(base64.b64decode(document["signature"], validate=True), _message(document))
    except (InvalidSignature, ValueError, TypeError):
        raise SigningError(f"the signature of {where} does not match this public key: the head was altered, "
                           "or signed with another key") from None
    return document
