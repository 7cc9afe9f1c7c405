/* mod_msgtrack.c: module declaration, hooks and the content handler */
#include <errno.h>
#include <string.h>
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_core.h"
#include "ap_expr.h"
#include "util_filter.h"
#include "apr_strings.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"
#include "apr_thread_proc.h"
#include "unixd.h"
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libxml/parser.h>

#include "mod_msgtrack.h"
#include "mt_log.h"
#include "mt_ops.h"
#include "mt_request.h"
#include "mt_soap.h"
#include "mt_version.h"


#define HANDLER_NAME "msgtrack"
#define ENDPOINT_NAME "Exchange.asmx"
/* How often a child runs failchk and checks the index directory. */
#define INDEX_CHECK_INTERVAL apr_time_from_sec(1)
/* How long work may wait in an index that failed before the child exits
 * (mt_index_watch). */
#define INDEX_STUCK_AFTER apr_time_from_sec(10)

/* ------------------------------------------------------------------ logging */

static void log_to_httpd(void *baton, const char *file, int line, mt_log_level_e level,
                         const char *msg)
{
    ap_log_error(file, line, APLOG_MODULE_INDEX, (int)level, 0, baton, "%s", msg);
}

static int log_enabled(void *baton, mt_log_level_e level)
{
    return APLOG_IS_LEVEL((server_rec *)baton, (int)level);
}

/* ------------------------------------------------------------------ start-up */

/* mt_index_check() opens the index, and opening may write to it: failchk
 * logs what it releases of dead processes (killed children, say), and a
 * log record may begin a new log file. Done as root in the parent, that
 * left a log file of root's in the index (seen at a graceful restart under
 * bench/stress.sh), which the children and msgtrack-index could not read:
 * the environment panicked. So the check runs in a process of its own,
 * which as root becomes the User the children run as. And it is given
 * CHECK_TIMEOUT: the failchk that opening runs can wait forever on what a
 * process killed inside Berkeley DB left (seen under bench/stress.sh in a
 * child), and a start-up or graceful restart must not wait with it. */
#define CHECK_TIMEOUT apr_time_from_sec(30)

