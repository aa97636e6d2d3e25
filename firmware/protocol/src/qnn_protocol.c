#include "qnn_protocol.h"

#include <string.h>

/* Bounded little-endian writer into the response payload. */
typedef struct {
    uint8_t *p;
    size_t n;
    size_t cap;
    int overflow;
} writer_t;

static uint8_t *w_take(writer_t *w, size_t k)
{
    if (w->overflow || w->cap - w->n < k) {
        w->overflow = 1;
        return NULL;
    }
    uint8_t *at = w->p + w->n;
    w->n += k;
    return at;
}
static void w_u8(writer_t *w, uint8_t v)
{
    uint8_t *at = w_take(w, 1);
    if (at) {
        at[0] = v;
    }
}
static void w_u16(writer_t *w, uint16_t v)
{
    uint8_t *at = w_take(w, 2);
    if (at) {
        qnn_put_u16(at, v);
    }
}
static void w_u32(writer_t *w, uint32_t v)
{
    uint8_t *at = w_take(w, 4);
    if (at) {
        qnn_put_u32(at, v);
    }
}
static void w_u64(writer_t *w, uint64_t v)
{
    uint8_t *at = w_take(w, 8);
    if (at) {
        qnn_put_u64(at, v);
    }
}
static void w_f32(writer_t *w, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof(bits));
    w_u32(w, bits);
}
static void w_bytes(writer_t *w, const uint8_t *src, size_t k)
{
    uint8_t *at = w_take(w, k);
    if (at && k) {
        memcpy(at, src, k);
    }
}
static void w_str(writer_t *w, const char *s)
{
    size_t k = s ? strlen(s) : 0;
    if (k > 255) {
        k = 255;
    }
    w_u8(w, (uint8_t)k);
    w_bytes(w, (const uint8_t *)s, k);
}

static void send_raw(qnn_proto_t *p, const uint8_t *raw, size_t n) { qnn_cobs_write(raw, n, p->tx, p->tx_user); }

/* Builds the frame around the payload already at tx_raw+8 and sends it; returns the raw size. */
static size_t send_frame(qnn_proto_t *p, uint8_t type, uint8_t flags, uint8_t status, uint16_t seq, size_t len)
{
    qnn_frame_header_t h = {QNN_PROTO_VERSION, type, flags, status, seq, (uint16_t)len};
    size_t n = qnn_frame_build(&h, p->tx_raw + QNN_FRAME_HEADER_BYTES, p->tx_raw, sizeof(p->tx_raw));
    send_raw(p, p->tx_raw, n);
    return n;
}

static uint32_t capabilities(const qnn_proto_t *p, const qnn_board_info_t *bi)
{
    uint32_t caps = bi->capabilities | QNN_CAP_BENCHMARK;
    caps &= ~(QNN_CAP_UPLOAD | QNN_CAP_RESET | QNN_CAP_SET_BAUD);
    if (p->dev->upload_write && p->dev->upload_commit && bi->max_blob_bytes > 0) {
        caps |= QNN_CAP_UPLOAD;
    }
    if (p->dev->reset) {
        caps |= QNN_CAP_RESET;
    }
    if (p->dev->set_baud && bi->n_bauds > 0) {
        caps |= QNN_CAP_SET_BAUD;
    }
    return caps;
}

static void write_hello(qnn_proto_t *p, writer_t *w)
{
    qnn_board_info_t bi;
    memset(&bi, 0, sizeof(bi));
    p->dev->board_info(p->dev->ctx, &bi);
    w_u8(w, QNN_PROTO_VERSION);
    w_u8(w, 0);
    w_u16(w, QNN_PROTO_MAX_PAYLOAD);
    w_u8(w, QNN_PROTO_MAX_INFLIGHT);
    w_u8(w, QNN_PROTO_CACHE_ENTRIES);
    w_u16(w, 0);
    w_u32(w, p->boot_id);
    w_u32(w, capabilities(p, &bi));
    w_u32(w, bi.arena_bytes);
    w_u32(w, bi.current_baud);
    w_u8(w, bi.n_bauds);
    for (unsigned i = 0; i < bi.n_bauds; i++) {
        w_u32(w, bi.bauds[i]);
    }
}

