#!/usr/bin/perl
# bench/stress_check.pl: validate sampled SOAP responses against the bundled XSDs.
#
#   bench/stress_check.pl SCHEMA_DIR FILE...
#
# Each FILE holds one response body as bench/stress_load.lua saved it. A
# file is valid when it is a well-formed SOAP 1.1 Envelope holding exactly a
# Header with t:ServerVersionInfo (valid against types.xsd) and a Body with
# exactly one FindMessageTrackingReportResponse or
# GetMessageTrackingReportResponse (valid against messages.xsd), as
# t/lib/MsgTrack/Test.pm checks every response of the test suite. Prints
# "valid N invalid M" and the first problems; exits 1 when any is invalid.
use strict;
use warnings;
use XML::LibXML;

my $dir = shift or die "usage: stress_check.pl SCHEMA_DIR FILE...\n";
my %NS = (
    s => 'http://schemas.xmlsoap.org/soap/envelope/',
    m => 'http://schemas.microsoft.com/exchange/services/2006/messages',
    t => 'http://schemas.microsoft.com/exchange/services/2006/types',
);
my %schema = map {
    $_ => XML::LibXML::Schema->new(location => "$dir/$_.xsd", no_network => 1)
} qw(messages types);
my $parser = XML::LibXML->new(no_network => 1, load_ext_dtd => 0, expand_entities => 0);

sub is_el {
    my($n, $ns, $local) = @_;
    return $n->nodeType == XML_ELEMENT_NODE && ($n->namespaceURI // '') eq $NS{$ns}
        && $n->localname eq $local;
}

sub elements { grep { $_->nodeType == XML_ELEMENT_NODE } $_[0]->childNodes }

sub validate {
    my($xsd, $el) = @_;
    my $doc = XML::LibXML::Document->new('1.0', 'utf-8');
    $doc->setDocumentElement($doc->importNode($el));
    return eval { $schema{$xsd}->validate($doc); 1 } ? undef : ($@ || 'invalid');
}

sub check {
    my $file = shift;
    my $doc = eval { $parser->load_xml(location => $file) } or return "not well-formed: $@";
    my $env = $doc->documentElement;
    return 'the root is not a SOAP 1.1 Envelope' unless is_el($env, 's', 'Envelope');
    my @parts = elements($env);
    return 'the Envelope does not hold exactly Header, Body'
        unless @parts == 2 && is_el($parts[0], 's', 'Header') && is_el($parts[1], 's', 'Body');
    my @h = elements($parts[0]);
    return 'the Header does not hold exactly t:ServerVersionInfo'
        unless @h == 1 && is_el($h[0], 't', 'ServerVersionInfo');
    if (my $err = validate('types', $h[0])) {
        return "ServerVersionInfo is not valid against types.xsd: $err";
    }
    my @b = elements($parts[1]);
    return 'the Body does not hold exactly one element' unless @b == 1;
    return 'the Body holds ' . $b[0]->nodeName . ', not a message tracking response'
        unless is_el($b[0], 'm', 'FindMessageTrackingReportResponse')
            || is_el($b[0], 'm', 'GetMessageTrackingReportResponse');
    if (my $err = validate('messages', $b[0])) {
        return $b[0]->localname . " is not valid against messages.xsd: $err";
    }
    return undef;
}

my($valid, $invalid) = (0, 0);
for my $file (@ARGV) {
    if (my $why = check($file)) {
        $invalid++;
        print "$file: $why\n" if $invalid <= 5;
    }
    else {
        $valid++;
    }
}
print "valid $valid invalid $invalid\n";
exit($invalid ? 1 : 0);