static mt_index_state_e check_index(apr_pool_t *p, const char *dir, const char **msg)
{
    uid_t uid = ap_unixd_config.user_id;
    gid_t gid = ap_unixd_config.group_id;
    int as_user = geteuid() == 0 && uid != 0 && uid != (uid_t)-1;
    apr_time_t deadline = apr_time_now() + CHECK_TIMEOUT;
    char buf[4096];
    apr_size_t len = 0;
    int fds[2], status, timed_out = 0;
    mt_index_state_e state;
    pid_t pid;
    ssize_t n;

    if (pipe(fds) != 0 || (pid = fork()) < 0) {
        *msg = apr_psprintf(p, "%s: not checked (cannot start a process to check it)", dir);
        return MT_INDEX_NOT_READY;
    }
    if (pid == 0) {
        const char *m;
        close(fds[0]);
        if (as_user && (setgid(gid) != 0 || initgroups(ap_unixd_config.user_name, gid) != 0
                        || setuid(uid) != 0)) {
            state = MT_INDEX_NOT_READY;
            m = apr_psprintf(p, "%s: not checked (cannot become User %s)", dir,
                             ap_unixd_config.user_name);
        }
        else {
            state = mt_index_check(p, dir, &m);
        }
        buf[0] = (char)('0' + state);
        apr_cpystrn(buf + 1, m, sizeof(buf) - 1);
        if (write(fds[1], buf, strlen(buf)) < 0)
            _exit(1);
        _exit(0);
    }
    close(fds[1]);
    while (len < sizeof(buf) - 1) {
        struct pollfd pfd = { fds[0], POLLIN, 0 };
        apr_time_t left = deadline - apr_time_now();
        int r;
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        r = poll(&pfd, 1, (int)apr_time_as_msec(left) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;       /* the deadline decides */
        n = read(fds[0], buf + len, sizeof(buf) - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (apr_size_t)n;
    }
    close(fds[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    buf[len] = '\0';
    if (timed_out) {
        *msg = apr_psprintf(p, "%s: not checked (opening it took more than %" APR_TIME_T_FMT
                            " s: a process probably died inside Berkeley DB; the index "
                            "needs recovery, which msgtrack-index runs)", dir,
                            apr_time_sec(CHECK_TIMEOUT));
        return MT_INDEX_NOT_READY;
    }
    if (len < 1 || buf[0] < '0' || buf[0] > '0' + MT_INDEX_UNUSABLE) {
        *msg = apr_psprintf(p, "%s: not checked (the process checking it%s failed)", dir,
                            as_user ? apr_psprintf(p, " as User %s",
                                                   ap_unixd_config.user_name) : "");
        return MT_INDEX_NOT_READY;
    }
    *msg = apr_pstrdup(p, buf + 1);
    return (mt_index_state_e)(buf[0] - '0');
}

/* MsgTrackDatabase of every server, each directory once: a misconfiguration
 * (not a directory, an index of another format) stops start-up; an index
 * that is not there yet is a warning. */
static int check_databases(apr_pool_t *ptemp, server_rec *s)
{
    apr_hash_t *seen = apr_hash_make(ptemp);
    server_rec *vs;

    for (vs = s; vs; vs = vs->next) {
        msgtrack_server_t *conf = ap_get_module_config(vs->module_config, &msgtrack_module);
        const char *dir = conf->core->database_dir, *msg;
        mt_index_state_e state;

        if (!dir || apr_hash_get(seen, dir, APR_HASH_KEY_STRING))
            continue;
        apr_hash_set(seen, dir, APR_HASH_KEY_STRING, dir);
        state = check_index(ptemp, dir, &msg);
        if (state == MT_INDEX_UNUSABLE) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, vs,
                         "mod_msgtrack: MsgTrackDatabase %s", msg);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (state == MT_INDEX_NOT_READY)
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, vs,
                         "mod_msgtrack: MsgTrackDatabase %s", msg);
    }
    return OK;
}

/* Runs for `apachectl configtest` too (post_config does not), so a broken
 * schema directory or index fails the test, naming the path. */
static int msgtrack_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                                 server_rec *s)
{
    apr_hash_t *loaded = apr_hash_make(ptemp);
    server_rec *vs;
    (void)plog;

    xmlInitParser();
    mt_log_set(log_to_httpd, log_enabled, s);
    for (vs = s; vs; vs = vs->next) {
        msgtrack_server_t *conf = ap_get_module_config(vs->module_config, &msgtrack_module);
        const char *dir = mt_server_config_schema_dir(conf->core, MSGTRACK_SCHEMA_DIR);
        mt_schema_set_t *set = apr_hash_get(loaded, dir, APR_HASH_KEY_STRING);

        if (!set) {
            const char *err = mt_schema_set_load(pconf, dir, &set);
            if (err) {
                ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, vs,
                             "mod_msgtrack: MsgTrackSchemaDir%s: %s",
                             conf->core->schema_dir ? "" : " (default)", err);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            apr_hash_set(loaded, dir, APR_HASH_KEY_STRING, set);
        }
        conf->schemas = set;
    }
    return check_databases(ptemp, s);
}

static int msgtrack_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                                server_rec *s)
{
    (void)plog; (void)ptemp;
    ap_add_version_component(pconf, "mod_msgtrack/" MT_VERSION_STRING);
    mt_log_set(log_to_httpd, log_enabled, s);
    return OK;
}

/* ------------------------------------------------------------------ the child's index threads */

#if APR_HAS_THREADS
/* Two threads per child (mt_index.h): one runs the periodic check of each
 * index even when no request comes, the other watches for work stuck in an
 * index that failed and ends the child when it finds some. */
