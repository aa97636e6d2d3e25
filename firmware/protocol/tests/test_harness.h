/* A minimal test runner: TEST(name) functions, CHECK macros that record failures. The binary runs
 * one named test (as ctest registers them) or all. */
#ifndef TEST_HARNESS_H
#define TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(void);
typedef struct {
    const char *name;
    test_fn fn;
} test_case_t;

static int test_failures;

#define CHECK(cond)                                                                                 \
    do {                                                                                            \
        if (!(cond)) {                                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                \
            test_failures++;                                                                        \
        }                                                                                           \
    } while (0)
#define CHECK_EQ(a, b)                                                                              \
    do {                                                                                            \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                       \
        if (va_ != vb_) {                                                                           \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s = %lld, %s = %lld\n", __FILE__, __LINE__, #a, \
                    va_, #b, vb_);                                                                  \
            test_failures++;                                                                        \
        }                                                                                           \
    } while (0)
#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

#define TEST(name) static void name(void)

static int run_tests(const test_case_t *tests, size_t n, int argc, char **argv)
{
    int ran = 0;
    for (size_t i = 0; i < n; i++) {
        if (argc > 1 && strcmp(argv[1], tests[i].name) != 0) {
            continue;
        }
        int before = test_failures;
        tests[i].fn();
        ran++;
        printf("%s %s\n", test_failures == before ? "PASS" : "FAIL", tests[i].name);
    }
    if (ran == 0) {
        fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "(any)");
        return 2;
    }
    return test_failures ? 1 : 0;
}

#endif
