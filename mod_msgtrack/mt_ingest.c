/* mt_ingest.c: log files into the index, a transaction per batch, exactly once */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <apr_strings.h>
#include "mt_ingest.h"
#include "mt_parse.h"

#define HEAD_MAX 4096
#define DEFAULT_BATCH 20000
/* A batch also ends after this much input: the pages one transaction dirties
 * stay well inside the cache, where multiversion copies of them live until
 * it commits. */
#define BATCH_BYTES (2 * 1024 * 1024)
#define READ_CHUNK (256 * 1024)
/* A longer line is no log line of ours: it is diagnosed and skipped. */
#define LINE_MAX_BYTES (1024 * 1024)

struct mt_ingest_t {
    apr_pool_t *pool;
    mt_store_t *store;
    mt_ingest_opts_t opts;
    mt_corr_t *corr;
    mt_ingest_stats_t st;
};

struct mt_source_t {
    apr_pool_t *pool;
    const char *path;
    int fd;
    int is_stdin;
    mt_store_file_t rec;           /* identity and progress, as stored */
    mt_format_e format;            /* MT_FORMAT_UNKNOWN: syslog text, Postfix or Dovecot */
    mt_msgtrk_state_t *msgtrk;
    mt_parse_opts_t popts;
    char *buf;
    apr_size_t cap, start, end;    /* unconsumed bytes: buf[start, end) */
    int eof;
    int skipping;                  /* inside an over-long line */
    apr_size_t skipped;            /* its bytes dropped so far */
};

static const char *sys_err(apr_pool_t *p, const char *what, const char *path)
{
    return apr_psprintf(p, "%s %s: %s", what, path, strerror(errno));
}

mt_ingest_t *mt_ingest_create(apr_pool_t *p, mt_store_t *store, const mt_ingest_opts_t *opts)
{
    mt_ingest_t *in = apr_pcalloc(p, sizeof(*in));
    in->pool = p;
    in->store = store;
    in->opts = *opts;
    if (!in->opts.batch_lines)
        in->opts.batch_lines = DEFAULT_BATCH;
    in->corr = mt_corr_create(p);
    return in;
}

const mt_ingest_stats_t *mt_ingest_stats(const mt_ingest_t *in)
{
    return &in->st;
}

const mt_corr_stats_t *mt_ingest_corr_stats(const mt_ingest_t *in)
{
    return mt_corr_stats(in->corr);
}

const char *mt_source_path(const mt_source_t *src)
{
    return src->path;
}

mt_format_e mt_source_format(const mt_source_t *src)
{
    return src->format;
}

static apr_status_t source_cleanup(void *data)
{
    mt_source_t *src = data;
    if (src->fd >= 0 && !src->is_stdin)
        close(src->fd);
    src->fd = -1;
    return APR_SUCCESS;
}

void mt_ingest_close(mt_source_t *src)
{
    if (src) {
        apr_pool_cleanup_kill(src->pool, src, source_cleanup);
        source_cleanup(src);
    }
}

/* ------------------------------------------------------------------ lines */

/* Parse one line (NUL-terminated, no line end). 1 facts in rec, 0 none, -1 bad. */
static int parse(mt_source_t *src, const char *line, apr_pool_t *lp,
                 mt_logrec_t *rec, const char **why)
{
    int rc;
    switch (src->format) {
    case MT_FORMAT_MSGTRK:
        return mt_parse_msgtrk_line(src->msgtrk, &src->popts, line, lp, rec, why);
    case MT_FORMAT_POSTFIX:
        return mt_parse_postfix_line(&src->popts, line, lp, rec, why);
    case MT_FORMAT_DOVECOT:
        return mt_parse_dovecot_line(&src->popts, line, lp, rec, why);
    default:
        rc = mt_parse_postfix_line(&src->popts, line, lp, rec, why);
        if (rc != 0)
            return rc;
        return mt_parse_dovecot_line(&src->popts, line, lp, rec, why);
    }
}

