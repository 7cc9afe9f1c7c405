# t/faults.t: every SOAP fault of the contract, over HTTP and HTTPS: HTTP 500,
# the faultcode, the EWS ResponseCode in the detail, and where the request
# says where (LineNumber/LinePosition/Violation), that it points at the culprit.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use MsgTrack::Test;

my($SOAP11, $SOAP12, $M, $T) = (NS_SOAP11, NS_SOAP12, NS_M, NS_T);
my $A = "{$T}";          # EWS faultcodes are a:Code with a = the types namespace
my $S = "{$SOAP11}";

# Multi-line requests, so that line numbers mean something.
my $not_wf = <<"XML";
<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="$SOAP11">
  <s:Body>
    <m:FindMessageTrackingReport xmlns:m="$M">
      <m:Scope>Organization</m:Domain>
    </m:FindMessageTrackingReport>
  </s:Body>
</s:Envelope>
XML

my $doctype = <<"XML";
<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE s:Envelope>
<s:Envelope xmlns:s="$SOAP11"><s:Body>${\ find_op()}</s:Body></s:Envelope>
XML

my $bogus = <<"XML";
<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="$SOAP11">
  <s:Body>
    <m:FindMessageTrackingReport xmlns:m="$M">
      <m:Scope>Organization</m:Scope>
      <m:Domain>example.org</m:Domain>
        <m:Bogus>surprise</m:Bogus>
    </m:FindMessageTrackingReport>
  </s:Body>
</s:Envelope>
XML

my $bad_template = <<"XML";
<s:Envelope xmlns:s="$SOAP11">
<s:Body>
<m:GetMessageTrackingReport xmlns:m="$M">
  <m:Scope>Organization</m:Scope>
  <m:MessageTrackingReportId>Message-Id=&lt;a\@example.org&gt;</m:MessageTrackingReportId>
   <m:ReportTemplate>Everything</m:ReportTemplate>
</m:GetMessageTrackingReport>
</s:Body>
</s:Envelope>
XML

my $two_ops = <<"XML";
<s:Envelope xmlns:s="$SOAP11">
  <s:Body>
    ${\ find_op()}
      ${\ get_op()}
  </s:Body>
</s:Envelope>
XML

my $unknown_op = <<"XML";
<s:Envelope xmlns:s="$SOAP11">
  <s:Header>${\ version_header()}</s:Header>
  <s:Body>
     <m:GetUserAvailabilityRequest xmlns:m="$M"/>
  </s:Body>
</s:Envelope>
XML

my $old_version = soap_envelope(header => "\n  " . version_header('Exchange2007'), body => find_op());
my $mu_header = soap_envelope(
    header => "\n " . version_header() . qq{<x:Session xmlns:x="urn:example:session" xmlns:e="$SOAP11" e:mustUnderstand="1">42</x:Session>},
    body => find_op());

