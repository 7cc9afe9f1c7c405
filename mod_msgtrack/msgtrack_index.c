/* msgtrack_index.c: the msgtrack-index command */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <libxml/xmlversion.h>
#include <db.h>
#include "mt_dirlock.h"
#include "mt_ingest.h"
#include "mt_log.h"
#include "mt_query.h"
#include "mt_store.h"
#include "mt_time.h"
#include "mt_version.h"
#include "msgtrack_index_query.h"

#define EXIT_USAGE 2
/* A follow worker that stopped so that the index is recovered (failchk
 * said the environment needs it): its supervisor starts it again at once,
 * and the start runs recovery. Never the command's own exit status. */
#define EXIT_RECOVER 3
/* A follow worker whose reading or writing failed: started again too, but
 * after a pause that grows while it keeps failing. */
#define EXIT_RETRY 4

typedef struct {
    const char *name;
    int takes_value;
} opt_t;

/* A parsed command line. */
typedef struct {
    apr_pool_t *pool;
    const char *db;
    apr_table_t *opts;                /* option -> value ("" for flags) */
    apr_array_header_t *args;         /* positional, const char * */
} cmdline_t;

typedef struct {
    const char *name;
    const char *synopsis;
    const opt_t *opts;
    int min_args, max_args;   /* positional arguments; max -1: unbounded */
    int (*run)(cmdline_t *cl);
} subcmd_t;

static int cmd_ingest(cmdline_t *cl);
static int cmd_follow(cmdline_t *cl);
static int cmd_stats(cmdline_t *cl);
static int cmd_verify(cmdline_t *cl);
static int cmd_purge(cmdline_t *cl);
static int cmd_find(cmdline_t *cl);
static int cmd_report(cmdline_t *cl);
static int cmd_dump(cmdline_t *cl);

static const opt_t ingest_opts[] = {
    { "--format", 1 }, { "--host", 1 }, { "--year", 1 }, { NULL, 0 } };
static const opt_t follow_opts[] = {
    { "--format", 1 }, { "--host", 1 }, { "--year", 1 }, { NULL, 0 } };
static const opt_t purge_opts[] = { { "--older-than", 1 }, { NULL, 0 } };
static const opt_t find_opts[] = {
    { "--sender", 1 }, { "--recipient", 1 }, { "--subject", 1 }, { "--message-id", 1 },
    { "--start", 1 }, { "--end", 1 }, { "--json", 0 }, { NULL, 0 } };
static const opt_t report_opts[] = { { "--recipient", 1 }, { "--json", 0 }, { NULL, 0 } };
static const opt_t stats_opts[] = { { "--json", 0 }, { NULL, 0 } };
static const opt_t no_opts[] = { { NULL, 0 } };

static const subcmd_t subcmds[] = {
    { "ingest", "ingest [--format auto|msgtrk|postfix|dovecot] [--host NAME] [--year YYYY] FILE...|-",
      ingest_opts, 1, -1, cmd_ingest },
    { "follow", "follow [--format ...] [--host NAME] [--year YYYY] FILE...", follow_opts, 1, -1,
      cmd_follow },
    { "stats", "stats [--json]", stats_opts, 0, 0, cmd_stats },
    { "verify", "verify", no_opts, 0, 0, cmd_verify },
    { "purge", "purge --older-than DAYS", purge_opts, 0, 0, cmd_purge },
    { "find", "find [--sender A] [--recipient A] [--subject S] [--message-id ID] "
              "[--start T] [--end T] [--json]", find_opts, 0, 0, cmd_find },
    { "report", "report ID|MESSAGE-ID [--recipient A] [--json]", report_opts, 1, 1, cmd_report },
    { "dump", "dump", no_opts, 0, 0, cmd_dump },
    { NULL, NULL, NULL, 0, 0, NULL }
};

static void usage(FILE *f)
{
    const subcmd_t *sc;
    fprintf(f, "usage: msgtrack-index --db DIR COMMAND [OPTIONS]\n"
               "       msgtrack-index --help | --version\n\ncommands:\n");
    for (sc = subcmds; sc->name; sc++)
        fprintf(f, "  %s\n", sc->synopsis);
    fprintf(f, "\nexit status: 0 ok, 1 runtime error, 2 usage error\n");
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "msgtrack-index: %s%s%s\nTry 'msgtrack-index --help'.\n", what,
            arg ? " " : "", arg ? arg : "");
    return EXIT_USAGE;
}

static const opt_t *find_opt(const opt_t *opts, const char *name)
{
    for (; opts->name; opts++)
        if (strcmp(opts->name, name) == 0)
            return opts;
    return NULL;
}

/* ------------------------------------------------------------------ helpers */

static int fail(const char *what)
{
    fprintf(stderr, "msgtrack-index: %s\n", what);
    return 1;
}

/* ------------------------------------------------------------------ the watched store */

