# t/http.t: the HTTP level around the SOAP endpoint: body caps (413), methods
# (405 + Allow, OPTIONS), content types (415), unknown names (404),
# authentication (401, the module never runs), and other handlers untouched.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use MsgTrack::Test;

plan tests => 63, need(need_lwp(), need_module(SERVER_MODULES));

my $CT = 'text/xml; charset=utf-8';
my $CAP = 65536;

sub allow_set {
    my $res = shift;
    return join ',', sort map { uc } split /\s*,\s*/, $res->header('Allow') // '';
}

# A valid Find request padded (inside a comment) to exactly $size bytes.
sub padded_request {
    my $size = shift;
    my $xml = soap_envelope(body => find_op());
    my $pad = $size - length($xml) - length("<!--  -->");
    die "cannot pad to $size" if $pad < 0;
    return $xml . '<!-- ' . ('x' x $pad) . ' -->';
}

# ------------------------------------------------------------------ 413
{
    my $sock = raw_connect('http');
    raw_write($sock, raw_head(headers => ['Content-Type' => $CT, 'Content-Length' => $CAP + 1]));
    my($status, $h) = raw_read_head($sock, 15);
    is($status, 413, 'Content-Length one byte over the cap: 413 before any body byte is sent');
    like($h->{connection} // '', qr/close/i, '413: Connection: close');
}
{
    my $body = padded_request($CAP);
    is(length $body, $CAP, 'a request of exactly MsgTrackMaxRequestBody bytes ...');
    my $res = soap_post(body => $body);
    my $r = check_soap($res, 'request at the cap');
    is($r->{response_code}, 'NoError', '... is answered');
}
{
    my $res = soap_post(body => padded_request($CAP + 1));
    is($res->code, 413, 'a request body one byte over the cap (LWP): 413');
    unlike($res->header('Content-Type') // '', qr{^text/xml}, '413 is a plain httpd error, not SOAP');
}
{
    my $sock = raw_connect('http');
    raw_write($sock, raw_head(path => '/EWS-small/Exchange.asmx',
                              headers => ['Content-Type' => $CT, 'Content-Length' => 2049]));
    my($status) = raw_read_head($sock, 15);
    is($status, 413, 'MsgTrackMaxRequestBody 2K in a Location: Content-Length 2049 gets 413');

    my $res = soap_post(path => '/EWS-small/Exchange.asmx', body => padded_request(2048));
    my $r = check_soap($res, '2048 bytes under a 2K cap');
    is($res->code, 200, 'MsgTrackMaxRequestBody 2K: a 2048-byte request is answered');
}
{
    # Chunked, no Content-Length: 413 as soon as the count passes the cap.
    my $sock = raw_connect('http');
    raw_write($sock, raw_head(headers => ['Content-Type' => $CT, 'Transfer-Encoding' => 'chunked']));
    my $chunk = 'x' x 8192;
    my $n = 0;
    my($sent, $answered) = raw_stream($sock, 0.05, sub {
        return undef if $n++ >= 64;                       # at most 512 KiB
        return sprintf("%x\r\n", length $chunk) . $chunk . "\r\n";
    });
    ok($answered, "chunked body over the cap: the server answered before the end ($sent bytes sent)");
    my($status, $h) = raw_read_head($sock, 15);
    is($status, 413, 'chunked body over the cap: 413');
    raw_read_body($sock, $h, 15);
    my $buf = '';
    my $eof = !sysread($sock, $buf, 1);
    ok($eof, 'chunked body over the cap: the connection is closed after the 413');
}
{
    my $xml = soap_envelope(body => get_op());
    my @pieces = unpack '(a200)*', $xml;
    my $req = raw_head(headers => ['Content-Type' => $CT, 'Transfer-Encoding' => 'chunked'])
        . join('', map { sprintf("%x\r\n%s\r\n", length, $_) } @pieces) . "0\r\n\r\n";
    my $res = raw_request($req);
    my $r = check_soap($res, 'chunked request under the cap');
    is($r->{op}, 'GetMessageTrackingReportResponse', 'chunked request under the cap is answered');
}

# ------------------------------------------------------------------ 405, OPTIONS
for my $method (qw(PUT DELETE)) {
    my $res = http_request(method => $method, path => ENDPOINT, content => '<x/>',
                           headers => ['Content-Type' => $CT]);
    is($res->code, 405, "$method on the endpoint: 405");
    is(allow_set($res), 'GET,HEAD,OPTIONS,POST', "$method on the endpoint: Allow");
}
for my $name (qw(messages.xsd types.xsd Services.wsdl)) {
    for my $method (qw(PUT DELETE POST)) {
        my $res = http_request(method => $method, path => "/EWS/$name", content => '<x/>',
                               headers => ['Content-Type' => $CT]);
        is($res->code . ' ' . allow_set($res), '405 GET,HEAD,OPTIONS',
           "$method /EWS/$name: 405, Allow: GET, HEAD, OPTIONS");
    }
}
{
    my $res = http_request(method => 'OPTIONS', path => ENDPOINT);
    is($res->code, 200, 'OPTIONS on the endpoint: 200');
    is(allow_set($res), 'GET,HEAD,OPTIONS,POST', 'OPTIONS on the endpoint: Allow');
    $res = http_request(method => 'OPTIONS', path => '/EWS/types.xsd');
    is($res->code . ' ' . allow_set($res), '200 GET,HEAD,OPTIONS', 'OPTIONS on an XSD');
}

# ------------------------------------------------------------------ 415
for my $ct ('application/soap+xml; charset=utf-8', 'text/plain', 'text/xmlx', 'application/xml', undef) {
    my $res = soap_post(body => soap_envelope(body => find_op()), content_type => $ct);
    my $label = defined $ct ? "Content-Type $ct" : 'no Content-Type';
    is($res->code, 415, "$label: 415");
    unlike($res->header('Content-Type') // '', qr{^text/xml}, "$label: a plain httpd error");
}

# ------------------------------------------------------------------ 404
for my $path ('/EWS/nothing.txt', '/EWS/', '/EWS/Exchange.asmx.bak', '/EWS/Exchange.asmx/more',
              '/EWS/messages.xsd.orig') {
    is(http_request(path => $path)->code, 404, "GET $path: 404");
}
is(soap_post(path => '/EWS/Other.asmx', body => soap_envelope(body => find_op()))->code, 404,
   'POST to another .asmx: 404');

# ------------------------------------------------------------------ 401
{
    my $marker = marker();
    my $res = soap_post(user => undef, marker => $marker, body => soap_envelope(body => find_op()));
    is($res->code, 401, 'no credentials: 401');
    like($res->header('WWW-Authenticate') // '', qr/^Basic realm="mod_msgtrack tests"/,
         'no credentials: WWW-Authenticate: Basic');
    unlike($res->header('Content-Type') // '', qr{^text/xml}, 'no credentials: no SOAP answer');
    is(scalar(config_lines($marker)), 0, 'no credentials: the module did not run (no config: line)');

    $res = soap_post(user => 'alice', password => 'wrong', body => soap_envelope(body => find_op()));
    is($res->code, 401, 'a wrong password: 401');
    $res = soap_post(user => 'mallory', password => 'x', body => soap_envelope(body => find_op()));
    is($res->code, 401, 'an unknown user: 401');
    $res = http_request(user => undef, path => '/EWS/Services.wsdl');
    is($res->code, 401, 'the WSDL without credentials: 401');

    # (Without Expect, httpd would read and discard the body before its 401.)
    my $sock = raw_connect('http');
    raw_write($sock, raw_head(user => undef,
                              headers => ['Content-Type' => $CT, 'Content-Length' => 10_000_000,
                                          'Expect' => '100-continue']));
    my($status) = raw_read_head($sock, 15);
    is($status, 401, 'no credentials and an oversized Content-Length: 401, not 413');
}
{
    my $marker = marker();
    my $res = soap_post(user => undef, path => '/EWS-open/Exchange.asmx', marker => $marker,
                        body => soap_envelope(body => find_op()));
    my $r = check_soap($res, 'unauthenticated location');
    is($r->{response_code}, 'ErrorAccessDenied',
       'a location without authentication answers: the caller may not track');
    my($line) = config_lines($marker);
    is($line && $line->{mailbox}, '-', 'without authentication the caller has no mailbox');
}

# ------------------------------------------------------------------ other handlers
{
    my $res = http_request(path => '/static.txt', user => undef);
    is($res->code, 200, 'a static file outside the location is served by the core');
    like($res->content, qr/static fixture/, '... with its content');
    $res = soap_post(path => '/static.txt', user => undef, body => soap_envelope(body => find_op()));
    like($res->content, qr/static fixture/, 'a SOAP POST outside the location gets the core\'s answer');
    unlike($res->content, qr/Envelope/, '... not the module\'s');
    is(http_request(path => '/auth/users.htpasswd', user => undef)->code, 403,
       'the password fixture is not served');
}
