/* The baseline the binary protocol is compared against: MLPerf Tiny's EEMBC runner protocol, as
 * the runner drives it: '%'-terminated text commands; an input arrives as "db load N" then
 * "db <hex>" commands of at most 31 bytes, each answered with "m-ready" before the next. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static const qnn_device_t *edev;
static char line[256];
static size_t line_len;
static uint8_t input[96 * 96 * 3];
static size_t expected, loaded;

static void say(const char *s) { sim_link_write(NULL, (const uint8_t *)s, strlen(s)); }

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

void eembc_init(const qnn_device_t *dev)
{
    edev = dev;
    line_len = 0;
    say("m-timestamp-mode-performance\r\nm-ready\r\n");
}

static void command(char *cmd)
{
    char out[256];
    if (strcmp(cmd, "name") == 0) {
        say("m-name-[qnnlab-sim]\r\nm-ready\r\n");
    } else if (strncmp(cmd, "db load ", 8) == 0) {
        unsigned long n = strtoul(cmd + 8, NULL, 10);
        expected = n <= sizeof(input) ? n : 0;
        loaded = 0;
        snprintf(out, sizeof(out), "m-[Expecting %lu bytes]\r\nm-ready\r\n", (unsigned long)expected);
        say(out);
    } else if (strncmp(cmd, "db ", 3) == 0) {
        const char *h = cmd + 3;
        while (h[0] && h[1] && loaded < expected) {
            int hi = hexval(h[0]), lo = hexval(h[1]);
            if (hi < 0 || lo < 0) {
                break;
            }
            input[loaded++] = (uint8_t)(hi * 16 + lo);
            h += 2;
        }
        say("m-ready\r\n");
    } else if (strncmp(cmd, "infer", 5) == 0) {
        static int32_t logits[1024];
        qnn_infer_result_t r;
        memset(&r, 0, sizeof(r));
        r.logits = logits;
        r.logits_cap = 1024;
        int rc = edev->infer(edev->ctx, input, (uint32_t)loaded, 0, &r);
        if (rc != QNN_DEV_OK) {
            snprintf(out, sizeof(out), "e-[infer failed %d]\r\nm-ready\r\n", rc);
            say(out);
            return;
        }
        say("m-results-[");
        for (unsigned i = 0; i < r.n_logits; i++) {
            snprintf(out, sizeof(out), i + 1 < r.n_logits ? "%ld," : "%ld", (long)logits[i]);
            say(out);
        }
        snprintf(out, sizeof(out), "]\r\nm-lap-us-%llu\r\nm-ready\r\n", (unsigned long long)(r.stage_time[QNN_STAGE_INFERENCE] / 1000u));
        say(out);
    } else {
        say("e-[Unknown command]\r\nm-ready\r\n");
    }
}

void eembc_rx_byte(uint8_t byte)
{
    if (byte == '%') {
        line[line_len] = 0;
        line_len = 0;
        command(line);
    } else if (byte != '\r' && byte != '\n' && line_len + 1 < sizeof(line)) {
        line[line_len++] = (char)byte;
    }
}