/* A process killed inside Berkeley DB (an httpd child, say) may die holding
 * one of the environment's mutexes: then whoever needs it waits forever,
 * and failchk reports that only recovery can help. A thread cannot leave
 * such a wait, so every command has a watchdog thread. While the index
 * opens it watches that the process keeps using the CPU (recovery does; a
 * wait on a dead process's mutex does not) and gives up after OPEN_STALL
 * without any; once open it runs failchk once a second, which also
 * releases what dead processes held of locks and transactions. When the
 * environment needs recovery the process ends at once, without closing
 * the index, as a kill -9 would: a writer has registered itself, so the
 * next writer to open the index sees it gone and runs recovery (everything
 * committed is kept); a reader just says so. */
#define OPEN_STALL apr_time_from_sec(30)
/* failchk itself may wait forever: when it began while a process was alive
 * and inside the library, and that process then died holding a mutex
 * failchk needs (seen under bench/stress.sh: follow's watchdog spun in
 * __lock_failchk on a segfaulted child's lock region mutex, its main thread
 * waiting on the same). An alarm ends the process if it has not returned in
 * this many seconds. */
#define FAILCHK_LIMIT 10
/* How long a command waits for the lock another process holds to run
 * failchk (mt_dirlock.h) before going on without it: failchk and a reader's
 * open take milliseconds, so a holder for longer waits on a dead process's
 * mutex (its open stuck, say, after a writer was killed) and runs no
 * failchk; and only a writer's recovery will free it. */
#define LOCK_PATIENCE apr_time_from_sec(10)
/* How long a reading command waits for that lock to join the environment
 * before giving up: an httpd child stuck holding it is ended by its watch
 * 10 to 20 s after its open began. */
#define READ_LOCK_PATIENCE apr_time_from_sec(25)

/* What the SIGALRM handler says and how it exits: set before the alarm is. */
static char alarm_msg[1024];
static size_t alarm_len;
static int alarm_status;

static void on_alarm(int sig)
{
    (void)sig;
    if (write(2, alarm_msg, alarm_len) < 0)
        _exit(alarm_status);
    _exit(alarm_status);
}

typedef struct {
    const char *dir;
    mt_store_t *store;         /* NULL while opening */
    int status;                /* exit status when recovery is needed */
    const char *advice;        /* said on stderr before exiting */
    pthread_t opener;          /* the thread that opens the index */
    int stop;
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *cond;
    apr_thread_t *thread;
} watchdog_t;

/* The CPU time of the thread that opens the index: not the process's, which
 * the watchdog's own wake-ups move every second (so an open stuck on a dead
 * process's mutex was never seen to stall). */
static apr_interval_time_t cpu_time(pthread_t opener)
{
    struct timespec ts;
    clockid_t cid;
    if (pthread_getcpuclockid(opener, &cid) != 0 || clock_gettime(cid, &ts) != 0)
        return 0;
    return apr_time_from_sec(ts.tv_sec) + ts.tv_nsec / 1000;
}

static void watchdog_exit(watchdog_t *w, const char *err)
{
    fprintf(stderr, "msgtrack-index: %s\nmsgtrack-index: %s\n", err, w->advice);
    fflush(stderr);
    _exit(w->status);
}

static void *APR_THREAD_FUNC watchdog_run(apr_thread_t *t, void *data)
{
    watchdog_t *w = data;
    apr_interval_time_t cpu = cpu_time(w->opener);
    apr_time_t moved = apr_time_now();
    char msg[512];
    int missed = 0;
    (void)t;

    apr_thread_mutex_lock(w->mutex);
    while (!w->stop) {
        const char *err;
        apr_thread_cond_timedwait(w->cond, w->mutex, apr_time_from_sec(1));
        if (w->stop)
            break;
        if (!w->store) {
            apr_interval_time_t now_cpu = cpu_time(w->opener);
            if (now_cpu != cpu) {
                cpu = now_cpu;
                moved = apr_time_now();
            }
            else if (apr_time_now() - moved > OPEN_STALL) {
                apr_snprintf(msg, sizeof(msg), "index %s: opening it has waited %"
                             APR_TIME_T_FMT " s without progress (a process probably died "
                             "inside Berkeley DB holding one of its mutexes)", w->dir,
                             apr_time_sec(OPEN_STALL));
                watchdog_exit(w, msg);
            }
        }
        else {
            /* One failchk at a time (mt_dirlock.h): wait for the lock, up to
             * LOCK_PATIENCE in all, then run it anyway. */
            int lk = mt_dirlock_take(w->dir, apr_time_from_sec(5));
            err = NULL;
            if (lk != -1 || ++missed * apr_time_from_sec(5) >= LOCK_PATIENCE) {
                missed = 0;
                alarm(FAILCHK_LIMIT);
                err = mt_store_failchk(w->store);
                alarm(0);
            }
            mt_dirlock_release(lk);
            if (err)
                watchdog_exit(w, err);
        }
    }
    apr_thread_mutex_unlock(w->mutex);
    return NULL;
}

/* A pre-cleanup: the thread ends before the store closes. */
static apr_status_t watchdog_stop(void *data)
{
    watchdog_t *w = data;
    apr_status_t rv;
    apr_thread_mutex_lock(w->mutex);
    w->stop = 1;
    apr_thread_cond_signal(w->cond);
    apr_thread_mutex_unlock(w->mutex);
    apr_thread_join(&rv, w->thread);
    return APR_SUCCESS;
}