typedef struct {
    server_rec *s;
    apr_array_header_t *indexes;       /* mt_index_t * */
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *cond;
    int stop_checker, stop_monitor;
    apr_thread_t *checker, *monitor;
} watch_t;

/* Waits a second, or until told to stop (*flag). */
static int watch_sleep(watch_t *w, const int *flag)
{
    int stop;
    apr_thread_mutex_lock(w->mutex);
    if (!*flag)
        apr_thread_cond_timedwait(w->cond, w->mutex, apr_time_from_sec(1));
    stop = *flag;
    apr_thread_mutex_unlock(w->mutex);
    return stop;
}

static void *APR_THREAD_FUNC index_checker(apr_thread_t *t, void *data)
{
    watch_t *w = data;
    apr_pool_t *p;
    int i;
    (void)t;

    if (apr_pool_create_unmanaged_ex(&p, NULL, NULL) != APR_SUCCESS)
        return NULL;
    while (!watch_sleep(w, &w->stop_checker)) {
        for (i = 0; i < w->indexes->nelts; i++)
            mt_index_maintain(APR_ARRAY_IDX(w->indexes, i, mt_index_t *), p);
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    return NULL;
}

static void *APR_THREAD_FUNC index_monitor(apr_thread_t *t, void *data)
{
    watch_t *w = data;
    int i;
    (void)t;

    while (!watch_sleep(w, &w->stop_monitor)) {
        for (i = 0; i < w->indexes->nelts; i++) {
            const char *why;
            if (mt_index_watch(APR_ARRAY_IDX(w->indexes, i, mt_index_t *), INDEX_STUCK_AFTER,
                               &why)) {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, w->s, "mod_msgtrack: %s; this child "
                             "process exits now", why);
                /* Not exit(): the stuck threads would be waited for. */
                _exit(0);
            }
        }
    }
    return NULL;
}

/* When the child ends: the checker stops, the indexes close (watched: a
 * close can wait on a dead process too), then the monitor. */
static apr_status_t watch_stop(void *data)
{
    watch_t *w = data;
    apr_status_t rv;
    int i;

    apr_thread_mutex_lock(w->mutex);
    w->stop_checker = 1;
    apr_thread_cond_broadcast(w->cond);
    apr_thread_mutex_unlock(w->mutex);
    if (w->checker)
        apr_thread_join(&rv, w->checker);
    for (i = 0; i < w->indexes->nelts; i++)
        mt_index_close(APR_ARRAY_IDX(w->indexes, i, mt_index_t *), 0);
    apr_thread_mutex_lock(w->mutex);
    w->stop_monitor = 1;
    apr_thread_cond_broadcast(w->cond);
    apr_thread_mutex_unlock(w->mutex);
    if (w->monitor)
        apr_thread_join(&rv, w->monitor);
    return APR_SUCCESS;
}

static void watch_start(apr_pool_t *pchild, server_rec *s, apr_array_header_t *indexes)
{
    watch_t *w = apr_pcalloc(pchild, sizeof(*w));

    w->s = s;
    w->indexes = indexes;
    if (apr_thread_mutex_create(&w->mutex, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS
        || apr_thread_cond_create(&w->cond, pchild) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "mod_msgtrack: cannot create the index "
                     "threads' mutex");
        return;
    }
    /* A pre-cleanup: it runs before pchild's subpools (the threads' own)
     * and other cleanups (the indexes' mutexes) are gone. */
    apr_pool_pre_cleanup_register(pchild, w, watch_stop);
    if (apr_thread_create(&w->checker, NULL, index_checker, w, pchild) != APR_SUCCESS
        || apr_thread_create(&w->monitor, NULL, index_monitor, w, pchild) != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "mod_msgtrack: cannot start the index "
                     "threads");
}
#endif

/* Each child reads the index on its own: one handle per MsgTrackDatabase
 * directory, joined now so the first request does not pay for it. When the
 * index is not there yet, requests try again (mt_index.h). The index
 * threads start before that first open: opening runs failchk, which can
 * wait forever on what a process killed inside Berkeley DB left (holding
 * the directory's lock, so that every other process's failchk waits
 * too), and only the monitor ends a child stuck so. */
