/* mt_dirlock.c: one failchk at a time, by flock(2) on the index directory */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <apr_time.h>
#include "mt_dirlock.h"

int mt_dirlock_take(const char *dir, apr_interval_time_t wait)
{
    apr_time_t deadline = apr_time_now() + wait;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        return -2;
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return fd;
        if ((errno != EWOULDBLOCK && errno != EINTR) || apr_time_now() >= deadline)
            break;
        apr_sleep(apr_time_from_msec(5));
    }
    close(fd);
    return -1;
}

void mt_dirlock_release(int handle)
{
    if (handle < 0)
        return;
    flock(handle, LOCK_UN);
    close(handle);
}