static void write_model(writer_t *w, const qnn_model_desc_t *m)
{
    char name[QNN_MODEL_NAME_MAX + 1];
    memcpy(name, m->name, sizeof(name));
    name[QNN_MODEL_NAME_MAX] = 0;
    w_bytes(w, m->hash, QNN_HASH_BYTES);
    w_u32(w, m->blob_bytes);
    w_u8(w, m->precision);
    w_u16(w, m->height);
    w_u16(w, m->width);
    w_u16(w, m->channels);
    w_u8(w, m->input_element_bytes);
    w_u16(w, m->n_outputs);
    w_u8(w, m->output_element_bytes);
    w_str(w, name);
}

static uint8_t map_dev_error(int rc, writer_t *w)
{
    switch (rc) {
    case QNN_DEV_ERR_NO_MODEL:
        return QNN_ST_NO_MODEL;
    case QNN_DEV_ERR_UNKNOWN_MODEL:
        return QNN_ST_UNKNOWN_MODEL;
    case QNN_DEV_ERR_INPUT_SIZE:
        return QNN_ST_BAD_INPUT_SIZE;
    case QNN_DEV_ERR_NOT_SUPPORTED:
        return QNN_ST_NOT_SUPPORTED;
    case QNN_DEV_ERR_NO_SPACE:
        return QNN_ST_NO_SPACE;
    case QNN_DEV_ERR_BAD_ARGUMENT:
        return QNN_ST_BAD_PAYLOAD;
    default:
        w->n = 0;
        w_u32(w, (uint32_t)rc);
        return QNN_ST_EXECUTOR;
    }
}

void qnn_proto_init(qnn_proto_t *p, const qnn_device_t *dev, qnn_write_fn tx, void *tx_user, uint32_t boot_id)
{
    memset(p, 0, sizeof(*p));
    p->dev = dev;
    p->tx = tx;
    p->tx_user = tx_user;
    p->boot_id = boot_id ? boot_id : 1u;
    qnn_frame_rx_init(&p->rx, p->rx_buf, sizeof(p->rx_buf));
}

void qnn_proto_boot(qnn_proto_t *p)
{
    static const uint8_t delimiter = 0;
    writer_t w = {p->tx_raw + QNN_FRAME_HEADER_BYTES, 0, QNN_PROTO_MAX_PAYLOAD, 0};
    write_hello(p, &w);
    p->tx(p->tx_user, &delimiter, 1); /* ends whatever partial frame the host saw before the reset */
    send_frame(p, QNN_MSG_BOOT, QNN_FLAG_UNSOLICITED, QNN_ST_OK, 0, w.n);
}

static void send_nak(qnn_proto_t *p, uint8_t cls)
{
    uint32_t dropped = p->stats[QNN_STAT_BAD_CRC] + p->stats[QNN_STAT_BAD_COBS] + p->stats[QNN_STAT_RUNT] +
                       p->stats[QNN_STAT_OVERSIZE] + p->stats[QNN_STAT_BAD_LENGTH];
    qnn_put_u32(p->tx_raw + QNN_FRAME_HEADER_BYTES, dropped);
    p->stats[QNN_STAT_NAKS_SENT]++;
    send_frame(p, QNN_MSG_NAK, QNN_FLAG_UNSOLICITED, cls, 0, 4);
}

/* Expected input size for the selected model, or 0 when none. */
static uint32_t input_size(const qnn_model_desc_t *m, int is_tensor)
{
    uint32_t n = (uint32_t)m->height * m->width * m->channels;
    return is_tensor ? n * m->input_element_bytes : n;
}

/* Resolves an INFER/BENCHMARK input (inline, or staged + tail). Returns a status. */
static uint8_t resolve_input(qnn_proto_t *p, const qnn_model_desc_t *m, int is_tensor, unsigned count, uint32_t offset,
                             const uint8_t *data, uint32_t dlen, const uint8_t **input, uint32_t *each)
{
    uint32_t need = input_size(m, is_tensor);
    *each = need;
    if (count == 0 || need == 0) {
        return QNN_ST_BAD_PAYLOAD;
    }
    if (offset == 0) {
        if ((uint64_t)dlen != (uint64_t)need * count) {
            return QNN_ST_BAD_INPUT_SIZE;
        }
        *input = data;
        return QNN_ST_OK;
    }
    if (count != 1) {
        return QNN_ST_BAD_PAYLOAD;
    }
    if ((uint64_t)offset + dlen != need) {
        return QNN_ST_BAD_INPUT_SIZE;
    }
    uint32_t cap = 0;
    uint8_t *stage = p->dev->input_buffer ? p->dev->input_buffer(p->dev->ctx, &cap) : NULL;
    if (!stage || cap < need) {
        return QNN_ST_NOT_SUPPORTED;
    }
    if (p->staged_bytes < offset) {
        return QNN_ST_NOT_STAGED; /* e.g. the board reset after the chunks were acknowledged */
    }
    memcpy(stage + offset, data, dlen);
    p->staged_bytes = 0; /* the next staged input must be staged again */
    *input = stage;
    return QNN_ST_OK;
}