static void msgtrack_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_hash_t *by_dir = apr_hash_make(pchild);
    apr_array_header_t *indexes = apr_array_make(pchild, 2, sizeof(mt_index_t *));
    server_rec *vs;
    int i;

    for (vs = s; vs; vs = vs->next) {
        msgtrack_server_t *conf = ap_get_module_config(vs->module_config, &msgtrack_module);
        const char *dir = conf->core->database_dir, *err;
        mt_index_t *ix;

        if (!dir)
            continue;
        if (!(ix = apr_hash_get(by_dir, dir, APR_HASH_KEY_STRING))) {
            if ((err = mt_index_create(pchild, dir, INDEX_CHECK_INTERVAL, &ix))) {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, vs, "mod_msgtrack: %s", err);
                continue;
            }
            apr_hash_set(by_dir, dir, APR_HASH_KEY_STRING, ix);
            APR_ARRAY_PUSH(indexes, mt_index_t *) = ix;
        }
        conf->index = ix;
    }
#if APR_HAS_THREADS
    if (indexes->nelts)
        watch_start(pchild, s, indexes);
#endif
    for (i = 0; i < indexes->nelts; i++) {
        mt_index_t *ix = APR_ARRAY_IDX(indexes, i, mt_index_t *);
        mt_index_ref_t *ref;
        apr_pool_t *tp;
        const char *err;

        apr_pool_create(&tp, pchild);
        if ((err = mt_index_acquire(ix, tp, &ref)))
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "mod_msgtrack: %s; requests get "
                         "ErrorMessageTrackingTransientError until it can be read", err);
        else
            mt_index_release(ref, 0);
        apr_pool_destroy(tp);
    }
}

/* ------------------------------------------------------------------ output */

/* A response is gathered in buckets of this size ... */
#define SINK_CHUNK APR_BUCKET_BUFF_SIZE
/* ... and goes down the filters whole, with a Content-Length, in one pass
 * (one write for the kernel) when it is no longer than this; a longer one
 * streams (chunked) from here on, a bucket at a time. */
#define SINK_HOLD (64 * 1024)

typedef struct {
    request_rec *r;
    apr_bucket_brigade *bb;
    char *chunk;            /* being filled, SINK_CHUNK bytes, or NULL */
    apr_size_t used;        /* bytes in chunk */
    apr_off_t total;        /* bytes written */
} sink_t;

/* The chunk being filled becomes a bucket of the brigade. */
static void sink_seal(sink_t *sk)
{
    if (sk->chunk && sk->used)
        APR_BRIGADE_INSERT_TAIL(sk->bb, apr_bucket_heap_create(sk->chunk, sk->used,
                                                               apr_bucket_free,
                                                               sk->bb->bucket_alloc));
    else if (sk->chunk)
        apr_bucket_free(sk->chunk);
    sk->chunk = NULL;
    sk->used = 0;
}

static int sink_write(void *baton, const char *data, apr_size_t len)
{
    sink_t *sk = baton;

    while (len) {
        apr_size_t n;
        if (!sk->chunk)
            sk->chunk = apr_bucket_alloc(SINK_CHUNK, sk->bb->bucket_alloc);
        n = SINK_CHUNK - sk->used < len ? SINK_CHUNK - sk->used : len;
        memcpy(sk->chunk + sk->used, data, n);
        sk->used += n;
        sk->total += (apr_off_t)n;
        data += n;
        len -= n;
        if (sk->used == SINK_CHUNK) {
            sink_seal(sk);
            if (sk->total > SINK_HOLD) {
                if (ap_pass_brigade(sk->r->output_filters, sk->bb) != APR_SUCCESS)
                    return -1;
                apr_brigade_cleanup(sk->bb);
            }
        }
    }
    return 0;
}

