# t/zeep.t: interoperability with zeep (python3-zeep), over HTTP and HTTPS:
# t/bin/zeep_client.py loads the WSDL and XSDs from the server with Basic auth,
# builds a client, and calls both operations; this file asserts on what it prints.
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
my $per_scheme = 12;

plan tests => $per_scheme * @schemes + 2,
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
        for my $op (qw(find get)) {
            is($kv->{"$op.ResponseClass"}, 'Error', "$scheme: $op: ResponseClass");
            is($kv->{"$op.ResponseCode"}, 'ErrorMessageTrackingTransientError', "$scheme: $op: ResponseCode");
            like($kv->{"$op.MessageText"} // '', qr/index not available/, "$scheme: $op: MessageText");
            is($kv->{"$op.ServerVersion"}, 'Exchange2010_SP1', "$scheme: $op: the ServerVersionInfo header");
        }
        my @lines = config_lines($marker);
        is(join(' ', map { $_->{mailbox} // '?' } @lines), 'alice@example.org alice@example.org',
           "$scheme: both calls reached the module as alice");
});

{
    my($rc, undef, $out) = run_client(marker(), base_url('http'), 'alice', 'not-her-password');
    isnt($rc, 0, 'zeep with a wrong password fails');
    like($out, qr/401/, '... on a 401');
}
