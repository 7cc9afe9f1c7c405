#!/bin/sh
# test_ingest.sh: msgtrack-index ingest, follow, stats, verify, purge, dump (TAP)
#
# Exactly once: re-reading adds nothing, kill -9 at random moments followed
# by a re-run gives the same index as one uninterrupted run, and `follow`
# survives rotation by rename and by copytruncate.
bin=${MSGTRACK_INDEX:-mod_msgtrack/msgtrack-index}
data=${MSGTRACK_DATA_DIR:-t/data}
gen=${MSGTRACK_GEN_LOGS:-$(dirname "$0")/../../bench/gen_logs.py}
tmp=$(mktemp -d /tmp/mt-ingest-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
n=0; failed=0

pass() { n=$((n + 1)); echo "ok $n - $1"; }
flunk() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "#   $l"; done; failed=1; }
check() { # description command... : exit 0 wanted
    d=$1; shift
    if out=$("$@" 2>&1); then pass "$d"; else flunk "$d" "exit $?: $out"; fi
}
same_file() { # description a b
    if cmp -s "$2" "$3"; then pass "$1"; else flunk "$1" "$(diff "$2" "$3" | head -20)"; fi
}
dump() { "$bin" --db "$1" dump > "$2"; }
# The dump without the file records (whose device and inode differ per copy).
dump_hops() { "$bin" --db "$1" dump | grep -v '^file ' > "$2"; }

ingest_samples() { # db
    "$bin" --db "$1" ingest --year 2026 "$data/postfix/mail.log" \
        "$data/msgtrk/MSGTRK-2010.LOG" "$data/msgtrk/MSGTRK20261120-1.LOG" &&
    "$bin" --db "$1" ingest --year 2026 --host imap.example.org "$data/dovecot/dovecot.log"
}

# ---------------------------------------------------------------- samples
db=$tmp/samples
if out=$(ingest_samples "$db" 2>&1) && [ -z "$out" ]; then
    pass "the sample logs ingest quietly"
else
    flunk "the sample logs ingest quietly" "$out"
fi
dump "$db" "$tmp/d1"
ingest_samples "$db" >/dev/null 2>&1
dump "$db" "$tmp/d2"
same_file "ingesting the same files again adds nothing" "$tmp/d1" "$tmp/d2"
grep -q '^hop .*id="4C1D52B1F3A"' "$tmp/d1" && pass "Postfix hops are indexed" ||
    flunk "Postfix hops are indexed"
grep -q '^hop .*kind=3 .*id="erin@example.org"' "$tmp/d1" && pass "Dovecot mailbox hops are indexed" ||
    flunk "Dovecot mailbox hops are indexed"
grep -q '^hop .*kind=2 .*host="mbx01.corp.example.org"' "$tmp/d1" && pass "Exchange hops are indexed" ||
    flunk "Exchange hops are indexed"
check "verify finds the index consistent" "$bin" --db "$db" verify
out=$("$bin" --db "$db" stats)
echo "$out" | grep -q '^messages  *[1-9]' && echo "$out" | grep -q '^events  *[1-9]' &&
    echo "$out" | grep -q '^files  *4$' && pass "stats counts messages, events and files" ||
    flunk "stats counts messages, events and files" "$out"
"$bin" --db "$db" stats --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["files"] == 4 and d["records"]["dovecot"] > 0' 2>&1 &&
    pass "stats --json is JSON" || flunk "stats --json is JSON"

# A copy of a file under another inode is known by its head and not read twice.
cp "$data/postfix/mail.log" "$tmp/mail.copy"
"$bin" --db "$db" ingest --year 2026 "$tmp/mail.copy" 2>/dev/null
dump_hops "$db" "$tmp/d3"; grep -v '^file ' "$tmp/d1" > "$tmp/d1h"
same_file "a copy of an ingested file adds nothing" "$tmp/d1h" "$tmp/d3"

# Standard input is read once, without an offset.
db2=$tmp/stdin
"$bin" --db "$db2" ingest --year 2026 - < "$data/postfix/mail.log" 2>/dev/null
"$bin" --db "$tmp/file" ingest --year 2026 "$data/postfix/mail.log" 2>/dev/null
dump_hops "$db2" "$tmp/s1"; dump_hops "$tmp/file" "$tmp/s2"
same_file "standard input gives the same hops as the file" "$tmp/s1" "$tmp/s2"

