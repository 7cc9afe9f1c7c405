/* test_store.c: the index environment, format record, file offsets, crashes (TAP) */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <db.h>
#include "tap.h"
#include "mt_store.h"

static char *tmpdir(apr_pool_t *p)
{
    char *t = apr_pstrdup(p, "/tmp/mt-store-XXXXXX");
    return mkdtemp(t);
}

static void rmtree(apr_pool_t *p, const char *dir)
{
    if (system(apr_psprintf(p, "rm -rf '%s'", dir)) != 0)
        printf("# could not remove %s\n", dir);
}

/* Rewrite the format record behind the store's back. */
static int set_format(const char *dir, unsigned long long v)
{
    DB_ENV *env;
    DB *db;
    DBT k, d;
    unsigned char b[8];
    int i, rc;

    if (db_env_create(&env, 0) || env->open(env, dir, DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL
                                            | DB_INIT_TXN, 0))
        return -1;
    db_create(&db, env, 0);
    rc = db->open(db, NULL, "meta", NULL, DB_BTREE, DB_AUTO_COMMIT, 0);
    for (i = 7; i >= 0; i--, v >>= 8)
        b[i] = (unsigned char)v;
    memset(&k, 0, sizeof(k));
    memset(&d, 0, sizeof(d));
    k.data = (void *)"format";
    k.size = 6;
    d.data = b;
    d.size = 8;
    if (!rc)
        rc = db->put(db, NULL, &k, &d, DB_AUTO_COMMIT);
    db->close(db, 0);
    env->close(env, 0);
    return rc;
}