/* Open the index, watched (above). A writer that must stop for recovery
 * exits with @a recover_status, a reader with 1. */
static int open_watched(cmdline_t *cl, mt_store_mode_e mode, int recover_status,
                        mt_store_t **st)
{
    watchdog_t *w = apr_pcalloc(cl->pool, sizeof(*w));
    const char *err;

    w->dir = cl->db;
    w->opener = pthread_self();
    w->status = mode == MT_STORE_WRITER ? recover_status : 1;
    w->advice = mode != MT_STORE_WRITER
        ? "the index needs recovery, which the next start of ingest or follow runs "
          "(follow does it by itself): run the command again then"
        : recover_status == EXIT_RECOVER
        ? "follow starts again, and recovers the index"
        : "stopped without closing the index, so that the next run recovers it: run "
          "the command again";
    alarm_len = (size_t)apr_snprintf(alarm_msg, sizeof(alarm_msg), "msgtrack-index: index %s: "
                                     "failchk has not returned in %d s (a process probably "
                                     "died inside Berkeley DB holding one of its mutexes)\n"
                                     "msgtrack-index: %s\n", cl->db, FAILCHK_LIMIT, w->advice);
    alarm_status = w->status;
    signal(SIGALRM, on_alarm);
    if (apr_thread_mutex_create(&w->mutex, APR_THREAD_MUTEX_DEFAULT, cl->pool) != APR_SUCCESS
        || apr_thread_cond_create(&w->cond, cl->pool) != APR_SUCCESS
        || apr_thread_create(&w->thread, NULL, watchdog_run, w, cl->pool) != APR_SUCCESS)
        return fail("cannot start the failure-check thread");
    apr_pool_pre_cleanup_register(cl->pool, w, watchdog_stop);
    /* Joining the environment and failchk take the lock (mt_dirlock.h): a
     * writer goes on without it after LOCK_PATIENCE, a reader gives up after
     * READ_LOCK_PATIENCE. */
    if ((err = mt_store_open_wait(cl->pool, cl->db, mode, mode == MT_STORE_WRITER
                                  ? LOCK_PATIENCE : READ_LOCK_PATIENCE, st)) != NULL)
        return fail(err);
    apr_thread_mutex_lock(w->mutex);
    w->store = *st;
    apr_thread_mutex_unlock(w->mutex);
    return 0;
}

static int open_store(cmdline_t *cl, mt_store_mode_e mode, mt_store_t **st)
{
    return open_watched(cl, mode, 1, st);
}

/* The writer's store: @a recover_status as for open_watched(). */
static int open_writer(cmdline_t *cl, int recover_status, mt_store_t **st)
{
    return open_watched(cl, MT_STORE_WRITER, recover_status, st);
}

static const char *opt(cmdline_t *cl, const char *name)
{
    return apr_table_get(cl->opts, name);
}

/* ------------------------------------------------------------------ ingest, follow */

typedef struct {
    int tty;
    apr_time_t started, shown;
    const mt_ingest_t *in;
} progress_t;

static void on_diag(void *baton, const char *path, apr_uint64_t line, const char *why)
{
    progress_t *pr = baton;
    if (pr->tty && pr->shown)
        fputs("\r\033[K", stderr);
    fprintf(stderr, "msgtrack-index: %s:%" APR_UINT64_T_FMT ": %s\n", path, line, why);
}

static void on_progress(void *baton, const char *path, apr_uint64_t done, apr_uint64_t size)
{
    progress_t *pr = baton;
    apr_time_t now;
    const mt_ingest_stats_t *s;
    double secs;

    if (!pr->tty)
        return;
    now = apr_time_now();
    if (now - pr->shown < apr_time_from_msec(250))
        return;
    pr->shown = now;
    s = mt_ingest_stats(pr->in);
    secs = (double)(now - pr->started) / APR_USEC_PER_SEC;
    if (secs <= 0)
        secs = 1e-6;
    fprintf(stderr, "\r\033[K%s: ", path);
    if (size)
        fprintf(stderr, "%5.1f%%  ", 100.0 * (double)done / (double)size);
    fprintf(stderr, "%" APR_UINT64_T_FMT " lines  %.0f lines/s  %.1f MB/s", s->lines,
            (double)s->lines / secs, (double)s->bytes / secs / 1e6);
    fflush(stderr);
}

