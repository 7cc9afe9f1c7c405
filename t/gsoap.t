# t/gsoap.t: interoperability with gSOAP (Debian: gsoap, libgsoap-dev), over
# HTTP and HTTPS. At test time, in a temporary directory: wsdl2h reads the
# WSDL and, through it, the XSDs from the running server with Basic auth and
# writes C bindings (-c); soapcpp2 generates the client stubs and
# serializers; t/bin/gsoap_client.c is compiled against them and gSOAP's
# runtime (with OpenSSL). The client then drives both operations the way
# t/bin/zeep_client.py does, plus a report id that does not parse, and this
# file asserts on the values gSOAP deserialized, in strict mode: the same
# facts t/zeep.t asserts on. Every response the client received is kept as
# it came off the connection and goes through check_soap (valid against the
# bundled XSDs). bob asking for alice's message to someone else gets
# ErrorAccessDenied; a wrong password gets gSOAP's HTTP 401 error.
#
# Skipped, saying so, when gSOAP is not installed; a failure to generate or
# compile the client is a failure.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use File::Spec ();
use File::Temp ();
use HTTP::Response ();
use POSIX ();
use MsgTrack::Test;
use MsgTrack::Clients;

my $CLIENT_SRC = File::Spec->catfile(vars('t_dir'), 'bin', 'gsoap_client.c');
my $CC = $ENV{CC} || 'cc';

# Runs a command; returns (exit code, stdout and stderr). Options: env =>
# {NAME => value}, stdout => file (stdout there, stderr returned).
sub run {
    my($cmd, %a) = @_;
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        $ENV{$_} = $a{env}{$_} for keys %{ $a{env} || {} };
        if ($a{stdout}) {
            open STDOUT, '>', $a{stdout} or die "$a{stdout}: $!";
        }
        else {
            open STDERR, '>&', \*STDOUT;
        }
        exec { $cmd->[0] } @$cmd or print "exec $cmd->[0]: $!\n";
        POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return($? == -1 ? 127 : $? >> 8, $out);
}

sub in_path {
    my $name = shift;
    return grep { -x File::Spec->catfile($_, $name) } File::Spec->path;
}

# Why the gSOAP part cannot run, or undef when it can.
my($CFLAGS, $LIBS, $SHARE);
sub gsoap_missing {
    for my $tool (qw(wsdl2h soapcpp2)) {
        return "gSOAP is not installed (no $tool; Debian package gsoap)" unless in_path($tool);
    }
    return 'pkg-config is not installed' unless in_path('pkg-config');
    my($rc, $out) = run([qw(pkg-config --cflags gsoapssl)]);
    return "gSOAP's runtime with OpenSSL is not installed (pkg-config gsoapssl; "
        . 'Debian package libgsoap-dev)' if $rc;
    chomp($CFLAGS = $out);
    ($rc, $out) = run([qw(pkg-config --libs gsoapssl)]);
    chomp($LIBS = $out);
    ($rc, $out) = run([qw(pkg-config --variable=prefix gsoapssl)]);
    chomp $out;
    $SHARE = "$out/share/gsoap";
    return "gSOAP's files are not in $SHARE" unless -f "$SHARE/WS/typemap.dat";
    return undef;
}
my $MISSING = gsoap_missing();

# ------------------------------------------------------------------ reading the client

# Runs the client; returns (exit code, {key => value}, output).
sub run_client {
    my($marker, @args) = @_;
    my($rc, $out) = run([@args], env => { MSGTRACK_MARKER => $marker });
    my %kv = $out =~ /^([\w.]+): (.*)$/mg;
    return($rc, \%kv, $out);
}

sub dechunk {
    my $s = shift;
    my $out = '';
    while ($s =~ s/\A([0-9a-fA-F]+)[^\r\n]*\r\n//) {
        my $n = hex $1;
        return $out if $n == 0;
        return undef if length $s < $n + 2;
        $out .= substr $s, 0, $n, '';
        $s =~ s/\A\r\n// or return undef;
    }
    return undef;
}

