#!/usr/bin/env python3
"""Turns shared/protocol/vectors/frames.json into a C header for the ctest suite (no JSON parser
on the C side). Usage: vectors_to_c.py frames.json out.h"""
import json
import sys

STATUS = {'BAD_CRC': 1, 'BAD_COBS': 2, 'RUNT': 3, 'OVERSIZE': 4, 'BAD_LENGTH': 5}


def arr(name, data):
    body = ','.join(str(b) for b in data) or '0'
    return 'static const uint8_t %s[] = {%s};\n' % (name, body)


def main():
    v = json.load(open(sys.argv[1]))
    out = ['/* generated from frames.json by vectors_to_c.py */\n#include <stdint.h>\n#include <stddef.h>\n']
    out.append('typedef struct { const uint8_t *data; size_t len; uint32_t crc; } crc_vec_t;\n')
    out.append('typedef struct { const uint8_t *data; size_t len; const uint8_t *enc; size_t enc_len; } cobs_vec_t;\n')
    out.append('typedef struct { const char *name; uint8_t version, type, flags, status; uint16_t seq; '
               'const uint8_t *payload; size_t len; const uint8_t *wire; size_t wire_len; } frame_vec_t;\n')
    out.append('typedef struct { const char *name; size_t max_payload; const uint8_t *wire; size_t wire_len; '
               'const int *events; size_t n_events; } stream_vec_t;\n')
    out.append('/* events: >= 0 a valid frame with that seq; < 0 minus the error class */\n')
    rows = []
    for i, c in enumerate(v['crc32']):
        d = bytes.fromhex(c['data'])
        out.append(arr('crc_d%d' % i, d))
        rows.append('{crc_d%d, %d, 0x%08Xu}' % (i, len(d), c['crc32']))
    out.append('static const crc_vec_t crc_vectors[] = {%s};\n' % ','.join(rows))
    rows = []
    for i, c in enumerate(v['cobs']):
        d, e = bytes.fromhex(c['data']), bytes.fromhex(c['encoded'])
        out.append(arr('cobs_d%d' % i, d) + arr('cobs_e%d' % i, e))
        rows.append('{cobs_d%d, %d, cobs_e%d, %d}' % (i, len(d), i, len(e)))
    out.append('static const cobs_vec_t cobs_vectors[] = {%s};\n' % ','.join(rows))
    rows = []
    for i, f in enumerate(v['frames']):
        p, w = bytes.fromhex(f['payload']), bytes.fromhex(f['wire'])
        out.append(arr('frame_p%d' % i, p) + arr('frame_w%d' % i, w))
        rows.append('{"%s", %d, %d, %d, %d, %d, frame_p%d, %d, frame_w%d, %d}' % (
            f['name'], f['version'], f['type'], f['flags'], f['status'], f['seq'], i, len(p), i, len(w)))
    out.append('static const frame_vec_t frame_vectors[] = {%s};\n' % ',\n'.join(rows))
    rows = []
    for i, m in enumerate(v['malformed']):
        w = bytes.fromhex(m['wire'])
        ev = [int(e[3:]) if e.startswith('ok:') else -STATUS[e[4:]] for e in m['events']]
        out.append(arr('stream_w%d' % i, w))
        out.append('static const int stream_e%d[] = {%s};\n' % (i, ','.join(map(str, ev)) or '0'))
        rows.append('{"%s", %d, stream_w%d, %d, stream_e%d, %d}' % (m['name'], m['max_payload'], i, len(w), i, len(ev)))
    out.append('static const stream_vec_t stream_vectors[] = {%s};\n' % ',\n'.join(rows))
    out.append('#define N_VEC(a) (sizeof(a) / sizeof((a)[0]))\n')
    open(sys.argv[2], 'w').write(''.join(out))


if __name__ == '__main__':
    main()
