/**
 * @file mt_dirlock.h
 * @brief One failchk at a time: an exclusive lock on the index directory.
 *
 * Berkeley DB 5.3's failchk is not safe when two processes run it at once:
 * __lock_failchk lets go of the lockers' mutex between releasing a dead
 * locker's locks and freeing the locker, and a second failchk can free the
 * same locker (bench/stress.sh saw httpd children segfault in
 * __lock_freelocker, with follow's failchk then waiting forever). Every
 * process that runs failchk, or opens the index (mt_store_open() runs it),
 * holds this lock meanwhile: flock(2) on the directory itself, so no file is
 * added to the index, and the lock is the open file description's (threads
 * of one process exclude each other too, and a process that dies lets go).
 * Core code: APR and POSIX only.
 */
#ifndef MT_DIRLOCK_H
#define MT_DIRLOCK_H

#include <apr_pools.h>
#include <apr_time.h>

/** Take the lock on directory @a dir, waiting up to @a wait. Returns a
 *  handle (>= 0) for mt_dirlock_release(); -1 when the lock was not had in
 *  time; -2 when the directory cannot be opened (it does not exist yet, say:
 *  then there is nothing to check, and the caller goes on without it). */
int mt_dirlock_take(const char *dir, apr_interval_time_t wait);

/** Let go of the lock taken with mt_dirlock_take() (a negative handle is
 *  ignored). */
void mt_dirlock_release(int handle);

#endif