static void write_logits(writer_t *w, const qnn_infer_result_t *r)
{
    uint8_t k = r->logit_bytes;
    w_u16(w, r->n_logits);
    w_u8(w, k);
    for (unsigned i = 0; i < r->n_logits; i++) {
        uint32_t v = (uint32_t)r->logits[i];
        if (k == 1) {
            w_u8(w, (uint8_t)v);
        } else if (k == 2) {
            w_u16(w, (uint16_t)v);
        } else {
            w_u32(w, v);
        }
    }
}

static uint8_t do_infer(qnn_proto_t *p, const uint8_t *pl, size_t len, writer_t *w)
{
    if (len < 8) {
        return QNN_ST_BAD_PAYLOAD;
    }
    uint8_t flags = pl[0];
    unsigned count = pl[1];
    uint32_t offset = qnn_get_u32(pl + 4);
    if (flags & ~(QNN_INFER_INPUT_TENSOR | QNN_INFER_NO_LOGITS)) {
        return QNN_ST_BAD_PAYLOAD;
    }
    qnn_board_info_t bi;
    memset(&bi, 0, sizeof(bi));
    p->dev->board_info(p->dev->ctx, &bi);
    int is_tensor = (flags & QNN_INFER_INPUT_TENSOR) != 0;
    if (is_tensor && !(bi.capabilities & QNN_CAP_INPUT_TENSOR)) {
        return QNN_ST_NOT_SUPPORTED;
    }
    qnn_model_desc_t m;
    int rc = p->dev->selected_model(p->dev->ctx, &m);
    if (rc != QNN_DEV_OK) {
        return map_dev_error(rc, w);
    }
    if (m.n_outputs > QNN_PROTO_MAX_LOGITS) {
        return QNN_ST_NOT_SUPPORTED;
    }
    /* Refuse before running when the answer cannot fit (a batch of big outputs). */
    size_t per_item = 43u + ((flags & QNN_INFER_NO_LOGITS) ? 0u : (size_t)m.n_outputs * 4u);
    if (1u + per_item * count > QNN_PROTO_MAX_PAYLOAD) {
        return QNN_ST_BAD_PAYLOAD;
    }
    const uint8_t *input = NULL;
    uint32_t each = 0;
    uint8_t st = resolve_input(p, &m, is_tensor, count, offset, pl + 8, (uint32_t)(len - 8), &input, &each);
    if (st != QNN_ST_OK) {
        return st;
    }
    w_u8(w, (uint8_t)count);
    for (unsigned i = 0; i < count; i++) {
        qnn_infer_result_t r;
        memset(&r, 0, sizeof(r));
        r.logits = p->logits;
        r.logits_cap = QNN_PROTO_MAX_LOGITS;
        rc = p->dev->infer(p->dev->ctx, input + (size_t)i * each, each, is_tensor, &r);
        if (rc != QNN_DEV_OK) {
            w->n = 0;
            return map_dev_error(rc, w);
        }
        p->stats[QNN_STAT_INFERENCES]++;
        w_u16(w, r.label);
        w_u8(w, r.adversarial ? 1 : 0);
        w_u8(w, QNN_STAGE_COUNT);
        for (unsigned s = 0; s < QNN_STAGE_COUNT; s++) {
            w_u64(w, r.stage_time[s]);
        }
        w_f32(w, r.detector_score);
        if (flags & QNN_INFER_NO_LOGITS) {
            w_u16(w, 0);
            w_u8(w, r.logit_bytes);
        } else {
            write_logits(w, &r);
        }
    }
    return w->overflow ? QNN_ST_NO_SPACE : QNN_ST_OK;
}

