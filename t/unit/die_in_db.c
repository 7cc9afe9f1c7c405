/* die_in_db.c: join the index in DIR and die inside Berkeley DB.
 *
 *   die_in_db DIR
 *
 * An httpd child killed mid-request may die inside a Berkeley DB call, and
 * failchk then reports that the environment needs recovery. This does it on
 * purpose, for the tests of what happens next: it joins the environment
 * (as a reader does), opens a database of its own in it whose B-tree
 * comparison kills the process (SIGKILL), and puts two keys: the second put
 * compares, inside the library. Exits 1 if it could not get that far. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <db.h>

#if DB_VERSION_MAJOR >= 6
static int die(DB *db, const DBT *a, const DBT *b, size_t *locp)
#else
static int die(DB *db, const DBT *a, const DBT *b)
#endif
{
    (void)db; (void)a; (void)b;
#if DB_VERSION_MAJOR >= 6
    (void)locp;
#endif
    raise(SIGKILL);
    return 0;
}

int main(int argc, char **argv)
{
    DB_ENV *env;
    DB *db;
    DBT k, d;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: die_in_db DIR\n");
        return 2;
    }
    if ((rc = db_env_create(&env, 0)) != 0
        || (rc = env->open(env, argv[1], DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL
                           | DB_INIT_TXN | DB_THREAD, 0)) != 0
        || (rc = db_create(&db, env, 0)) != 0
        || (rc = db->set_bt_compare(db, die)) != 0
        || (rc = db->open(db, NULL, "die_in_db", NULL, DB_BTREE, DB_CREATE | DB_AUTO_COMMIT
                          | DB_THREAD, 0660)) != 0) {
        fprintf(stderr, "die_in_db: %s: %s\n", argv[1], db_strerror(rc));
        return 1;
    }
    memset(&k, 0, sizeof(k));
    memset(&d, 0, sizeof(d));
    k.data = (void *)"a";
    k.size = 1;
    d.data = (void *)"x";
    d.size = 1;
    rc = db->put(db, NULL, &k, &d, DB_AUTO_COMMIT);
    k.data = (void *)"b";
    rc = db->put(db, NULL, &k, &d, DB_AUTO_COMMIT);
    fprintf(stderr, "die_in_db: still alive after two puts (%s)\n", db_strerror(rc));
    return 1;
}
