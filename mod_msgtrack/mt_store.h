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
 *   files     per input file: identity -> offset, line count, format, host
 *   (messages, events and the secondary indexes come with correlation)
 */
#ifndef MT_STORE_H
#define MT_STORE_H

#include <apr_pools.h>
#include <apr_time.h>

/** The on-disk format this build reads and writes. */
#define MT_STORE_FORMAT 1

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

/** Close the store (idempotent). */
void mt_store_close(mt_store_t *store);

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

/** Directory of the store. */
const char *mt_store_dir(const mt_store_t *store);

#endif