/* The next complete line of @a src in its buffer, reading more as needed:
 * 1: *line, *len (without the newline); 2: an over-long line was dropped,
 * *len bytes with its newline; 0: no complete line yet (end of input, or an
 * error in *err). An over-long line is consumed only once its newline is
 * read, so a stored offset never points inside a line. */
static int next_line(mt_source_t *src, char **line, apr_size_t *len, const char **err)
{
    for (;;) {
        char *nl = src->end > src->start
                   ? memchr(src->buf + src->start, '\n', src->end - src->start) : NULL;
        ssize_t n;

        if (nl && src->skipping) {
            *len = src->skipped + (apr_size_t)(nl - (src->buf + src->start)) + 1;
            src->start = (apr_size_t)(nl - src->buf) + 1;
            src->skipping = 0;
            src->skipped = 0;
            return 2;
        }
        if (nl) {
            *line = src->buf + src->start;
            *len = (apr_size_t)(nl - *line);
            return 1;
        }
        if (src->eof)
            return 0;
        /* Make room: move what is left to the front, grow when it fills. */
        if (src->start > 0) {
            memmove(src->buf, src->buf + src->start, src->end - src->start);
            src->end -= src->start;
            src->start = 0;
        }
        if (src->end == src->cap) {
            if (src->cap >= LINE_MAX_BYTES) {
                src->skipping = 1;          /* no log line of ours: drop it */
                src->skipped += src->end;
                src->start = src->end = 0;
            }
            else {
                char *nb = apr_palloc(src->pool, src->cap * 2);
                memcpy(nb, src->buf, src->end);
                src->buf = nb;
                src->cap *= 2;
            }
        }
        do {
            n = read(src->fd, src->buf + src->end, src->cap - src->end);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            *err = sys_err(src->pool, "reading", src->path);
            return 0;
        }
        if (n == 0)
            src->eof = 1;
        src->end += (apr_size_t)n;
    }
}

/* ------------------------------------------------------------------ open */

/* A file record with the same full head as the file being opened. */
typedef struct {
    unsigned long long head_hash;
    apr_uint64_t size;           /* of the file being opened */
    const mt_store_file_t *found;
    apr_pool_t *pool;
} head_match_t;

static int full_head_match(void *baton, const mt_store_file_t *f)
{
    head_match_t *m = baton;
    if (f->head_len == HEAD_MAX && f->head_hash == m->head_hash && f->offset <= m->size) {
        mt_store_file_t *copy = apr_pmemdup(m->pool, f, sizeof(*f));
        m->found = copy;
        return 1;
    }
    return 0;
}

/* Where the index left this file: sets src->rec's offset and lines. */
static const char *resume_point(mt_ingest_t *in, mt_source_t *src, apr_uint64_t size)
{
    apr_pool_t *tp;
    mt_txn_t *txn;
    mt_store_file_t f;
    const char *err = NULL;
    int rc;

    apr_pool_create(&tp, src->pool);
    if ((err = mt_store_begin(in->store, tp, &txn)) != NULL)
        goto done;
    rc = mt_store_file_get(txn, tp, src->rec.dev, src->rec.ino, &f, &err);
    if (rc < 0)
        goto done;
    if (rc == 1 && f.head_len <= src->rec.head_len && f.offset <= size) {
        char head[HEAD_MAX];
        ssize_t n = f.head_len ? pread(src->fd, head, f.head_len, 0) : 0;
        if (n == (ssize_t)f.head_len && mt_store_head_hash(head, f.head_len) == f.head_hash) {
            src->rec.offset = f.offset;
            src->rec.lines = f.lines;
            if (f.format != MT_FORMAT_UNKNOWN || in->opts.format == MT_FORMAT_UNKNOWN)
                src->format = (mt_format_e)f.format;
            in->st.resumed += f.offset > 0;
            goto done;
        }
    }
    /* Not known by inode: the same content under another inode (a copy, a
     * file restored from backup) is known by its full head. */
    if (src->rec.head_len == HEAD_MAX) {
        head_match_t m = { src->rec.head_hash, size, NULL, tp };
        if ((err = mt_store_files(txn, tp, full_head_match, &m)) != NULL)
            goto done;
        if (m.found) {
            src->rec.offset = m.found->offset;
            src->rec.lines = m.found->lines;
            src->format = (mt_format_e)m.found->format;
            in->st.resumed += src->rec.offset > 0;
        }
    }
done:
    apr_pool_destroy(tp);
    return err;
}