static int get_ingest_opts(cmdline_t *cl, mt_ingest_opts_t *o, progress_t *pr)
{
    const char *v;
    memset(o, 0, sizeof(*o));
    memset(pr, 0, sizeof(*pr));
    if ((v = opt(cl, "--format")) != NULL && strcmp(v, "auto") != 0) {
        o->format = mt_format_lookup(v);
        if (o->format == MT_FORMAT_UNKNOWN)
            return usage_error("--format takes auto, msgtrk, postfix or dovecot, not", v);
    }
    o->host = opt(cl, "--host");
    if ((v = opt(cl, "--year")) != NULL) {
        char *end;
        long y = strtol(v, &end, 10);
        if (*end || y < 1970 || y > 9999)
            return usage_error("--year takes a year from 1970 to 9999, not", v);
        o->year = (int)y;
    }
    if ((v = getenv("MSGTRACK_BATCH_LINES")) != NULL)   /* for the crash test */
        o->batch_lines = (unsigned)strtoul(v, NULL, 10);
    o->diag = on_diag;
    o->progress = on_progress;
    o->baton = pr;
    pr->tty = isatty(2);
    pr->started = apr_time_now();
    /* mktime() and localtime() read the zone on every call unless TZ is set. */
    if (!getenv("TZ"))
        setenv("TZ", ":/etc/localtime", 1);
    tzset();
    return 0;
}

static void summary(const mt_ingest_t *in, int files, apr_time_t started, int tty)
{
    const mt_ingest_stats_t *s = mt_ingest_stats(in);
    const mt_corr_stats_t *c = mt_ingest_corr_stats(in);
    double secs = (double)(apr_time_now() - started) / APR_USEC_PER_SEC;

    if (tty)
        fputs("\r\033[K", stderr);
    if (!tty && !s->bad)
        return;
    fprintf(stderr, "msgtrack-index: %d file%s, %" APR_UINT64_T_FMT " lines (%"
            APR_UINT64_T_FMT " records, %" APR_UINT64_T_FMT " did not parse) in %.1f s; %"
            APR_UINT64_T_FMT " messages, %" APR_UINT64_T_FMT " events added\n",
            files, files == 1 ? "" : "s", s->lines, s->records, s->bad, secs, c->hops,
            c->events);
    if (s->unfinished)
        fprintf(stderr, "msgtrack-index: %" APR_UINT64_T_FMT " bytes of unfinished last "
                "lines left for the next run\n", s->unfinished);
}

typedef struct {
    const char *path;
    apr_time_t mtime;
    int order;
} input_t;

static int by_mtime(const void *a, const void *b)
{
    const input_t *x = a, *y = b;
    if (x->mtime != y->mtime)
        return x->mtime < y->mtime ? -1 : 1;
    return x->order - y->order;
}

static int cmd_ingest(cmdline_t *cl)
{
    mt_ingest_opts_t o;
    progress_t pr;
    mt_store_t *st;
    mt_ingest_t *in;
    input_t *inputs;
    const char *err;
    int i, n = cl->args->nelts, rc;

    if ((rc = get_ingest_opts(cl, &o, &pr)) != 0)
        return rc;
    /* Oldest first: a message that spans a rotation is read in order. */
    inputs = apr_pcalloc(cl->pool, sizeof(*inputs) * (apr_size_t)n);
    for (i = 0; i < n; i++) {
        struct stat sb;
        inputs[i].path = APR_ARRAY_IDX(cl->args, i, const char *);
        inputs[i].order = i;
        if (strcmp(inputs[i].path, "-") == 0)
            inputs[i].mtime = APR_INT64_MAX;
        else if (stat(inputs[i].path, &sb) != 0)
            return fail(apr_psprintf(cl->pool, "cannot open %s: %s", inputs[i].path,
                                     strerror(errno)));
        else
            inputs[i].mtime = (apr_time_t)sb.st_mtime;
    }
    qsort(inputs, (size_t)n, sizeof(*inputs), by_mtime);
    if ((rc = open_writer(cl, 1, &st)) != 0)
        return rc;
    in = mt_ingest_create(cl->pool, st, &o);
    pr.in = in;
    for (i = 0; i < n; i++) {
        apr_pool_t *fp;
        mt_source_t *src;
        apr_pool_create(&fp, cl->pool);
        err = mt_ingest_open(in, fp, inputs[i].path, &src);
        if (!err)
            err = mt_ingest_read(in, src);
        if (err) {
            if (pr.tty && pr.shown)
                fputs("\r\033[K", stderr);
            return fail(err);
        }
        mt_ingest_close(src);
        apr_pool_destroy(fp);
    }
    /* What ingest reported is on disk when it returns, and the log files
     * the checkpoint made unnecessary are gone. */
    if ((err = mt_store_checkpoint(st, 1)) != NULL)
        return fail(err);
    summary(in, n, pr.started, pr.tty);
    return 0;
}

/* A follow worker whose reading failed (the index out of memory or dead,
 * a log that cannot be read) stops as the watchdog does: the supervisor
 * starts it again, the start recovers the index, and reading resumes at
 * the offsets committed, so nothing is lost or read twice. */
static int follow_failed(const char *err)
{
    fprintf(stderr, "msgtrack-index: %s\nmsgtrack-index: follow starts again, and recovers "
            "the index\n", err);
    fflush(stderr);
    _exit(EXIT_RETRY);
}

/* The follow worker: read what is there, then poll; SIGINT/SIGTERM/SIGHUP
 * end it after the current batch is committed. The signals are blocked and
 * taken with sigtimedwait(), which is also the poll interval. */