# ---------------------------------------------------------------- bad and unfinished lines
db=$tmp/bad
{ sed -n 1,10p "$data/postfix/mail.log"
  echo 'Nov 20 09:15:03 mx1 postfix/qmgr[1187]: 4C1D52B1F3A: from=<alice@example.org>, size=abc, nrcpt=3 (queue active)'
  echo 'not a log line at all'
  sed -n '11,$p' "$data/postfix/mail.log"; } > "$tmp/bad.log"
err=$("$bin" --db "$db" ingest --year 2026 "$tmp/bad.log" 2>&1 >/dev/null); rc=$?
[ $rc = 0 ] && pass "bad lines do not fail the run" || flunk "bad lines do not fail the run" "exit $rc"
echo "$err" | grep -q "bad.log:11: " && pass "a bad line is diagnosed with file:line" ||
    flunk "a bad line is diagnosed with file:line" "$err"
echo "$err" | grep -q "2 did not parse" && pass "the summary counts the bad lines" ||
    flunk "the summary counts the bad lines" "$err"
dump_hops "$db" "$tmp/b1"
[ "$(grep -c '^hop ' "$tmp/b1")" = "$(grep -c '^hop ' "$tmp/s2")" ] &&
    pass "every message around the bad lines is indexed" ||
    flunk "every message around the bad lines is indexed"

db=$tmp/long
{ sed -n 1,10p "$data/postfix/mail.log"
  head -c 2200000 /dev/zero | tr '\0' x; echo
  sed -n '11,$p' "$data/postfix/mail.log"; } > "$tmp/long.log"
err=$("$bin" --db "$db" ingest --year 2026 "$tmp/long.log" 2>&1 >/dev/null); rc=$?
[ $rc = 0 ] && echo "$err" | grep -q "long.log:11: line longer than 1 MiB, skipped" &&
    pass "a line over 1 MiB is diagnosed and skipped" ||
    flunk "a line over 1 MiB is diagnosed and skipped" "exit $rc: $err"
dump_hops "$db" "$tmp/l1"
same_file "every message around an over-long line is indexed" "$tmp/s2" "$tmp/l1"

db=$tmp/partial
head -c 2000 "$data/postfix/mail.log" > "$tmp/p.log"      # ends inside a line
"$bin" --db "$db" ingest --year 2026 "$tmp/p.log" 2>/dev/null
tail -c +2001 "$data/postfix/mail.log" >> "$tmp/p.log"
"$bin" --db "$db" ingest --year 2026 "$tmp/p.log" 2>/dev/null
dump_hops "$db" "$tmp/p1"
same_file "an unfinished last line waits for the rest of it" "$tmp/s2" "$tmp/p1"

# ---------------------------------------------------------------- kill -9
if [ -f "$gen" ] && command -v python3 >/dev/null; then
    python3 "$gen" --format postfix --lines 60000 --seed 7 -o "$tmp/big.log" 2>/dev/null
    python3 "$gen" --format msgtrk --lines 20000 --seed 8 -o "$tmp/big.LOG" 2>/dev/null
    export MSGTRACK_BATCH_LINES=700
    "$bin" --db "$tmp/ref" ingest --year 2026 "$tmp/big.log" "$tmp/big.LOG" 2>/dev/null
    dump "$tmp/ref" "$tmp/ref.dump"
    kills=0
    for i in 1 2 3 4 5 6 7 8 9 10; do
        "$bin" --db "$tmp/crash" ingest --year 2026 "$tmp/big.log" "$tmp/big.LOG" 2>/dev/null &
        pid=$!
        # somewhere in the first second or so: mid-batch, mid-commit, mid-recovery
        sleep "0.$(awk -v s="$i" 'BEGIN { srand(s * 7919); printf "%03d", rand() * 400 }')"
        kill -9 $pid 2>/dev/null && kills=$((kills + 1))
        wait $pid 2>/dev/null
    done
    "$bin" --db "$tmp/crash" ingest --year 2026 "$tmp/big.log" "$tmp/big.LOG" 2>/dev/null
    dump "$tmp/crash" "$tmp/crash.dump"
    echo "# $kills of 10 runs were killed before they finished"
    [ "$kills" -gt 0 ] && pass "ingest was killed mid-run ($kills times)" ||
        flunk "ingest was killed mid-run" "every run finished before its kill: machine too fast for the test"
    same_file "after kill -9 and a re-run the index equals an uninterrupted run" "$tmp/ref.dump" "$tmp/crash.dump"
    check "the index is consistent after the kills" "$bin" --db "$tmp/crash" verify
    unset MSGTRACK_BATCH_LINES
