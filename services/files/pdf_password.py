"""Whether a PDF needs a password to open, decided while the file streams past.

An encrypted PDF names its encryption dictionary with `/Encrypt` in its trailer (or xref stream
dictionary). That dictionary may not be stored in a compressed object stream, so its `/Filter`, `/V`,
`/R`, `/O`, `/U` and `/P` entries are plain bytes in the file. `PdfPasswordCheck` keeps a few
KiB around each `/Encrypt`, `/Standard` and `/ID` it sees, never the whole file.

A PDF encrypted by the standard security handler with an empty user password ("permissions only",
common for official documents) opens without a password and is accepted. Whether the empty password
is the user password is checked as pypdf and qpdf do: revisions 2-4 with the MD5 and RC4 key
derivation of ISO 32000-1 (algorithms 2, 4, 5 and 6), revision 5 with SHA-256, revision 6 with the
hash of ISO 32000-2 (algorithm 2.B). Any other security handler, or an encryption dictionary that
cannot be read, counts as needing a password.
"""

import hashlib
import logging
import re
import struct
from collections import deque
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

log = logging.getLogger(__name__)

# Bytes kept on each side of a token; an encryption dictionary is a few hundred bytes.
WINDOW = 2048
WINDOWS_PER_TOKEN = 4
_WHITESPACE = b"\x00\t\n\x0c\r "
_DELIMITERS = b"()<>[]{}/%"
_TOKEN = re.compile(rb"/(Encrypt|Standard|ID)(?=[\x00\t\n\x0c\r ()<>\[\]{}/%])")
_REFERENCE_REST = re.compile(rb"[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]+R(?=[\x00\t\n\x0c\r ()<>\[\]{}/%]|$)")
_ENCRYPT_VALUE = re.compile(rb"/Encrypt[\x00\t\n\x0c\r ]*(\d+[\x00\t\n\x0c\r ]+\d+[\x00\t\n\x0c\r ]+R|<<)")
# The padding string of the standard security handler.
_PADDING = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


class PdfPasswordCheck:
    """Feed a PDF's bytes in order with `feed`, then ask `needs_password`."""

    def __init__(self) -> None:
        # The last 2 * WINDOW bytes before the current chunk, so a token near a chunk's end still gets
        # WINDOW bytes before it when its window is cut at the next chunk.
        self._tail = b""
        self._tail_start = 0
        self._found_up_to = 0
        self._pending: list[tuple[bytes, int]] = []
        self._windows: dict[bytes, deque[tuple[bytes, int]]] = {
            token: deque(maxlen=WINDOWS_PER_TOKEN) for token in (b"Encrypt", b"Standard", b"ID")}

    def feed(self, chunk: bytes) -> None:
        data = self._tail + chunk
        start = self._tail_start
        for match in _TOKEN.finditer(data):
            position = start + match.start()
            if position >= self._found_up_to:
                self._pending.append((match.group(1), position))
                self._found_up_to = position + 1
        self._cut_windows(data, start, final=False)
        keep = min(len(data), 2 * WINDOW)
        self._tail = data[len(data) - keep:]
        self._tail_start = start + len(data) - keep

    def needs_password(self) -> bool:
        """Return whether the PDF fed so far cannot be opened without a password."""
        self._cut_windows(self._tail, self._tail_start, final=True)
        if not any(_ENCRYPT_VALUE.match(window, index) for window, index in self._windows[b"Encrypt"]):
            return False
        encryption = self._encryption_dictionary()
        if encryption is None:
            log.info("PDF names /Encrypt but no standard security handler dictionary was found")
            return True
        try:
            return not opens_with_empty_password(encryption, self._first_id())
        except (KeyError, TypeError, ValueError) as e:
            log.info("PDF encryption dictionary could not be checked: %r", e)
            return True

    def _cut_windows(self, data: bytes, start: int, *, final: bool) -> None:
        end = start + len(data)
        waiting = []
        for token, position in self._pending:
            if position + WINDOW <= end or final:
                first = max(0, position - WINDOW - start)
                self._windows[token].append((data[first:position + WINDOW - start], position - start - first))
            else:
                waiting.append((token, position))
        self._pending = waiting

    def _encryption_dictionary(self) -> dict[str, Any] | None:
        for window, index in reversed(self._windows[b"Standard"]):
            found = _enclosing_dictionary(window, index, _is_standard_handler)
            if found is not None:
                return found
        # A trailer may also hold the dictionary itself: "/Encrypt << ... >>".
        for window, index in reversed(self._windows[b"Encrypt"]):
            try:
                value, _ = _parse(window, index + len(b"/Encrypt"))
            except (IndexError, ValueError):
                continue
            if isinstance(value, dict) and _is_standard_handler(value):
                return value
        return None

    def _first_id(self) -> bytes:
        for window, index in reversed(self._windows[b"ID"]):
            try:
                value, _ = _parse(window, index + len(b"/ID"))
            except (IndexError, ValueError):
                continue
            if isinstance(value, list) and value and isinstance(value[0], bytes):
                return value[0]
        return b""