static int follow_worker(cmdline_t *cl)
{
    mt_ingest_opts_t o;
    progress_t pr;
    mt_store_t *st;
    mt_ingest_t *in;
    sigset_t stop;
    struct timespec poll = { 0, 250 * 1000 * 1000 };
    int i, n = cl->args->nelts, rc, running = 1;
    mt_source_t **src;
    apr_pool_t **pools;

    if ((rc = get_ingest_opts(cl, &o, &pr)) != 0)
        return rc;
    pr.tty = 0;              /* follow runs forever: no progress line */
    if ((rc = open_writer(cl, EXIT_RECOVER, &st)) != 0)
        return rc;
    in = mt_ingest_create(cl->pool, st, &o);
    pr.in = in;
    src = apr_pcalloc(cl->pool, sizeof(*src) * (apr_size_t)n);
    pools = apr_pcalloc(cl->pool, sizeof(*pools) * (apr_size_t)n);

    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    sigprocmask(SIG_BLOCK, &stop, NULL);

    while (running) {
        for (i = 0; i < n; i++) {
            const char *path = APR_ARRAY_IDX(cl->args, i, const char *);
            const char *err = NULL;
            if (!src[i]) {
                struct stat sb;
                if (stat(path, &sb) != 0)
                    continue;              /* not there (yet): try again later */
                apr_pool_create(&pools[i], cl->pool);
                if ((err = mt_ingest_open(in, pools[i], path, &src[i])) != NULL)
                    return follow_failed(err);
            }
            if ((err = mt_ingest_read(in, src[i])) != NULL)
                return follow_failed(err);
            switch (mt_ingest_check(in, src[i])) {
            case MT_SOURCE_TRUNCATED:
                if ((err = mt_ingest_restart(in, src[i])) != NULL
                    || (err = mt_ingest_read(in, src[i])) != NULL)
                    return follow_failed(err);
                break;
            case MT_SOURCE_ROTATED:
                /* Renamed away: what was appended before the rename is read
                 * (above, and once more now); then the new file. */
                if ((err = mt_ingest_read(in, src[i])) != NULL)
                    return follow_failed(err);
                mt_ingest_close(src[i]);
                apr_pool_destroy(pools[i]);
                src[i] = NULL;
                i--;                          /* open the new file now */
                continue;
            default:
                break;
            }
        }
        {
            int sig = sigtimedwait(&stop, NULL, &poll);
            if (sig > 0)
                running = 0;
        }
    }
    {
        const char *err = mt_store_checkpoint(st, 1);
        return err ? fail(err) : 0;
    }
}

/* follow: the work is done by a child process (follow_worker), which this
 * one starts again when it stopped so that the index is recovered: at once
 * when the watchdog stopped it (every second the index needs recovery is a
 * second it cannot be read), after 1 s when its reading or writing failed
 * (follow_failed()), then twice as long each time up to a minute while it
 * keeps failing within a minute. The stop signals are passed on to it.
 * Killed, this process takes the worker with it (Linux), as if it had been
 * killed itself. */
static int cmd_follow(cmdline_t *cl)
{
    mt_ingest_opts_t o;
    progress_t pr;
    sigset_t sigs;
    pid_t parent = getpid();
    int i, rc, restarts = 0, delay = 1;

    if ((rc = get_ingest_opts(cl, &o, &pr)) != 0)
        return rc;
    for (i = 0; i < cl->args->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(cl->args, i, const char *), "-") == 0)
            return usage_error("follow reads files, not standard input:", "-");
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGCHLD);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    fflush(NULL);
    for (;;) {
        int status = 0, stopping = 0;
        apr_time_t started = apr_time_now();
        pid_t pid = fork();

        if (pid < 0)
            return fail(apr_psprintf(cl->pool, "cannot start the follow process: %s",
                                     strerror(errno)));
        if (pid == 0) {
#ifdef __linux__
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(1);
#endif
            rc = follow_worker(cl);
            apr_pool_destroy(cl->pool);     /* closes the index */
            fflush(NULL);
            _exit(rc);
        }
        for (;;) {
            struct timespec tick = { 1, 0 };
            int sig = sigtimedwait(&sigs, NULL, &tick);
            if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
                kill(pid, sig);
                stopping = 1;
            }
            if (waitpid(pid, &status, WNOHANG) == pid)
                break;
        }
        if (WIFEXITED(status) && (WEXITSTATUS(status) == EXIT_RECOVER
                                  || WEXITSTATUS(status) == EXIT_RETRY)) {
            int wait = 0;
            if (stopping)
                return 0;          /* the next start recovers the index */
            if (WEXITSTATUS(status) == EXIT_RETRY) {
                if (apr_time_now() - started >= apr_time_from_sec(60))
                    delay = 1;
                wait = delay;
                delay = delay * 2 > 60 ? 60 : delay * 2;
            }
            fprintf(stderr, "msgtrack-index: follow: starting again (%d) in %d s to recover "
                    "the index\n", ++restarts, wait);
            fflush(stderr);
            if (wait) {
                struct timespec pause = { wait, 0 };
                int sig;
                while ((sig = sigtimedwait(&sigs, NULL, &pause)) == SIGCHLD)
                    ;
                if (sig > 0)
                    return 0;          /* told to stop meanwhile */
            }
            continue;
        }
        if (WIFEXITED(status))
            return WEXITSTATUS(status);
        return fail(apr_psprintf(cl->pool, "the follow process ended with signal %d",
                                 WTERMSIG(status)));
    }
}