static void detect(mt_ingest_t *in, mt_source_t *src, const char *head, apr_size_t n)
{
    if (in->opts.format != MT_FORMAT_UNKNOWN) {
        src->format = in->opts.format;
        return;
    }
    if ((n >= 3 && memcmp(head, "\xEF\xBB\xBF", 3) == 0) || (n >= 1 && head[0] == '#'))
        src->format = MT_FORMAT_MSGTRK;
    else
        src->format = MT_FORMAT_UNKNOWN;
}

/* Feed the header lines before the offset to the MSGTRK parser, so that
 * resumed rows are read with their file's #Fields. */
static const char *replay_headers(mt_source_t *src)
{
    apr_pool_t *lp;
    apr_uint64_t off = 0;
    char *line;
    apr_size_t len;
    const char *err = NULL;

    if (lseek(src->fd, 0, SEEK_SET) < 0)
        return sys_err(src->pool, "seeking in", src->path);
    apr_pool_create(&lp, src->pool);
    while (off < src->rec.offset && next_line(src, &line, &len, &err)) {
        mt_logrec_t rec;
        const char *why;
        line[len] = '\0';
        if (len && line[len - 1] == '\r')
            line[len - 1] = '\0';
        if (line[0] == '#' || (len >= 4 && memcmp(line, "\xEF\xBB\xBF#", 4) == 0))
            (void)mt_parse_msgtrk_line(src->msgtrk, &src->popts, line, lp, &rec, &why);
        off += len + 1;
        src->start += len + 1;
        apr_pool_clear(lp);
    }
    apr_pool_destroy(lp);
    src->start = src->end = 0;
    src->eof = 0;
    return err;
}

static const char *open_at(mt_ingest_t *in, mt_source_t *src, int fresh)
{
    struct stat sb;
    char head[HEAD_MAX];
    ssize_t n = 0;
    const char *err;

    if (fstat(src->fd, &sb) != 0)
        return sys_err(src->pool, "reading the status of", src->path);
    src->rec.dev = (unsigned long long)sb.st_dev;
    src->rec.ino = (unsigned long long)sb.st_ino;
    src->rec.path = src->path;
    src->rec.offset = src->rec.lines = 0;
    src->start = src->end = 0;
    src->eof = src->skipping = 0;
    src->skipped = 0;
    src->popts.clock.year = in->opts.year;
    src->popts.clock.reference = apr_time_from_sec(sb.st_mtime);
    src->popts.host = in->opts.host;
    src->msgtrk = mt_msgtrk_state_create(src->pool);

    if (!src->is_stdin && S_ISREG(sb.st_mode)) {
        n = pread(src->fd, head, sizeof(head), 0);
        if (n < 0)
            return sys_err(src->pool, "reading", src->path);
    }
    src->rec.head_len = (unsigned)n;
    src->rec.head_hash = mt_store_head_hash(head, (unsigned)n);
    detect(in, src, head, (apr_size_t)n);
    if (src->is_stdin || !S_ISREG(sb.st_mode))
        return NULL;
    if (!fresh && (err = resume_point(in, src, (apr_uint64_t)sb.st_size)) != NULL)
        return err;
    src->rec.format = src->format;
    if (src->format == MT_FORMAT_MSGTRK && src->rec.offset > 0
        && (err = replay_headers(src)) != NULL)
        return err;
    if (lseek(src->fd, (off_t)src->rec.offset, SEEK_SET) < 0)
        return sys_err(src->pool, "seeking in", src->path);
    return NULL;
}

