/* fuzz.c: pools, lines and checks shared by the libFuzzer targets (fuzz.h) */
#include <stdarg.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include "fuzz.h"
#include "mt_utf8.h"

/* ------------------------------------------------------------------ pool allocations
 *
 * Linked with -Wl,--wrap=NAME for each function below: the core's calls to
 * NAME reach __wrap_NAME; APR's own internal calls are untouched. Each block
 * is recorded in a list kept as the pool's user data; the list's cleanup,
 * registered before anything else in the pool (fuzz_input_begin), runs last
 * and frees them all. */

typedef struct blocks_t {
    void **v;
    size_t n, cap;
    /* All lists are linked from a static: LeakSanitizer does not look into
     * pool memory (APR may take it from mmap), so a long-lived pool's blocks
     * must be reachable from here to not count as leaked. */
    struct blocks_t *prev, *next;
} blocks_t;

static const char BLOCKS_KEY[] = "mt-fuzz-blocks";
static blocks_t *all_blocks;

static apr_status_t blocks_free(void *data)
{
    blocks_t *b = data;
    size_t i;
    for (i = 0; i < b->n; i++)
        free(b->v[i]);
    if (b->prev)
        b->prev->next = b->next;
    else
        all_blocks = b->next;
    if (b->next)
        b->next->prev = b->prev;
    free(b->v);
    free(b);
    return APR_SUCCESS;
}

static blocks_t *blocks_of(apr_pool_t *p)
{
    void *data = NULL;
    apr_pool_userdata_get(&data, BLOCKS_KEY, p);
    if (!data) {
        blocks_t *b = calloc(1, sizeof(blocks_t));
        if (!b)
            abort();
        b->next = all_blocks;
        if (all_blocks)
            all_blocks->prev = b;
        all_blocks = b;
        apr_pool_userdata_setn(b, BLOCKS_KEY, blocks_free, p);
        data = b;
    }
    return data;
}

void *__wrap_apr_palloc(apr_pool_t *p, apr_size_t size);
char *__wrap_apr_pstrdup(apr_pool_t *p, const char *s);
char *__wrap_apr_pstrmemdup(apr_pool_t *p, const char *s, apr_size_t n);
char *__wrap_apr_pstrndup(apr_pool_t *p, const char *s, apr_size_t n);
void *__wrap_apr_pmemdup(apr_pool_t *p, const void *m, apr_size_t n);
char *__wrap_apr_pstrcat(apr_pool_t *p, ...);
char *__wrap_apr_pvsprintf(apr_pool_t *p, const char *fmt, va_list ap);
char *__wrap_apr_psprintf(apr_pool_t *p, const char *fmt, ...);
char *__real_apr_pvsprintf(apr_pool_t *p, const char *fmt, va_list ap);
apr_array_header_t *__wrap_apr_array_make(apr_pool_t *p, int nelts, int elt_size);
void *__wrap_apr_array_push(apr_array_header_t *arr);

void *__wrap_apr_palloc(apr_pool_t *p, apr_size_t size)
{
    blocks_t *b = blocks_of(p);
    void *m;

    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        void **v = realloc(b->v, cap * sizeof(*v));
        if (!v)
            abort();
        b->v = v;
        b->cap = cap;
    }
    /* malloc(0) gives a block of its own too: any access to it is reported */
    m = malloc(size);
    if (!m && size)
        abort();
    b->v[b->n++] = m;
    return m;
}