/* ------------------------------------------------------------------ stats, verify, purge */

static const char *fmt_time(apr_pool_t *p, apr_time_t t)
{
    return t ? mt_time_format_xs(p, t) : "-";
}

/* ", \"NAME\": TIME" with the time as xs:dateTime, or null when 0. */
static void json_time_field(apr_pool_t *p, const char *name, apr_time_t t)
{
    printf(", \"%s\": ", name);
    if (t)
        mtx_json_string(stdout, mt_time_format_xs(p, t));
    else
        fputs("null", stdout);
}

static int cmd_stats(cmdline_t *cl)
{
    mt_store_t *st;
    mt_txn_t *txn;
    mt_store_stats_t s;
    unsigned long long lines, bad, last, rec[4];
    const char *err;
    int rc, json = opt(cl, "--json") != NULL;

    if ((rc = open_store(cl, MT_STORE_READER, &st)) != 0)
        return rc;
    if ((err = mt_store_begin(st, cl->pool, &txn)) != NULL
        || (err = mt_store_stats(txn, cl->pool, &s)) != NULL
        || (err = mt_store_counter_get(txn, "lines", &lines)) != NULL
        || (err = mt_store_counter_get(txn, "bad", &bad)) != NULL
        || (err = mt_store_counter_get(txn, "ingest:last", &last)) != NULL
        || (err = mt_store_counter_get(txn, "records:msgtrk", &rec[1])) != NULL
        || (err = mt_store_counter_get(txn, "records:postfix", &rec[2])) != NULL
        || (err = mt_store_counter_get(txn, "records:dovecot", &rec[3])) != NULL)
        return fail(err);
    if (json) {
        printf("{\"messages\": {\"postfix\": %" APR_UINT64_T_FMT ", \"msgtrk\": %"
               APR_UINT64_T_FMT ", \"mailbox\": %" APR_UINT64_T_FMT "}, \"events\": %"
               APR_UINT64_T_FMT ", \"files\": %" APR_UINT64_T_FMT ", \"lines\": %"
               APR_UINT64_T_FMT ", \"lines_not_parsed\": %" APR_UINT64_T_FMT
               ", \"records\": {\"postfix\": %" APR_UINT64_T_FMT ", \"msgtrk\": %"
               APR_UINT64_T_FMT ", \"dovecot\": %" APR_UINT64_T_FMT "}, \"index_bytes\": %"
               APR_UINT64_T_FMT,
               s.hops[MT_HOP_POSTFIX], s.hops[MT_HOP_MSGTRK], s.hops[MT_HOP_MAILBOX],
               s.events, s.files, (apr_uint64_t)lines, (apr_uint64_t)bad,
               (apr_uint64_t)rec[2], (apr_uint64_t)rec[1], (apr_uint64_t)rec[3], s.bytes);
        json_time_field(cl->pool, "last_ingest", (apr_time_t)last);
        json_time_field(cl->pool, "oldest", s.oldest);
        json_time_field(cl->pool, "newest", s.newest);
        printf("}\n");
        return 0;
    }
    printf("index          %s\n", cl->db);
    printf("messages       %" APR_UINT64_T_FMT " (Postfix %" APR_UINT64_T_FMT ", Exchange %"
           APR_UINT64_T_FMT ", mailbox %" APR_UINT64_T_FMT ")\n",
           s.hops[MT_HOP_POSTFIX] + s.hops[MT_HOP_MSGTRK] + s.hops[MT_HOP_MAILBOX],
           s.hops[MT_HOP_POSTFIX], s.hops[MT_HOP_MSGTRK], s.hops[MT_HOP_MAILBOX]);
    printf("events         %" APR_UINT64_T_FMT "\n", s.events);
    printf("files          %" APR_UINT64_T_FMT "\n", s.files);
    printf("lines read     %" APR_UINT64_T_FMT " (%" APR_UINT64_T_FMT " did not parse)\n",
           (apr_uint64_t)lines, (apr_uint64_t)bad);
    printf("records        Postfix %" APR_UINT64_T_FMT ", Exchange %" APR_UINT64_T_FMT
           ", Dovecot %" APR_UINT64_T_FMT "\n", (apr_uint64_t)rec[2], (apr_uint64_t)rec[1],
           (apr_uint64_t)rec[3]);
    printf("index size     %" APR_UINT64_T_FMT " bytes\n", s.bytes);
    printf("last ingest    %s\n", fmt_time(cl->pool, (apr_time_t)last));
    printf("oldest         %s\n", fmt_time(cl->pool, s.oldest));
    printf("newest         %s\n", fmt_time(cl->pool, s.newest));
    return 0;
}

static void on_problem(void *baton, const char *problem)
{
    (void)baton;
    printf("%s\n", problem);
}

