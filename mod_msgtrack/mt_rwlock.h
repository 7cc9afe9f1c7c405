/* mt_rwlock.h: writer-preferring read-write locks for the environments
 * msgtrack-index creates (see mt_rwlock.c for why). Link mt_rwlock.c into
 * programs that create Berkeley DB environments, never into the module. */
#ifndef MT_RWLOCK_H
#define MT_RWLOCK_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* pthread_rwlockattr_setkind_np */
#endif
#include <errno.h>
#include <pthread.h>

#if defined(__GLIBC__)
#define MT_HAVE_RWLOCK_PREFER_WRITER 1
#endif

/** 1 when this program's pthread_rwlock_init() makes writer-preferring
 *  locks, 0 when the C library offers no such kind (the default stays). */
int mt_rwlock_prefers_writers(void);

#endif