def _is_standard_handler(dictionary: dict[str, Any]) -> bool:
    return dictionary.get("Filter") == "Standard" and isinstance(dictionary.get("U"), bytes)


def opens_with_empty_password(encryption: dict[str, Any], first_id: bytes) -> bool:
    """Check the empty password against the `/U` entry of a standard security handler dictionary."""
    revision = int(encryption["R"])
    user = encryption["U"]
    if revision in (5, 6):
        return _hash_r6(b"", user[32:40], revision) == user[:32]
    if revision not in (2, 3, 4):
        raise ValueError(f"unknown standard security handler revision {revision}")

    version = int(encryption.get("V", 0))
    default_bits = 128 if version == 4 else 40
    key_bytes = 5 if revision == 2 else int(encryption.get("Length", default_bits)) // 8
    digest = hashlib.md5(_PADDING, usedforsecurity=False)
    digest.update(encryption["O"][:32])
    digest.update(struct.pack("<I", int(encryption["P"]) & 0xFFFFFFFF))
    digest.update(first_id)
    if revision >= 4 and encryption.get("EncryptMetadata", True) is False:
        digest.update(b"\xff\xff\xff\xff")
    key = digest.digest()
    if revision >= 3:
        for _ in range(50):
            key = hashlib.md5(key[:key_bytes], usedforsecurity=False).digest()
    key = key[:key_bytes]

    if revision == 2:
        return _rc4(key, _PADDING) == user[:32]
    value = _rc4(key, hashlib.md5(_PADDING + first_id, usedforsecurity=False).digest())
    for round_number in range(1, 20):
        value = _rc4(bytes(byte ^ round_number for byte in key), value)
    return value == user[:16]


def _hash_r6(password: bytes, salt: bytes, revision: int) -> bytes:
    key = hashlib.sha256(password + salt).digest()
    if revision == 5:
        return key
    round_number = 0
    while True:
        round_number += 1
        block = (password + key) * 64
        encryptor = Cipher(algorithms.AES(key[:16]), modes.CBC(key[16:32])).encryptor()
        encrypted = encryptor.update(block) + encryptor.finalize()
        hash_function = (hashlib.sha256, hashlib.sha384, hashlib.sha512)[sum(encrypted[:16]) % 3]
        key = hash_function(encrypted).digest()
        if round_number >= 64 and encrypted[-1] <= round_number - 32:
            return key[:32]


def _rc4(key: bytes, data: bytes) -> bytes:
    state = list(range(256))
    j = 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    i = j = 0
    output = bytearray()
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        output.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(output)


# A reader of the few PDF objects needed here: dictionaries, arrays, names, strings, numbers,
# booleans and indirect references. Names are returned without their slash, strings as bytes.

class _Reference(tuple):
    pass


