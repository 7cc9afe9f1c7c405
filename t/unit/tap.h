/* tap.h: a minimal TAP producer for the C unit tests (header-only). */
#ifndef MT_TAP_H
#define MT_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failures;

static inline int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    tap_count++;
    printf("%s %d - ", pass ? "ok" : "not ok", tap_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!pass) {
        tap_failures++;
        printf("#   Failed test at %s line %d\n", file, line);
    }
    return pass;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...) do { \
        long long g_ = (long long)(got), w_ = (long long)(want); \
        if (!ok(g_ == w_, __VA_ARGS__)) \
            printf("#          got: %lld\n#     expected: %lld\n", g_, w_); \
    } while (0)

#define is_str(got, want, ...) do { \
        const char *g_ = (got), *w_ = (want); \
        int p_ = (g_ == NULL && w_ == NULL) || (g_ && w_ && strcmp(g_, w_) == 0); \
        if (!ok(p_, __VA_ARGS__)) \
            printf("#          got: '%s'\n#     expected: '%s'\n", g_ ? g_ : "(null)", \
                   w_ ? w_ : "(null)"); \
    } while (0)

#define like(got, needle, ...) do { \
        const char *g_ = (got), *n_ = (needle); \
        if (!ok(g_ && strstr(g_, n_), __VA_ARGS__)) \
            printf("#          got: '%s'\n#  to contain: '%s'\n", g_ ? g_ : "(null)", n_); \
    } while (0)

static inline int tap_done(void)
{
    printf("1..%d\n", tap_count);
    return tap_failures ? 1 : 0;
}

#endif
