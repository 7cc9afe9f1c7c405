/**
 * @file mt_logrec.h
 * @brief One parsed log line: what the parsers produce and correlation consumes.
 *
 * Each log format has one parser (mt_parse_postfix.c, mt_parse_dovecot.c,
 * mt_parse_msgtrk.c). A parser turns one line into at most one mt_logrec_t,
 * holding the facts the line states and nothing inferred: joining lines into
 * messages, recipients and events is correlation's job. Strings are as logged
 * except where a field says otherwise, and live in the pool given to the
 * parser for that line. Absent fields are NULL (numbers: -1).
 */
#ifndef MT_LOGREC_H
#define MT_LOGREC_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

typedef enum {
    MT_FORMAT_UNKNOWN = 0,
    MT_FORMAT_MSGTRK,      /**< Exchange message tracking log (CSV) */
    MT_FORMAT_POSTFIX,     /**< Postfix via syslog or maillog_file */
    MT_FORMAT_DOVECOT      /**< Dovecot LMTP/LDA, Sieve and mail_log plugin */
} mt_format_e;

typedef enum {
    MT_REC_NONE = 0,

    /* Postfix. queue_id is set on all but NOQUEUE rejects. */
    MT_REC_PF_CLIENT,      /**< smtpd: QID: client=NAME[ADDR][, sasl_method=M, sasl_username=U]
                                -> client, client_addr, sasl_user */
    MT_REC_PF_PICKUP,      /**< pickup: QID: uid=N from=<S> -> uid, sender */
    MT_REC_PF_MESSAGE_ID,  /**< cleanup: QID: message-id=<ID> -> message_id (brackets kept) */
    MT_REC_PF_HEADER,      /**< cleanup: QID: info: header NAME: VALUE from NAME[ADDR]; from=<S> to=<R> ...
                                -> header_name, header_value (as logged, RFC 2047 encoded),
                                   subject (decoded to UTF-8 when header_name is Subject),
                                   sender, recipient */
    MT_REC_PF_QUEUED,      /**< qmgr: QID: from=<S>, size=N, nrcpt=N (queue active) -> sender, size, nrcpt */
    MT_REC_PF_DELIVERY,    /**< AGENT: QID: to=<R>, [orig_to=<O>,] relay=X, delay=D, delays=a/b/c/d,
                                dsn=X.Y.Z, status=S (TEXT) -> recipient, orig_recipient, relay,
                                delay, dsn, status (sent|deferred|bounced|expired|...), text,
                                next_queue_id (from "queued as QID" in TEXT) */
    MT_REC_PF_EXPIRED,     /**< qmgr: QID: from=<S>, status=expired, returned to sender -> sender */
    MT_REC_PF_NOTIFY,      /**< bounce: QID: sender non-delivery notification: NQID
                                -> notify_kind ("non-delivery", "delay", "delivery status",
                                   "postmaster non-delivery", ...), next_queue_id = NQID */
    MT_REC_PF_REMOVED,     /**< qmgr: QID: removed */
    MT_REC_PF_REJECT,      /**< smtpd: NOQUEUE: reject: RCPT from NAME[ADDR]: CODE X.Y.Z <R>: TEXT;
                                from=<S> to=<R> ... -> client, client_addr, dsn, text, sender,
                                recipient; also "QID: [milter-]reject: ..." (queue_id set)
                                and header/body_checks rejects */

    /* Dovecot. user is the mailbox user from "service(user)". */
    MT_REC_DV_DELIVERED,   /**< lmtp/lda: msgid=<ID>: saved mail to BOX, or sieve: msgid=<ID>:
                                [fileinto action: ]stored mail into mailbox 'BOX'
                                -> user, session, message_id, mailbox, sieve (1 when by Sieve) */
    MT_REC_DV_MAILLOG,     /**< mail_log plugin: EVENT: box=B, uid=N, msgid=<ID>, ..., flags=(...)
                                -> user, session, status = EVENT (flag_change, delete, expunge,
                                   save, copy, ...), mailbox = box, uid, message_id, flags,
                                   source_mailbox for "copy from SRC" */

    /* Exchange. */
    MT_REC_MSGTRK          /**< one row -> the msgtrk_* fields, plus the common ones below */
} mt_rec_kind_e;

typedef struct {
    mt_format_e format;
    mt_rec_kind_e kind;
    /** 1-based line number in its file, for diagnostics. */
    long line;
    /** When the line says it happened, UTC microseconds. */
    apr_time_t time;
    /** The server that logged it: syslog host, --host, or server-hostname. */
    const char *host;
    /** Syslog program, e.g. "postfix/submission/smtpd", "dovecot". */
    const char *program;
    long pid;

    const char *queue_id;
    const char *next_queue_id;
    const char *message_id;
    const char *sender;            /**< "" for the null sender <> */
    const char *recipient;
    const char *orig_recipient;
    const char *relay;
    const char *delay;
    const char *dsn;
    const char *status;
    const char *text;
    const char *notify_kind;
    const char *client;            /**< client host name */
    const char *client_addr;       /**< client IP address */
    const char *sasl_user;
    const char *uid;
    const char *header_name;
    const char *header_value;
    const char *subject;           /**< UTF-8 */
    long long size;
    int nrcpt;

    const char *user;
    const char *session;
    const char *mailbox;
    const char *source_mailbox;
    const char *flags;
    int sieve;

    /* Exchange MSGTRK columns, by their #Fields names. */
    const char *msgtrk_event_id;          /**< event-id: RECEIVE, DELIVER, ... */
    const char *msgtrk_source;            /**< source: SMTP, STOREDRIVER, ... */
    const char *msgtrk_source_context;
    const char *msgtrk_connector_id;
    const char *msgtrk_internal_id;       /**< internal-message-id */
    const char *msgtrk_network_id;        /**< network-message-id (2013+) */
    const char *msgtrk_reference;
    const char *msgtrk_return_path;
    const char *msgtrk_server_ip;
    const char *msgtrk_related_recipient;
    const char *msgtrk_directionality;
    const char *msgtrk_message_info;
    /** recipient-address and recipient-status, split on ';' (quoted members
     *  unwrapped), the same length or recipient_status NULL. */
    apr_array_header_t *recipients;        /**< const char * */
    apr_array_header_t *recipient_status;  /**< const char * */
} mt_logrec_t;

/** Reset @a rec to "nothing known" (all NULL, numbers -1, kind MT_REC_NONE). */
void mt_logrec_clear(mt_logrec_t *rec);

/** Name of a format ("msgtrk", "postfix", "dovecot"), or NULL. */
const char *mt_format_name(mt_format_e f);
/** Format by name (as --format takes it); MT_FORMAT_UNKNOWN for "auto" or others. */
mt_format_e mt_format_lookup(const char *name);

#endif