static uint8_t do_benchmark(qnn_proto_t *p, const uint8_t *pl, size_t len, writer_t *w)
{
    if (len < 8) {
        return QNN_ST_BAD_PAYLOAD;
    }
    unsigned reps = qnn_get_u16(pl);
    uint8_t flags = pl[2];
    uint32_t offset = qnn_get_u32(pl + 4);
    if (reps == 0 || reps > QNN_PROTO_MAX_BENCH_REPS || (flags & ~QNN_INFER_INPUT_TENSOR)) {
        return QNN_ST_BAD_PAYLOAD;
    }
    qnn_model_desc_t m;
    int rc = p->dev->selected_model(p->dev->ctx, &m);
    if (rc != QNN_DEV_OK) {
        return map_dev_error(rc, w);
    }
    int is_tensor = (flags & QNN_INFER_INPUT_TENSOR) != 0;
    const uint8_t *input = NULL;
    uint32_t each = 0;
    uint8_t st = resolve_input(p, &m, is_tensor, 1, offset, pl + 8, (uint32_t)(len - 8), &input, &each);
    if (st != QNN_ST_OK) {
        return st;
    }
    uint16_t label = 0;
    for (unsigned i = 0; i < reps; i++) {
        qnn_infer_result_t r;
        memset(&r, 0, sizeof(r));
        r.logits = p->logits;
        r.logits_cap = QNN_PROTO_MAX_LOGITS;
        rc = p->dev->infer(p->dev->ctx, input, each, is_tensor, &r);
        if (rc != QNN_DEV_OK) {
            return map_dev_error(rc, w);
        }
        uint64_t total = 0;
        for (unsigned s = 0; s < QNN_STAGE_COUNT; s++) {
            total += r.stage_time[s];
        }
        /* insertion keeps bench[] sorted ascending */
        unsigned j = i;
        while (j > 0 && p->bench[j - 1] > total) {
            p->bench[j] = p->bench[j - 1];
            j--;
        }
        p->bench[j] = total;
        label = r.label;
    }
    w_u16(w, (uint16_t)reps);
    w_u16(w, label);
    w_u64(w, p->bench[0]);
    w_u64(w, p->bench[reps / 2]);
    w_u64(w, p->bench[reps - 1]);
    return QNN_ST_OK;
}

static uint8_t do_upload_begin(qnn_proto_t *p, const uint8_t *pl, size_t len, writer_t *w)
{
    if (len != 4 + QNN_HASH_BYTES) {
        return QNN_ST_BAD_PAYLOAD;
    }
    qnn_board_info_t bi;
    memset(&bi, 0, sizeof(bi));
    p->dev->board_info(p->dev->ctx, &bi);
    if (!(capabilities(p, &bi) & QNN_CAP_UPLOAD)) {
        return QNN_ST_NOT_SUPPORTED;
    }
    uint32_t size = qnn_get_u32(pl);
    if (size > bi.max_blob_bytes) {
        return QNN_ST_NO_SPACE;
    }
    if (size == 0) {
        return QNN_ST_BAD_PAYLOAD;
    }
    int resume = p->upload_active && p->upload_size == size && memcmp(p->upload_hash, pl + 4, QNN_HASH_BYTES) == 0;
    if (!resume) {
        p->upload_active = 1;
        p->upload_size = size;
        p->upload_next = 0;
        memcpy(p->upload_hash, pl + 4, QNN_HASH_BYTES);
        qnn_sha256_init(&p->upload_sha);
    }
    w_u32(w, p->upload_next);
    w_u32(w, bi.max_blob_bytes);
    return QNN_ST_OK;
}

static uint8_t do_upload_chunk(qnn_proto_t *p, const uint8_t *pl, size_t len, writer_t *w)
{
    if (len < 4) {
        return QNN_ST_BAD_PAYLOAD;
    }
    if (!p->upload_active) {
        return QNN_ST_NO_UPLOAD;
    }
    uint32_t offset = qnn_get_u32(pl);
    uint32_t dlen = (uint32_t)(len - 4);
    if ((uint64_t)offset + dlen > p->upload_size) {
        return QNN_ST_BAD_PAYLOAD;
    }
    if (offset > p->upload_next) {
        w_u32(w, p->upload_next);
        return QNN_ST_UPLOAD_OFFSET;
    }
    uint32_t skip = p->upload_next - offset; /* bytes this chunk repeats */
    if (skip < dlen) {
        int rc = p->dev->upload_write(p->dev->ctx, p->upload_next, pl + 4 + skip, dlen - skip);
        if (rc != QNN_DEV_OK) {
            return map_dev_error(rc, w);
        }
        qnn_sha256_update(&p->upload_sha, pl + 4 + skip, dlen - skip);
        p->upload_next += dlen - skip;
    }
    w_u32(w, p->upload_next);
    return QNN_ST_OK;
}

