/**
 * @file mt_store.h
 * @brief The index: one transactional Berkeley DB environment in one directory.
 *
 * msgtrack-index is the only writer; it creates the environment and runs
 * recovery when it starts after a crash (DB_REGISTER + DB_RECOVER). httpd
 * children join it as readers after fork: they never register, so a killed
 * child never forces recovery; instead every process configures is-alive
 * checking and calls failchk, which releases the locks and aborts the
 * transactions of processes that died. Readers read in snapshot (MVCC)
 * transactions, so they never block the writer nor wait for it.
 *
 * The environment holds a format-version record: opening an index written
 * in another format is a clear error, never a misread.
 *
 * Databases (all B-trees):
 *   meta      format version and counters
 *   files     per input file: identity -> offset, line count, format, path
 *   messages  one record per hop: key (8 bytes, big-endian, from the
 *             "message" counter) -> mt_msg_t
 *   events    the events of a hop, in chunks of consecutive seqs: one
 *             record per hop per transaction that wrote events of it, key
 *             (hop key, seq of its first event: 8 + 4 bytes big-endian) ->
 *             a version byte, the count, and each event length-prefixed
 *   and the secondary indexes of messages, plain B-trees whose keys end
 *   with the hop's key (their data is empty), kept in step with messages by the
 *   writer in the same transaction (mt_store_msg_put, mt_store_msg_del):
 *   by_sender     H(lower(sender)) first(8) key(8)
 *   by_recipient  H(lower(address)) first(8) key(8), for every recipient
 *                 address and root address of the hop, once each
 *   by_msgid      'm' H(message-id) first(8) key(8), its data the hop's
 *                 kind (1 byte; empty in entries written in format 3), and
 *                 'r' H(ref-message-id) first(8) key(8) for notifications
 *                 where H(v) is mt_store_value_hash(v), 8 bytes big-endian:
 *                 a scan for a value returns the hops of every value with
 *                 its hash, and readers check the value on the hop (two
 *                 values of a site share a hash with odds of about 2^-64
 *                 per pair)
 *   by_time       first(8) key(8)
 *   by_hop        kind(1) lower(host) NUL local-id NUL [message-id NUL]
 *                 first(8) key(8): finds the current hop of a Postfix queue
 *                 id, an Exchange internal-message-id, a mailbox message
 *   Times are stored as apr_time_t offset by 2^63 so that they sort.
 */
#ifndef MT_STORE_H
#define MT_STORE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

/** The on-disk format this build writes. It reads format 3 too, which
 *  differs only in what format 4 adds (MT_MSG_PEERS, the kind in by_msgid
 *  entries); msgtrack-index (a writer) marks a format 3 index format 4
 *  when it opens it, so that an older build no longer writes to it. */
#define MT_STORE_FORMAT 4
#define MT_STORE_FORMAT_OLDEST 3

typedef struct mt_store_t mt_store_t;
typedef struct mt_txn_t mt_txn_t;

typedef enum {
    MT_STORE_READER = 0,   /**< join an existing index, read only (httpd) */
    MT_STORE_WRITER        /**< create if missing, recover if needed (msgtrack-index) */
} mt_store_mode_e;

/** Open the index in @a dir. On failure returns a message naming the
 *  directory and the cause (missing, not an index, other format version,
 *  permissions); @a *store is then NULL. The store is closed when @a p is
 *  cleared, or by mt_store_close(). */
const char *mt_store_open(apr_pool_t *p, const char *dir, mt_store_mode_e mode,
                          mt_store_t **store);

/** mt_store_open(), waiting up to @a lock_wait for the index directory's
 *  lock (mt_dirlock.h) that joining the environment and failchk take,
 *  instead of 5 s for a reader (which then gives up, saying so) and 10 s
 *  for a writer (which then goes on: its recovery is what frees the
 *  others). */
const char *mt_store_open_wait(apr_pool_t *p, const char *dir, mt_store_mode_e mode,
                               apr_interval_time_t lock_wait, mt_store_t **store);

