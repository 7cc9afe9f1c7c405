/**
 * @file mt_query.h
 * @brief Query planning, visibility rules and report building over the index.
 *
 * What FindMessageTrackingReport and GetMessageTrackingReport return, built
 * once for the module (mt_ops.c renders it as SOAP) and for msgtrack-index
 * (find and report print it as a table or JSON).
 *
 * A message is the set of hops that share a Message-ID (a hop without one is
 * a message by itself); mailbox hops (Dovecot) with that Message-ID add the
 * mailbox's events to the matching recipient. The message's origin hop is its
 * earliest non-mailbox hop. Log facts become EventDescription/DeliveryStatus
 * here, by the mapping in NOTES.md.
 */
#ifndef MT_QUERY_H
#define MT_QUERY_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include "mt_error.h"
#include "mt_store.h"

/** Who asks. */
typedef struct {
    /** The caller's SMTP address (MsgTrackMailbox); NULL when unknown. */
    const char *mailbox;
    /** Help desk / admin view: sees every message and recipient, hidden
     *  recipients and (when asked) queue events. */
    int privileged;
    /** MsgTrackReadTracking: report Read / NotRead. */
    int read_tracking;
} mt_viewer_t;

/** A Find. Absent filters are NULL (an empty string counts as absent).
 *  Addresses compare ASCII case-insensitively; the recipient filter matches
 *  any recipient or root address on any server the message went through. */
typedef struct {
    const char *sender;
    const char *recipient;
    const char *subject;       /**< case-insensitive (ASCII folding) substring */
    const char *message_id;    /**< exact, with or without angle brackets */
    apr_time_t start, end;     /**< inclusive bounds on the submit time; end 0: no upper bound */
    int max_results;           /**< results beyond are dropped (<= 0: no cap) */
} mt_find_t;

/** One FindMessageTrackingReport result (MessageTrackingSearchResultType). */
typedef struct {
    const char *report_id;     /**< MessageTrackingReportId */
    const char *message_id;
    const char *sender;
    const char *subject;
    apr_time_t submitted;      /**< SubmittedTime: the origin hop's first time */
    const char *first_hop;     /**< FirstHopServer: the origin hop's server */
    const char *previous_hop;  /**< PreviousHopServer: where the origin hop came from, NULL */
    apr_array_header_t *recipients;  /**< const char *: the addresses the sender used */
} mt_found_t;

/** Run a Find. Results are in ascending submit time, one per message.
 *  Returns NULL and @a *results (mt_found_t), @a *truncated when
 *  max_results cut the list; or an error (operation level, kind
 *  MT_FAULT_NONE: ErrorAccessDenied, ErrorMessageTrackingTransientError). */
mt_error_t *mt_query_find(mt_txn_t *txn, apr_pool_t *p, const mt_viewer_t *who,
                          const mt_find_t *q, apr_array_header_t **results, int *truncated);

/** A Get. */
typedef struct {
    const char *report_id;
    int recipient_path;        /**< 0: Summary, 1: RecipientPath */
    const char *recipient;     /**< RecipientFilter (required for RecipientPath) */
    int queue_events;          /**< ReturnQueueEvents (privileged callers only) */
} mt_get_t;

/** One RecipientTrackingEventType. */
typedef struct {
    apr_time_t date;
    const char *recipient;
    const char *delivery_status;    /**< DeliveryStatus: Unsuccessful, Pending, Delivered, Transferred, Read */
    const char *description;        /**< EventDescription: Submitted, SmtpReceive, ... */
    apr_array_header_t *data;       /**< EventData strings (const char *), may be empty */
    const char *server;
    const char *internal_id;        /**< the hop's id on that server (queue id, internal-message-id) */
    int bcc;                        /**< BccRecipient */
    int hidden;                     /**< HiddenRecipient */
    const char *root;               /**< RootAddress, NULL */
    int queue_event;                /**< a queue event (MessageDefer): for ReturnQueueEvents */
} mt_report_event_t;

/** A MessageTrackingReportType. */
typedef struct {
    const char *message_id;
    const char *sender;             /**< NULL for the normative empty RecipientPath */
    const char *subject;
    apr_time_t submitted;           /**< MT_TIME_MIN for the normative empty RecipientPath */
    apr_array_header_t *original_recipients;  /**< const char * */
    apr_array_header_t *events;     /**< mt_report_event_t: RecipientPath by date; Summary the
                                         last event of each recipient, in order of first
                                         appearance */
} mt_report_t;

/** Run a Get. Errors (operation level): ErrorInvalidArgument (a report id
 *  that does not parse, RecipientPath without a recipient),
 *  ErrorMessageTrackingPermanentError (no such message), ErrorAccessDenied. */
mt_error_t *mt_query_report(mt_txn_t *txn, apr_pool_t *p, const mt_viewer_t *who,
                            const mt_get_t *q, mt_report_t **report);

/** The report id of hop @a m, in Exchange's layout:
 *  "Message-Id=<...>,Server=HOST,Internal-Id=KEY,Sender=ADDR,Domain=DOMAIN"
 *  with '=', ',' and '+' in values escaped as "+3D", "+2C", "+2B". */
const char *mt_query_report_id(apr_pool_t *p, const mt_msg_t *m);

/** Parse a report id; returns 0 and the hop key it names (and the other
 *  fields, any may be NULL), or -1. */
typedef struct {
    const char *message_id, *server, *sender, *domain;
    apr_uint64_t key;
} mt_report_id_t;
int mt_query_parse_report_id(apr_pool_t *p, const char *id, mt_report_id_t *out);

#endif
