# t/soap.t: valid FindMessageTrackingReport and GetMessageTrackingReport requests,
# in the shapes clients send them, over HTTP and HTTPS, all answered by the
# operation: find_op() searches the index for alice's "quarterly report" (there
# is none: Success, NoError, no results, whatever the date), get_op() names a
# report id of no message (ErrorMessageTrackingPermanentError). t/find.t and
# t/get.t test what the answers hold.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use MsgTrack::Test;

my $SOAP11 = NS_SOAP11;
my($M, $T) = (NS_M, NS_T);
my $ACTION = "$M/FindMessageTrackingReport";

my @cases = (
    { name => 'Find, prefix s, quoted SOAPAction', op => 'Find',
      body => soap_envelope(body => find_op()), soapaction => qq{"$ACTION"} },
    { name => 'Get, prefix s, quoted SOAPAction', op => 'Get',
      body => soap_envelope(body => get_op()), soapaction => qq{"$M/GetMessageTrackingReport"} },
    { name => 'Get, RecipientPath template', op => 'Get',
      body => soap_envelope(body => get_op(template => 'RecipientPath',
                                           recipient => 'bob\@example.org')) },
    { name => 'Find, default namespaces throughout', op => 'Find', body => <<"XML" },
<?xml version="1.0" encoding="utf-8"?>
<Envelope xmlns="$SOAP11">
  <Header><RequestServerVersion xmlns="$T" Version="Exchange2010_SP1"/></Header>
  <Body>
    <FindMessageTrackingReport xmlns="$M">
      <Scope>Organization</Scope>
      <Domain>example.org</Domain>
      <Sender><EmailAddress xmlns="$T">alice\@example.org</EmailAddress></Sender>
      <Subject>quarterly report</Subject>
    </FindMessageTrackingReport>
  </Body>
</Envelope>
XML
    { name => 'Get, default namespaces throughout', op => 'Get', body => <<"XML" },
<Envelope xmlns="$SOAP11"><Body><GetMessageTrackingReport xmlns="$M"><Scope>Site</Scope><ReportTemplate>Summary</ReportTemplate><MessageTrackingReportId>Message-Id=&lt;a\@example.org&gt;,Server=mx1,Internal-Id=999999,Sender=alice\@example.org,Domain=example.org</MessageTrackingReportId></GetMessageTrackingReport></Body></Envelope>
XML
    { name => 'Find, prefixes SOAP-ENV, ns1, ns2', op => 'Find',
      body => soap_envelope(prefix => 'SOAP-ENV', body => find_op(m => 'ns1', t => 'ns2')) },
    { name => 'Get, prefixes soapenv, ns1, types', op => 'Get',
      body => soap_envelope(prefix => 'soapenv', body => get_op(m => 'ns1', t => 'types')) },
    { name => 'Find, no SOAPAction', op => 'Find', body => soap_envelope(body => find_op()) },
    { name => 'Find, unquoted SOAPAction', op => 'Find',
      body => soap_envelope(body => find_op()), soapaction => $ACTION },
    { name => 'Find, empty quoted SOAPAction', op => 'Find',
      body => soap_envelope(body => find_op()), soapaction => '""' },
    { name => 'Find, no SOAP Header', op => 'Find',
      body => soap_envelope(header => undef, body => find_op()) },
    { name => 'Get, empty SOAP Header', op => 'Get',
      body => soap_envelope(header => '', body => get_op()) },
    { name => 'Find, RequestServerVersion mustUnderstand="1"', op => 'Find',
      body => soap_envelope(header => version_header('Exchange2010_SP1', must_understand => '1'),
                            body => find_op()) },
    { name => 'Get, RequestServerVersion mustUnderstand="true"', op => 'Get',
      body => soap_envelope(header => version_header('Exchange2010', must_understand => 'true'),
                            body => get_op()) },
    { name => 'Find, RequestServerVersion Exchange2013', op => 'Find',
      body => soap_envelope(header => version_header('Exchange2013'), body => find_op()) },
    { name => 'Find, unknown header without mustUnderstand', op => 'Find',
      body => soap_envelope(header => version_header() . '<x:Trace xmlns:x="urn:example:trace">1</x:Trace>',
                            body => find_op()) },
    { name => 'Find, unknown header with mustUnderstand="0"', op => 'Find',
      body => soap_envelope(header => qq{<x:Trace xmlns:x="urn:example:trace" xmlns:e="$SOAP11" e:mustUnderstand="0"/>},
                            body => find_op()) },
    { name => 'Find, no XML declaration, comments and a PI', op => 'Find',
      body => soap_envelope(decl => "<!-- client -->\n",
                            body => "<!-- op -->\n<?client hint?>" . find_op() . "\n<!-- end -->") },
    { name => 'Find, Content-Type text/xml without charset', op => 'Find',
      body => soap_envelope(body => find_op()), content_type => 'text/xml' },
    { name => 'Find, Content-Type Text/XML; charset="UTF-8"', op => 'Find',
      body => soap_envelope(body => find_op()), content_type => 'Text/XML; charset="UTF-8"' },
    { name => 'Find as a privileged caller', op => 'Find', user => 'admin',
      body => soap_envelope(body => find_op(sender => 'bob@example.org')) },
    { name => 'Get, lower-case endpoint URL', op => 'Get', path => '/ews/exchange.asmx',
      body => soap_envelope(body => get_op()) },
);

my @schemes = ('http', 'https');
plan tests => @cases * @schemes, need(need_lwp(), need_module(SERVER_MODULES));

for_each_scheme(scalar @cases, sub {
        my $scheme = shift;
        for my $c (@cases) {
            subtest "$scheme: $c->{name}" => sub {
                Test::More::plan(tests => 6);
                my %want = $c->{op} eq 'Find'
                    ? (class => 'Success', code => 'NoError', results => 0)
                    : (class => 'Error', code => 'ErrorMessageTrackingPermanentError');
                my $res = soap_post(
                    scheme => $scheme, body => $c->{body}, user => $c->{user} // 'alice',
                    ($c->{path} ? (path => $c->{path}) : ()),
                    (exists $c->{soapaction} ? (soapaction => $c->{soapaction}) : ()),
                    ($c->{content_type} ? (content_type => $c->{content_type}) : ()));
                my $r = check_soap($res, $c->{name});
                is($res->header('Content-Type'), 'text/xml; charset=utf-8', 'Content-Type');
                is($r->{op}, "$c->{op}MessageTrackingReportResponse", 'the operation response');
                is($r->{response_class}, $want{class}, 'ResponseClass');
                is($r->{response_code}, $want{code}, 'ResponseCode');
                if ($c->{op} eq 'Find') {
                    my @res = $r->{doc} ? $r->{doc}->getElementsByTagNameNS(NS_T, 'MessageTrackingSearchResult') : ();
                    is(scalar @res, 0, 'no results');
                }
                else {
                    is($r->{message_text}, 'no message matches the report id', 'MessageText');
                }
            };
        }
});
