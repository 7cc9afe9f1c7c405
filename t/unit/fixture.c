/* fixture.c: see fixture.h */
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include "fixture.h"
#include "mt_time.h"

apr_time_t fx_td(int day, int h, int m, int s)
{
    return ((apr_time_t)mt_time_days_from_civil(2026, 11, (unsigned)day) * 86400
            + h * 3600 + m * 60 + s) * APR_USEC_PER_SEC;
}

apr_array_header_t *fx_rcpts(apr_pool_t *p, const char *spec)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(mt_rcpt_t));
    char *s = apr_pstrdup(p, spec ? spec : ""), *tok, *last;
    for (tok = apr_strtok(s, " ", &last); tok; tok = apr_strtok(NULL, " ", &last)) {
        mt_rcpt_t *r = &APR_ARRAY_PUSH(a, mt_rcpt_t);
        char *sl = strchr(tok, '/'), *eq;
        memset(r, 0, sizeof(*r));
        if (sl) {
            *sl++ = '\0';
            r->flags = *sl == 'B' ? MT_RCPT_BCC : *sl == 'T' ? MT_RCPT_TO : MT_RCPT_CC;
        }
        if ((eq = strchr(tok, '='))) {
            *eq++ = '\0';
            r->orig = eq;
        }
        r->addr = tok;
    }
    return a;
}

mt_msg_t *fx_hop(fx_t *fx, int kind, apr_time_t first, const char *host, const char *lid,
                 const char *msgid, const char *sender, const char *subject,
                 const char *client, unsigned flags, const char *rcpt_spec, const char *hdr)
{
    mt_msg_t *m = apr_pcalloc(fx->p, sizeof(*m));
    const char *err;
    m->kind = kind;
    m->first = m->last = first;
    m->host = host;
    m->local_id = lid;
    m->message_id = msgid;
    m->sender = sender;
    m->subject = subject;
    m->client = client;
    m->flags = flags;
    m->size = -1;
    m->nrcpt = -1;
    m->rcpts = fx_rcpts(fx->p, rcpt_spec);
    m->hdr_rcpts = apr_array_make(fx->p, 2, sizeof(const char *));
    if (hdr) {
        char *s = apr_pstrdup(fx->p, hdr), *tok, *last;
        for (tok = apr_strtok(s, " ", &last); tok; tok = apr_strtok(NULL, " ", &last))
            APR_ARRAY_PUSH(m->hdr_rcpts, const char *) = tok;
        m->flags |= MT_MSG_HDR_RCPTS;
    }
    if ((err = mt_store_msg_new(fx->t, m)) || (err = mt_store_msg_put(fx->t, m))) {
        printf("# hop: %s\n", err);
        fx->failed++;
    }
    if (fx->hops)
        APR_ARRAY_PUSH(fx->hops, mt_msg_t *) = m;
    return m;
}

void fx_event(fx_t *fx, mt_msg_t *m, apr_time_t t, int fact, const char *rcpt, const char *root,
              const fx_evx_t *x, int put_msg)
{
    mt_event_t ev = { .msg = m->key, .seq = m->nevents++, .time = t, .fact = fact,
                      .recipient = rcpt, .root = root };
    const char *err;
    if (x) {
        ev.relay = x->relay;
        ev.next_id = x->next_id;
        ev.dsn = x->dsn;
        ev.text = x->text;
        ev.folder = x->folder;
    }
    if (t > m->last)
        m->last = t;
    if ((err = mt_store_event_put(fx->t, &ev)) || (put_msg && (err = mt_store_msg_put(fx->t, m)))) {
        printf("# event: %s\n", err);
        fx->failed++;
    }
}

const char *fx_open(apr_pool_t *p, const char *dir, int keep_hops, mt_store_t **st, fx_t *fx)
{
    const char *err;
    memset(fx, 0, sizeof(*fx));
    fx->p = p;
    if (keep_hops)
        fx->hops = apr_array_make(p, 32, sizeof(mt_msg_t *));
    *st = NULL;
    if (!dir)
        return "mkdtemp failed";
    if ((err = mt_store_open(p, dir, MT_STORE_WRITER, st)))
        return err;
    return mt_store_begin(*st, p, &fx->t);
}

const char *fx_commit(fx_t *fx)
{
    const char *err = mt_store_commit(fx->t);
    if (!err && fx->failed)
        err = apr_psprintf(fx->p, "%d writes failed", fx->failed);
    return err;
}