else
    echo "# skipping the kill -9 test: no python3 or no $gen"
    n=$((n + 1)); echo "ok $n # SKIP python3 or generator missing"
fi

# ---------------------------------------------------------------- follow
db=$tmp/follow
log=$tmp/follow.log
total=$(wc -l < "$data/postfix/mail.log")
third=$((total / 3))
sed -n "1,${third}p" "$data/postfix/mail.log" > "$log"
"$bin" --db "$db" follow --year 2026 "$log" 2>"$tmp/follow.err" &
fpid=$!
sleep 1
# rotation by rename: the rest of the old file is read, then the new one
sed -n "$((third + 1)),$((third + 10))p" "$data/postfix/mail.log" >> "$log"
mv "$log" "$log.1"
sed -n "$((third + 11)),$((2 * third))p" "$data/postfix/mail.log" > "$log"
sleep 1
# rotation by copytruncate: the file shrinks under us and starts over
cp "$log" "$log.2"; : > "$log"
sleep 1
sed -n "$((2 * third + 1)),\$p" "$data/postfix/mail.log" >> "$log"
sleep 1
kill -TERM $fpid; wait $fpid; rc=$?
[ $rc = 0 ] && pass "follow ends cleanly on SIGTERM" || flunk "follow ends cleanly on SIGTERM" "exit $rc: $(cat "$tmp/follow.err")"
dump_hops "$db" "$tmp/f1"
same_file "follow through rename and copytruncate indexes every line once" "$tmp/s2" "$tmp/f1"
# restart: resumes at the stored offset
sed -n 6,7p "$data/postfix/mail.log" | sed 's/4C1D52B1F3A/4C1D52B1F3B/' >> "$log"
"$bin" --db "$db" follow --year 2026 "$log" 2>>"$tmp/follow.err" &
fpid=$!
sleep 1; kill -TERM $fpid; wait $fpid
dump_hops "$db" "$tmp/f2"
[ "$(grep -c '^hop ' "$tmp/f2")" = "$(( $(grep -c '^hop ' "$tmp/f1") + 1 ))" ] &&
    pass "follow resumes after a restart at the stored offset" ||
    flunk "follow resumes after a restart at the stored offset" "$(diff "$tmp/f1" "$tmp/f2" | head)"

# A process killed inside Berkeley DB (an httpd child mid-request, say)
# leaves the environment needing recovery, and may die holding a mutex that
# others then wait for forever; die_in_db does that on purpose. follow
# notices (failchk, once a second), starts again, recovers the index and
# goes on indexing; a reader still running says the index needs recovery
# and stops; so does an ingest, and its next run recovers the index.
lines_in() { "$bin" --db "$1" stats --json 2>/dev/null |
             python3 -c 'import json,sys; print(json.load(sys.stdin)["lines"])' 2>/dev/null || echo 0; }