/* A chunk not made a bucket (a sink left unfinished) goes with the request. */
static apr_status_t sink_cleanup(void *baton)
{
    sink_t *sk = baton;
    if (sk->chunk)
        apr_bucket_free(sk->chunk);
    sk->chunk = NULL;
    return APR_SUCCESS;
}

static mt_out_t *response_out(request_rec *r)
{
    sink_t *sk = apr_pcalloc(r->pool, sizeof(*sk));
    sk->r = r;
    sk->bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_pool_cleanup_register(r->pool, sk, sink_cleanup, apr_pool_cleanup_null);
    return mt_out_make_buffered(r->pool, sink_write, sk, 4096);
}

static int response_done(request_rec *r, mt_out_t *out)
{
    sink_t *sk = out->baton;

    mt_out_flush(out);
    sink_seal(sk);
    if (!out->failed) {
        APR_BRIGADE_INSERT_TAIL(sk->bb, apr_bucket_eos_create(sk->bb->bucket_alloc));
        if (ap_pass_brigade(r->output_filters, sk->bb) == APR_SUCCESS)
            return OK;
    }
    apr_brigade_cleanup(sk->bb);
    /* The client went away mid-response: nothing more to say to it. */
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "mod_msgtrack: writing the response failed");
    return AP_FILTER_ERROR;
}

static int send_fault(request_rec *r, const mt_error_t *err)
{
    mt_out_t *out = response_out(r);

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "mod_msgtrack: fault %s: %s%s%s",
                  err->code, err->message, err->line ? " at line " : "",
                  err->line ? apr_psprintf(r->pool, "%d:%d", err->line, err->column) : "");
    r->status = HTTP_INTERNAL_SERVER_ERROR;
    ap_set_content_type(r, MT_SOAP_CONTENT_TYPE);
    if (r->header_only)
        return OK;
    mt_soap_write_fault(out, err);
    return response_done(r, out);
}

/* ------------------------------------------------------------------ request body */

/* Feeds the body to the parser as it arrives, as ap_xml_parse_input() does,
 * with our own cap: 413 as soon as the cap is passed, without reading on. */
static int read_body(request_rec *r, apr_off_t limit, mt_soap_parser_t *sp, mt_error_t **perr)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_off_t total = 0;
    int seen_eos = 0;

    if (cl) {
        apr_off_t n;
        char *end;
        if (apr_strtoff(&n, cl, &end, 10) == APR_SUCCESS && *end == '\0' && n > limit) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "mod_msgtrack: request body of %"
                          APR_OFF_T_FMT " bytes exceeds MsgTrackMaxRequestBody %" APR_OFF_T_FMT,
                          n, limit);
            r->connection->keepalive = AP_CONN_CLOSE;
            return HTTP_REQUEST_ENTITY_TOO_LARGE;
        }
    }
    do {
        apr_bucket *b;
        apr_status_t rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                                         APR_BLOCK_READ, HUGE_STRING_LEN);
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, rv, r, "mod_msgtrack: reading the request body");
            return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
        }
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = APR_BUCKET_NEXT(b)) {
            const char *data;
            apr_size_t len;

            if (APR_BUCKET_IS_EOS(b)) {
                seen_eos = 1;
                break;
            }
            if (APR_BUCKET_IS_METADATA(b))
                continue;
            rv = apr_bucket_read(b, &data, &len, APR_BLOCK_READ);
            if (rv != APR_SUCCESS) {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, rv, r,
                              "mod_msgtrack: reading the request body");
                return HTTP_BAD_REQUEST;
            }
            total += (apr_off_t)len;
            if (total > limit) {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "mod_msgtrack: request body "
                              "exceeds MsgTrackMaxRequestBody %" APR_OFF_T_FMT, limit);
                r->connection->keepalive = AP_CONN_CLOSE;
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
            /* After a parse error keep counting (the cap still applies) but
             * stop parsing. */
            if (!*perr)
                *perr = mt_soap_parser_feed(sp, data, len);
        }
        apr_brigade_cleanup(bb);
    } while (!seen_eos);
    return OK;
}

