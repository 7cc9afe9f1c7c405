# t/zeep.t: interoperability with zeep (python3-zeep), over HTTP and HTTPS:
# t/bin/zeep_client.py loads the WSDL and XSDs from the server with Basic auth,
# builds a client, and drives both operations against the index built from
# t/data: Find for November 2026, then Get (Summary, RecipientPath, the
# normative empty report) with the report id zeep parsed out of Find. This
# file asserts on the values zeep parsed: subjects, recipients, statuses,
# Bcc flags, events, times.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use File::Spec ();
use MsgTrack::Test;

my $PYTHON = '/usr/bin/python3';
my $CLIENT = File::Spec->catfile(vars('t_dir'), 'bin', 'zeep_client.py');

sub have_zeep {
    return 0 unless -x $PYTHON;
    my $pid = fork // return 0;
    if (!$pid) {
        open STDOUT, '>', File::Spec->devnull;
        open STDERR, '>', File::Spec->devnull;
        exec $PYTHON, '-c', 'import zeep, requests';
        exit 127;
    }
    waitpid $pid, 0;
    return $? == 0;
}

# Runs the client; returns (exit code, {key => value}, output).
sub run_client {
    my($marker, @args) = @_;
    local $ENV{MSGTRACK_MARKER} = $marker;
    my $out = '';
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        open STDERR, '>&', \*STDOUT;
        exec $PYTHON, $CLIENT, @args;
        exit 127;
    }
    { local $/; $out = <$fh> // ''; }
    close $fh;
    my $rc = $? >> 8;
    my %kv = $out =~ /^([\w.]+): (.*)$/mg;
    return($rc, \%kv, $out);
}

my @schemes = ('http', 'https');
my $per_scheme = 28;

# alice's messages of November 2026, newest first.
my $ALICE = join ' | ', 'Meeting notes; next steps', 'Supplier day: save the date',
    'Proposal for the joint workshop in January: agenda, venue and? travel arrangements',
    'Meeting notes, 19 November', 'Contract draft v3, comments from legal',
    'Q3 results, final figures', 'Q4 budget, "final" v2';

plan tests => $per_scheme * @schemes + 14 + 2,
    need(need_module(SERVER_MODULES),
         { "$PYTHON cannot import zeep (python3-zeep)" => \&have_zeep });