stop_follow() { # pid: SIGTERM, up to 30 s to end (then SIGKILL, said); its exit status
    kill -TERM "$1"
    for _ in $(seq 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$1" 2>/dev/null && echo "# follow hung: killed"
    wait "$1"
}
wait_lines() { # db lines: wait up to 60 s for the index to have read that many lines
    for _ in $(seq 120); do [ "$(lines_in "$1")" -ge "$2" ] && return 0; sleep 0.5; done
    return 1
}
die=${MSGTRACK_DIE_IN_DB:-$(dirname "$0")/die_in_db}
if [ -f "$tmp/big.log" ] && [ -x "$die" ]; then
    db=$tmp/recover
    log=$tmp/recover.log
    head -n 40000 "$tmp/big.log" > "$log"
    "$bin" --db "$db" follow --year 2026 "$log" 2>"$tmp/recover.err" &
    fpid=$!
    wait_lines "$db" 40000 || flunk "follow read the log first" "$(cat "$tmp/recover.err")"
    # a reader still running: dump, held up by a slow pipe
    { "$bin" --db "$db" dump 2>"$tmp/dump.err"; echo $? > "$tmp/dump.rc"; } |
        { sleep 4; cat > /dev/null; } &
    rpid=$!
    sleep 1
    "$die" "$db" 2>/dev/null
    for _ in $(seq 100); do grep -q 'starting again' "$tmp/recover.err" && break; sleep 0.1; done
    grep -q 'starting again (1) in 0 s' "$tmp/recover.err" &&
        pass "a process dies inside Berkeley DB: follow starts again at once and recovers the index" ||
        flunk "a process dies inside Berkeley DB: follow starts again at once and recovers the index" \
              "$(cat "$tmp/recover.err")"
    wait $rpid
    [ "$(cat "$tmp/dump.rc")" = 1 ] && grep -q 'needs recovery' "$tmp/dump.err" &&
        pass "a reader still running stops, saying the index needs recovery" ||
        flunk "a reader still running stops, saying the index needs recovery" \
              "exit $(cat "$tmp/dump.rc")" "$(cat "$tmp/dump.err")"
    tail -n +40001 "$tmp/big.log" >> "$log"
    wait_lines "$db" "$(wc -l < "$tmp/big.log")" &&
        pass "after the recovery follow indexes what is appended" ||
        flunk "after the recovery follow indexes what is appended" "$(cat "$tmp/recover.err")"
    stop_follow $fpid; rc=$?
    [ $rc = 0 ] && pass "follow ends cleanly on SIGTERM after recovering" ||
        flunk "follow ends cleanly on SIGTERM after recovering" "exit $rc"
    "$bin" --db "$tmp/recover-ref" ingest --year 2026 "$log" 2>/dev/null
    dump "$db" "$tmp/r1"; dump "$tmp/recover-ref" "$tmp/r2"
    same_file "the recovered index equals an offline ingest of the same log" "$tmp/r2" "$tmp/r1"

    # an ingest waiting for more of standard input
    db=$tmp/recover2
    "$bin" --db "$db" ingest --year 2026 "$data/postfix/mail.log"
    { head -n 1000 "$tmp/big.log"; sleep 3; } |
        "$bin" --db "$db" ingest --year 2026 - 2>"$tmp/ingest.err" &
    ipid=$!
    sleep 1
    "$die" "$db" 2>/dev/null
    wait $ipid; rc=$?
    [ $rc = 1 ] && grep -q 'run the command again' "$tmp/ingest.err" &&
        pass "an ingest running stops with exit 1, saying to run it again" ||
        flunk "an ingest running stops with exit 1, saying to run it again" "exit $rc" \
              "$(cat "$tmp/ingest.err")"
    check "the next ingest recovers the index" "$bin" --db "$db" ingest --year 2026 "$tmp/big.log"
    check "which is then consistent" "$bin" --db "$db" verify
else
    n=$((n + 1)); echo "ok $n # SKIP python3, the generator or die_in_db missing"
fi

# Berkeley DB's failchk must not run in two processes at once, and opening
# the index runs it: a command waits while another process holds the index
# directory's lock (flock), then goes on.
if command -v flock >/dev/null; then
    db=$tmp/samples
    flock "$db" sleep 2 &
    lpid=$!
    sleep 0.3
    t0=$(date +%s%N)
    out=$("$bin" --db "$db" stats 2>&1); rc=$?
    waited=$(( ($(date +%s%N) - t0) / 1000000 ))
    wait $lpid
    [ $rc = 0 ] && [ $waited -ge 1000 ] &&
        pass "stats waits for another process's failchk (${waited} ms), then reads" ||
        flunk "stats waits for another process's failchk, then reads" "exit $rc after ${waited} ms: $out"
    # A holder for longer waits on a dead process: a reading command gives
    # up after 25 s, saying so (a writer goes on after 10 s: its recovery is
    # what frees the others; httpd's children give up after 5 s).
    flock -o "$db" sleep 40 &
    lpid=$!
    sleep 0.3
    t0=$(date +%s%N)
    out=$("$bin" --db "$db" stats 2>&1); rc=$?
    waited=$(( ($(date +%s%N) - t0) / 1000000 ))
    kill $lpid 2>/dev/null; wait $lpid 2>/dev/null
    [ $rc = 1 ] && [ $waited -ge 24000 ] && [ $waited -lt 39000 ] &&
        echo "$out" | grep -q 'another process has been opening or checking it for 25 s' &&
        pass "and after 25 s gives up, saying why (${waited} ms)" ||
        flunk "and after 25 s gives up, saying why" "exit $rc after ${waited} ms: $out"
else
    n=$((n + 1)); echo "ok $n # SKIP no flock(1)"
fi

# When reading fails (here: the followed name is a directory, read() says
# EISDIR; in life the index out of memory, say), follow starts again after a
# pause, recovering the index, instead of ending.
db=$tmp/retry
log=$tmp/retry.log
mkdir "$log"
"$bin" --db "$db" follow --year 2026 "$log" 2>"$tmp/retry.err" &
fpid=$!
for _ in $(seq 100); do grep -q "starting again (1)" "$tmp/retry.err" && break; sleep 0.1; done
rmdir "$log"
cp "$data/postfix/mail.log" "$log"
wait_lines "$db" "$(wc -l < "$log")" && kill -0 $fpid 2>/dev/null &&
    pass "follow starts again when reading fails, and goes on once it can" ||
    flunk "follow starts again when reading fails, and goes on once it can" "$(cat "$tmp/retry.err")"
grep -q 'Is a directory' "$tmp/retry.err" && grep -q 'starting again (1) in 1 s' "$tmp/retry.err" &&
    pass "the failure is said, and the pause" ||
    flunk "the failure is said, and the pause" "$(cat "$tmp/retry.err")"
stop_follow $fpid; rc=$?
[ $rc = 0 ] && pass "and ends cleanly on SIGTERM" || flunk "and ends cleanly on SIGTERM" "exit $rc"
dump_hops "$db" "$tmp/y1"
same_file "what it read equals an offline ingest" "$tmp/s2" "$tmp/y1"

# ---------------------------------------------------------------- purge
db=$tmp/samples
out=$("$bin" --db "$db" purge --older-than 0)
echo "$out" | grep -q '^purged [1-9][0-9]* messages' && pass "purge deletes old messages" ||
    flunk "purge deletes old messages" "$out"
"$bin" --db "$db" stats | grep -q '^messages  *0 ' && pass "nothing is left after purging all" ||
    flunk "nothing is left after purging all" "$("$bin" --db "$db" stats)"
check "verify finds the purged index consistent" "$bin" --db "$db" verify
"$bin" --db "$db" stats --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["oldest"] is None and d["newest"] is None and d["last_ingest"]' 2>&1 &&
    pass "stats --json of an empty index has null times" || flunk "stats --json of an empty index has null times"
"$bin" --db "$tmp/ref" purge --older-than 36500 >/dev/null
dump "$tmp/ref" "$tmp/ref2.dump"
same_file "purge keeps what is newer than the cutoff" "$tmp/ref.dump" "$tmp/ref2.dump"

# ---------------------------------------------------------------- errors
out=$("$bin" --db "$tmp/none" stats 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "does not exist" && pass "a missing index is a runtime error naming it" ||
    flunk "a missing index is a runtime error naming it" "exit $rc: $out"
out=$("$bin" --db "$tmp/x" ingest "$tmp/missing.log" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "missing.log" && pass "a missing log file is named" ||
    flunk "a missing log file is named" "exit $rc: $out"
out=$("$bin" --db "$tmp/x" ingest --format exim "$data/postfix/mail.log" 2>&1); rc=$?
[ $rc = 2 ] && pass "an unknown --format is a usage error" || flunk "an unknown --format is a usage error" "exit $rc: $out"
out=$("$bin" --db "$tmp/x" ingest --year 26 "$data/postfix/mail.log" 2>&1); rc=$?
[ $rc = 2 ] && pass "a bad --year is a usage error" || flunk "a bad --year is a usage error" "exit $rc: $out"
out=$("$bin" --db "$tmp/x" purge --older-than soon 2>&1); rc=$?
[ $rc = 2 ] && pass "a bad --older-than is a usage error" || flunk "a bad --older-than is a usage error" "exit $rc: $out"

echo "1..$n"
exit $failed
