# t/index.t: the index as httpd children see it. The msgtrack_late virtual
# host's MsgTrackDatabase does not exist when the server starts: requests
# get ErrorMessageTrackingTransientError with a generic MessageText while the
# error_log says why; once msgtrack-index builds the index there, requests
# are answered without a restart; after msgtrack-index recovers the index
# (a writer was killed), they are still answered; removed, they fail again;
# rebuilt, they are answered again. The main server's index is not affected.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use File::Path qw(remove_tree);
use File::Spec ();
use Time::HiRes qw(sleep);
use MsgTrack::Test;

my $LATE = vars('msgtrack_late_database');
my $INDEXER = vars('msgtrack_index');
my $DATA = vars('msgtrack_data_dir');
my $TRANSIENT = 'Message tracking is temporarily unavailable: the tracking index cannot be '
              . 'read right now. Try again later.';
my %NOV = (start => '2026-11-01T00:00:00Z', end => '2026-12-01T00:00:00Z');
my $FIND = find_req(sender => 'alice@example.org', %NOV);

sub late {
    my($name, $op) = @_;
    return ask('alice', $op // $FIND, vhost => 'msgtrack_late', name => $name);
}

sub build {
    my @cmd = ($INDEXER, '--db', $LATE, 'ingest', '--year', '2026', "$DATA/postfix/mail.log");
    my $out = `@cmd 2>&1`;
    return $? == 0 ? '' : "@cmd: $out";
}

plan tests => 44, need(need_lwp(), need_module(SERVER_MODULES),
                       { 'the late index path and msgtrack-index' => sub { $LATE && -x $INDEXER && -d $DATA } });

# Left over from an earlier run of this file against the same server.
remove_tree($LATE);

# ------------------------------------------------------------------ missing
{
    my $from = error_log_size();
    my $r = late('index missing: Find');
    is($r->{response_class}, 'Error', 'index missing: Error');
    is($r->{response_code}, 'ErrorMessageTrackingTransientError', 'index missing: ErrorMessageTrackingTransientError');
    is($r->{message_text}, $TRANSIENT, 'index missing: a generic MessageText');
    unlike($r->{doc} ? $r->{doc}->toString : '', qr/\Q$LATE\E|Berkeley|db_|__db/,
           'index missing: neither the path nor Berkeley DB\'s words reach the client');
    my $log = error_log_since($from);
    like($log, qr/FindMessageTrackingReport: the index is not available: index \Q$LATE\E does not exist/,
         'index missing: the error_log says why, naming the directory');

    $r = late('index missing: Get', get_op());
    is($r->{response_code}, 'ErrorMessageTrackingTransientError', 'index missing: Get too');
    is($r->{message_text}, $TRANSIENT, 'index missing: Get\'s MessageText');

    $r = ask('alice', $FIND, name => 'the main server meanwhile');
    is($r->{response_code}, 'NoError', 'the main server\'s index answers meanwhile');
}

# ------------------------------------------------------------------ appears
{
    is(build(), '', 'msgtrack-index builds the index while the server runs');
    my @codes = map { late("index appeared: request $_")->{response_code} } 1 .. 6;
    is_deeply(\@codes, [('NoError') x 6], 'every child answers from the new index, without a restart');
    my @res = search_results(late('index appeared: results'));
    ok(grep({ $_->{subject} eq 'Q3 results, final figures' } @res), 'index appeared: its messages');
}

# ------------------------------------------------------------------ recovered
{
    # A writer killed while it has the index open: the next one runs
    # recovery, which recreates the environment under the children.
    my $log = "$LATE.follow.log";
    open my $fh, '>', $log or die "$log: $!";
    print $fh "Nov 20 09:30:00 mx1 postfix/qmgr[1]: 1A2B3C4D5E: from=<x\@example.org>, size=1, nrcpt=1 (queue active)\n";
    close $fh;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>', File::Spec->devnull;
        open STDERR, '>', File::Spec->devnull;
        exec $INDEXER, '--db', $LATE, 'follow', '--year', '2026', $log;
        exit 127;
    }
    sleep 1;
    kill 'KILL', $pid;
    waitpid $pid, 0;
    my $from = error_log_size();
    is(build(), '', 'msgtrack-index runs again (and recovers the index)');
    my @codes = map { late("index recovered: request $_")->{response_code} } 1 .. 6;
    is_deeply(\@codes, [('NoError') x 6], 'index recovered: every request answered, no restart');
    unlink $log;
}

# ------------------------------------------------------------------ removed, rebuilt
{
    remove_tree($LATE);
    # Each child checks the directory at most once a second.
    sleep 1.2;
    my @codes = map { late("index removed: request $_")->{response_code} } 1 .. 6;
    is_deeply(\@codes, [('ErrorMessageTrackingTransientError') x 6],
              'index removed: transient errors again');
    is(build(), '', 'rebuilt');
    @codes = map { late("index rebuilt: request $_")->{response_code} } 1 .. 6;
    is_deeply(\@codes, [('NoError') x 6], 'index rebuilt: answered again');
}