static uint8_t do_upload_end(qnn_proto_t *p, size_t len, writer_t *w)
{
    if (len != 0) {
        return QNN_ST_BAD_PAYLOAD;
    }
    if (!p->upload_active) {
        return QNN_ST_NO_UPLOAD;
    }
    if (p->upload_next != p->upload_size) {
        w_u32(w, p->upload_next);
        return QNN_ST_UPLOAD_OFFSET;
    }
    qnn_sha256_t copy = p->upload_sha;
    uint8_t digest[QNN_HASH_BYTES];
    qnn_sha256_final(&copy, digest);
    p->upload_active = 0;
    if (memcmp(digest, p->upload_hash, QNN_HASH_BYTES) != 0) {
        return QNN_ST_HASH_MISMATCH;
    }
    int rc = p->dev->upload_commit(p->dev->ctx, p->upload_size, p->upload_hash);
    if (rc != QNN_DEV_OK) {
        return map_dev_error(rc, w);
    }
    qnn_model_desc_t m;
    rc = p->dev->selected_model(p->dev->ctx, &m);
    if (rc != QNN_DEV_OK) {
        return map_dev_error(rc, w);
    }
    write_model(w, &m);
    return QNN_ST_OK;
}

static uint8_t do_info(qnn_proto_t *p, writer_t *w)
{
    qnn_board_info_t bi;
    memset(&bi, 0, sizeof(bi));
    p->dev->board_info(p->dev->ctx, &bi);
    w_u32(w, bi.clock_hz);
    w_u8(w, bi.timing_unit);
    w_u32(w, bi.timing_resolution);
    w_str(w, bi.board);
    w_str(w, bi.backend);
    w_str(w, bi.build_id);
    qnn_model_desc_t m;
    memset(&m, 0, sizeof(m));
    int selected = p->dev->selected_model(p->dev->ctx, &m) == QNN_DEV_OK;
    w_u8(w, selected ? 1 : 0);
    static const uint8_t zeros[QNN_HASH_BYTES];
    w_bytes(w, selected ? m.hash : zeros, QNN_HASH_BYTES);
    int n = p->dev->model_count(p->dev->ctx);
    if (n < 0) {
        n = 0;
    }
    if (n > 255) {
        n = 255;
    }
    w_u8(w, (uint8_t)n);
    for (int i = 0; i < n; i++) {
        if (p->dev->model_desc(p->dev->ctx, i, &m) == QNN_DEV_OK) {
            write_model(w, &m);
        }
    }
    return w->overflow ? QNN_ST_NO_SPACE : QNN_ST_OK;
}

static uint8_t do_set_squeeze(qnn_proto_t *p, const uint8_t *pl, size_t len, writer_t *w)
{
    if (len != 8) {
        return QNN_ST_BAD_PAYLOAD;
    }
    qnn_board_info_t bi;
    memset(&bi, 0, sizeof(bi));
    p->dev->board_info(p->dev->ctx, &bi);
    qnn_squeeze_t cfg;
    cfg.bit_depth = pl[0];
    cfg.median_size = pl[1];
    cfg.detector = pl[2] & 1u;
    uint32_t bits = qnn_get_u32(pl + 4);
    memcpy(&cfg.threshold, &bits, sizeof(bits));
    if (cfg.bit_depth > 8 || cfg.median_size > 16 || (pl[2] & ~1u) || pl[3] != 0 || cfg.threshold != cfg.threshold) {
        return QNN_ST_BAD_PAYLOAD;
    }
    int wants_squeeze = cfg.bit_depth != 0 || cfg.median_size > 1;
    if (!p->dev->set_squeeze || (wants_squeeze && !(bi.capabilities & QNN_CAP_SQUEEZE)) ||
        (cfg.detector && !(bi.capabilities & QNN_CAP_DETECTOR))) {
        return QNN_ST_NOT_SUPPORTED;
    }
    int rc = p->dev->set_squeeze(p->dev->ctx, &cfg);
    if (rc != QNN_DEV_OK) {
        return map_dev_error(rc, w);
    }
    w_bytes(w, pl, 8);
    return QNN_ST_OK;
}