static mt_store_file_t sample_file(unsigned long long ino, unsigned long long offset)
{
    mt_store_file_t f;
    memset(&f, 0, sizeof(f));
    f.dev = 2049;
    f.ino = ino;
    f.head_len = 5;
    f.head_hash = mt_store_head_hash("Jun 3", 5);
    f.offset = offset;
    f.lines = offset / 100;
    f.format = 2;
    f.updated = 1234567;
    f.path = "/var/log/mail.log";
    return f;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    mt_store_t *st = NULL, *rd = NULL;
    mt_txn_t *t = NULL;
    const char *err, *dir;
    mt_store_file_t f, g;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    dir = tmpdir(p);

    /* Readers never create. */
    err = mt_store_open(p, apr_pstrcat(p, dir, "/none", NULL), MT_STORE_READER, &rd);
    like(err, "does not exist", "reader: a missing directory is named");
    ok(rd == NULL, "reader: no store on error");
    err = mt_store_open(p, dir, MT_STORE_READER, &rd);
    like(err, "holds no Berkeley DB environment", "reader: an empty directory is not an index");

    /* The writer creates. */
    err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
    ok(err == NULL && st, "writer creates the index%s%s", err ? ": " : "", err ? err : "");
    if (!st)
        return tap_done();
    is_str(mt_store_dir(st), dir, "store directory");

    /* Files: put, get, absent, overwrite. */
    ok(!mt_store_begin(st, p, &t), "write transaction");
    f = sample_file(42, 1000);
    ok(!mt_store_file_put(t, &f), "file record written");
    ok(!mt_store_commit(t), "committed");
    ok(!mt_store_begin(st, p, &t), "second transaction");
    is_int(mt_store_file_get(t, p, 2049, 42, &g, &err), 1, "file record found");
    is_int(g.offset, 1000, "offset round-trips");
    is_int(g.lines, 10, "lines round-trip");
    is_int(g.head_len, 5, "head length round-trips");
    ok(g.head_hash == mt_store_head_hash("Jun 3", 5), "head hash round-trips");
    is_int(g.format, 2, "format round-trips");
    is_int(g.updated, 1234567, "update time round-trips");
    is_str(g.path, "/var/log/mail.log", "path round-trips");
    is_int(mt_store_file_get(t, p, 2049, 43, &g, &err), 0, "other inode unknown");
    is_int(mt_store_file_get(t, p, 2050, 42, &g, &err), 0, "other device unknown");
    ok(mt_store_head_hash("Jun 3", 5) != mt_store_head_hash("Jun 4", 5), "heads differ by hash");
    mt_store_abort(t);

    /* Counters. */
    {
        unsigned long long a = 0, b = 0, c = 0;
        ok(!mt_store_begin(st, p, &t), "counter transaction");
        mt_store_counter_next(t, "message", &a);
        mt_store_counter_next(t, "message", &b);
        mt_store_counter_get(t, "message", &c);
        ok(a == 1 && b == 2 && c == 2, "counter counts 1, 2 and reads 2");
        mt_store_counter_get(t, "other", &c);
        is_int(c, 0, "an unused counter reads 0");
        mt_store_abort(t);
        ok(!mt_store_begin(st, p, &t), "after abort");
        mt_store_counter_get(t, "message", &c);
        is_int(c, 0, "an aborted counter is not kept");
        mt_store_abort(t);
    }

    /* A reader joins and reads in a snapshot that later commits don't change,
     * and the writer is not blocked by it. */
    err = mt_store_open(p, dir, MT_STORE_READER, &rd);
    ok(err == NULL && rd, "reader joins%s%s", err ? ": " : "", err ? err : "");
    if (rd) {
        mt_txn_t *rt, *wt;
        ok(!mt_store_begin(rd, p, &rt), "snapshot transaction");
        is_int(mt_store_file_get(rt, p, 2049, 42, &g, &err), 1, "reader sees committed data");
        ok(!mt_store_begin(st, p, &wt), "writer transaction while a reader reads");
        f = sample_file(42, 2000);
        ok(!mt_store_file_put(wt, &f), "writer updates the record under the reader");
        ok(!mt_store_commit(wt), "writer commits while the snapshot is open");
        mt_store_file_get(rt, p, 2049, 42, &g, &err);
        is_int(g.offset, 1000, "the snapshot still sees the old offset");
        mt_store_abort(rt);
        ok(!mt_store_begin(rd, p, &rt), "new snapshot");
        mt_store_file_get(rt, p, 2049, 42, &g, &err);
        is_int(g.offset, 2000, "a new snapshot sees the new offset");
        mt_store_abort(rt);
        mt_store_close(rd);
    }

    /* A reader process killed inside a snapshot: failchk releases it. */
    {
        int fds[2], status;
        char c;
        pid_t pid;
        if (pipe(fds) != 0)
            return tap_done();
        pid = fork();
        if (pid == 0) {
            apr_pool_t *cp;
            mt_store_t *cs;
            mt_txn_t *ct;
            apr_pool_create(&cp, NULL);
            if (mt_store_open(cp, dir, MT_STORE_READER, &cs) || mt_store_begin(cs, cp, &ct))
                _exit(3);
            mt_store_file_get(ct, cp, 2049, 42, &g, &err);
            if (write(fds[1], "x", 1) != 1)
                _exit(4);
            pause();
            _exit(0);
        }
        close(fds[1]);
        ok(read(fds[0], &c, 1) == 1, "reader child inside a snapshot");
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        ok(WIFSIGNALED(status), "reader child killed with SIGKILL");
        err = mt_store_failchk(st);
        ok(err == NULL, "failchk cleans up after the dead reader%s%s", err ? ": " : "",
           err ? err : "");
        ok(!mt_store_begin(st, p, &t), "writer goes on");
        f = sample_file(42, 3000);
        ok(!mt_store_file_put(t, &f) && !mt_store_commit(t), "and commits");
        close(fds[0]);
    }
    mt_store_close(st);

    /* A writer killed mid-transaction: nothing of it survives, everything
     * committed before does, and the next writer recovers. */
    {
        int status;
        pid_t pid = fork();
        if (pid == 0) {
            apr_pool_t *cp;
            mt_store_t *cs;
            mt_txn_t *ct;
            mt_store_file_t cf = sample_file(77, 500);
            apr_pool_create(&cp, NULL);
            if (mt_store_open(cp, dir, MT_STORE_WRITER, &cs) || mt_store_begin(cs, cp, &ct)
                || mt_store_file_put(ct, &cf) || mt_store_commit(ct))
                _exit(3);
            cf = sample_file(78, 600);
            if (mt_store_begin(cs, cp, &ct) || mt_store_file_put(ct, &cf))
                _exit(3);
            cf = sample_file(42, 999999);
            mt_store_file_put(ct, &cf);
            raise(SIGKILL);
            _exit(5);
        }
        waitpid(pid, &status, 0);
        ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "writer child killed mid-transaction");
        err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
        ok(err == NULL && st, "next writer opens (recovery)%s%s", err ? ": " : "", err ? err : "");
        if (st) {
            ok(!mt_store_begin(st, p, &t), "transaction after recovery");
            is_int(mt_store_file_get(t, p, 2049, 77, &g, &err), 1, "committed record kept");
            is_int(mt_store_file_get(t, p, 2049, 78, &g, &err), 0, "uncommitted record gone");
            mt_store_file_get(t, p, 2049, 42, &g, &err);
            is_int(g.offset, 3000, "uncommitted update gone");
            mt_store_abort(t);
            mt_store_close(st);
        }
    }

    /* Another format version is refused, by name, for writers and readers. */
    ok(set_format(dir, MT_STORE_FORMAT + 1) == 0, "format record rewritten");
    err = mt_store_open(p, dir, MT_STORE_READER, &rd);
    like(err, "this build reads format", "reader refuses another format");
    err = mt_store_open(p, dir, MT_STORE_WRITER, &st);
    like(err, "rebuild it", "writer refuses another format");
    ok(st == NULL, "no store for another format");

    rmtree(p, dir);
    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