# name, body, and what to expect: faultcode ({ns}local), code (detail
# ResponseCode), at => [needle, ...] (LineNumber/LinePosition must point at
# the first needle: the column exactly, or anywhere within [col, col+slack]),
# violation/message regexes.
my @cases = (
    { name => 'not well-formed (tag mismatch)', body => $not_wf,
      faultcode => "${A}ErrorSchemaValidation", code => 'ErrorSchemaValidation',
      at => ['</m:Domain>', length '</m:Domain>'], violation => qr/mismatch.*Scope.*Domain/ },
    { name => 'DOCTYPE', body => $doctype,
      faultcode => "${A}ErrorInvalidRequest", code => 'ErrorInvalidRequest',
      at => ['<!DOCTYPE'], violation => qr/DTD/ },
    { name => 'SOAP 1.2 envelope', body => qq{<e:Envelope xmlns:e="$SOAP12"><e:Body>${\ find_op()}</e:Body></e:Envelope>},
      faultcode => "${S}VersionMismatch", code => 'ErrorInvalidRequest', message => qr/SOAP 1\.2/ },
    { name => 'root element is not an Envelope', body => find_op(),
      faultcode => "${S}VersionMismatch", code => 'ErrorInvalidRequest',
      message => qr/FindMessageTrackingReport/ },
    { name => 'Envelope without a namespace', body => '<Envelope><Body/></Envelope>',
      faultcode => "${S}VersionMismatch", code => 'ErrorInvalidRequest' },
    { name => 'missing Body', body => qq{<s:Envelope xmlns:s="$SOAP11"><s:Header/></s:Envelope>},
      faultcode => "${A}ErrorInvalidRequest", code => 'ErrorInvalidRequest', message => qr/no Body/ },
    { name => 'empty Body', body => soap_envelope(body => ''),
      faultcode => "${A}ErrorInvalidRequest", code => 'ErrorInvalidRequest', message => qr/empty/ },
    { name => 'Body with only whitespace and a comment', body => soap_envelope(body => "\n  <!-- nothing -->\n"),
      faultcode => "${A}ErrorInvalidRequest", code => 'ErrorInvalidRequest', message => qr/empty/ },
    { name => 'two elements in Body', body => $two_ops,
      faultcode => "${A}ErrorInvalidRequest", code => 'ErrorInvalidRequest',
      at => ['<m:GetMessageTrackingReport'], message => qr/exactly one/ },
    { name => 'text in Body', body => soap_envelope(body => 'hello' . find_op()),
      faultcode => "${A}ErrorInvalidRequest", code => 'ErrorInvalidRequest', message => qr/text/ },
    { name => 'foreign element before Body', body => qq{<s:Envelope xmlns:s="$SOAP11"><x:Extra xmlns:x="urn:x"/><s:Body>${\ find_op()}</s:Body></s:Envelope>},
      faultcode => "${A}ErrorInvalidRequest", code => 'ErrorInvalidRequest', message => qr/Extra/ },
    { name => 'unknown operation', body => $unknown_op,
      faultcode => "${A}ErrorInvalidRequest", code => 'ErrorInvalidRequest',
      at => ['<m:GetUserAvailabilityRequest'], message => qr/GetUserAvailabilityRequest/ },
    { name => 'operation in the wrong namespace',
      body => soap_envelope(body => qq{<FindMessageTrackingReport xmlns="urn:not-ews"><Scope>x</Scope></FindMessageTrackingReport>}),
      faultcode => "${A}ErrorInvalidRequest", code => 'ErrorInvalidRequest', message => qr/urn:not-ews/ },
    { name => 'schema violation: unexpected element', body => $bogus,
      faultcode => "${A}ErrorSchemaValidation", code => 'ErrorSchemaValidation',
      at => ['<m:Bogus>'], violation => qr/Bogus/ },
    { name => 'schema violation: enumeration', body => $bad_template,
      faultcode => "${A}ErrorSchemaValidation", code => 'ErrorSchemaValidation',
      at => ['<m:ReportTemplate>'], violation => qr/ReportTemplate|Everything/ },
    { name => 'schema violation: required element missing',
      body => soap_envelope(body => qq{<m:FindMessageTrackingReport xmlns:m="$M"><m:Scope>Organization</m:Scope></m:FindMessageTrackingReport>}),
      faultcode => "${A}ErrorSchemaValidation", code => 'ErrorSchemaValidation', violation => qr/Domain/ },
    { name => 'schema violation: dateTime',
      body => soap_envelope(body => qq{<m:FindMessageTrackingReport xmlns:m="$M"><m:Scope>Organization</m:Scope><m:Domain>example.org</m:Domain><m:StartDateTime>2024-13-45T99:00:00Z</m:StartDateTime></m:FindMessageTrackingReport>}),
      faultcode => "${A}ErrorSchemaValidation", code => 'ErrorSchemaValidation',
      at => ['<m:StartDateTime>'], violation => qr/StartDateTime|dateTime/ },
    { name => 'schema violation: RequestServerVersion', body => soap_envelope(header => version_header('Exchange2099'), body => find_op()),
      faultcode => "${A}ErrorSchemaValidation", code => 'ErrorSchemaValidation', violation => qr/Version|Exchange2099/ },
    { name => 'RequestServerVersion Exchange2007', body => $old_version,
      faultcode => "${A}ErrorInvalidServerVersion", code => 'ErrorInvalidServerVersion',
      at => ['<t:RequestServerVersion'], message => qr/Exchange2007/ },
    { name => 'RequestServerVersion Exchange2007_SP1', body => soap_envelope(header => version_header('Exchange2007_SP1'), body => get_op()),
      faultcode => "${A}ErrorInvalidServerVersion", code => 'ErrorInvalidServerVersion', message => qr/Exchange2007_SP1/ },
    { name => 'unknown header with mustUnderstand="1"', body => $mu_header,
      faultcode => "${S}MustUnderstand", code => 'ErrorInvalidRequest',
      at => ['<x:Session'], message => qr/Session/ },
    { name => 'unknown header with mustUnderstand="true"',
      body => soap_envelope(header => qq{<x:Session xmlns:x="urn:example:session" xmlns:e="$SOAP11" e:mustUnderstand="true"/>}, body => get_op()),
      faultcode => "${S}MustUnderstand", code => 'ErrorInvalidRequest' },
    { name => 'empty request body', body => '',
      faultcode => "${A}ErrorInvalidRequest", code => 'ErrorInvalidRequest', message => qr/empty/ },
);

sub tests_for {
    my $c = shift;
    return 4 + ($c->{at} ? 2 : 0) + ($c->{violation} ? 1 : 0) + ($c->{message} ? 1 : 0);
}

my @schemes = ('http', 'https');
plan tests => @cases * @schemes, need(need_lwp(), need_module(SERVER_MODULES));

for_each_scheme(scalar @cases, sub {
        my $scheme = shift;
        for my $c (@cases) {
            subtest "$scheme: $c->{name}" => sub {
                Test::More::plan(tests => tests_for($c));
                my $res = soap_post(scheme => $scheme, body => $c->{body});
                my $r = check_soap($res, $c->{name});
                is($res->code, 500, 'HTTP 500');
                is($r->{faultcode}, $c->{faultcode}, 'faultcode');
                is($r->{code}, $c->{code}, 'detail ResponseCode');
                if (my $at = $c->{at}) {
                    my($needle, $slack) = @$at;
                    my($line, $col) = line_col($c->{body}, $needle);
                    is($r->{line}, $line, "LineNumber: the line of $needle");
                    my $pos = $r->{position} // -1;
                    ok($pos >= $col && $pos <= $col + ($slack // 0),
                       "LinePosition $pos: the column of $needle ($col"
                       . ($slack ? "..@{[$col + $slack]}" : '') . ')');
                }
                like($r->{violation} // '', $c->{violation}, 'Violation') if $c->{violation};
                like($r->{message} // '', $c->{message}, 'detail Message') if $c->{message};
            };
        }
});
