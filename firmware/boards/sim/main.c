/* qnn-sim: the device core (protocol engine + executor) as a Linux process. It creates a pseudo-
 * terminal and prints "pty: <path>" so a host opens it like a real serial port, or talks over
 * stdin/stdout (--stdio). Optional: baud-rate throttling in both directions, fault injection on
 * the bytes in both directions, a reset after every N inferences (the in-flight input is lost, as
 * on a board), a board that goes away for good after N inferences (--die-after: unplugged or hung,
 * for the host's re-queueing onto other boards), and the MLPerf/EEMBC text protocol (--eembc) for
 * the link benchmark's baseline.
 *
 *   qnn-sim [--stdio] [--baud N] [--drop P] [--corrupt P] [--dup P] [--seed S]
 *           [--reset-every N] [--die-after N] [--select-first] [--eembc] [--core] [--model FILE]...
 *
 * --core (only when built inside the firmware tree, with the device core): the real executor instead
 * of the fake one; --model registers a model blob file (repeatable), and uploads go to a 4 MiB buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "qnn_fake_device.h"
#ifdef QNN_SIM_HAVE_CORE
#include "qnn_core_device.h"
#endif
#include "qnn_protocol.h"
#include "sim.h"

static qnn_fake_device_t fake;
static qnn_device_t dev;
static qnn_proto_t proto;

static int in_fd = -1, out_fd = -1;
static int use_core;
static const char *model_files[8];
static int n_model_files;
#ifdef QNN_SIM_HAVE_CORE
static qnn_core_device_t core;
static _Alignas(8) uint8_t core_upload[4u << 20];
static _Alignas(8) uint8_t core_blobs[8][1u << 20];
#endif
static unsigned long baud;
static double p_drop, p_corrupt, p_dup;
static unsigned long reset_every;
static unsigned long die_after;
static int select_first, eembc;
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t link_free_ns; /* when the throttled transmitter is free again */
static int reset_pending;
static uint32_t boot_count;
static uint8_t out_buf[1 << 16];
static size_t out_len;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t clock_hook(void *ctx)
{
    (void)ctx;
    return now_ns();
}

static double rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / (double)(1ull << 53);
}

static void sleep_until(uint64_t t)
{
    uint64_t n = now_ns();
    if (t > n) {
        struct timespec ts = {(time_t)((t - n) / 1000000000ull), (long)((t - n) % 1000000000ull)};
        nanosleep(&ts, NULL);
    }
}

/* 10 bit times per byte (8N1). */
static void throttle(size_t bytes)
{
    if (!baud) {
        return;
    }
    uint64_t n = now_ns();
    if (link_free_ns < n) {
        link_free_ns = n;
    }
    link_free_ns += (uint64_t)bytes * 10u * 1000000000ull / baud;
    sleep_until(link_free_ns);
}

static void flush_out(void)
{
    size_t off = 0;
    while (off < out_len) {
        ssize_t k = write(out_fd, out_buf + off, out_len - off);
        if (k < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                struct pollfd pfd = {out_fd, POLLOUT, 0};
                poll(&pfd, 1, 10);
                continue;
            }
            exit(0); /* the host went away */
        }
        off += (size_t)k;
    }
    throttle(out_len);
    out_len = 0;
}

static void put_byte(uint8_t b)
{
    if (out_len == sizeof(out_buf)) {
        flush_out();
    }
    out_buf[out_len++] = b;
}

void sim_link_write(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    for (size_t i = 0; i < len; i++) {
        uint8_t b = data[i];
        if (p_drop > 0 && rnd() < p_drop) {
            continue;
        }
        if (p_corrupt > 0 && rnd() < p_corrupt) {
            b ^= (uint8_t)(1u + (unsigned)(rnd() * 255.0));
        }
        put_byte(b);
        if (p_dup > 0 && rnd() < p_dup) {
            put_byte(b);
        }
    }
}

/* SET_BAUD changes the emulated line rate (a pty has none of its own). */
static const uint32_t sim_bauds[] = {9600u, 115200u, 230400u, 460800u, 921600u, 2000000u};