for_each_scheme($per_scheme, sub {
        my $scheme = shift;
        my $base = base_url($scheme);
        my $marker = marker();
        my($rc, $kv, $out) = run_client($marker, $base, 'alice', password('alice'),
                                        $scheme eq 'https' ? ca_file() : ());
        is($rc, 0, "$scheme: zeep loaded the WSDL and called both operations") or diag($out);
        is($kv->{operations}, 'FindMessageTrackingReport,GetMessageTrackingReport',
           "$scheme: the client has both operations");
        is($kv->{address}, "$base/EWS/Exchange.asmx", "$scheme: it posts to the address the WSDL gave");
        for my $op (qw(find get path empty)) {
            is(join(' ', map { $kv->{"$op.$_"} // '?' } qw(ResponseClass ResponseCode)), 'Success NoError',
               "$scheme: $op: Success, NoError");
        }
        is($kv->{'find.ServerVersion'}, 'Exchange2010_SP1', "$scheme: the ServerVersionInfo header");
        is($kv->{'find.ExecutedSearchScope'}, 'Organization', "$scheme: find: ExecutedSearchScope");
        is($kv->{'find.count'}, 7, "$scheme: find: alice's seven messages");
        is($kv->{'find.subjects'}, $ALICE, "$scheme: find: their subjects, newest first");
        my @times = split ' ', $kv->{'find.times'} // '';
        is_deeply(\@times, [ sort { $b cmp $a } @times ], "$scheme: find: SubmittedTime parsed, descending");
        is($times[0], '2026-11-20T17:20:41.515000+00:00', "$scheme: find: a time with its fraction, in UTC");
        is($kv->{'find.target.recipients'}, 'bob@example.org,carol@example.org,dave@example.org',
           "$scheme: find: the recipients of Q3 results");
        like($kv->{'find.target.id'} // '',
             qr/^Message-Id=<0b6e3c1a-5f2d-4c8e-9a71-3d2f8e6b4c10\@example\.org>,Server=mx1,Internal-Id=(\d+),Sender=alice\@example\.org,Domain=example\.org$/,
             "$scheme: find: its MessageTrackingReportId");
        my($key) = ($kv->{'find.target.id'} // '') =~ /Internal-Id=(\d+)/;
        is($kv->{'get.Subject'}, 'Q3 results, final figures', "$scheme: get: Find's id gives the same message");
        is($kv->{'get.Sender'}, 'alice@example.org', "$scheme: get: Sender");
        is($kv->{'get.SubmitTime'}, '2026-11-20T09:15:03+00:00', "$scheme: get: SubmitTime");
        is($kv->{'get.OriginalRecipients'}, 'bob@example.org,carol@example.org,dave@example.org',
           "$scheme: get: OriginalRecipients");
        is($kv->{'get.recipients'}, 'bob@example.org,carol@example.org,dave@example.org',
           "$scheme: get: one event per recipient");
        # The HTTPS virtual host has MsgTrackReadTracking On (t/conf/extra.conf.in).
        my $rt = $scheme eq 'https';
        is($kv->{'get.statuses'}, $rt ? 'Read,Delivered,Delivered' : 'Delivered,Delivered,Delivered',
           "$scheme: get: statuses" . ($rt ? ' (read tracking on)' : ''));
        is($kv->{'get.bcc'}, 'false,false,true', "$scheme: get: dave is Bcc");
        if ($rt) {
            like($kv->{'get.internal_ids'} // '', qr/^\d+,\d+,\d+$/,
                 "$scheme: get: InternalId, integers (the mailbox hops)");
        }
        else {
            is($kv->{'get.internal_ids'}, join(',', ($key // '?') x 3),
               "$scheme: get: InternalId, the hop of the report id");
        }
        is($kv->{'path.descriptions'}, $rt ? 'Submitted,Delivered,Read' : 'Submitted,Delivered',
           "$scheme: path: bob's events");
        is($kv->{'path.servers'}, $rt ? 'mx1,mx1,imap.example.org' : 'mx1,mx1', "$scheme: path: where");
        is($kv->{'empty.SubmitTime'}, '0001-01-01T00:00:00', "$scheme: empty: SubmitTime 0001-01-01");
        is($kv->{'empty.events'}, 0, "$scheme: empty: no events");
        my @lines = config_lines($marker);
        is(join(' ', map { $_->{mailbox} // '?' } @lines), join(' ', ('alice@example.org') x 4),
           "$scheme: all four calls reached the module as alice");
});

# bob, through zeep: what alice sent him, and only his own part of it.
{
    my($rc, $kv, $out) = run_client(marker(), base_url('http'), 'bob', password('bob'));
    is($rc, 0, 'bob: zeep ran') or diag($out);
    is($kv->{'find.ResponseCode'}, 'NoError', 'bob: find: NoError');
    is($kv->{'find.subjects'}, 'Q3 results, final figures | Q4 budget, "final" v2',
       'bob: find: what alice sent him');
    is($kv->{'find.target.recipients'}, 'bob@example.org', 'bob: find: only himself among the recipients');
    is($kv->{'get.ResponseCode'}, 'NoError', 'bob: get: NoError');
    is($kv->{'get.recipients'}, 'bob@example.org', 'bob: get: only his own event');
    is($kv->{'get.OriginalRecipients'}, 'bob@example.org', 'bob: get: only himself');
    is($kv->{'get.statuses'}, 'Delivered', 'bob: get: delivered');
    is($kv->{'get.bcc'}, 'false', 'bob: get: not Bcc');
    is($kv->{'path.descriptions'}, 'Submitted,Delivered', 'bob: path: his own path');
    is($kv->{'empty.ResponseCode'}, 'NoError', 'bob: erin\'s path: NoError');
    is($kv->{'empty.events'}, 0, 'bob: erin\'s path: nothing');
    is($kv->{'empty.SubmitTime'}, '0001-01-01T00:00:00', 'bob: erin\'s path: the normative empty report');
    unlike($out, qr/carol\@|dave\@/, 'bob: neither carol nor dave anywhere in what zeep parsed');
}

{
    my($rc, undef, $out) = run_client(marker(), base_url('http'), 'alice', 'not-her-password');
    isnt($rc, 0, 'zeep with a wrong password fails');
    like($out, qr/401/, '... on a 401');
}