static int cmd_verify(cmdline_t *cl)
{
    mt_store_t *st;
    apr_uint64_t count = 0;
    const char *err;
    int rc;

    if ((rc = open_store(cl, MT_STORE_READER, &st)) != 0)
        return rc;
    if ((err = mt_store_verify(st, cl->pool, on_problem, NULL, &count)) != NULL)
        return fail(err);
    if (count) {
        fprintf(stderr, "msgtrack-index: verify: %" APR_UINT64_T_FMT " problem%s found\n",
                count, count == 1 ? "" : "s");
        return 1;
    }
    printf("index %s is consistent\n", cl->db);
    return 0;
}

static int cmd_purge(cmdline_t *cl)
{
    const char *v = opt(cl, "--older-than");
    mt_store_t *st;
    apr_uint64_t hops = 0, events = 0;
    const char *err;
    char *end;
    long days;
    int rc;

    if (!v)
        return usage_error("purge needs --older-than DAYS", NULL);
    days = strtol(v, &end, 10);
    if (*end || end == v || days < 0 || days > 36500)
        return usage_error("--older-than takes a number of days, not", v);
    if ((rc = open_writer(cl, 1, &st)) != 0)
        return rc;
    err = mt_store_purge(st, cl->pool, apr_time_now() - apr_time_from_sec(days * 86400LL),
                         1000, &hops, &events);
    if (err)
        return fail(err);
    printf("purged %" APR_UINT64_T_FMT " messages and %" APR_UINT64_T_FMT " events\n",
           hops, events);
    return 0;
}

/* ------------------------------------------------------------------ find, report */

static int parse_time_opt(cmdline_t *cl, const char *name, apr_time_t *t)
{
    const char *v = opt(cl, name);
    if (!v)
        return 0;
    if (mt_time_parse_xs(v, t) != 0) {
        usage_error(apr_psprintf(cl->pool, "%s takes an xs:dateTime such as "
                                 "2026-11-20T09:00:00Z, not", name), v);
        return -1;
    }
    return 0;
}

static int cmd_find(cmdline_t *cl)
{
    mt_store_t *st;
    mt_find_t q;
    int rc;

    memset(&q, 0, sizeof(q));
    q.sender = opt(cl, "--sender");
    q.recipient = opt(cl, "--recipient");
    q.subject = opt(cl, "--subject");
    q.message_id = opt(cl, "--message-id");
    q.start = MT_TIME_MIN;
    q.end = APR_INT64_MAX;
    if (parse_time_opt(cl, "--start", &q.start) || parse_time_opt(cl, "--end", &q.end))
        return EXIT_USAGE;
    if ((rc = open_store(cl, MT_STORE_READER, &st)) != 0)
        return rc;
    return mtx_find(cl->pool, st, &q, opt(cl, "--json") != NULL, stdout, stderr);
}

static int cmd_report(cmdline_t *cl)
{
    mt_store_t *st;
    int rc;

    if ((rc = open_store(cl, MT_STORE_READER, &st)) != 0)
        return rc;
    return mtx_report(cl->pool, st, APR_ARRAY_IDX(cl->args, 0, const char *),
                      opt(cl, "--recipient"), opt(cl, "--json") != NULL, stdout, stderr);
}

/* ------------------------------------------------------------------ dump */

/* A canonical text form of everything in the index except when files were
 * last read: two indexes built from the same logs dump identically. */
