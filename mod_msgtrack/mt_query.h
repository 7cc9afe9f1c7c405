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

/** What a query did, for DiagnosticsLevel and the logs. */
typedef struct {
    /** Find: the index the planner chose ("message-id", "sender",
     *  "recipient", "time"); Get: "report-id". */
    const char *plan;
    const char *value;         /**< the value looked up in that index; NULL for time */
    apr_time_t start, end;     /**< Find: the submit-time range scanned (inclusive) */
    long probed;               /**< index entries read to choose between indexes */
    long scanned;              /**< index entries read by the scan */
    long hops;                 /**< hop records read (a message's hops, notifications) */
    /** Find: messages that matched, before the cap (newest first with a
     *  cap, the scan stops once more than the cap are known: those read
     *  until then); Get: events */
    long matched;
} mt_query_stats_t;

/** A Find. Absent filters are NULL (an empty string counts as absent).
 *  Addresses compare ASCII case-insensitively; the recipient filters match
 *  any recipient or root address on any server the message went through.
 *
 *  The planner scans one index: the Message-ID's when one is given, else
 *  the most selective of the sender's and the recipients' (it counts, up
 *  to a bound, the entries each has in the time range), else the time
 *  index; every other filter, the subject among them, is applied to what
 *  the scan returns. */
typedef struct {
    const char *sender;
    const char *recipient;
    /** A second address the message must also have gone to
     *  (FederatedDeliveryMailbox); NULL when absent. */
    const char *recipient2;
    const char *subject;       /**< case-insensitive (ASCII folding) substring */
    const char *message_id;    /**< exact, with or without angle brackets */
    apr_time_t start, end;     /**< inclusive bounds on the submit time; end 0: no upper bound */
    int max_results;           /**< results beyond are dropped (<= 0: no cap) */
    /** Results in descending submit time, and the cap keeps the newest;
     *  otherwise ascending, and the cap keeps the oldest. Newest first with
     *  a cap, the scan goes down the time range in windows and stops once
     *  more than the cap are known, so that a search matching many more
     *  messages than the cap does not read them all. */
    int newest_first;
    mt_query_stats_t *stats;   /**< filled when not NULL */
} mt_find_t;

/** The authorization rule of Find, checked before the index is read:
 *  NULL when @a who may run @a q, else ErrorAccessDenied (operation level)
 *  saying why. A caller without a mailbox may not search. A privileged
 *  caller may search for anything. Any other caller must name itself as
 *  the sender (and then may name any recipient), or name a sender and
 *  itself as the recipient (Recipient or FederatedDeliveryMailbox): it
 *  finds messages it sent, or messages a named sender sent to it. Nothing
 *  is implied: a search that names neither form is refused, not narrowed. */
mt_error_t *mt_query_find_check(apr_pool_t *p, const mt_viewer_t *who, const mt_find_t *q);

/** One FindMessageTrackingReport result (MessageTrackingSearchResultType). */
typedef struct {
    const char *report_id;     /**< MessageTrackingReportId */
    const char *message_id;
    const char *sender;
    const char *subject;
    apr_time_t submitted;      /**< SubmittedTime: the origin hop's first time */
    const char *first_hop;     /**< FirstHopServer: the origin hop's server */
    const char *previous_hop;  /**< PreviousHopServer: where the origin hop came from, NULL */
    /** const char *: the addresses the sender used; for a caller that is
     *  neither privileged nor the sender, only the caller's own address. */
    apr_array_header_t *recipients;
} mt_found_t;

/** Run a Find (after mt_query_find_check(), which it repeats). Results are
 *  one per message, in ascending submit time (descending with
 *  newest_first); a message is visible to a non-privileged caller that
 *  sent it or, when the search names its sender, received it. Returns NULL
 *  and @a *results (mt_found_t), @a *truncated when max_results cut the
 *  list; or an error (operation level, kind MT_FAULT_NONE:
 *  ErrorAccessDenied, ErrorMessageTrackingTransientError). */
mt_error_t *mt_query_find(mt_txn_t *txn, apr_pool_t *p, const mt_viewer_t *who,
                          const mt_find_t *q, apr_array_header_t **results, int *truncated);

/** A Get. */
typedef struct {
    const char *report_id;
    int recipient_path;        /**< 0: Summary, 1: RecipientPath */
    const char *recipient;     /**< RecipientFilter (required for RecipientPath) */
    int queue_events;          /**< ReturnQueueEvents (privileged callers only) */
    mt_query_stats_t *stats;   /**< filled when not NULL */
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
    apr_uint64_t hop;               /**< the hop's key in the index (InternalId, and the
                                         Internal-Id of report ids) */
    /** UniquePathId: the recipient's path, the same for all its events:
     *  "root/recipient" (lower case) when it was reached through another
     *  address, else "recipient". */
    const char *path_id;
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

/** What a Get needs before the index is read: NULL, or ErrorAccessDenied
 *  (a caller without a mailbox that is not privileged), then
 *  ErrorInvalidArgument (a report id that does not parse, RecipientPath
 *  without a recipient). */
mt_error_t *mt_query_report_check(apr_pool_t *p, const mt_viewer_t *who, const mt_get_t *q);

/** Run a Get (after mt_query_report_check(), which it repeats). The report
 *  id is never trusted: it must describe the hop it names, and the caller
 *  must be privileged, the message's sender, or one of its recipients.
 *  What each caller sees:
 *  - privileged: every recipient, hidden recipients, queue events when
 *    asked (ReturnQueueEvents);
 *  - the sender: every recipient but hidden ones, Bcc recipients flagged;
 *  - a recipient: only its own events, and only itself among the original
 *    recipients;
 *  - Read/NotRead events only with read tracking.
 *  A failure event of a recipient, seen by the sender or a privileged
 *  caller, also names in its EventData the non-delivery notification that
 *  reported it ("non-delivery notification <id> to <address>").
 *  Errors (operation level): those of mt_query_report_check(),
 *  ErrorMessageTrackingPermanentError (no such message), ErrorAccessDenied
 *  (not the caller's message), ErrorMessageTrackingTransientError. */
mt_error_t *mt_query_report(mt_txn_t *txn, apr_pool_t *p, const mt_viewer_t *who,
                            const mt_get_t *q, mt_report_t **report);

/** The report id of hop @a m, in Exchange's layout:
 *  "Message-Id=<...>,Server=HOST,Internal-Id=KEY,Sender=ADDR,Domain=DOMAIN".
 *  Values are escaped as RFC 3461 xtext, plus ',': '=', ',', '+', space,
 *  control characters and every byte outside ASCII become "+XX" (upper-case
 *  hex), so an id is printable ASCII and any Message-ID (quotes, non-ASCII,
 *  even invalid UTF-8) survives the round trip through a client. */
const char *mt_query_report_id(apr_pool_t *p, const mt_msg_t *m);

/** Parse a report id; returns 0 and the hop key it names (and the other
 *  fields, any may be NULL), or -1. */
typedef struct {
    const char *message_id, *server, *sender, *domain;
    apr_uint64_t key;
} mt_report_id_t;
int mt_query_parse_report_id(apr_pool_t *p, const char *id, mt_report_id_t *out);

#endif
