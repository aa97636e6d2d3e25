#!/usr/bin/env python3
"""Writes frames.json: protocol test vectors for the C and C# codecs.

Independent of both codecs on purpose: the CRC is zlib's, COBS and the frame layout are written here
from SPEC.md. Run it again after changing the spec; the output is deterministic.
"""
import json
import os
import struct
import zlib

HEADER = 8
OVERHEAD = 12  # header + CRC-32


def cobs_encode(data: bytes) -> bytes:
    out = bytearray()
    block = bytearray()
    last_full = False  # the previous block was a full 254-byte run (no implied zero)
    for b in data:
        if b == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
            last_full = False
        else:
            block.append(b)
            if len(block) == 254:
                out.append(255)
                out += block
                block.clear()
                last_full = True
    # A trailing full run already ends the data: no extra 0x01 block (the minimal encoding).
    if block or not last_full:
        out.append(len(block) + 1)
        out += block
    return bytes(out)


def cobs_decode(enc: bytes):
    out = bytearray()
    i = 0
    while i < len(enc):
        c = enc[i]
        if c == 0 or i + c > len(enc):
            return None
        out += enc[i + 1:i + c]
        i += c
        if c < 255 and i < len(enc):
            out.append(0)
    return bytes(out)


# SPEC.md: the protocol's version, in every frame header and in HELLO (2: seven stages in `results`).
VERSION = 2


def raw_frame(version, ftype, flags, status, seq, payload, length=None):
    if length is None:
        length = len(payload)
    body = struct.pack('<BBBBHH', version, ftype, flags, status, seq, length) + payload
    return body + struct.pack('<I', zlib.crc32(body) & 0xFFFFFFFF)


def wire(raw: bytes) -> bytes:
    return cobs_encode(raw) + b'\x00'


def max_encoded(max_payload):
    n = OVERHEAD + max_payload
    return n + (n + 253) // 254


def classify(stream: bytes, max_payload: int):
    """Reference receiver: the events a decoder must report for a byte stream."""
    events = []
    buf = bytearray()
    overflow = False
    for b in stream:
        if b != 0:
            if len(buf) >= max_encoded(max_payload):
                overflow = True
            else:
                buf.append(b)
            continue
        if overflow:
            events.append('err:OVERSIZE')
        elif buf:
            raw = cobs_decode(bytes(buf))
            if raw is None:
                events.append('err:BAD_COBS')
            elif len(raw) < OVERHEAD:
                events.append('err:RUNT')
            elif zlib.crc32(raw[:-4]) & 0xFFFFFFFF != struct.unpack('<I', raw[-4:])[0]:
                events.append('err:BAD_CRC')
            elif struct.unpack('<H', raw[6:8])[0] != len(raw) - OVERHEAD:
                events.append('err:BAD_LENGTH')
            else:
                events.append('ok:%d' % struct.unpack('<H', raw[4:6])[0])
        buf.clear()
        overflow = False
    return events


def pattern(n, start=1, zero_every=0):
    out = bytearray()
    for i in range(n):
        v = (start + i * 7) & 0xFF
        if zero_every and i % zero_every == zero_every - 1:
            v = 0
        elif v == 0:
            v = 0x5A
        out.append(v)
    return bytes(out)


