# t/hostile.t: hostile request bodies. Each is refused with a SOAP fault or a
# 4xx without the server reading files, expanding entities or reading an
# oversized body to its end, and the server answers a valid request afterwards.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Encode qw(encode);
use File::Temp ();
use MsgTrack::Test;

my($SOAP11, $M, $T) = (NS_SOAP11, NS_M, NS_T);
my $CT = 'text/xml; charset=utf-8';
my $LARGE = '/EWS-large/Exchange.asmx';     # MsgTrackMaxRequestBody 1M

# A local file with a secret the server could read if it resolved entities.
my $secret = 'msgtrack-secret-' . join('', map { ('a'..'z')[rand 26] } 1 .. 24);
my $tmp = File::Temp->new(SUFFIX => '.txt');
print $tmp "$secret\n";
close $tmp;
my $secret_file = $tmp->filename;
chmod 0644, $secret_file;

sub find_with_subject {
    my $subject = shift;
    return qq{<m:FindMessageTrackingReport xmlns:m="$M" xmlns:t="$T"><m:Scope>Organization</m:Scope>}
         . qq{<m:Domain>example.org</m:Domain><m:Sender><t:EmailAddress>alice\@example.org</t:EmailAddress></m:Sender>}
         . qq{<m:Subject>$subject</m:Subject></m:FindMessageTrackingReport>};
}

my $xxe = <<"XML";
<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE s:Envelope [
  <!ENTITY xxe SYSTEM "file://$secret_file">
]>
<s:Envelope xmlns:s="$SOAP11"><s:Body>${\ find_with_subject('&xxe;')}</s:Body></s:Envelope>
XML

my $external_dtd = <<"XML";
<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE s:Envelope SYSTEM "file://$secret_file">
<s:Envelope xmlns:s="$SOAP11"><s:Body>${\ find_op()}</s:Body></s:Envelope>
XML

