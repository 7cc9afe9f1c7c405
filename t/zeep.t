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
use MsgTrack::Clients;

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
# the client's own run, operations and address; alice's calls; empty's
# SubmitTime; the calls' identity in error_log
my $per_scheme = 3 + ALICE_TESTS + 2;

plan tests => $per_scheme * @schemes + (1 + BOB_TESTS + 1) + 2,
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
        check_alice_parsed($kv, $scheme);
        is($kv->{'empty.SubmitTime'}, '0001-01-01T00:00:00', "$scheme: empty: SubmitTime 0001-01-01");
        my @lines = config_lines($marker);
        is(join(' ', map { $_->{mailbox} // '?' } @lines), join(' ', ('alice@example.org') x 4),
           "$scheme: all four calls reached the module as alice");
});

# bob, through zeep: what alice sent him, and only his own part of it.
{
    my($rc, $kv, $out) = run_client(marker(), base_url('http'), 'bob', password('bob'));
    is($rc, 0, 'bob: zeep ran') or diag($out);
    check_bob_parsed($kv, $out, 'zeep');
    is($kv->{'empty.SubmitTime'}, '0001-01-01T00:00:00', 'bob: erin\'s path: the normative empty report');
}

{
    my($rc, undef, $out) = run_client(marker(), base_url('http'), 'alice', 'not-her-password');
    isnt($rc, 0, 'zeep with a wrong password fails');
    like($out, qr/401/, '... on a 401');
}