/* ------------------------------------------------------------------ caller */

static const char *caller_mailbox(request_rec *r, const mt_dir_config_t *dir)
{
    const char *err = NULL, *v;

    if (!dir->mailbox_expr)
        return r->user && *r->user ? r->user : NULL;
    v = ap_expr_str_exec(r, dir->mailbox_expr, &err);
    if (err) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "mod_msgtrack: MsgTrackMailbox could not be evaluated: %s", err);
        return NULL;
    }
    return v && *v ? v : NULL;
}

static int caller_privileged(request_rec *r, const mt_dir_config_t *dir)
{
    const char *err = NULL;
    int rc;

    if (!dir->privileged_expr)
        return 0;
    rc = ap_expr_exec(r, dir->privileged_expr, &err);
    if (rc < 0 || err) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "mod_msgtrack: MsgTrackPrivileged could not be evaluated: %s",
                      err ? err : "error");
        return 0;
    }
    return rc > 0;
}

/* ------------------------------------------------------------------ SOAP */

static int handle_soap(request_rec *r, const msgtrack_server_t *srv, const mt_dir_config_t *dir)
{
    mt_soap_parser_t *sp;
    mt_soap_request_t env;
    mt_request_t req;
    mt_ops_ctx_t ctx;
    mt_error_t *err = NULL;
    xmlDocPtr doc;
    mt_out_t *out;
    int rc;

    if (!mt_soap_content_type_ok(apr_table_get(r->headers_in, "Content-Type"))) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "mod_msgtrack: Content-Type '%s' is not "
                      "text/xml (SOAP 1.1)", apr_table_get(r->headers_in, "Content-Type"));
        return HTTP_UNSUPPORTED_MEDIA_TYPE;
    }
    sp = mt_soap_parser_create(r->pool);
    rc = read_body(r, (apr_off_t)mt_dir_config_max_request_body(dir), sp, &err);
    if (rc != OK)
        return rc;
    if (err || (err = mt_soap_parser_finish(sp, &doc)))
        return send_fault(r, err);
    if ((err = mt_soap_open(r->pool, doc, &env)))
        return send_fault(r, err);

    memset(&req, 0, sizeof(req));
    if ((err = mt_request_check_op(r->pool, env.operation)))
        return send_fault(r, err);
    if (env.version && (err = mt_schema_validate(srv->schemas, r->pool, env.version)))
        return send_fault(r, err);
    if ((err = mt_request_check_version(r->pool, env.version, &req.server_version)))
        return send_fault(r, err);
    if ((err = mt_schema_validate(srv->schemas, r->pool, env.operation)))
        return send_fault(r, err);
    if ((err = mt_request_decode(r->pool, env.operation, &req)))
        return send_fault(r, err);

    ctx.dir = dir;
    ctx.server = srv->core;
    ctx.mailbox = caller_mailbox(r, dir);
    ctx.privileged = caller_privileged(r, dir);
    ctx.index = srv->index;
    ctx.now = r->request_time;
    ap_log_rerror(APLOG_MARK, APLOG_TRACE2, 0, r,
                  "config: mailbox=%s privileged=%d max_results=%d search_days=%d "
                  "read_tracking=%s max_body=%" APR_INT64_T_FMT,
                  ctx.mailbox ? ctx.mailbox : "-", ctx.privileged,
                  mt_dir_config_max_results(dir), mt_dir_config_search_days(dir),
                  mt_dir_config_read_tracking(dir) ? "on" : "off",
                  (apr_int64_t)mt_dir_config_max_request_body(dir));
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "mod_msgtrack: %s (RequestServerVersion %s)",
                  mt_request_op_name(req.op), req.server_version ? req.server_version : "absent");

    ap_set_content_type(r, MT_SOAP_CONTENT_TYPE);
    out = response_out(r);
    if ((err = mt_ops_run(r->pool, &ctx, &req, out)))
        return send_fault(r, err);
    return response_done(r, out);
}