my $xinclude = soap_envelope(body => find_with_subject(
    qq{<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://$secret_file" parse="text"/>}));

my $laughs = qq{<?xml version="1.0"?>\n<!DOCTYPE lolz [\n  <!ENTITY lol "lol">\n}
    . join('', map {
          my $prev = $_ == 1 ? 'lol' : 'lol' . ($_ - 1);
          qq{  <!ENTITY lol$_ "} . ("&$prev;" x 10) . qq{">\n}
      } 1 .. 9)
    . qq{]>\n<s:Envelope xmlns:s="$SOAP11"><s:Body>${\ find_with_subject('&lol9;')}</s:Body></s:Envelope>\n};

my $deep = soap_envelope(body => find_with_subject(('<a>' x 10_000) . ('</a>' x 10_000)));

my $utf16_text = soap_envelope(decl => qq{<?xml version="1.0" encoding="UTF-16"?>\n},
                               body => find_with_subject("r\x{e9}sum\x{e9} \x{263a}"));
my $latin1 = soap_envelope(decl => qq{<?xml version="1.0" encoding="ISO-8859-1"?>\n},
                           body => find_with_subject("caf\xe9"));

# name, body, path, content_type, and the expectation: fault => ResponseCode
# (HTTP 500 SOAP fault), status => 4xx, or ok => 1 (a valid request after all).
# no_secret: the secret must not appear in the response.
my @cases = (
    { name => 'external entity naming a local file', body => $xxe,
      fault => 'ErrorInvalidRequest', no_secret => 1 },
    { name => 'external DTD naming a local file', body => $external_dtd,
      fault => 'ErrorInvalidRequest', no_secret => 1 },
    { name => 'XInclude of a local file', body => $xinclude,
      fault => 'ErrorSchemaValidation', no_secret => 1 },
    { name => 'billion laughs', body => $laughs, fault => 'ErrorInvalidRequest',
      max_length => 20_000 },
    { name => '10,000-deep nesting', body => $deep, path => $LARGE, fault => 'ErrorSchemaValidation' },
    { name => '10,000-deep nesting over the default cap', body => $deep, status => 413 },
    { name => 'invalid UTF-8', fault => 'ErrorSchemaValidation',
      body => soap_envelope(body => find_with_subject("caf\xc3\x28 \xff\xfe")) },
    { name => 'overlong UTF-8 encoding of <', fault => 'ErrorSchemaValidation',
      body => soap_envelope(body => find_with_subject("\xc0\xbc")) },
    { name => 'UTF-16LE with BOM', ok => 1, content_type => 'text/xml; charset=utf-16',
      body => "\xff\xfe" . encode('UTF-16LE', $utf16_text) },
    { name => 'UTF-16BE with BOM', ok => 1, content_type => 'text/xml; charset=utf-16',
      body => "\xfe\xff" . encode('UTF-16BE', $utf16_text) },
    { name => 'ISO-8859-1 declared and used', ok => 1, body => $latin1 },
    { name => 'unsupported encoding declared', fault => 'ErrorSchemaValidation',
      body => soap_envelope(decl => qq{<?xml version="1.0" encoding="x-no-such-charset"?>\n},
                            body => find_op()) },
    { name => 'NUL byte in text', fault => 'ErrorSchemaValidation',
      body => soap_envelope(body => find_with_subject("a\0b")) },
    { name => 'NUL bytes first', fault => 'ErrorSchemaValidation',
      body => "\0\0\0\0" . soap_envelope(body => find_op()) },
    { name => 'character reference to U+0001', fault => 'ErrorSchemaValidation',
      body => soap_envelope(body => find_with_subject('&#1;')) },
    { name => 'truncated document', fault => 'ErrorSchemaValidation',
      body => substr(soap_envelope(body => find_op()), 0, 200) },
    { name => 'binary garbage', fault => 'ErrorSchemaValidation',
      body => join('', map { chr(($_ * 7919 + 13) % 256) } 1 .. 4096) },
    { name => 'two operations in Body', fault => 'ErrorInvalidRequest',
      body => soap_envelope(body => find_op() . get_op()) },
    { name => '2,000 operations in Body', fault => 'ErrorInvalidRequest', path => $LARGE,
      body => soap_envelope(body => find_op() x 2_000) },
);

# Plus: 100 MB with Content-Length, 100 MB chunked.
plan tests => @cases + 2, need(need_lwp(), need_module(SERVER_MODULES));

# The server still answers a valid request (2 tests).
sub still_alive {
    my $what = shift;
    my $res = soap_post(body => soap_envelope(body => find_op()));
    my $r = check_soap($res, "valid request after $what");
    is($r->{response_code}, 'NoError', "the server answers after $what");
}

for my $c (@cases) {
    subtest $c->{name} => sub {
        Test::More::plan(tests => 2 + ($c->{status} ? 1 : 3) + ($c->{no_secret} ? 1 : 0)
                                 + ($c->{max_length} ? 1 : 0));
        my $res = soap_post(body => $c->{body}, path => $c->{path} // ENDPOINT,
                            content_type => $c->{content_type} // $CT);
        if ($c->{status}) {
            is($res->code, $c->{status}, "HTTP $c->{status}");
        }
        else {
            my $r = check_soap($res, $c->{name});
            if ($c->{ok}) {
                is($r->{kind}, 'response', 'accepted: an operation response');
                is($r->{response_code}, 'NoError', 'ResponseCode');
            }
            else {
                is($r->{kind}, 'fault', 'refused with a fault');
                is($r->{code}, $c->{fault}, "ResponseCode $c->{fault}");
            }
        }
        if ($c->{no_secret}) {
            unlike($res->as_string, qr/\Q$secret\E/, "the file's content is not in the response");
        }
        if ($c->{max_length}) {
            cmp_ok(length($res->content), '<', $c->{max_length}, 'no expansion in the response');
        }
        still_alive($c->{name});
    };
}

# 100 MB bodies: refused with 413 long before they are sent.
my $MB100 = 100 * 1024 * 1024;
my $piece = 'x' x 65536;
for my $chunked (0, 1) {
    my $name = $chunked ? '100 MB chunked body' : '100 MB body with Content-Length';
    subtest $name => sub {
        Test::More::plan(tests => 5);
        my $sock = raw_connect('http');
        raw_write($sock, raw_head(headers => ['Content-Type' => $CT,
            $chunked ? ('Transfer-Encoding' => 'chunked') : ('Content-Length' => $MB100)]));
        my $n = 0;
        my $prefix = soap_envelope(body => '');
        my($sent, $answered) = raw_stream($sock, 0.01, sub {
            return undef if $n * length($piece) >= $MB100;
            my $data = $n++ ? $piece : $prefix . substr($piece, length $prefix);
            return $chunked ? sprintf("%x\r\n%s\r\n", length $data, $data) : $data;
        });
        my($status) = raw_read_head($sock, 15);
        is($status, 413, "$name: 413");
        ok($answered, "$name: the answer came while the body was still being sent");
        cmp_ok($sent, '<', 10 * 1024 * 1024, "$name: answered after $sent bytes, far less than 100 MB");
        close $sock;
        my $r = check_soap(soap_post(body => soap_envelope(body => get_op())), "after $name");
        is($r->{op}, 'GetMessageTrackingReportResponse', "$name: the server answers afterwards");
    };
}
