#include "test_harness.h"

#include <string.h>

#define QT_MAX 256
static const char *s_names[QT_MAX];
static qt_fn s_fns[QT_MAX];
static int s_count;
int qt_failures;

void qt_register(const char *name, qt_fn fn)
{
    if (s_count < QT_MAX) {
        s_names[s_count] = name;
        s_fns[s_count] = fn;
        ++s_count;
    }
}

int main(int argc, char **argv)
{
    int ran = 0;
    for (int i = 0; i < s_count; ++i) {
        if (argc > 1 && strcmp(argv[1], s_names[i]) != 0) {
            continue;
        }
        int before = qt_failures;
        s_fns[i]();
        ++ran;
        printf("%s %s\n", qt_failures == before ? "PASS" : "FAIL", s_names[i]);
    }
    if (ran == 0) {
        fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "(any)");
        return 2;
    }
    return qt_failures ? 1 : 0;
}