def main():
    frames = []

    def add(name, version, ftype, flags, status, seq, payload):
        raw = raw_frame(version, ftype, flags, status, seq, payload)
        frames.append({
            'name': name, 'version': version, 'type': ftype, 'flags': flags, 'status': status,
            'seq': seq, 'payload': payload.hex(), 'wire': wire(raw).hex(),
        })

    add('hello_request', VERSION, 0x01, 0, 0, 1, struct.pack('<BBH', VERSION, VERSION, 4096))
    hello = struct.pack('<BBHBBHIIIIB', VERSION, 0, 4096, 4, 8, 0, 0x1234ABCD, 0x7F, 65536, 115200, 2) + struct.pack('<II', 115200, 921600)
    add('hello_response', VERSION, 0x81, 0, 0, 1, hello)
    add('boot_unsolicited', VERSION, 0x70, 1, 0, 0, hello)
    add('nak_bad_crc', VERSION, 0x71, 1, 1, 0, struct.pack('<I', 3))
    add('info_request_empty_payload', VERSION, 0x02, 0, 0, 2, b'')
    add('error_response', VERSION, 0x89, 0, 9, 0xFFFF, b'')
    add('seq_with_zero_bytes', VERSION, 0x0D, 2, 0, 0x0100, b'')
    add('payload_all_zeros', VERSION, 0x08, 0, 0, 7, b'\x00' * 40)
    add('payload_253_nonzero', VERSION, 0x08, 0, 0, 0x0101, pattern(253))
    add('payload_254_nonzero', VERSION, 0x08, 0, 0, 0x0102, pattern(254))
    add('payload_255_nonzero', VERSION, 0x08, 0, 0, 0x0103, pattern(255))
    add('payload_600_nonzero', VERSION, 0x08, 0, 0, 0x0104, pattern(600, 3))
    infer = struct.pack('<BBHI', 0, 1, 0, 0) + pattern(3072, 11, zero_every=97)
    add('infer_cifar_pixels', VERSION, 0x09, 0, 0, 42, infer)
    result = struct.pack('<BHBB', 1, 3, 0, 7) + struct.pack('<7Q', 3072, 0, 0, 123456789, 0, 0, 0) + struct.pack('<fHB', 0.0, 10, 1) + bytes([0x80, 0x81, 0x85, 0x7F, 0x80, 0x80, 0x90, 0x00, 0x01, 0xFF])
    add('infer_result', VERSION, 0x89, 0, 0, 42, result)

    cobs = []
    for data in [b'', b'\x00', b'\x00\x00', b'\x11\x22\x00\x33', b'\x11\x22\x33\x44', b'\x11\x00\x00\x00',
                 pattern(253), pattern(254), pattern(255), b'\x00' + pattern(254), pattern(254) + b'\x00',
                 pattern(508), pattern(509)]:
        cobs.append({'data': data.hex(), 'encoded': cobs_encode(data).hex()})
        assert cobs_decode(cobs_encode(data)) == data

    crc = [{'data': d.hex(), 'crc32': zlib.crc32(d) & 0xFFFFFFFF} for d in [b'', b'123456789', b'\x00' * 32, pattern(1000)]]

    def good(seq, payload=b'\x01\x02'):
        return wire(raw_frame(VERSION, 0x02, 0, 0, seq, payload))

    def bad_crc_raw():
        raw = bytearray(raw_frame(VERSION, 0x09, 0, 0, 5, pattern(20)))
        raw[10] ^= 0x04
        return bytes(raw)

    partial = wire(raw_frame(VERSION, 0x09, 0, 0, 9, pattern(300)))
    streams = [
        ('bad_crc', wire(bad_crc_raw()), 4096),
        ('bad_crc_in_crc_field', wire(raw_frame(VERSION, 0x02, 0, 0, 5, b'')[:-1] + b'\x99'), 4096),
        ('bad_cobs_code_past_end', bytes([0x05, 0x11, 0x22, 0x00]), 4096),
        ('bad_cobs_then_good', bytes([0xDE, 0xAD, 0xBE, 0xEF, 0x00]) + good(6), 4096),
        ('runt_11_bytes', wire(raw_frame(VERSION, 0x02, 0, 0, 5, b'')[:11]), 4096),
        ('runt_one_byte', bytes([0x02, 0x33, 0x00]), 4096),
        ('bad_length_longer', wire(raw_frame(VERSION, 0x02, 0, 0, 5, b'\x01\x02\x03', length=4)), 4096),
        ('bad_length_shorter', wire(raw_frame(VERSION, 0x02, 0, 0, 5, b'\x01\x02\x03', length=2)), 4096),
        ('oversize_then_good', wire(raw_frame(VERSION, 0x08, 0, 0, 5, pattern(100))) + good(8), 64),
        ('max_payload_fits', wire(raw_frame(VERSION, 0x08, 0, 0, 5, pattern(64))), 64),
        ('empty_frames_ignored', b'\x00\x00' + good(10) + b'\x00\x00\x00', 4096),
        ('back_to_back', good(11) + good(12, b'') + good(13, b'\x00\x00\x00'), 4096),
        ('partial_then_delimited_frame', partial[:50] + b'\x00' + good(14), 4096),
        ('partial_without_delimiter_merges', partial[:50] + good(15), 4096),
        ('noise_after_frame', good(16) + bytes([0x01, 0x01, 0x01]) + b'\x00' + good(17), 4096),
    ]
    malformed = [{'name': n, 'max_payload': mp, 'wire': s.hex(), 'events': classify(s, mp)} for n, s, mp in streams]
    # The vectors are only useful if they cover every class the spec names.
    seen = {e for m in malformed for e in m['events']}
    for cls in ['BAD_CRC', 'BAD_COBS', 'RUNT', 'OVERSIZE', 'BAD_LENGTH']:
        assert 'err:' + cls in seen, cls
    for f in frames:  # a valid frame round-trips through the reference receiver
        assert classify(bytes.fromhex(f['wire']), 4096) == ['ok:%d' % f['seq']], f['name']

    out = {
        'comment': 'Generated by gen_vectors.py from SPEC.md; do not edit by hand.',
        'crc32': crc, 'cobs': cobs, 'frames': frames, 'malformed': malformed,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'frames.json')
    with open(path, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
