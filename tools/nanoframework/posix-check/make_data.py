#!/usr/bin/env python3
"""Writes the check app's Data.cs: one image, the host engine's raw outputs for it, and an INFO request frame.
   make_data.py <model.qnnb> <inputs.bin> <expected.bin> <index> <out Data.cs>   (a golden folder of QnnLab.Firmware.Tests)"""
import os
import struct
import sys
import zlib

blob, inputs, expected, index, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
pixels = open(inputs, 'rb').read()[index * 3072:(index + 1) * 3072]
logits = [b - 256 if b > 127 else b for b in open(expected, 'rb').read()[index * 10:(index + 1) * 10]]


def cobs(data):
    out, block = bytearray(), bytearray()
    for b in data:
        if b == 0:
            out += bytes([len(block) + 1]) + block
            block = bytearray()
        else:
            block.append(b)
            if len(block) == 254:
                out += bytes([255]) + block
                block = bytearray()
    return bytes(out + bytes([len(block) + 1]) + block)


# shared/protocol/SPEC.md: version 2, INFO (0x02), flags 0, status 0, seq 1, no payload, CRC-32; COBS; 0x00 on both sides
header = struct.pack('<BBBBHH', 2, 0x02, 0, 0, 1, 0)
wire = b'\0' + cobs(header + struct.pack('<I', zlib.crc32(header))) + b'\0'
with open(out, 'w') as f:
    f.write('namespace QnnNanoCheck\n{\n    internal static class Data\n    {\n')
    f.write('        public static readonly byte[] Image = new byte[] { %s };\n' % ', '.join(map(str, pixels)))
    f.write('        public static readonly int[] Expected = new int[] { %s };\n' % ', '.join(map(str, logits)))
    f.write('        public const int BlobLength = %d;\n' % os.path.getsize(blob))
    f.write('        public static readonly byte[] InfoRequest = new byte[] { %s };\n' % ', '.join(map(str, wire)))
    f.write('    }\n}\n')
