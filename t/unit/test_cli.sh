#!/bin/sh
# test_cli.sh: msgtrack-index argument handling and exit codes (TAP)
bin=${MSGTRACK_INDEX:-mod_msgtrack/msgtrack-index}
n=0; failed=0
check() { # expected-exit stderr/stdout-substring description -- args...
    want=$1; needle=$2; desc=$3; shift 4
    n=$((n + 1))
    out=$("$bin" "$@" 2>&1); rc=$?
    if [ "$rc" = "$want" ] && printf '%s' "$out" | grep -q -- "$needle"; then
        echo "ok $n - $desc"
    else
        echo "not ok $n - $desc"; echo "#   exit $rc (want $want), output: $out"; failed=1
    fi
}
check 0 "msgtrack-index (mod_msgtrack)" "--version prints the version" -- --version
check 0 "Berkeley DB" "--version names the libraries" -- --version
check 0 "usage: msgtrack-index" "--help prints usage" -- --help
check 0 "report ID" "--help lists the commands" -- --help
check 2 "no command given" "no arguments is a usage error" --
check 2 "unknown command" "unknown command" -- --db /nonexistent frobnicate
check 2 "unknown option" "unknown global option" -- --bogus stats
check 2 "unknown option" "option of another command" -- --db /x verify --json
check 2 "needs a value" "option without its value" -- --db /x find --sender
check 2 "needs a directory" "--db without a directory" -- --db
check 2 "--db DIR is required" "--db is required" -- stats
check 2 "wrong number of arguments" "ingest needs files" -- --db /x ingest --format postfix
check 2 "wrong number of arguments" "report needs one id" -- --db /x report a b
check 2 "wrong number of arguments" "stats takes no arguments" -- --db /x stats extra
check 0 "usage: msgtrack-index --db DIR find" "per-command --help" -- --db /x find --help
check 1 "does not exist" "a missing index is a runtime error naming it" -- --db=/nonexistent find --sender a@example.org --json
check 2 "xs:dateTime" "a bad --start is a usage error" -- --db=/nonexistent find --start yesterday
echo "1..$n"
exit $failed