/** Close the store (idempotent). Returns NULL when everything was released,
 *  or a static message when the environment could not be closed: after
 *  another process recovered the index (msgtrack-index opening it after a
 *  writer died) the old environment is panicked and Berkeley DB frees
 *  nothing, so its handles and mapped regions stay allocated until the
 *  process exits (Berkeley DB's remedy for DB_RUNRECOVERY is to exit). */
const char *mt_store_close(mt_store_t *store);

/** Release what dead processes held. Returns NULL, or a message when the
 *  environment needs recovery (the next writer start runs it; readers should
 *  close and reopen). */
const char *mt_store_failchk(mt_store_t *store);

/** Begin a transaction: a write transaction for a writer store, a snapshot
 *  (read-only, MVCC) one for a reader. It lives in @a p (aborted when @a p is
 *  cleared, unless committed first), and so does what is allocated for it. */
const char *mt_store_begin(mt_store_t *store, apr_pool_t *p, mt_txn_t **txn);
const char *mt_store_commit(mt_txn_t *txn);
/** Abort (idempotent; a NULL txn is ignored). */
void mt_store_abort(mt_txn_t *txn);

/** What the index remembers of one input file. */
typedef struct {
    unsigned long long dev, ino;
    /** Hash of the file's first bytes (up to 4096): tells a rotated-away or
     *  truncated-and-rewritten file from the one we read before. */
    unsigned long long head_hash;
    unsigned head_len;
    /** Bytes and lines consumed so far. */
    unsigned long long offset;
    unsigned long long lines;
    int format;            /**< mt_format_e */
    apr_time_t updated;    /**< when this record was last written */
    const char *path;      /**< where it was last seen */
} mt_store_file_t;

/** Hash of a file's first bytes, as kept in head_hash. */
unsigned long long mt_store_head_hash(const void *head, unsigned head_len);

/** Look up the file with device @a dev and inode @a ino: returns 1 and fills
 *  @a f when known, 0 when not, -1 on error (@a err set). The caller checks
 *  that the file still starts with the same bytes (head_len, head_hash):
 *  if not, the inode now holds another file (copytruncate, reuse). */
int mt_store_file_get(mt_txn_t *txn, apr_pool_t *p, unsigned long long dev,
                      unsigned long long ino, mt_store_file_t *f, const char **err);

/** Store @a f (in the same transaction as the records read from it). */
const char *mt_store_file_put(mt_txn_t *txn, const mt_store_file_t *f);

/** Counters of the meta database. */
const char *mt_store_counter_next(mt_txn_t *txn, const char *name, unsigned long long *value);
const char *mt_store_counter_get(mt_txn_t *txn, const char *name, unsigned long long *value);

/* ------------------------------------------------------------------ hops */

/** What a message record describes: one message on one server. */
typedef enum {
    MT_HOP_POSTFIX = 1,    /**< one Postfix queue file: host + queue id (+ first seen) */
    MT_HOP_MSGTRK = 2,     /**< one Exchange message: server + internal-message-id */
    MT_HOP_MAILBOX = 3     /**< one message in one Dovecot mailbox: host + user + message-id */
} mt_hop_kind_e;

/* mt_msg_t.flags */
#define MT_MSG_STARTED      0x0001  /**< a start line was seen (smtpd client=, pickup, RECEIVE) */
#define MT_MSG_SUBMITTED    0x0002  /**< authenticated submission or pickup: Submitted, not SmtpReceive */
#define MT_MSG_REMOVED      0x0004  /**< Postfix removed the queue file: the queue id may be reused */
#define MT_MSG_EXPIRED      0x0008  /**< Postfix gave up: status=expired, returned to sender */
#define MT_MSG_HDR_RCPTS    0x0010  /**< To/Cc headers were logged: hdr_rcpts decides Bcc */
#define MT_MSG_NOTIFICATION 0x0020  /**< an NDR, delay or delivery-status notice (ref_message_id, ndr_of) */
#define MT_MSG_READ         0x0040  /**< mailbox: \Seen was set (a Read event exists) */
#define MT_MSG_NOTREAD      0x0080  /**< mailbox: deleted or moved to Trash unread (a NotRead event exists) */
/** Kept by the store, whatever mt_store_msg_put() is given: mt_msg_t.peers
 *  holds every other hop but mailbox ones with this hop's Message-ID (or a
 *  Message-ID with the same 64-bit hash), none when it is the only one; so
 *  a search that needs only those hops (Find) reads them without looking
 *  for them. Set on a hop that is not a mailbox one when it gets its
 *  by_msgid entry; when another such hop gets one, every hop of the
 *  Message-ID gets the new list in the same transaction, or loses the flag
 *  when they are more than MT_MSG_PEERS_MAX + 1 or one was written in
 *  format 3 (whose hops never have it). A peer may since have gone, or
 *  changed its Message-ID: readers check. */