static void dump_str(const char *name, const char *v)
{
    const unsigned char *s;
    if (!v)
        return;
    printf(" %s=\"", name);
    for (s = (const unsigned char *)v; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if (*s < 0x20 || *s == 0x7f)
            printf("\\x%02x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

static int dump_event(void *baton, const mt_event_t *e)
{
    apr_pool_t *p = baton;
    printf("  event %u %s %s", e->seq, mt_time_format_xs(p, e->time), mt_fact_name(e->fact));
    dump_str("rcpt", e->recipient);
    dump_str("root", e->root);
    dump_str("relay", e->relay);
    dump_str("next", e->next_id);
    dump_str("dsn", e->dsn);
    dump_str("text", e->text);
    dump_str("folder", e->folder);
    dump_str("session", e->session);
    putchar('\n');
    return 0;
}

typedef struct {
    mt_txn_t *txn;
    apr_pool_t *pool;
    const char *err;
} dump_t;

static int dump_hop(void *baton, apr_uint64_t key, apr_time_t first)
{
    dump_t *d = baton;
    apr_pool_t *p;
    mt_msg_t m;
    int i, rc;
    (void)first;

    apr_pool_create(&p, d->pool);
    rc = mt_store_msg_get(d->txn, p, key, &m, &d->err);
    if (rc <= 0) {
        if (rc == 0)
            d->err = apr_psprintf(d->pool, "hop %" APR_UINT64_T_FMT " vanished", key);
        apr_pool_destroy(p);
        return 1;
    }
    printf("hop %" APR_UINT64_T_FMT " kind=%d first=%s last=%s flags=%#x nevents=%u", key,
           m.kind, mt_time_format_xs(p, m.first), mt_time_format_xs(p, m.last), m.flags,
           m.nevents);
    dump_str("host", m.host);
    dump_str("id", m.local_id);
    dump_str("msgid", m.message_id);
    dump_str("ref", m.ref_message_id);
    if (m.ndr_of)
        printf(" ndr_of=%" APR_UINT64_T_FMT, m.ndr_of);
    dump_str("sender", m.sender);
    dump_str("subject", m.subject);
    dump_str("client", m.client);
    dump_str("auth", m.auth_user);
    dump_str("notify", m.notify_kind);
    printf(" size=%" APR_INT64_T_FMT " nrcpt=%d\n", m.size, m.nrcpt);
    for (i = 0; i < m.rcpts->nelts; i++) {
        const mt_rcpt_t *r = &APR_ARRAY_IDX(m.rcpts, i, mt_rcpt_t);
        printf("  rcpt flags=%#x", r->flags);
        dump_str("addr", r->addr);
        dump_str("orig", r->orig);
        putchar('\n');
    }
    for (i = 0; i < m.hdr_rcpts->nelts; i++) {
        printf("  header-rcpt");
        dump_str("addr", APR_ARRAY_IDX(m.hdr_rcpts, i, const char *));
        putchar('\n');
    }
    d->err = mt_store_events(d->txn, p, key, dump_event, p);
    apr_pool_destroy(p);
    return d->err != NULL;
}

static int dump_file(void *baton, const mt_store_file_t *f)
{
    (void)baton;
    printf("file dev=%llu ino=%llu head=%u/%016llx offset=%llu lines=%llu format=%d",
           f->dev, f->ino, f->head_len, f->head_hash, f->offset, f->lines, f->format);
    dump_str("path", f->path);
    putchar('\n');
    return 0;
}

static int cmd_dump(cmdline_t *cl)
{
    mt_store_t *st;
    dump_t d;
    const char *err;
    int rc;

    if ((rc = open_store(cl, MT_STORE_READER, &st)) != 0)
        return rc;
    memset(&d, 0, sizeof(d));
    d.pool = cl->pool;
    if ((err = mt_store_begin(st, cl->pool, &d.txn)) != NULL
        || (err = mt_store_msgs(d.txn, cl->pool, dump_hop, &d)) != NULL
        || (err = d.err) != NULL
        || (err = mt_store_files(d.txn, cl->pool, dump_file, NULL)) != NULL)
        return fail(err);
    return 0;
}

static int run(apr_pool_t *pool, int argc, const char *const *argv)
{
    const char *db = NULL;
    const subcmd_t *sc = NULL;
    int i;
    cmdline_t cl;

    cl.pool = pool;
    cl.opts = apr_table_make(pool, 8);
    cl.args = apr_array_make(pool, 8, sizeof(const char *));

    for (i = 1; i < argc && !sc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            int maj, min, pat;
            db_version(&maj, &min, &pat);
            printf("msgtrack-index (mod_msgtrack) %s\nlibxml2 %s, Berkeley DB %d.%d.%d\n",
                   MT_VERSION_STRING, LIBXML_DOTTED_VERSION, maj, min, pat);
            return 0;
        }
        if (strcmp(a, "--db") == 0) {
            if (++i >= argc)
                return usage_error("--db needs a directory", NULL);
            db = argv[i];
            continue;
        }
        if (strncmp(a, "--db=", 5) == 0) {
            db = a + 5;
            continue;
        }
        if (a[0] == '-')
            return usage_error("unknown option", a);
        for (sc = subcmds; sc->name && strcmp(sc->name, a) != 0; sc++)
            ;
        if (!sc->name)
            return usage_error("unknown command", a);
    }
    if (!sc || !sc->name)
        return usage_error("no command given", NULL);
    for (; i < argc; i++) {
        const char *a = argv[i];
        const opt_t *o;
        if (a[0] == '-' && a[1] != '\0') {
            if (strcmp(a, "--help") == 0) {
                printf("usage: msgtrack-index --db DIR %s\n", sc->synopsis);
                return 0;
            }
            if (!(o = find_opt(sc->opts, a)))
                return usage_error("unknown option", a);
            if (o->takes_value && ++i >= argc)
                return usage_error("option needs a value:", a);
            apr_table_set(cl.opts, a, o->takes_value ? argv[i] : "");
            continue;
        }
        APR_ARRAY_PUSH(cl.args, const char *) = a;
    }
    if (cl.args->nelts < sc->min_args || (sc->max_args >= 0 && cl.args->nelts > sc->max_args))
        return usage_error("wrong number of arguments; usage: msgtrack-index --db DIR",
                           sc->synopsis);
    if (!db)
        return usage_error("--db DIR is required", NULL);
    cl.db = db;
    return sc->run(&cl);
}

int main(int argc, const char *const *argv)
{
    int rc;

    if (apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS) {
        fprintf(stderr, "msgtrack-index: cannot initialise APR\n");
        return 1;
    }
    {
        apr_pool_t *pool;
        apr_pool_create(&pool, NULL);
        rc = run(pool, argc, argv);
        apr_pool_destroy(pool);
    }
    apr_terminate();
    return rc;
}
