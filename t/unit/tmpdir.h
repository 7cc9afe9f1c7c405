/* tmpdir.h: scratch directories for the unit tests (header-only). */
#ifndef MT_TEST_TMPDIR_H
#define MT_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>
#include <apr_strings.h>

/* A new directory /tmp/NAME-XXXXXX, or NULL. */
static inline char *tmpdir_make(apr_pool_t *p, const char *name)
{
    return mkdtemp(apr_psprintf(p, "/tmp/%s-XXXXXX", name));
}

static inline void tmpdir_remove(apr_pool_t *p, const char *dir)
{
    if (dir && system(apr_psprintf(p, "rm -rf '%s'", dir)) != 0)
        printf("# could not remove %s\n", dir);
}

#endif