#define MT_MSG_PEERS        0x0100
#define MT_MSG_PEERS_MAX    4

/* mt_rcpt_t.flags */
#define MT_RCPT_TO   0x1   /**< named in To (Exchange recipient-status, or a logged To: header) */
#define MT_RCPT_CC   0x2
#define MT_RCPT_BCC  0x4   /**< known to be Bcc (Exchange recipient-status) */
#define MT_RCPT_PENDING 0x8   /**< correlation: the last word on it was a deferral */
#define MT_RCPT_DONE    0x10  /**< correlation: a final status (sent, bounced) was logged */

/** One recipient of a hop. */
typedef struct {
    const char *addr;      /**< the address as logged */
    const char *orig;      /**< root address before expansion (orig_to, Exchange related-recipient), or NULL */
    unsigned flags;        /**< MT_RCPT_* */
} mt_rcpt_t;

/** One message on one server (a "hop"). Strings may be NULL (unknown). */
typedef struct {
    apr_uint64_t key;          /**< assigned by mt_store_msg_new() */
    int kind;                  /**< mt_hop_kind_e */
    apr_time_t first;          /**< first line seen: the hop's receive/submit time */
    apr_time_t last;           /**< last line seen */
    const char *host;          /**< server that logged it, lower case ("" when unknown) */
    const char *local_id;      /**< queue id; internal-message-id; mailbox user */
    const char *message_id;    /**< as logged, with its angle brackets */
    const char *ref_message_id;/**< notifications: Message-ID of the message reported on */
    apr_uint64_t ndr_of;       /**< notifications: key of the hop reported on, 0 when unknown */
    const char *sender;        /**< "" for the null sender */
    const char *subject;       /**< UTF-8 */
    const char *client;        /**< where it came from: "name[addr]" or a server name */
    const char *auth_user;     /**< SASL user name, "uid=N" for pickup, Exchange source context */
    const char *notify_kind;   /**< "non-delivery", "delay", ... */
    apr_int64_t size;          /**< bytes, -1 unknown */
    int nrcpt;                 /**< -1 unknown */
    unsigned flags;            /**< MT_MSG_* */
    unsigned nevents;          /**< events stored for this hop: the next event's seq */
    int npeers;                /**< with MT_MSG_PEERS: the other hops of its Message-ID */
    apr_uint64_t peers[MT_MSG_PEERS_MAX];
    apr_array_header_t *rcpts;     /**< mt_rcpt_t, in order of first mention; never NULL after get */
    apr_array_header_t *hdr_rcpts; /**< const char *, lower case, from logged To/Cc headers */
} mt_msg_t;

/** What a log line said happened. EventDescription and DeliveryStatus are
 *  derived from it when a report is built (mt_query.c), since some depend on
 *  what else is indexed (a relay to a server whose logs we hold is SmtpSend,
 *  otherwise TransferredToForeignOrg). */