/* ------------------------------------------------------------------ WSDL and XSDs */

static int send_wsdl(request_rec *r, const msgtrack_server_t *srv)
{
    const char *slash = strrchr(r->uri, '/');
    const char *dir = apr_pstrmemdup(r->pool, r->uri, (apr_size_t)(slash - r->uri) + 1);
    const char *url = ap_construct_url(r->pool,
                                       ap_escape_uri(r->pool, apr_pstrcat(r->pool, dir,
                                                                          ENDPOINT_NAME, NULL)),
                                       r);
    mt_out_t *out;

    ap_set_content_type(r, MT_SOAP_CONTENT_TYPE);
    /* The address depends on the Host the client used. */
    apr_table_mergen(r->headers_out, "Vary", "Host");
    if (r->header_only)
        return OK;
    out = response_out(r);
    mt_schema_write_wsdl(srv->schemas, out, url);
    return response_done(r, out);
}

static int send_schema_file(request_rec *r, const msgtrack_server_t *srv, mt_schema_file_e f)
{
    apr_size_t len;
    apr_time_t mtime;
    const char *data = mt_schema_file_data(srv->schemas, f, &len, &mtime);
    int rc;

    ap_set_content_type(r, MT_SOAP_CONTENT_TYPE);
    ap_update_mtime(r, mtime);
    ap_set_last_modified(r);
    if ((rc = ap_meets_conditions(r)) != OK)
        return rc;
    ap_set_content_length(r, (apr_off_t)len);
    if (r->header_only)
        return OK;
    return ap_rwrite(data, (int)len, r) < 0 ? AP_FILTER_ERROR : OK;
}

/* ------------------------------------------------------------------ handler */

static int msgtrack_handler(request_rec *r)
{
    const msgtrack_server_t *srv;
    const mt_dir_config_t *dir;
    const char *name;
    int file;

    if (!r->handler || strcmp(r->handler, HANDLER_NAME) != 0)
        return DECLINED;
    srv = ap_get_module_config(r->server->module_config, &msgtrack_module);
    dir = ap_get_module_config(r->per_dir_config, &msgtrack_module);

    name = strrchr(r->uri, '/');
    name = name ? name + 1 : r->uri;
    if (strcasecmp(name, ENDPOINT_NAME) == 0) {
        ap_allow_methods(r, REPLACE_ALLOW, "GET", "HEAD", "POST", "OPTIONS", NULL);
        switch (r->method_number) {
        case M_POST:
            return handle_soap(r, srv, dir);
        case M_GET:
            return send_wsdl(r, srv);
        case M_OPTIONS:
            return ap_send_http_options(r);
        default:
            return HTTP_METHOD_NOT_ALLOWED;
        }
    }
    file = mt_schema_file_lookup(name);
    if (file < 0)
        return HTTP_NOT_FOUND;
    ap_allow_methods(r, REPLACE_ALLOW, "GET", "HEAD", "OPTIONS", NULL);
    switch (r->method_number) {
    case M_GET:
        return file == MT_SCHEMA_FILE_WSDL ? send_wsdl(r, srv)
                                           : send_schema_file(r, srv, (mt_schema_file_e)file);
    case M_OPTIONS:
        return ap_send_http_options(r);
    default:
        return HTTP_METHOD_NOT_ALLOWED;
    }
}

static void msgtrack_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_check_config(msgtrack_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(msgtrack_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(msgtrack_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(msgtrack_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(msgtrack) = {
    STANDARD20_MODULE_STUFF,
    msgtrack_create_dir_config,
    msgtrack_merge_dir_config,
    msgtrack_create_server_config,
    msgtrack_merge_server_config,
    msgtrack_cmds,
    msgtrack_register_hooks,
    AP_MODULE_FLAG_NONE
};