char *__wrap_apr_pstrmemdup(apr_pool_t *p, const char *s, apr_size_t n)
{
    char *d;
    if (!s)
        return NULL;
    d = __wrap_apr_palloc(p, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *__wrap_apr_pstrdup(apr_pool_t *p, const char *s)
{
    return s ? __wrap_apr_pstrmemdup(p, s, strlen(s)) : NULL;
}

char *__wrap_apr_pstrndup(apr_pool_t *p, const char *s, apr_size_t n)
{
    return s ? __wrap_apr_pstrmemdup(p, s, strnlen(s, n)) : NULL;
}

void *__wrap_apr_pmemdup(apr_pool_t *p, const void *m, apr_size_t n)
{
    void *d;
    if (!m)
        return NULL;
    d = __wrap_apr_palloc(p, n);
    memcpy(d, m, n);
    return d;
}

char *__wrap_apr_pstrcat(apr_pool_t *p, ...)
{
    va_list ap;
    const char *s;
    apr_size_t len = 0;
    char *d, *o;

    va_start(ap, p);
    while ((s = va_arg(ap, const char *)) != NULL)
        len += strlen(s);
    va_end(ap);
    o = d = __wrap_apr_palloc(p, len + 1);
    va_start(ap, p);
    while ((s = va_arg(ap, const char *)) != NULL) {
        apr_size_t n = strlen(s);
        memcpy(o, s, n);
        o += n;
    }
    va_end(ap);
    *o = '\0';
    return d;
}

/* APR's formatter (it knows APR's own conversions), into a scratch pool,
 * then copied into a block of its own. */
static apr_pool_t *scratch;

char *__wrap_apr_pvsprintf(apr_pool_t *p, const char *fmt, va_list ap)
{
    char *s = __real_apr_pvsprintf(scratch, fmt, ap);
    char *d = __wrap_apr_pstrdup(p, s);
    apr_pool_clear(scratch);
    return d;
}

char *__wrap_apr_psprintf(apr_pool_t *p, const char *fmt, ...)
{
    va_list ap;
    char *d;
    va_start(ap, fmt);
    d = __wrap_apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    return d;
}

/* Arrays as APR makes them, but with the elements in a block of their own
 * that is exactly as large as the elements allocated. */
apr_array_header_t *__wrap_apr_array_make(apr_pool_t *p, int nelts, int elt_size)
{
    apr_array_header_t *arr = __wrap_apr_palloc(p, sizeof(*arr));

    if (nelts < 1)
        nelts = 1;
    arr->elts = __wrap_apr_palloc(p, (apr_size_t)nelts * (apr_size_t)elt_size);
    memset(arr->elts, 0, (apr_size_t)nelts * (apr_size_t)elt_size);
    arr->pool = p;
    arr->elt_size = elt_size;
    arr->nelts = 0;
    arr->nalloc = nelts;
    return arr;
}

void *__wrap_apr_array_push(apr_array_header_t *arr)
{
    if (arr->nelts == arr->nalloc) {
        int n = arr->nalloc ? arr->nalloc * 2 : 1;
        char *elts = __wrap_apr_palloc(arr->pool, (apr_size_t)n * (apr_size_t)arr->elt_size);
        memcpy(elts, arr->elts, (apr_size_t)arr->nalloc * (apr_size_t)arr->elt_size);
        memset(elts + (apr_size_t)arr->nalloc * (apr_size_t)arr->elt_size, 0,
               (apr_size_t)(n - arr->nalloc) * (apr_size_t)arr->elt_size);
        arr->elts = elts;
        arr->nalloc = n;
    }
    return arr->elts + (apr_size_t)arr->elt_size * (apr_size_t)arr->nelts++;
}

/* ------------------------------------------------------------------ set-up */

static apr_pool_t *global_pool, *input_pool;
static mt_parse_opts_t parse_opts;

void fuzz_init(void)
{
    if (global_pool)
        return;
    setenv("TZ", "Europe/Berlin", 0);
    if (apr_initialize() != APR_SUCCESS)
        abort();
    apr_pool_create(&global_pool, NULL);
    apr_pool_create(&scratch, global_pool);
    apr_pool_create(&input_pool, global_pool);
    parse_opts.clock.year = 0;
    parse_opts.clock.reference = apr_time_from_sec(1795176000);   /* 2026-11-20T12:00:00Z */
    parse_opts.clock.cache = mt_syslog_cache_create(global_pool);  /* as an ingest does */
    parse_opts.host = NULL;
}

apr_pool_t *fuzz_global_pool(void)
{
    return global_pool;
}

apr_pool_t *fuzz_input_begin(void)
{
    fuzz_init();
    (void)blocks_of(input_pool);    /* its cleanup first, so it runs last */
    return input_pool;
}

void fuzz_input_end(void)
{
    apr_pool_clear(input_pool);
}

const mt_parse_opts_t *fuzz_parse_opts(void)
{
    return &parse_opts;
}

/* ------------------------------------------------------------------ lines */

size_t fuzz_each_line(apr_pool_t *p, const uint8_t *data, size_t size, fuzz_line_fn *fn,
                      void *baton)
{
    size_t start = 0, count = 0;
    apr_pool_t *line_pool;

    apr_pool_create(&line_pool, p);
    while (start < size) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - data) : size, len = end - start;
        char *line;

        if (len && data[end - 1] == '\r')
            len--;
        if (len) {
            line = malloc(len + 1);
            if (!line)
                abort();
            memcpy(line, data + start, len);
            line[len] = '\0';
            fn(baton, line, line_pool);
            free(line);
            apr_pool_clear(line_pool);
            count++;
        }
        start = end + 1;
    }
    return count;
}