typedef enum {
    MT_FACT_NONE = 0,
    MT_FACT_RECEIVE,        /**< received over SMTP, unauthenticated (hop level: recipient NULL) */
    MT_FACT_SUBMIT,         /**< authenticated submission, pickup, Exchange SUBMIT (hop level) */
    MT_FACT_RESOLVE,        /**< Exchange RESOLVE: root -> recipient */
    MT_FACT_EXPAND,         /**< alias or group expansion: root -> recipient */
    MT_FACT_REDIRECT,       /**< Exchange REDIRECT, forwarding: root -> recipient */
    MT_FACT_RELAY,          /**< handed to another server: relay, next_id ("queued as") */
    MT_FACT_RELAY_EXTERNAL, /**< Exchange SENDEXTERNAL: handed out of the organization */
    MT_FACT_DELIVER,        /**< delivered to a mailbox (folder when the mailbox says) */
    MT_FACT_FILED,          /**< filed by Sieve or an inbox rule into folder */
    MT_FACT_DEFER,          /**< temporary failure (a queue event) */
    MT_FACT_FAIL,           /**< bounced, expired, rejected, FAIL, BADMAIL: dsn, text */
    MT_FACT_FAIL_RULES,     /**< failed by a transport rule */
    MT_FACT_MOD_PENDING,
    MT_FACT_MOD_APPROVED,
    MT_FACT_MOD_REJECTED,
    MT_FACT_READ,           /**< mailbox: \Seen set */
    MT_FACT_NOTREAD,        /**< mailbox: deleted or moved to Trash unread */
    MT_FACT_LAST_
} mt_fact_e;

/** Name of a fact ("receive", "deliver", ...), for dumps and diagnostics. */
const char *mt_fact_name(int fact);

/** One event of one hop. */
typedef struct {
    apr_uint64_t msg;          /**< hop key */
    unsigned seq;              /**< 0, 1, ... in the order logged */
    apr_time_t time;           /**< UTC microseconds */
    int fact;                  /**< mt_fact_e */
    const char *recipient;     /**< NULL: every recipient of the hop (receive, submit) */
    const char *root;          /**< root address (before expansion), NULL */
    const char *relay;         /**< next hop as logged, e.g. "mx.example.net[198.51.100.7]:25" */
    const char *next_id;       /**< the next hop's id ("queued as"), NULL */
    const char *dsn;           /**< "5.1.1" */
    const char *text;          /**< remote reply or status text */
    const char *folder;        /**< mailbox folder */
    const char *session;       /**< LMTP/Dovecot session id joining the two logs */
} mt_event_t;

/** Assign a new hop key (the "message" counter) to @a m; nothing is written. */
const char *mt_store_msg_new(mt_txn_t *txn, mt_msg_t *m);
/** Write @a m (insert or replace); the secondary indexes follow. The
 *  record itself is written when the transaction next reads an index or
 *  commits (reads of it in the transaction see it at once), so a write
 *  error may come from those. */
const char *mt_store_msg_put(mt_txn_t *txn, const mt_msg_t *m);
/** Read hop @a key into @a m (strings and arrays in @a p): 1 found, 0 not, -1 error. */
int mt_store_msg_get(mt_txn_t *txn, apr_pool_t *p, apr_uint64_t key, mt_msg_t *m,
                     const char **err);
/** Delete hop @a key, its events and its secondary entries. */
const char *mt_store_msg_del(mt_txn_t *txn, apr_uint64_t key);

/** Write event @a ev (key: ev->msg, ev->seq). Each seq of a hop is written
 *  once: in the order given, consecutive seqs of one hop become one record,
 *  written at commit, or earlier when the same transaction reads or deletes
 *  events (an abort discards them). A seq written already in the same
 *  transaction is an error. */
const char *mt_store_event_put(mt_txn_t *txn, const mt_event_t *ev);
/** Call @a cb for each event of hop @a msg in seq order; a non-zero return stops. */
typedef int (*mt_event_cb)(void *baton, const mt_event_t *ev);
const char *mt_store_events(mt_txn_t *txn, apr_pool_t *p, apr_uint64_t msg,
                            mt_event_cb cb, void *baton);

/** The newest hop of @a kind with @a host and @a local_id (and, for
 *  MT_HOP_MAILBOX, @a message_id): 1 and @a *key, 0 none, -1 error. */
int mt_store_hop_find(mt_txn_t *txn, apr_pool_t *p, int kind, const char *host,
                      const char *local_id, const char *message_id, apr_uint64_t *key,
                      const char **err);