static int on_set_baud(void *ctx, uint32_t b)
{
    (void)ctx;
    flush_out(); /* the answer leaves at the old rate */
    baud = b;
    return QNN_DEV_OK;
}

static void on_reset(void *ctx)
{
    (void)ctx;
    reset_pending = 1;
}

static unsigned long inferences(void)
{
#ifdef QNN_SIM_HAVE_CORE
    if (use_core) {
        return proto.stats[QNN_STAT_INFERENCES];
    }
#endif
    return fake.inferences;
}

#ifdef QNN_SIM_HAVE_CORE
static void boot_core(void)
{
    qnn_core_device_init(&core, &dev, core_upload, sizeof(core_upload));
    core.info.board = "sim";
    core.info.build_id = "qnn-sim " __DATE__ " " __TIME__;
    core.info.timing_unit = QNN_TIMING_NS; /* qnn_platform_posix: monotonic ns */
    core.on_reset = on_reset;
    core.on_set_baud = on_set_baud;
    core.info.bauds = sim_bauds;
    core.info.n_bauds = sizeof(sim_bauds) / sizeof(sim_bauds[0]);
    core.info.current_baud = (uint32_t)baud;
    for (int i = 0; i < n_model_files; i++) {
        FILE *f = fopen(model_files[i], "rb");
        size_t n = f ? fread(core_blobs[i], 1, sizeof(core_blobs[i]), f) : 0;
        if (f) {
            fclose(f);
        }
        qnn_status s = n ? qnn_core_device_add_model(&core, core_blobs[i], (uint32_t)n) : QNN_E_TRUNCATED;
        if (s != QNN_OK) {
            fprintf(stderr, "qnn-sim: model %s refused: %s\n", model_files[i], qnn_status_name(s));
            exit(1);
        }
    }
    if (select_first && core.n_models > 0) {
        dev.select_model(dev.ctx, core.models[0].hash);
    }
}
#endif

static void boot(void)
{
#ifdef QNN_SIM_HAVE_CORE
    if (use_core) {
        boot_core();
    } else
#endif
        qnn_fake_device_init(&fake, &dev);
    if (!use_core) {
        fake.info.board = "sim";
        fake.info.backend = "fake";
        fake.info.build_id = "qnn-sim " __DATE__ " " __TIME__;
        fake.info.timing_unit = QNN_TIMING_NS;
        fake.info.timing_resolution = 1;
        fake.now = clock_hook;
        fake.on_reset = on_reset;
        fake.on_set_baud = on_set_baud;
        fake.info.bauds = sim_bauds;
        fake.info.n_bauds = sizeof(sim_bauds) / sizeof(sim_bauds[0]);
        fake.info.current_baud = (uint32_t)baud;
        if (select_first) {
            dev.select_model(dev.ctx, fake.models[0].hash);
        }
    }
    boot_count++;
    uint32_t boot_id = (uint32_t)(now_ns() ^ ((uint64_t)getpid() << 16)) * 2654435761u + boot_count;
    qnn_proto_init(&proto, &dev, sim_link_write, NULL, boot_id ? boot_id : 1);
    if (eembc) {
        eembc_init(&dev);
    } else {
        qnn_proto_boot(&proto);
    }
    flush_out();
}

/* A board reset loses whatever was still in flight towards it. */
static void reset_board(void)
{
    if (isatty(in_fd)) {
        tcflush(in_fd, TCIFLUSH);
    }
    reset_pending = 0;
    boot();
}

static int open_pty(void)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0) {
        perror("posix_openpt");
        exit(1);
    }
    const char *name = ptsname(m);
    /* Hold the slave open: the master then never sees EIO when the host closes and reopens, and
     * raw mode here keeps the line discipline from echoing or translating before the host opens. */
    int s = open(name, O_RDWR | O_NOCTTY);
    if (s < 0) {
        perror("open pty slave");
        exit(1);
    }
    struct termios t;
    tcgetattr(s, &t);
    cfmakeraw(&t);
    tcsetattr(s, TCSANOW, &t);
    printf("pty: %s\n", name);
    fflush(stdout);
    return m;
}