static uint8_t do_input_chunk(qnn_proto_t *p, const uint8_t *pl, size_t len, writer_t *w)
{
    if (len < 4) {
        return QNN_ST_BAD_PAYLOAD;
    }
    uint32_t offset = qnn_get_u32(pl);
    uint32_t dlen = (uint32_t)(len - 4);
    uint32_t cap = 0;
    uint8_t *stage = p->dev->input_buffer ? p->dev->input_buffer(p->dev->ctx, &cap) : NULL;
    if (!stage) {
        return QNN_ST_NOT_SUPPORTED;
    }
    if ((uint64_t)offset + dlen > cap) {
        return QNN_ST_BAD_PAYLOAD;
    }
    memcpy(stage + offset, pl + 4, dlen);
    if (offset + dlen > p->staged_bytes) {
        p->staged_bytes = offset + dlen;
    }
    w_u32(w, p->staged_bytes);
    return QNN_ST_OK;
}

static uint8_t do_set_baud(qnn_proto_t *p, const uint8_t *pl, size_t len, writer_t *w, uint32_t *switch_to)
{
    if (len != 4) {
        return QNN_ST_BAD_PAYLOAD;
    }
    qnn_board_info_t bi;
    memset(&bi, 0, sizeof(bi));
    p->dev->board_info(p->dev->ctx, &bi);
    uint32_t baud = qnn_get_u32(pl);
    int listed = 0;
    for (unsigned i = 0; i < bi.n_bauds; i++) {
        listed |= bi.bauds[i] == baud;
    }
    if (!p->dev->set_baud || !listed) {
        return QNN_ST_NOT_SUPPORTED;
    }
    *switch_to = baud;
    w_u32(w, baud);
    return QNN_ST_OK;
}

static void remember(qnn_proto_t *p, uint16_t seq, uint8_t type, size_t raw_len)
{
    qnn_proto_cache_entry_t *e = &p->cache[p->cache_next];
    p->cache_next = (p->cache_next + 1) % QNN_PROTO_CACHE_ENTRIES;
    e->seq = seq;
    e->type = type;
    e->cached = raw_len <= sizeof(e->raw);
    e->len = (uint16_t)raw_len;
    if (e->cached) {
        /* kept with REPLAY set so a repeat is sent as is */
        memcpy(e->raw, p->tx_raw, raw_len);
        e->raw[2] |= QNN_FLAG_REPLAY;
        size_t body = raw_len - 4;
        qnn_put_u32(e->raw + body, qnn_frame_crc32(e->raw, body));
    }
}