/** The secondary indexes a scan can use. */
/** The 64-bit hash that stands for a value in by_sender, by_recipient and
 *  by_msgid: of the @a n bytes of @a s, ASCII-lower-cased first when
 *  @a lower (addresses). Part of the on-disk format. */
unsigned long long mt_store_value_hash(const char *s, apr_size_t n, int lower);

typedef enum {
    MT_IX_SENDER,      /**< value: an address, case-insensitive */
    MT_IX_RECIPIENT,   /**< value: an address, case-insensitive */
    MT_IX_MSGID,       /**< value: a Message-ID, exact (with brackets) */
    MT_IX_REF,         /**< value: a Message-ID: notifications about it */
    MT_IX_TIME         /**< value ignored */
} mt_index_e;

/** Call @a cb for every hop in index @a ix whose value is @a value and whose
 *  first time is in [@a start, @a end], in ascending time; a B-tree range
 *  scan. The indexes hold a hash of the value (mt_store_value_hash): a hop
 *  of another value with the same hash comes too, so callers check the
 *  value on the hop. A non-zero return from @a cb stops the scan. */
typedef int (*mt_hop_cb)(void *baton, apr_uint64_t key, apr_time_t first);
const char *mt_store_scan(mt_txn_t *txn, apr_pool_t *p, mt_index_e ix, const char *value,
                          apr_time_t start, apr_time_t end, mt_hop_cb cb, void *baton);

/** The keys of every hop indexed under @a value in index @a ix (any time),
 *  in the order of mt_store_scan(), appended to @a keys (apr_uint64_t):
 *  mt_store_scan() for lookups that expect a few entries (the hops of one
 *  Message-ID), which it reads one by one rather than a page at a time. */
const char *mt_store_keys(mt_txn_t *txn, apr_pool_t *p, mt_index_e ix, const char *value,
                          apr_array_header_t *keys);

/** Call @a cb for every hop in key order (dump, verify). */
const char *mt_store_msgs(mt_txn_t *txn, apr_pool_t *p, mt_hop_cb cb, void *baton);

/** Call @a cb for every file record. */
typedef int (*mt_file_cb)(void *baton, const mt_store_file_t *f);
const char *mt_store_files(mt_txn_t *txn, apr_pool_t *p, mt_file_cb cb, void *baton);

/** Add @a delta to counter @a name (statistics kept by the ingester). */
const char *mt_store_counter_add(mt_txn_t *txn, const char *name, apr_int64_t delta);

/** Delete every hop whose last time is before @a before, with its events,
 *  in transactions of at most @a batch hops. Counts what went. */
const char *mt_store_purge(mt_store_t *store, apr_pool_t *p, apr_time_t before,
                           unsigned batch, apr_uint64_t *hops, apr_uint64_t *events);

/** Check the index: every secondary entry points to a hop that produces it,
 *  every hop has its secondary entries, every event belongs to a hop and has
 *  seq < nevents, every record decodes, every chunk of events holds as many
 *  as it says and a hop's chunks do not overlap. Each problem goes to
 *  @a problem (one line of text); returns NULL with @a *count problems, or
 *  an error. */
typedef void (*mt_problem_cb)(void *baton, const char *problem);
const char *mt_store_verify(mt_store_t *store, apr_pool_t *p, mt_problem_cb problem,
                            void *baton, apr_uint64_t *count);

/** Sizes for stats. */
typedef struct {
    apr_uint64_t hops[4];      /**< by mt_hop_kind_e */
    apr_uint64_t events;
    apr_uint64_t files;
    apr_uint64_t bytes;        /**< database files and logs in the directory */
    apr_time_t oldest, newest; /**< first time of the oldest hop, last time of the newest; 0 when empty */
} mt_store_stats_t;
const char *mt_store_stats(mt_txn_t *txn, apr_pool_t *p, mt_store_stats_t *s);

/** Write what is committed to the database files and the disk, and let
 *  Berkeley DB remove the log files it no longer needs: always (@a force),
 *  or only once 32 MiB of log were written since the last checkpoint. */
const char *mt_store_checkpoint(mt_store_t *store, int force);

/** Directory of the store. */
const char *mt_store_dir(const mt_store_t *store);

#endif