# The response the client saved as $file (HTTP head and body as read from
# the connection), as an HTTP::Response for check_soap.
sub saved_response {
    my $file = shift;
    open my $fh, '<:raw', $file or return HTTP::Response->new(599, "$file: $!");
    local $/;
    my $raw = <$fh> // '';
    my($head, $body) = split /\r\n\r\n/, $raw, 2;
    my $res = HTTP::Response->parse($head // '');
    $body //= '';
    if (($res->header('Transfer-Encoding') // '') =~ /chunked/i) {
        $body = dechunk($body) // "(bad chunked encoding) $body";
        $res->remove_header('Transfer-Encoding');
    }
    $res->content($body);
    return $res;
}

# check_soap (one test each) on what the client saved in $dir for @names.
sub check_saved {
    my($dir, $label, @names) = @_;
    check_soap(saved_response(File::Spec->catfile($dir, "$_.http")), "$label: $_") for @names;
}

# ------------------------------------------------------------------ the plan

my @schemes = ('http', 'https');
my @CALLS = qw(find get path empty bad);
my $build_tests = 4;
# the run and the addresses; alice's calls, and 4 more of gSOAP's own; the
# bad id (3); the calls' identity in error_log; each saved response
my $per_scheme = 2 + ALICE_TESTS + 4 + 3 + 1 + @CALLS;
# the run; bob's calls; the bad id; HTTP 200 each; each saved response
my $bob_tests = 1 + BOB_TESTS + 1 + 1 + @CALLS;
my $denied_tests = 5;
my $password_tests = 2;
my $after_build = $per_scheme * @schemes + $bob_tests + $denied_tests + $password_tests;

plan tests => $build_tests + $after_build,
    need(need_module(SERVER_MODULES), { ($MISSING // 'gSOAP') => !defined $MISSING });

# ------------------------------------------------------------------ generating the client

my $tmp = File::Temp::tempdir('msgtrack-gsoap-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $base = base_url('http');
my $wsdl_url = "$base/EWS/Exchange.asmx?wsdl";
my $client = File::Spec->catfile($tmp, 'gsoap_client');
my $built = 0;
{
    # gSOAP's own typemap (it binds the EWS namespaces to ewsmsg and
    # ewstype), with xs:dateTime read into a struct timeval: time_t, the
    # default, would drop fractions of seconds.
    my $typemap = File::Spec->catfile($tmp, 'typemap.dat');
    open my $in, '<', "$SHARE/WS/typemap.dat" or die "$SHARE/WS/typemap.dat: $!";
    open my $out, '>', $typemap or die "$typemap: $!";
    my @map = <$in>;
    print {$out} @map, "\n", 'xsd__dateTime = #import "custom/struct_timeval.h" | xsd__dateTime', "\n";
    close $out or die "$typemap: $!";

    my $h = File::Spec->catfile($tmp, 'ews.h');
    my($rc, $log) = run(['wsdl2h', '-c', '-t', $typemap, '-r:alice:' . password('alice'),
                         '-o', $h, $wsdl_url]);
    ok($rc == 0 && -s $h, "wsdl2h read the WSDL and the XSDs from $wsdl_url (Basic auth)")
        or diag($log);
    my $ok = $rc == 0;

    if ($ok) {
        ($rc, $log) = run(['soapcpp2', '-c', '-C', '-L', '-x', '-w', '-s', "-d$tmp",
                           "-I$SHARE:$SHARE/import", $h]);
        $ok = $rc == 0 && -f "$tmp/soapClient.c" && -f "$tmp/ExchangeServiceBinding.nsmap";
        ok($ok, 'soapcpp2 generated the C client stubs and serializers') or diag($log);
    }
    else {
        ok(0, 'soapcpp2: no header from wsdl2h');
    }

    if ($ok) {
        # The generated default endpoint is the soap:address the server wrote
        # into the WSDL: its own URL.
        open my $fh, '<', "$tmp/soapClient.c" or die "soapClient.c: $!";
        my $src = do { local $/; <$fh> };
        my %endpoints = map { $_ => 1 } $src =~ /soap_endpoint = "([^"]*)";/g;
        is(join(' ', sort keys %endpoints), "$base/EWS/Exchange.asmx",
           'the generated endpoint is the address the WSDL gave');
    }
    else {
        ok(0, 'no generated client stubs');
    }

    if ($ok) {
        my @cflags = (split(' ', $CFLAGS), "-I$tmp");
        my @steps = (
            [$CC, qw(-std=gnu99 -Wall -Wextra -Werror), @cflags, '-c', '-o', "$tmp/gsoap_client.o",
             $CLIENT_SRC],
            map({ (my $o = $_) =~ s{.*/(.*)\.c$}{$tmp/$1.o};
                  [$CC, @cflags, '-c', '-o', $o, $_] }
                "$tmp/soapC.c", "$tmp/soapClient.c", "$SHARE/custom/struct_timeval.c"),
            [$CC, '-o', $client, map({ "$tmp/$_.o" } qw(gsoap_client soapC soapClient struct_timeval)),
             split(' ', $LIBS)]);
        $log = '';
        for my $cmd (@steps) {
            ($rc, my $out) = run($cmd);
            $log .= "\$ @$cmd\n$out";
            last if $rc;
        }
        $ok = $rc == 0 && -x $client;
        ok($ok, 't/bin/gsoap_client.c compiled against the generated code and libgsoapssl')
            or diag($log);
    }
    else {
        ok(0, 'nothing to compile t/bin/gsoap_client.c against');
    }
    $built = $ok;
}

SKIP: {
    skip('the gSOAP client could not be built (see the failures above)', $after_build)
        unless $built;

    my %bounce_id;
    for_each_scheme($per_scheme, sub {
            my $scheme = shift;
            my $url = base_url($scheme);
            my $dir = File::Spec->catfile($tmp, "$scheme-alice");
            mkdir $dir or die "$dir: $!";
            my $marker = marker();
            # Over HTTP the client posts to the generated default endpoint;
            # over HTTPS to the same path on the TLS port, checking the
            # server's certificate against the test CA.
            my @opts = $scheme eq 'https'
                ? ('--endpoint', "$url/EWS/Exchange.asmx", '--ca', ca_file()) : ();
            my($rc, $kv, $out) = run_client($marker, $client, @opts, '--save', $dir,
                                            'alice', password('alice'), 'track');
            is($rc, 0, "$scheme: gSOAP called both operations") or diag($out);
            is(join(' ', map { $kv->{"$_.address"} // '?' } @CALLS),
               join(' ', ("$url/EWS/Exchange.asmx") x @CALLS), "$scheme: every call went to $url");
            check_alice_parsed($kv, $scheme);
            # What only this file checks of alice's calls.
            is(join(' ', map { $kv->{"find.target.$_"} // '?' } qw(PreviousHopServer FirstHopServer)),
               'ws-alice.example.org mx1', "$scheme: find: PreviousHopServer, FirstHopServer");
            for my $i (0 .. ($kv->{'find.count'} // 0) - 1) {
                $bounce_id{$scheme} = $kv->{"find.result.$i.id"}
                    if ($kv->{"find.result.$i.recipients"} // '') eq 'nobody@example.net';
            }
            my $rt = $scheme eq 'https';        # MsgTrackReadTracking On
            is($kv->{'get.descriptions'}, $rt ? 'Read,NotRead,NotRead' : 'Delivered,Delivered,Delivered',
               "$scheme: get: event descriptions");
            is($kv->{'path.recipients'}, join(',', ('bob@example.org') x ($rt ? 3 : 2)),
               "$scheme: path: bob's alone");
            # The normative empty report's SubmitTime is 0001-01-01T00:00:00
            # (.NET's DateTime.MinValue); gSOAP's xs:dateTime reader maps year 1
            # to its own "no time", the epoch.
            is($kv->{'empty.SubmitTime'}, '1970-01-01T00:00:00+00:00',
               "$scheme: empty: SubmitTime 0001-01-01, read by gSOAP as its \"no time\"");
            is(join(' ', map { $kv->{"bad.$_"} // '?' } qw(ResponseClass ResponseCode)),
               'Error ErrorInvalidArgument', "$scheme: a report id that does not parse: Error, ErrorInvalidArgument");
            like($kv->{'bad.MessageText'} // '', qr/^the report id '.*' does not parse$/,
                 "$scheme: ... with its MessageText");
            is($kv->{'bad.events'}, 0, "$scheme: ... and an empty report");
            my @lines = config_lines($marker);
            is(join(' ', map { $_->{mailbox} // '?' } @lines), join(' ', ('alice@example.org') x @CALLS),
               "$scheme: all five calls reached the module as alice");
            check_saved($dir, $scheme, @CALLS);
    });

    # bob, through gSOAP: what alice sent him, and only his own part of it.
    {
        my $dir = File::Spec->catfile($tmp, 'http-bob');
        mkdir $dir or die "$dir: $!";
        my($rc, $kv, $out) = run_client(marker(), $client, '--save', $dir, 'bob', password('bob'), 'track');
        is($rc, 0, 'bob: gSOAP ran') or diag($out);
        check_bob_parsed($kv, $out, 'gSOAP');
        is($kv->{'bad.ResponseCode'}, 'ErrorInvalidArgument', 'bob: a report id that does not parse');
        is(scalar(() = $out =~ /^\w+\.http_status: 200$/mg), scalar @CALLS, 'bob: HTTP 200 for each');
        check_saved($dir, 'bob', @CALLS);
    }

    # bob with the report id of alice's message to nobody@example.net: he
    # neither sent nor received it.
    {
        my $dir = File::Spec->catfile($tmp, 'http-bob-denied');
        mkdir $dir or die "$dir: $!";
        my $id = $bounce_id{http} // 'the id alice did not find';
        my $marker = marker();
        my($rc, $kv, $out) = run_client($marker, $client, '--save', $dir, 'bob', password('bob'), 'get', $id);
        is($rc, 0, 'bob, alice\'s bounce: gSOAP ran') or diag($out);
        is(join(' ', map { $kv->{"get.$_"} // '?' } qw(ResponseClass ResponseCode)),
           'Error ErrorAccessDenied', 'bob, alice\'s bounce: Error, ErrorAccessDenied');
        is($kv->{'get.events'}, 0, '... nothing of it');
        is(join(' ', map { $_->{mailbox} // '?' } config_lines($marker)), 'bob@example.org',
           '... asked as bob');
        check_saved($dir, 'bob, alice\'s bounce', 'get');
    }

    {
        my($rc, $kv, $out) = run_client(marker(), $client, 'alice', 'not-her-password', 'track');
        isnt($rc, 0, 'gSOAP with a wrong password fails');
        like($kv->{'find.error'} // '', qr/^401 /, '... on a 401') or diag($out);
    }
}
