# t/continue.t: Expect: 100-continue, on a raw socket, over HTTP and HTTPS.
# The interim 100 comes only when the module is about to read the body; a
# request it refuses from its head alone gets the final answer and no 100.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use HTTP::Response ();
use MsgTrack::Test;

my $CT = 'text/xml; charset=utf-8';
my @schemes = ('http', 'https');
my $per_scheme = 9;

plan tests => $per_scheme * @schemes, need(need_lwp(), need_module(SERVER_MODULES));

for_each_scheme($per_scheme, sub {
        my $scheme = shift;

        # Headers, wait for 100, body, final response.
        {
            my $body = soap_envelope(body => find_op());
            my $sock = raw_connect($scheme);
            raw_write($sock, raw_head(scheme => $scheme, headers => [
                'Content-Type' => $CT, 'Content-Length' => length $body,
                'Expect' => '100-continue']));
            my($status, $h, $head) = raw_read_head($sock, 15);
            is($status, 100, "$scheme: an interim response before the body is sent");
            like($head // '', qr{^HTTP/1\.1 100 Continue\r\n\r\n\z}, "$scheme: it is `HTTP/1.1 100 Continue`");
            raw_write($sock, $body);
            ($status, $h, $head) = raw_read_head($sock, 15);
            my $res = HTTP::Response->parse(($head // "HTTP/1.1 599 none\r\n\r\n")
                                            . raw_read_body($sock, $h // {}, 15));
            my $r = check_soap($res, "$scheme: 100-continue");
            is($r->{response_code}, 'NoError', "$scheme: the final response answers the request");
        }

        # Content-Length over the cap: 413 straight away, no 100.
        {
            my $sock = raw_connect($scheme);
            raw_write($sock, raw_head(scheme => $scheme, headers => [
                'Content-Type' => $CT, 'Content-Length' => 1_000_000, 'Expect' => '100-continue']));
            my($status) = raw_read_head($sock, 15);
            isnt($status // 0, 100, "$scheme: over the cap: no 100");
            is($status, 413, "$scheme: over the cap: 413 is the first response");
        }

        # A wrong Content-Type is known from the head too.
        {
            my $sock = raw_connect($scheme);
            raw_write($sock, raw_head(scheme => $scheme, headers => [
                'Content-Type' => 'application/soap+xml', 'Content-Length' => 500,
                'Expect' => '100-continue']));
            my($status) = raw_read_head($sock, 15);
            is($status, 415, "$scheme: a wrong Content-Type: 415 is the first response");
        }

        # A client that sends the body without waiting still gets its answer.
        {
            my $body = soap_envelope(body => get_op());
            my $res = raw_request(raw_head(scheme => $scheme, headers => [
                'Content-Type' => $CT, 'Content-Length' => length $body,
                'Expect' => '100-continue']) . $body, scheme => $scheme);
            my $r = check_soap($res, "$scheme: 100-continue, body sent at once");
            is($r->{op}, 'GetMessageTrackingReportResponse', "$scheme: body sent at once: answered");
        }
});
