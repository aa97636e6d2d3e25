/* Minimal test harness: TEST(name) registers a case; the runner runs one case (argv[1]) or all. */
#ifndef QNN_TEST_HARNESS_H
#define QNN_TEST_HARNESS_H

#include <stdio.h>

typedef void (*qt_fn)(void);
void qt_register(const char *name, qt_fn fn);
extern int qt_failures;

#define TEST(name)                                                                                           \
    static void test_##name(void);                                                                           \
    __attribute__((constructor)) static void register_##name(void)                                           \
    {                                                                                                        \
        qt_register(#name, test_##name);                                                                     \
    }                                                                                                        \
    static void test_##name(void)

#define EXPECT_EQ(actual, expected)                                                                          \
    do {                                                                                                     \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                                      \
        if (a_ != e_) {                                                                                      \
            fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #actual, a_, e_);      \
            ++qt_failures;                                                                                   \
        }                                                                                                    \
    } while (0)

#define EXPECT_TRUE(cond)                                                                                    \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);                              \
            ++qt_failures;                                                                                   \
        }                                                                                                    \
    } while (0)

#endif