def _enclosing_dictionary(window: bytes, index: int, accept) -> dict[str, Any] | None:
    """Return the innermost dictionary around `window[index]` that `accept` takes, else None."""
    start = index
    for _ in range(32):
        start = window.rfind(b"<<", 0, start)
        if start < 0:
            return None
        try:
            value, end = _parse(window, start)
        except (IndexError, ValueError):
            continue
        if isinstance(value, dict) and end > index and accept(value):
            return value
    return None


def _skip(data: bytes, position: int) -> int:
    while True:
        while position < len(data) and data[position] in _WHITESPACE:
            position += 1
        if position < len(data) and data[position] == ord("%"):
            while position < len(data) and data[position] not in b"\r\n":
                position += 1
            continue
        return position


def _parse(data: bytes, position: int) -> tuple[Any, int]:
    position = _skip(data, position)
    if data.startswith(b"<<", position):
        return _parse_dictionary(data, position + 2)
    first = data[position]
    if first == ord("<"):
        end = data.index(b">", position)
        digits = bytes(c for c in data[position + 1:end] if c not in _WHITESPACE)
        return bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode("ascii")), end + 1
    if first == ord("("):
        return _parse_literal(data, position + 1)
    if first == ord("["):
        items = []
        position += 1
        while (position := _skip(data, position)) < len(data) and data[position] != ord("]"):
            item, position = _parse(data, position)
            items.append(item)
        return items, position + 1
    if first == ord("/"):
        end = _token_end(data, position + 1)
        return _decode_name(data[position + 1:end]), end
    return _parse_keyword(data, position)


def _parse_dictionary(data: bytes, position: int) -> tuple[dict[str, Any], int]:
    entries: dict[str, Any] = {}
    while True:
        position = _skip(data, position)
        if data.startswith(b">>", position):
            return entries, position + 2
        key, position = _parse(data, position)
        if not isinstance(key, str):
            raise ValueError("dictionary key is not a name")
        entries[key], position = _parse(data, position)


def _parse_keyword(data: bytes, position: int) -> tuple[Any, int]:
    end = _token_end(data, position)
    word = data[position:end]
    if not word:
        raise ValueError(f"unexpected byte {data[position:position + 1]!r}")
    if word in (b"true", b"false"):
        return word == b"true", end
    if word == b"null":
        return None, end
    number = float(word) if b"." in word else int(word)
    # An indirect reference "12 0 R" reads as one value.
    reference = _REFERENCE_REST.match(data, end)
    if isinstance(number, int) and reference:
        return _Reference((number, int(reference.group(1)))), reference.end()
    return number, end


def _token_end(data: bytes, position: int) -> int:
    while position < len(data) and data[position] not in _WHITESPACE and data[position] not in _DELIMITERS:
        position += 1
    return position


def _decode_name(raw: bytes) -> str:
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw).decode("latin-1")


_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f",
            ord("("): b"(", ord(")"): b")", ord("\\"): b"\\"}


def _parse_literal(data: bytes, position: int) -> tuple[bytes, int]:
    output = bytearray()
    depth = 1
    while True:
        byte = data[position]
        position += 1
        if byte == ord("\\"):
            escaped = data[position]
            position += 1
            if escaped in _ESCAPES:
                output += _ESCAPES[escaped]
            elif ord("0") <= escaped <= ord("7"):
                digits = bytes([escaped])
                while len(digits) < 3 and ord("0") <= data[position] <= ord("7"):
                    digits += data[position:position + 1]
                    position += 1
                output.append(int(digits, 8) & 0xFF)
            elif escaped == ord("\r"):
                if data[position] == ord("\n"):
                    position += 1
            elif escaped != ord("\n"):
                output.append(escaped)
            continue
        if byte == ord("("):
            depth += 1
        elif byte == ord(")"):
            depth -= 1
            if depth == 0:
                return bytes(output), position
        output.append(byte)
