# t/wsdl.t: the WSDL and the XSDs, over HTTP and HTTPS. The WSDL is the
# bundled file with its soap:address pointing at the URL the client used; the
# XSDs are the bundled files byte for byte, with Last-Modified and 304s.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use HTTP::Date qw(time2str);
use XML::LibXML ();
use MsgTrack::Test;

my $CT = 'text/xml; charset=utf-8';
my $WSDL_NS = 'http://schemas.xmlsoap.org/wsdl/';
my $SOAP_BINDING_NS = 'http://schemas.xmlsoap.org/wsdl/soap/';

sub slurp {
    my $file = shift;
    open my $fh, '<:raw', $file or die "$file: $!";
    local $/;
    return scalar <$fh>;
}

my $wsdl_file = slurp(schema_file('Services.wsdl'));
my($file_address) = $wsdl_file =~ /<soap:address location="([^"]*)"/
    or die "Services.wsdl has no soap:address\n";

# The soap:address location of a served WSDL, found by parsing it.
sub address_of {
    my $xml = shift;
    my $doc = eval { XML::LibXML->new(no_network => 1)->load_xml(string => $xml) } or return;
    my $xpc = XML::LibXML::XPathContext->new($doc);
    $xpc->registerNs(w => $WSDL_NS);
    $xpc->registerNs(soap => $SOAP_BINDING_NS);
    return $xpc->findvalue('/w:definitions/w:service/w:port/soap:address/@location');
}

# Served WSDL equals the bundled one but for the address.
sub same_but_address {
    my $xml = shift;
    (my $back = $xml) =~ s/(<soap:address location=")[^"]*"/$1$file_address"/;
    return $back eq $wsdl_file;
}

my @wsdl_urls = ('/EWS/Exchange.asmx?wsdl', '/EWS/Exchange.asmx', '/EWS/Services.wsdl',
                 '/ews/services.wsdl');
my @xsds = ('messages.xsd', 'types.xsd');
my $per_scheme = 4 * @wsdl_urls + 1 + 2 + 8 * @xsds + 1;
my @schemes = ('http', 'https');

plan tests => $per_scheme * @schemes + 2, need(need_lwp(), need_module(SERVER_MODULES));

for_each_scheme($per_scheme, sub {
        my $scheme = shift;
        my $base = base_url($scheme);

        for my $url (@wsdl_urls) {
            my $res = http_request(scheme => $scheme, path => $url);
            (my $dir = $url) =~ s{/[^/]*$}{};
            is($res->code, 200, "$scheme GET $url: 200");
            is($res->header('Content-Type'), $CT, "$scheme GET $url: $CT");
            is(address_of($res->content), "$base$dir/Exchange.asmx",
               "$scheme GET $url: soap:address is this server's endpoint");
            ok(same_but_address($res->content), "$scheme GET $url: the bundled WSDL otherwise");
        }
        {
            my $res = http_request(scheme => $scheme, path => '/EWS/Services.wsdl');
            like($res->header('Vary') // '', qr/\bHost\b/i, "$scheme: the WSDL varies with Host");
            $res = http_request(scheme => $scheme, method => 'HEAD', path => '/EWS/Services.wsdl');
            is($res->code . ' ' . ($res->header('Content-Type') // ''), "200 $CT",
               "$scheme HEAD the WSDL: 200, $CT");
            is(length($res->content), 0, "$scheme HEAD the WSDL: no body");
        }

        for my $name (@xsds) {
            my $file = schema_file($name);
            my $bytes = slurp($file);
            my $mtime = (stat $file)[9];
            my $path = "/EWS/$name";

            my $res = http_request(scheme => $scheme, path => $path);
            is($res->code, 200, "$scheme GET $path: 200");
            ok($res->content eq $bytes, "$scheme GET $path: byte-identical to schemas/$name")
                or diag('got ' . length($res->content) . ' bytes, the file has ' . length $bytes);
            is($res->header('Content-Type'), $CT, "$scheme GET $path: $CT");
            is($res->header('Last-Modified'), time2str($mtime),
               "$scheme GET $path: Last-Modified is the file's mtime");

            $res = http_request(scheme => $scheme, path => $path,
                                headers => ['If-Modified-Since' => time2str($mtime)]);
            is($res->code . ' ' . length($res->content), '304 0',
               "$scheme GET $path, If-Modified-Since its mtime: 304, no body");
            $res = http_request(scheme => $scheme, path => $path,
                                headers => ['If-Modified-Since' => time2str($mtime - 86400)]);
            ok($res->code == 200 && $res->content eq $bytes,
               "$scheme GET $path, If-Modified-Since a day earlier: 200 and the file");

            $res = http_request(scheme => $scheme, method => 'HEAD', path => $path);
            is($res->code, 200, "$scheme HEAD $path: 200");
            is(($res->header('Content-Length') // '') . '/' . length($res->content),
               length($bytes) . '/0', "$scheme HEAD $path: the file's length, no body");
        }
        {
            my $res = http_request(scheme => $scheme, path => '/ews/MESSAGES.XSD');
            ok($res->code == 200 && $res->content eq slurp(schema_file('messages.xsd')),
               "$scheme GET /ews/MESSAGES.XSD: names are case-insensitive");
        }
});

# The address follows the Host the client used.
{
    my(undef, $port) = split /:/, hostport('http');
    my $res = http_request(url => "http://127.0.0.1:$port/EWS/Services.wsdl");
    is($res->code, 200, 'GET the WSDL by IP address: 200');
    is(address_of($res->content), "http://127.0.0.1:$port/EWS/Exchange.asmx",
       'GET the WSDL by IP address: soap:address uses that address');
}