static void handle_frame(qnn_proto_t *p, const qnn_frame_header_t *h, const uint8_t *pl)
{
    writer_t w = {p->tx_raw + QNN_FRAME_HEADER_BYTES, 0, QNN_PROTO_MAX_PAYLOAD, 0};
    uint8_t rtype = (uint8_t)(h->type | QNN_MSG_RESPONSE);
    p->stats[QNN_STAT_FRAMES_OK]++;
    if (h->version != QNN_PROTO_VERSION) {
        p->stats[QNN_STAT_BAD_VERSION]++;
        w_u8(&w, QNN_PROTO_VERSION);
        w_u8(&w, QNN_PROTO_VERSION);
        send_frame(p, rtype, 0, QNN_ST_BAD_VERSION, h->seq, w.n);
        return;
    }
    if (h->type == 0 || h->type > QNN_MSG_STATS) {
        p->stats[QNN_STAT_UNKNOWN_TYPE]++;
        send_frame(p, rtype, 0, QNN_ST_UNKNOWN_TYPE, h->seq, 0);
        return;
    }
    for (unsigned i = 0; i < QNN_PROTO_CACHE_ENTRIES; i++) {
        const qnn_proto_cache_entry_t *e = &p->cache[i];
        if (e->type == h->type && e->seq == h->seq) {
            p->stats[QNN_STAT_REPLAYS]++;
            if (e->cached) {
                send_raw(p, e->raw, e->len);
            } else {
                send_frame(p, rtype, QNN_FLAG_REPLAY, QNN_ST_NOT_CACHED, h->seq, 0);
            }
            return;
        }
    }

    uint8_t st = QNN_ST_OK;
    uint32_t new_baud = 0;
    size_t len = h->len;
    switch (h->type) {
    case QNN_MSG_HELLO:
        if (len != 4) {
            st = QNN_ST_BAD_PAYLOAD;
        } else {
            write_hello(p, &w);
        }
        break;
    case QNN_MSG_INFO:
        st = len == 0 ? do_info(p, &w) : QNN_ST_BAD_PAYLOAD;
        break;
    case QNN_MSG_SELECT_MODEL:
        if (len != QNN_HASH_BYTES) {
            st = QNN_ST_BAD_PAYLOAD;
        } else {
            int rc = p->dev->select_model(p->dev->ctx, pl);
            qnn_model_desc_t m;
            if (rc == QNN_DEV_OK) {
                rc = p->dev->selected_model(p->dev->ctx, &m);
            }
            if (rc != QNN_DEV_OK) {
                st = map_dev_error(rc, &w);
            } else {
                write_model(&w, &m);
            }
        }
        break;
    case QNN_MSG_UPLOAD_BEGIN:
        st = do_upload_begin(p, pl, len, &w);
        break;
    case QNN_MSG_UPLOAD_CHUNK:
        st = do_upload_chunk(p, pl, len, &w);
        break;
    case QNN_MSG_UPLOAD_END:
        st = do_upload_end(p, len, &w);
        break;
    case QNN_MSG_SET_SQUEEZE:
        st = do_set_squeeze(p, pl, len, &w);
        break;
    case QNN_MSG_INPUT_CHUNK:
        st = do_input_chunk(p, pl, len, &w);
        break;
    case QNN_MSG_INFER:
        st = do_infer(p, pl, len, &w);
        break;
    case QNN_MSG_BENCHMARK:
        st = do_benchmark(p, pl, len, &w);
        break;
    case QNN_MSG_RESET:
        if (len != 0) {
            st = QNN_ST_BAD_PAYLOAD;
        } else if (!p->dev->reset) {
            st = QNN_ST_NOT_SUPPORTED;
        } else {
            send_frame(p, rtype, 0, QNN_ST_OK, h->seq, 0);
            p->dev->reset(p->dev->ctx);
            return; /* a real board does not get here; nothing to remember across a reset */
        }
        break;
    case QNN_MSG_SET_BAUD:
        st = do_set_baud(p, pl, len, &w, &new_baud);
        break;
    case QNN_MSG_STATS:
        if (len != 0) {
            st = QNN_ST_BAD_PAYLOAD;
        } else {
            for (unsigned i = 0; i < QNN_STAT_COUNT; i++) {
                w_u32(&w, p->stats[i]);
            }
        }
        break;
    default:
        st = QNN_ST_UNKNOWN_TYPE;
        break;
    }
    if (st != QNN_ST_OK && st != QNN_ST_EXECUTOR && st != QNN_ST_UPLOAD_OFFSET) {
        w.n = 0; /* error answers carry no payload except where the spec says */
    }
    size_t raw_len = send_frame(p, rtype, 0, st, h->seq, w.n);
    if (st == QNN_ST_OK) {
        /* A refused request changed nothing, so a repeat may run again; and it must, when the refusal
         * depended on state the host restores after a reset (NO_MODEL before the model is re-selected). */
        remember(p, h->seq, h->type, raw_len);
    }
    if (new_baud) {
        p->dev->set_baud(p->dev->ctx, new_baud);
    }
}

void qnn_proto_rx_byte(qnn_proto_t *p, uint8_t byte)
{
    p->stats[QNN_STAT_BYTES_RECEIVED]++;
    qnn_rx_result_t r = qnn_frame_rx_push(&p->rx, byte);
    if (r == QNN_RX_NONE) {
        return;
    }
    if (r == QNN_RX_FRAME) {
        handle_frame(p, &p->rx.header, p->rx.payload);
        return;
    }
    static const uint8_t stat_of[6] = {0, QNN_STAT_BAD_CRC, QNN_STAT_BAD_COBS, QNN_STAT_RUNT, QNN_STAT_OVERSIZE,
                                       QNN_STAT_BAD_LENGTH};
    p->stats[stat_of[r]]++;
    send_nak(p, (uint8_t)r);
}

void qnn_proto_rx(qnn_proto_t *p, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        qnn_proto_rx_byte(p, data[i]);
    }
}