const char *mt_ingest_open(mt_ingest_t *in, apr_pool_t *p, const char *path, mt_source_t **out)
{
    mt_source_t *src = apr_pcalloc(p, sizeof(*src));
    const char *err;

    *out = NULL;
    src->pool = p;
    src->path = apr_pstrdup(p, path);
    src->cap = READ_CHUNK;
    src->buf = apr_palloc(p, src->cap);
    src->popts.clock.cache = mt_syslog_cache_create(p);
    if (strcmp(path, "-") == 0) {
        src->is_stdin = 1;
        src->fd = 0;
        src->path = "(standard input)";
    }
    else if ((src->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        return sys_err(p, "cannot open", path);
    }
    apr_pool_cleanup_register(p, src, source_cleanup, apr_pool_cleanup_null);
    if ((err = open_at(in, src, 0)) != NULL) {
        mt_ingest_close(src);
        return err;
    }
    *out = src;
    return NULL;
}

const char *mt_ingest_restart(mt_ingest_t *in, mt_source_t *src)
{
    return open_at(in, src, 1);
}

mt_source_state_e mt_ingest_check(mt_ingest_t *in, mt_source_t *src)
{
    struct stat held, named;
    (void)in;
    if (src->is_stdin)
        return MT_SOURCE_SAME;
    if (fstat(src->fd, &held) == 0 && (apr_uint64_t)held.st_size < src->rec.offset)
        return MT_SOURCE_TRUNCATED;
    if (src->rec.head_len) {
        /* Truncated and written past our offset again: the head tells. */
        char head[HEAD_MAX];
        ssize_t n = pread(src->fd, head, src->rec.head_len, 0);
        if (n >= 0 && (n < (ssize_t)src->rec.head_len
                       || mt_store_head_hash(head, src->rec.head_len) != src->rec.head_hash))
            return MT_SOURCE_TRUNCATED;
    }
    if (stat(src->path, &named) != 0)
        return MT_SOURCE_GONE;
    if ((unsigned long long)named.st_dev != src->rec.dev
        || (unsigned long long)named.st_ino != src->rec.ino)
        return MT_SOURCE_ROTATED;
    return MT_SOURCE_SAME;
}

/* ------------------------------------------------------------------ read */

static const char *add_counters(mt_txn_t *txn, const mt_ingest_stats_t *before,
                                const mt_ingest_stats_t *now)
{
    static const char *const fmt[4] = { NULL, "records:msgtrk", "records:postfix",
                                        "records:dovecot" };
    const char *err;
    int i;

    if ((err = mt_store_counter_add(txn, "lines", (apr_int64_t)(now->lines - before->lines)))
        || (err = mt_store_counter_add(txn, "bytes", (apr_int64_t)(now->bytes - before->bytes)))
        || (err = mt_store_counter_add(txn, "bad", (apr_int64_t)(now->bad - before->bad))))
        return err;
    for (i = 1; i < 4; i++)
        if (now->by_format[i] != before->by_format[i]
            && (err = mt_store_counter_add(txn, fmt[i], (apr_int64_t)(now->by_format[i]
                                                                    - before->by_format[i]))))
            return err;
    return NULL;
}

/* Stamp the time of this ingest (a counter holding apr_time_t). */
static const char *stamp(mt_txn_t *txn)
{
    unsigned long long old;
    const char *err = mt_store_counter_get(txn, "ingest:last", &old);
    if (err)
        return err;
    return mt_store_counter_add(txn, "ingest:last", (apr_int64_t)(apr_time_now() - (apr_time_t)old));
}

/* Grow the remembered head while the file is shorter than HEAD_MAX. */
static void grow_head(mt_source_t *src)
{
    char head[HEAD_MAX];
    ssize_t n;
    if (src->is_stdin || src->rec.head_len >= HEAD_MAX)
        return;
    n = pread(src->fd, head, sizeof(head), 0);
    if (n > (ssize_t)src->rec.head_len) {
        src->rec.head_len = (unsigned)n;
        src->rec.head_hash = mt_store_head_hash(head, (unsigned)n);
    }
}

const char *mt_ingest_read(mt_ingest_t *in, mt_source_t *src)
{
    apr_pool_t *bp, *lp;
    const char *err = NULL;
    int more = 1;

    apr_pool_create(&bp, src->pool);
    src->eof = 0;
    while (more) {
        mt_txn_t *txn;
        mt_store_file_t saved = src->rec;
        mt_ingest_stats_t before = in->st;
        unsigned n = 0;
        char *line;
        apr_size_t len;

        apr_pool_clear(bp);
        apr_pool_create(&lp, bp);
        if ((err = mt_store_begin(in->store, bp, &txn)) != NULL)
            break;
        mt_corr_begin(in->corr, txn);
        apr_uint64_t batch_start = src->rec.offset;
        while (n < in->opts.batch_lines && src->rec.offset - batch_start < BATCH_BYTES) {
            mt_logrec_t rec;
            const char *why = NULL;
            int rc;

            rc = next_line(src, &line, &len, &err);
            if (rc == 0) {
                more = 0;
                break;
            }
            n++;
            src->rec.lines++;
            src->rec.offset += len + (rc == 1);
            in->st.lines++;
            in->st.bytes += len + (rc == 1);
            if (rc == 2) {
                in->st.bad++;
                if (in->opts.diag)
                    in->opts.diag(in->opts.baton, src->path, src->rec.lines,
                                  "line longer than 1 MiB, skipped");
                continue;
            }
            src->start += len + 1;
            line[len] = '\0';
            if (len && line[len - 1] == '\r')
                line[len - 1] = '\0';
            if (!*line)
                continue;
            rec.line = -1;      /* each parser clears the rest first */
            rc = parse(src, line, lp, &rec, &why);
            if (rc < 0) {
                in->st.bad++;
                if (in->opts.diag)
                    in->opts.diag(in->opts.baton, src->path, src->rec.lines,
                                  why ? why : "does not parse");
            }
            else if (rc > 0) {
                rec.line = (long)src->rec.lines;
                in->st.records++;
                if (rec.format > 0 && rec.format < 4)
                    in->st.by_format[rec.format]++;
                if ((err = mt_corr_apply(in->corr, &rec)) != NULL)
                    break;
            }
            apr_pool_clear(lp);
        }
        if (!err && n == 0) {
            mt_store_abort(txn);
            mt_corr_end(in->corr);
            break;
        }
        if (!err)
            grow_head(src);
        if (err || (err = mt_corr_flush(in->corr)) != NULL
            || (!src->is_stdin && (err = mt_store_file_put(txn, &src->rec)) != NULL)
            || (err = add_counters(txn, &before, &in->st)) != NULL
            || (err = stamp(txn)) != NULL
            || (err = mt_store_commit(txn)) != NULL) {
            mt_store_abort(txn);
            mt_corr_end(in->corr);
            src->rec = saved;
            in->st = before;
            break;
        }
        mt_corr_end(in->corr);
        in->st.batches++;
        if ((err = mt_store_checkpoint(in->store, 0)) != NULL)
            break;
        if (in->opts.progress) {
            struct stat sb;
            in->opts.progress(in->opts.baton, src->path, src->rec.offset,
                              fstat(src->fd, &sb) == 0 && S_ISREG(sb.st_mode)
                              ? (apr_uint64_t)sb.st_size : 0);
        }
    }
    if (!err)
        in->st.unfinished += src->end - src->start;
    if (!err && in->st.batches)
        err = mt_store_checkpoint(in->store, 0);
    apr_pool_destroy(bp);
    return err;
}