/* ------------------------------------------------------------------ checks */

int fuzz_utf8_ok(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        apr_size_t n;
        if (*u < 0x80) {
            u++;
            continue;
        }
        n = mt_utf8_seq(u, 4);
        if (!n)
            return 0;
        u += n;
    }
    return 1;
}

/* Reads all of @a s: ASan reports a string that is not NUL-terminated
 * inside its block, or a block already freed. */
static volatile size_t sink;
static void touch(const char *s)
{
    if (s)
        sink += strlen(s);
}

static void touch_list(const apr_array_header_t *a)
{
    int i;
    if (!a)
        return;
    for (i = 0; i < a->nelts; i++) {
        const char *s = APR_ARRAY_IDX(a, i, const char *);
        FUZZ_ASSERT(s != NULL, "NULL member %d of a list", i);
        touch(s);
    }
}

void fuzz_check_parse(int rc, const mt_logrec_t *rec, const char *why, mt_format_e format,
                      const char *line)
{
    FUZZ_ASSERT(rc == 1 || rc == 0 || rc == -1, "rc %d for: %s", rc, line);
    if (rc == -1)
        FUZZ_ASSERT(why && *why, "-1 without a reason for: %s", line);
    if (rc != 1) {
        FUZZ_ASSERT(rec->kind == MT_REC_NONE, "rc %d with record kind %d for: %s", rc,
                    (int)rec->kind, line);
        return;
    }
    FUZZ_ASSERT(rec->kind != MT_REC_NONE && rec->format == format,
                "rc 1 with kind %d, format %d for: %s", (int)rec->kind, (int)rec->format, line);
    touch(rec->host); touch(rec->program); touch(rec->queue_id); touch(rec->next_queue_id);
    touch(rec->message_id); touch(rec->sender); touch(rec->recipient);
    touch(rec->orig_recipient); touch(rec->relay); touch(rec->delay); touch(rec->dsn);
    touch(rec->status); touch(rec->text); touch(rec->notify_kind); touch(rec->client);
    touch(rec->client_addr); touch(rec->sasl_user); touch(rec->uid); touch(rec->header_name);
    touch(rec->header_value); touch(rec->subject); touch(rec->user); touch(rec->session);
    touch(rec->mailbox); touch(rec->source_mailbox); touch(rec->flags);
    touch(rec->msgtrk_event_id); touch(rec->msgtrk_source); touch(rec->msgtrk_source_context);
    touch(rec->msgtrk_connector_id); touch(rec->msgtrk_internal_id);
    touch(rec->msgtrk_network_id); touch(rec->msgtrk_reference); touch(rec->msgtrk_return_path);
    touch(rec->msgtrk_server_ip); touch(rec->msgtrk_related_recipient);
    touch(rec->msgtrk_directionality); touch(rec->msgtrk_message_info);
    touch_list(rec->recipients);
    touch_list(rec->recipient_status);
}