int main(int argc, char **argv)
{
    int use_stdio = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : "0";
        if (!strcmp(a, "--stdio")) {
            use_stdio = 1;
        } else if (!strcmp(a, "--eembc")) {
            eembc = 1;
        } else if (!strcmp(a, "--select-first")) {
            select_first = 1;
        } else if (!strcmp(a, "--core")) {
#ifndef QNN_SIM_HAVE_CORE
            fprintf(stderr, "qnn-sim: built without the device core (build it inside firmware/)\n");
            return 2;
#endif
            use_core = 1;
        } else if (!strcmp(a, "--model") && n_model_files < 8) {
            model_files[n_model_files++] = v;
            i++;
        } else if (!strcmp(a, "--baud")) {
            baud = strtoul(v, NULL, 10);
            i++;
        } else if (!strcmp(a, "--drop")) {
            p_drop = atof(v);
            i++;
        } else if (!strcmp(a, "--corrupt")) {
            p_corrupt = atof(v);
            i++;
        } else if (!strcmp(a, "--dup")) {
            p_dup = atof(v);
            i++;
        } else if (!strcmp(a, "--seed")) {
            rng_state = strtoull(v, NULL, 10) * 0x9E3779B97F4A7C15ull + 1;
            i++;
        } else if (!strcmp(a, "--reset-every")) {
            reset_every = strtoul(v, NULL, 10);
            i++;
        } else if (!strcmp(a, "--die-after")) {
            die_after = strtoul(v, NULL, 10);
            i++;
        } else {
            fprintf(stderr, "usage: qnn-sim [--stdio] [--baud N] [--drop P] [--corrupt P] [--dup P] [--seed S] "
                            "[--reset-every N] [--die-after N] [--select-first] [--eembc] [--core] [--model FILE]...\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    if (use_stdio) {
        in_fd = 0;
        out_fd = 1;
    } else {
        in_fd = out_fd = open_pty();
    }
    boot();
    uint8_t buf[4096];
    for (;;) {
        /* Throttled: read no more than the link could have delivered since the last read. */
        size_t want = sizeof(buf);
        if (baud) {
            want = baud / 10 / 200 + 1; /* ~5 ms of line time per read */
            if (want > sizeof(buf)) {
                want = sizeof(buf);
            }
        }
        ssize_t n = read(in_fd, buf, want);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
            if (use_stdio) {
                return 0;
            }
            usleep(10000); /* pty without a host yet */
            continue;
        }
        if (n < 0) {
            continue;
        }
        if (baud) {
            uint64_t until = now_ns() + (uint64_t)n * 10u * 1000000000ull / baud;
            sleep_until(until);
        }
        for (ssize_t i = 0; i < n; i++) {
            uint8_t b = buf[i];
            if (p_drop > 0 && rnd() < p_drop) {
                continue;
            }
            if (p_corrupt > 0 && rnd() < p_corrupt) {
                b ^= (uint8_t)(1u + (unsigned)(rnd() * 255.0));
            }
            int times = (p_dup > 0 && rnd() < p_dup) ? 2 : 1;
            for (int k = 0; k < times; k++) {
                if (eembc) {
                    eembc_rx_byte(b);
                } else {
                    qnn_proto_rx_byte(&proto, b);
                }
            }
            if (reset_pending) {
                flush_out();
                reset_board();
                break; /* the rest of this read was in flight: lost */
            }
            if (reset_every && inferences() >= reset_every) {
                flush_out();
                reset_board(); /* fake.inferences restarts at 0 */
                break;
            }
            if (die_after && inferences() >= die_after) {
                flush_out();
                fprintf(stderr, "qnn-sim: gone after %lu inferences (--die-after)\n", die_after);
                return 3; /* the pty closes with the process: the host sees the board vanish */
            }
        }
        flush_out();
    }
}
