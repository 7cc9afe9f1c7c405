/* msgtrack_index.c: the msgtrack-index command */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <libxml/xmlversion.h>
#include <db.h>
#include "mt_log.h"
#include "mt_version.h"

#define EXIT_USAGE 2

typedef struct {
    const char *name;
    int takes_value;
} opt_t;

typedef struct {
    const char *name;
    const char *synopsis;
    const opt_t *opts;
    int min_args, max_args;   /* positional arguments; max -1: unbounded */
} subcmd_t;

static const opt_t ingest_opts[] = {
    { "--format", 1 }, { "--host", 1 }, { "--year", 1 }, { NULL, 0 } };
static const opt_t follow_opts[] = {
    { "--format", 1 }, { "--host", 1 }, { "--year", 1 }, { NULL, 0 } };
static const opt_t purge_opts[] = { { "--older-than", 1 }, { NULL, 0 } };
static const opt_t find_opts[] = {
    { "--sender", 1 }, { "--recipient", 1 }, { "--subject", 1 }, { "--message-id", 1 },
    { "--start", 1 }, { "--end", 1 }, { "--json", 0 }, { NULL, 0 } };
static const opt_t report_opts[] = { { "--recipient", 1 }, { "--json", 0 }, { NULL, 0 } };
static const opt_t no_opts[] = { { NULL, 0 } };

static const subcmd_t subcmds[] = {
    { "ingest", "ingest [--format auto|msgtrk|postfix|dovecot] [--host NAME] [--year YYYY] FILE...|-",
      ingest_opts, 1, -1 },
    { "follow", "follow [--format ...] [--host NAME] [--year YYYY] FILE...", follow_opts, 1, -1 },
    { "stats", "stats", no_opts, 0, 0 },
    { "verify", "verify", no_opts, 0, 0 },
    { "purge", "purge --older-than DAYS", purge_opts, 0, 0 },
    { "find", "find [--sender A] [--recipient A] [--subject S] [--message-id ID] "
              "[--start T] [--end T] [--json]", find_opts, 0, 0 },
    { "report", "report ID [--recipient A] [--json]", report_opts, 1, 1 },
    { NULL, NULL, NULL, 0, 0 }
};

static void usage(FILE *f)
{
    const subcmd_t *sc;
    fprintf(f, "usage: msgtrack-index --db DIR COMMAND [OPTIONS]\n"
               "       msgtrack-index --help | --version\n\ncommands:\n");
    for (sc = subcmds; sc->name; sc++)
        fprintf(f, "  %s\n", sc->synopsis);
    fprintf(f, "\nexit status: 0 ok, 1 runtime error, 2 usage error\n");
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "msgtrack-index: %s%s%s\nTry 'msgtrack-index --help'.\n", what,
            arg ? " " : "", arg ? arg : "");
    return EXIT_USAGE;
}

static const opt_t *find_opt(const opt_t *opts, const char *name)
{
    for (; opts->name; opts++)
        if (strcmp(opts->name, name) == 0)
            return opts;
    return NULL;
}

static int run(int argc, const char *const *argv)
{
    const char *db = NULL;
    const subcmd_t *sc = NULL;
    int i, positional = 0;

    for (i = 1; i < argc && !sc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            int maj, min, pat;
            db_version(&maj, &min, &pat);
            printf("msgtrack-index (mod_msgtrack) %s\nlibxml2 %s, Berkeley DB %d.%d.%d\n",
                   MT_VERSION_STRING, LIBXML_DOTTED_VERSION, maj, min, pat);
            return 0;
        }
        if (strcmp(a, "--db") == 0) {
            if (++i >= argc)
                return usage_error("--db needs a directory", NULL);
            db = argv[i];
            continue;
        }
        if (strncmp(a, "--db=", 5) == 0) {
            db = a + 5;
            continue;
        }
        if (a[0] == '-')
            return usage_error("unknown option", a);
        for (sc = subcmds; sc->name && strcmp(sc->name, a) != 0; sc++)
            ;
        if (!sc->name)
            return usage_error("unknown command", a);
    }
    if (!sc || !sc->name)
        return usage_error("no command given", NULL);
    for (; i < argc; i++) {
        const char *a = argv[i];
        const opt_t *o;
        if (a[0] == '-' && a[1] != '\0') {
            if (strcmp(a, "--help") == 0) {
                printf("usage: msgtrack-index --db DIR %s\n", sc->synopsis);
                return 0;
            }
            if (!(o = find_opt(sc->opts, a)))
                return usage_error("unknown option", a);
            if (o->takes_value && ++i >= argc)
                return usage_error("option needs a value:", a);
            continue;
        }
        positional++;
    }
    if (positional < sc->min_args || (sc->max_args >= 0 && positional > sc->max_args))
        return usage_error("wrong number of arguments; usage: msgtrack-index --db DIR",
                           sc->synopsis);
    if (!db)
        return usage_error("--db DIR is required", NULL);
    fprintf(stderr, "msgtrack-index: %s: the index store is not part of this build yet\n",
            sc->name);
    return 1;
}

int main(int argc, const char *const *argv)
{
    int rc;

    if (apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS) {
        fprintf(stderr, "msgtrack-index: cannot initialise APR\n");
        return 1;
    }
    rc = run(argc, argv);
    apr_terminate();
    return rc;
}
