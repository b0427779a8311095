"""Transfer-encoded body parts prepared once per edition, personalised per recipient.

Encoding a 45 KB body per recipient (base64 and splitting it into lines, or
quoted-printable) costs far more than the rest of a message. The body is literal text
with a few placeholders, so the literal segments are encoded once; per recipient only
the short substituted values (and the few bytes around them) are encoded.

- Quoted-printable (every literal segment is ASCII): each segment is encoded on its own,
  starting at column 0, and joined to the values by soft line breaks ("=" CRLF), which
  decoders remove (RFC 2045 §6.7 rule 5).
- Base64: each segment's encoding starts and ends on a 3-byte boundary; the bytes around
  a value (a carry of at most 2 from the previous segment, at most 2 borrowed from the
  next) are encoded with it, so no "=" padding appears before the end. Lines are at
  most 76 characters (RFC 2045 §6.8); some are shorter, which decoders accept.
"""

from __future__ import annotations

import binascii

_CRLF = b"\r\n"
_LINE = 76


def _lines(encoded: bytes) -> list[bytes]:
    return [encoded[i : i + _LINE] for i in range(0, len(encoded), _LINE)]


def _b64(data: bytes) -> bytes:
    return binascii.b2a_base64(data, newline=False)


def _qp(data: bytes) -> bytes:
    """Quoted-printable with CRLF lines of at most 76 characters, the last one at most 75
    so a soft line break ("=") can follow it. (binascii lets a line that ends in an
    encoded space run to 78.)"""
    encoded = binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)
    lines = encoded.split(b"\n")
    if all(len(line) < _LINE for line in lines):
        return _CRLF.join(lines)
    out: list[bytes] = []
    for number, line in enumerate(lines):
        limit = _LINE - 1 if number == len(lines) - 1 else _LINE
        while len(line) > limit:
            cut = _LINE - 1  # room for the "=" of a soft line break
            if line[cut - 1 : cut] == b"=":
                cut -= 1
            elif line[cut - 2 : cut - 1] == b"=":
                cut -= 2
            out.append(line[:cut] + b"=")
            line = line[cut:]
        out.append(line)
    return _CRLF.join(out)


class EncodedBody:
    """One text part: `segments` (literal text, UTF-8) alternate with placeholder slots."""

    def __init__(self, segments: list[bytes]) -> None:
        self.segments = segments
        self.base64 = not all(segment.isascii() for segment in segments)
        self.cte = b"base64" if self.base64 else b"quoted-printable"
        # Base64 needs each inner segment long enough to lend 2 bytes and keep a carry.
        self._simple = self.base64 and any(len(s) < 3 for s in segments[1:])
        if self.base64 and not self._simple:
            self._prepare_base64()
        elif not self.base64:
            self._qp_segments = [_qp(segment) for segment in segments]

    def _prepare_base64(self) -> None:
        first = self.segments[0]
        cut = len(first) - len(first) % 3 if len(self.segments) > 1 else len(first)
        self._head = _CRLF.join(_lines(_b64(first[:cut])))
        self._head_carry = first[cut:]
        #: Per inner segment and k (bytes lent to the value before it): encoded, carry.
        self._inner: list[list[tuple[bytes, bytes]]] = []
        last = len(self.segments) - 1
        for index, segment in enumerate(self.segments[1:], start=1):
            variants = []
            for k in range(3):
                rest = segment[k:]
                cut = len(rest) if index == last else len(rest) - len(rest) % 3
                variants.append((_CRLF.join(_lines(_b64(rest[:cut]))), rest[cut:]))
            self._inner.append(variants)

    def encode(self, values: list[bytes]) -> bytes:
        """The encoded body with `values` (UTF-8) in the slots, CRLF lines."""
        return _CRLF.join(self.lines(values))

    def lines(self, values: list[bytes]) -> list[bytes]:
        """`encode` as pieces to be joined with CRLF (so a message is joined only once)."""
        if self._simple:
            data = b"".join(_interleave(self.segments, values))
            return _lines(_b64(data))
        if not self.base64:
            pieces = [self._qp_segments[0]]
            for value, segment in zip(values, self._qp_segments[1:], strict=True):
                pieces.append(_qp(value) if value else b"")
                pieces.append(segment)
            return [b"=\r\n".join(piece for piece in pieces if piece)]
        out = [self._head] if self._head else []
        carry = self._head_carry
        for value, (segment, variants) in zip(
            values, zip(self.segments[1:], self._inner, strict=True), strict=True
        ):
            chunk = carry + value
            lent = -len(chunk) % 3
            chunk += segment[:lent]
            if chunk:
                encoded = _b64(chunk)
                if len(encoded) <= _LINE:  # the usual case: a value fits one line
                    out.append(encoded)
                else:
                    out.extend(_lines(encoded))
            encoded, carry = variants[lent]
            if encoded:
                out.append(encoded)
        if carry:
            out.extend(_lines(_b64(carry)))
        return out


def _interleave(segments: list[bytes], values: list[bytes]) -> list[bytes]:
    out = [segments[0]]
    for value, segment in zip(values, segments[1:], strict=True):
        out.extend((value, segment))
    return out
