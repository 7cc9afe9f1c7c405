package MsgTrack::Test;
# Helpers shared by the mod_msgtrack Apache::Test files: where the server is,
# requests (LWP and raw sockets), SOAP request builders, the error_log config
# lines, and check_soap(), the one validator every SOAP response goes through.
use strict;
use warnings;

use Exporter 'import';
use Apache::Test ();
use Apache::TestRequest ();
use Errno qw(EAGAIN EINTR EWOULDBLOCK);
use File::Spec ();
use HTTP::Request ();
use HTTP::Response ();
use IO::Select ();
use IO::Socket::INET ();
use IO::Socket::SSL ();
use LWP::UserAgent ();
use MIME::Base64 qw(encode_base64);
use Test::More ();
use Time::HiRes qw(time);
use XML::LibXML ();

our @EXPORT = qw(
    NS_SOAP11 NS_SOAP12 NS_M NS_T NS_E ENDPOINT SERVER_MODULES
    vars schema_dir schema_file have_https for_each_scheme hostport base_url ca_file
    password auth_header marker
    http_request soap_post
    soap_envelope find_op get_op find_req version_header xml_escape line_col
    check_soap config_lines error_log_since error_log_size
    ask search_results tracking_report diagnostic_strings
    raw_head raw_connect raw_write raw_stream raw_read_head raw_read_body raw_request
);

use constant {
    NS_SOAP11 => 'http://schemas.xmlsoap.org/soap/envelope/',
    NS_SOAP12 => 'http://www.w3.org/2003/05/soap-envelope',
    NS_M      => 'http://schemas.microsoft.com/exchange/services/2006/messages',
    NS_T      => 'http://schemas.microsoft.com/exchange/services/2006/types',
    NS_E      => 'http://schemas.microsoft.com/exchange/services/2006/errors',
    ENDPOINT  => '/EWS/Exchange.asmx',
};

# What every test file needs from the server (for `need_module`).
use constant SERVER_MODULES => qw(mod_msgtrack.c mod_auth_basic.c mod_authn_file.c
                                  mod_authz_user.c);

# The users of t/htdocs/auth/users.htpasswd.
my %PASSWORD = (alice => 'alice-secret', bob => 'bob-secret', admin => 'admin-secret');

# ------------------------------------------------------------------ where things are

sub vars { Apache::Test::vars(@_) }

sub schema_dir {
    my $dir = vars('msgtrack_schema_dir');
    die "msgtrack_schema_dir is not configured (run the suite through `make check-apache`)\n"
        unless $dir && -d $dir;
    return $dir;
}

sub schema_file { File::Spec->catfile(schema_dir(), $_[0]) }

sub have_https {
    my $cfg = Apache::Test::config();
    return $cfg->{vhosts}->{mod_ssl} && $cfg->{vhosts}->{mod_ssl}->{port} ? 1 : 0;
}

# Runs $body->($scheme) for http and for https, each a block of $count tests;
# the https block is skipped, visibly, when the server has no mod_ssl vhost.
sub for_each_scheme {
    my($count, $body) = @_;
    for my $scheme ('http', 'https') {
      SKIP: {
            Test::More::skip("https: mod_ssl is not available to the test server", $count)
                unless $scheme eq 'http' || have_https();
            $body->($scheme);
        }
    }
}

# hostport('http'), hostport('https'), or hostport('http', VHOST) for a
# plain-HTTP virtual host of t/conf/extra.conf.in (e.g. msgtrack_late).
sub hostport {
    my($scheme, $vhost) = @_;
    $scheme ||= 'http';
    my $cfg = Apache::Test::config();
    my $port = $vhost ? $cfg->{vhosts}->{$vhost}->{port}
             : $scheme eq 'https' ? $cfg->{vhosts}->{mod_ssl}->{port} : $cfg->{vars}->{port};
    die "no $scheme port configured" . ($vhost ? " for $vhost" : '') . "\n" unless $port;
    return "$cfg->{vars}->{servername}:$port";
}

sub base_url {
    my($scheme, $vhost) = @_;
    $scheme ||= 'http';
    return "$scheme://" . hostport($scheme, $vhost);
}

sub ca_file {
    my $v = vars();
    return "$v->{sslca}/$v->{sslcaorg}/certs/ca.crt";
}

sub password { $PASSWORD{ $_[0] } // die "no such test user '$_[0]'\n" }

sub auth_header {
    my($user, $pass) = @_;
    $pass //= password($user);
    return 'Basic ' . encode_base64("$user:$pass", '');
}

my $marker_seq = 0;
sub marker { sprintf 'mt-%d-%d-%d', $$, time() * 1000, ++$marker_seq }

# ------------------------------------------------------------------ LWP requests

my %UA;
sub _ua {
    my $scheme = shift;
    return $UA{$scheme} ||= LWP::UserAgent->new(
        keep_alive => 0,
        timeout    => 60,
        ssl_opts   => { SSL_ca_file => ca_file(), verify_hostname => 1 },
    );
}

# http_request(method => 'GET', path => '/EWS/...', scheme => 'http',
#              user => 'alice' (undef: no credentials), password => ...,
#              headers => [Name => value, ...], content => bytes, url => full URL,
#              vhost => name of a plain-HTTP virtual host)
# Sends exactly this request (no redirects, no credential retries).
sub http_request {
    my %a = (method => 'GET', scheme => 'http', user => 'alice', @_);
    my $url = $a{url} // base_url($a{scheme}, $a{vhost}) . $a{path};
    my $req = HTTP::Request->new($a{method} => $url);
    $req->header(Authorization => auth_header($a{user}, $a{password})) if defined $a{user};
    my @h = @{ $a{headers} || [] };
    while (my($k, $v) = splice @h, 0, 2) {
        $req->header($k => $v) if defined $v;
    }
    if (defined $a{content}) {
        $req->content($a{content});
        $req->header('Content-Length' => length $a{content});
        _save_seed($a{content}) if $a{method} eq 'POST';
    }
    return _ua($a{scheme})->simple_request($req);
}

# With MSGTRACK_FUZZ_SEEDS=DIR, every POST body sent is also written to
# DIR/<SHA-1 of the body>: how t/fuzz/seeds/soap was made (see t/fuzz/README).
sub _save_seed {
    my $body = shift;
    my $dir = $ENV{MSGTRACK_FUZZ_SEEDS} or return;
    require Digest::SHA;
    my $file = File::Spec->catfile($dir, Digest::SHA::sha1_hex($body));
    open my $fh, '>:raw', $file or die "cannot write $file: $!\n";
    print $fh $body;
    close $fh or die "cannot write $file: $!\n";
}

# soap_post(body => xml, path => ENDPOINT, content_type => 'text/xml; charset=utf-8'
#           (undef: none), soapaction => raw header value (absent unless given),
#           marker => value of X-MsgTrack-Marker, plus http_request's options)
sub soap_post {
    my %a = (path => ENDPOINT, content_type => 'text/xml; charset=utf-8', @_);
    my @h;
    push @h, 'Content-Type' => $a{content_type} if defined $a{content_type};
    push @h, SOAPAction => $a{soapaction} if exists $a{soapaction};
    push @h, 'X-MsgTrack-Marker' => $a{marker} if defined $a{marker};
    push @h, @{ $a{headers} } if $a{headers};
    my $body = delete $a{body};
    delete @a{qw(content_type soapaction marker headers)};
    return http_request(%a, method => 'POST', headers => \@h, content => $body);
}

# ------------------------------------------------------------------ request builders

sub xml_escape {
    my $s = shift;
    $s =~ s/&/&amp;/g;
    $s =~ s/</&lt;/g;
    $s =~ s/>/&gt;/g;
    $s =~ s/"/&quot;/g;
    return $s;
}

# <t:RequestServerVersion> with its own namespace declarations;
# version_header('Exchange2010_SP1', must_understand => '1').
sub version_header {
    my($version, %a) = @_;
    $version //= 'Exchange2010_SP1';
    my $mu = defined $a{must_understand}
        ? sprintf(' xmlns:se="%s" se:mustUnderstand="%s"', NS_SOAP11, $a{must_understand}) : '';
    return sprintf '<t:RequestServerVersion xmlns:t="%s"%s Version="%s"/>', NS_T, $mu, $version;
}

# soap_envelope(body => xml, header => xml (undef: no Header element; default: a
# RequestServerVersion), prefix => 's' ('' for the default namespace),
# decl => XML declaration (default utf-8 one))
sub soap_envelope {
    my %a = (prefix => 's', @_);
    $a{header} = version_header() unless exists $a{header};
    my $p = $a{prefix} eq '' ? '' : "$a{prefix}:";
    my $ns = $a{prefix} eq '' ? sprintf('xmlns="%s"', NS_SOAP11)
                              : sprintf('xmlns:%s="%s"', $a{prefix}, NS_SOAP11);
    my $decl = $a{decl} // qq{<?xml version="1.0" encoding="utf-8"?>\n};
    my $header = defined $a{header} ? "<${p}Header>$a{header}</${p}Header>" : '';
    return "$decl<${p}Envelope $ns>$header<${p}Body>$a{body}</${p}Body></${p}Envelope>\n";
}

# A valid FindMessageTrackingReport; prefixes m (messages) and t (types).
sub find_op {
    my %a = (m => 'm', t => 't', sender => 'alice@example.org', @_);
    my($m, $t) = ($a{m}, $a{t});
    return sprintf '<%s:FindMessageTrackingReport xmlns:%s="%s" xmlns:%s="%s">'
        . '<%s:Scope>Organization</%s:Scope><%s:Domain>example.org</%s:Domain>'
        . '<%s:Sender><%s:EmailAddress>%s</%s:EmailAddress></%s:Sender>'
        . '<%s:Subject>quarterly report</%s:Subject>'
        . '</%s:FindMessageTrackingReport>',
        $m, $m, NS_M, $t, NS_T, ($m) x 4, $m, $t, xml_escape($a{sender}), $t, $m, ($m) x 2, $m;
}

# A valid GetMessageTrackingReport; by default for a report id that names no
# message. get_op(template => 'RecipientPath', recipient => 'bob@example.org',
# id => ..., queue => 'true', diagnostics => 'Verbose', scope => 'Site').
sub get_op {
    my %a = (m => 'm', t => 't', template => 'Summary', scope => 'Organization',
             id => 'Message-Id=<20240101.1234@example.org>,Server=mx1.example.org,'
                 . 'Internal-Id=999999,Sender=alice@example.org,Domain=example.org', @_);
    my($m, $t) = ($a{m}, $a{t});
    my $extra = '';
    $extra .= sprintf '<%s:RecipientFilter><%s:EmailAddress>%s</%s:EmailAddress></%s:RecipientFilter>',
        $m, $t, xml_escape($a{recipient}), $t, $m if defined $a{recipient};
    $extra .= "<$m:ReturnQueueEvents>$a{queue}</$m:ReturnQueueEvents>" if defined $a{queue};
    $extra .= "<$m:DiagnosticsLevel>$a{diagnostics}</$m:DiagnosticsLevel>"
        if defined $a{diagnostics};
    return sprintf '<%s:GetMessageTrackingReport xmlns:%s="%s" xmlns:%s="%s">'
        . '<%s:Scope>%s</%s:Scope><%s:ReportTemplate>%s</%s:ReportTemplate>'
        . '<%s:MessageTrackingReportId>%s</%s:MessageTrackingReportId>%s'
        . '</%s:GetMessageTrackingReport>',
        $m, $m, NS_M, $t, NS_T, $m, $a{scope}, $m, $m, $a{template}, $m, $m,
        xml_escape($a{id}), $m, $extra, $m;
}

# A FindMessageTrackingReport with the elements asked for:
# find_req(sender => A, recipient => A, federated => A, purported => A,
#          subject => S, message_id => ID, start => T, end => T,
#          scope => 'Organization', domain => 'example.org', diagnostics => LEVEL,
#          server_hint => S, properties => [name => value, ...]).
sub find_req {
    my %a = (scope => 'Organization', domain => 'example.org', @_);
    my $addr = sub {
        my($el, $v) = @_;
        return defined $v ? "<m:$el><t:EmailAddress>" . xml_escape($v) . "</t:EmailAddress></m:$el>" : '';
    };
    my $el = sub {
        my($el, $v) = @_;
        return defined $v ? "<m:$el>" . xml_escape($v) . "</m:$el>" : '';
    };
    my $props = '';
    if (my @p = @{ $a{properties} || [] }) {
        while (my($k, $v) = splice @p, 0, 2) {
            $props .= '<t:TrackingPropertyType><t:Name>' . xml_escape($k) . '</t:Name><t:Value>'
                . xml_escape($v) . '</t:Value></t:TrackingPropertyType>';
        }
        $props = "<m:Properties>$props</m:Properties>";
    }
    return sprintf('<m:FindMessageTrackingReport xmlns:m="%s" xmlns:t="%s">', NS_M, NS_T)
        . $el->(Scope => $a{scope}) . $el->(Domain => $a{domain})
        . $addr->(Sender => $a{sender}) . $addr->(PurportedSender => $a{purported})
        . $addr->(Recipient => $a{recipient}) . $el->(Subject => $a{subject})
        . $el->(StartDateTime => $a{start}) . $el->(EndDateTime => $a{end})
        . $el->(MessageId => $a{message_id}) . $addr->(FederatedDeliveryMailbox => $a{federated})
        . $el->(DiagnosticsLevel => $a{diagnostics}) . $el->(ServerHint => $a{server_hint})
        . $props . '</m:FindMessageTrackingReport>';
}

# (line, column) of the first $needle in $text, both 1-based, the column in
# characters: where a fault's LineNumber/LinePosition should point.
sub line_col {
    my($text, $needle) = @_;
    my $at = index $text, $needle;
    die "line_col: '$needle' not found\n" if $at < 0;
    my $before = substr $text, 0, $at;
    my $line = 1 + ($before =~ tr/\n//);
    $before =~ s/.*\n//s;
    return($line, 1 + length $before);
}

# ------------------------------------------------------------------ the validator

my(%SCHEMA, $PARSER);

sub _schema {
    my $file = shift;
    return $SCHEMA{$file} ||= XML::LibXML::Schema->new(location => $file, no_network => 1);
}

sub _parser {
    return $PARSER ||= XML::LibXML->new(
        no_network => 1, load_ext_dtd => 0, expand_entities => 0, expand_xinclude => 0,
        huge => 0, line_numbers => 1);
}

# Validates $el as the root of a fresh document; returns the error or undef.
sub _validate_element {
    my($schema_file, $el) = @_;
    my $doc = XML::LibXML::Document->new('1.0', 'utf-8');
    $doc->setDocumentElement($doc->importNode($el));
    my $ok = eval { _schema($schema_file)->validate($doc); 1 };
    return $ok ? undef : ($@ || 'invalid');
}

sub _is {
    my($node, $ns, $local) = @_;
    return $node && $node->nodeType == XML::LibXML::XML_ELEMENT_NODE()
        && ($node->namespaceURI // '') eq ($ns // '') && $node->localname eq $local;
}

sub _clark { my $n = shift; sprintf '{%s}%s', $n->namespaceURI // '', $n->localname }

# Element children of $node; pushes a problem for any non-blank text.
sub _elements {
    my($node, $why) = @_;
    my @el;
    for my $c ($node->childNodes) {
        if ($c->nodeType == XML::LibXML::XML_ELEMENT_NODE()) {
            push @el, $c;
        }
        elsif (($c->nodeType == XML::LibXML::XML_TEXT_NODE()
                || $c->nodeType == XML::LibXML::XML_CDATA_SECTION_NODE())
               && $c->data =~ /\S/) {
            push @$why, sprintf '%s contains text "%s"', _clark($node), $c->data;
        }
    }
    return @el;
}

# check_soap($res, $name): one test. Checks that the HTTP response carries a
# SOAP 1.1 message as the contract describes it:
#   - Content-Type text/xml; charset=utf-8, a well-formed utf-8 document;
#   - {soap11}Envelope with exactly Header and Body; the Header holds exactly
#     t:ServerVersionInfo, valid against schemas/types.xsd;
#   - the Body holds exactly one element, either
#       an operation response, HTTP 200, valid against schemas/messages.xsd, or
#       an s:Fault, HTTP 500: unqualified faultcode (a resolvable QName),
#       faultstring (xml:lang), detail with e:ResponseCode and e:Message (valid
#       against t/schemas/fault.xsd) and optionally t:MessageXml holding
#       LineNumber+LinePosition (integers) and/or Violation, nothing else.
# Returns a hash: ok, status, kind ('response'|'fault'), op (element name),
# response_class, response_code, message_text, faultcode ("{ns}local"),
# faultcode_local, faultstring, code (detail ResponseCode), message, line,
# position, violation, version_info (attributes), doc.
sub check_soap {
    my($res, $name) = @_;
    my(@why, %r);
    $r{status} = $res->code;
    my $ct = $res->header('Content-Type') // '';
    push @why, "Content-Type is '$ct', not 'text/xml; charset=utf-8'"
        unless $ct =~ m{^text/xml;\s*charset=utf-8$}i;

    CHECK: {
        my $doc = eval { _parser()->load_xml(string => $res->content) };
        unless ($doc) {
            push @why, "the body is not well-formed XML: " . ($@ || '?');
            last CHECK;
        }
        $r{doc} = $doc;
        push @why, "the document's encoding is '" . ($doc->encoding // '') . "', not utf-8"
            unless lc($doc->encoding // '') eq 'utf-8';
        push @why, 'the response has a DOCTYPE' if $doc->internalSubset;

        my $env = $doc->documentElement;
        unless (_is($env, NS_SOAP11, 'Envelope')) {
            push @why, 'the root is ' . _clark($env) . ', not a SOAP 1.1 Envelope';
            last CHECK;
        }
        my @parts = _elements($env, \@why);
        unless (@parts == 2 && _is($parts[0], NS_SOAP11, 'Header')
                && _is($parts[1], NS_SOAP11, 'Body')) {
            push @why, 'the Envelope holds (' . join(', ', map { _clark($_) } @parts)
                . '), not exactly (Header, Body)';
            last CHECK;
        }
        my($header, $body) = @parts;

        my @h = _elements($header, \@why);
        if (@h == 1 && _is($h[0], NS_T, 'ServerVersionInfo')) {
            if (my $err = _validate_element(schema_file('types.xsd'), $h[0])) {
                push @why, "ServerVersionInfo is not valid against types.xsd: $err";
            }
            $r{version_info} = { map { $_->nodeName => $_->value } $h[0]->attributes };
        }
        else {
            push @why, 'the Header holds (' . join(', ', map { _clark($_) } @h)
                . '), not exactly t:ServerVersionInfo';
        }

        my @b = _elements($body, \@why);
        unless (@b == 1) {
            push @why, 'the Body holds ' . scalar(@b) . ' elements, not one';
            last CHECK;
        }
        my $op = $b[0];
        if (_is($op, NS_SOAP11, 'Fault')) {
            $r{kind} = 'fault';
            push @why, "a fault came with HTTP $r{status}, not 500" unless $r{status} == 500;
            _check_fault($op, \%r, \@why);
        }
        else {
            $r{kind} = 'response';
            $r{op} = $op->localname;
            push @why, "an operation response came with HTTP $r{status}, not 200"
                unless $r{status} == 200;
            unless ($op->namespaceURI && $op->namespaceURI eq NS_M
                    && $op->localname =~ /^(Find|Get)MessageTrackingReportResponse$/) {
                push @why, 'the Body holds ' . _clark($op) . ', not a message tracking response';
                last CHECK;
            }
            if (my $err = _validate_element(schema_file('messages.xsd'), $op)) {
                push @why, "$r{op} is not valid against messages.xsd: $err";
            }
            $r{response_class} = $op->getAttribute('ResponseClass');
            for my $c (_elements($op, \@why)) {
                next unless ($c->namespaceURI // '') eq NS_M;
                $r{response_code} = $c->textContent if $c->localname eq 'ResponseCode';
                $r{message_text}  = $c->textContent if $c->localname eq 'MessageText';
            }
        }
    }

    $r{ok} = !@why;
    my $tb = Test::More->builder;
    $tb->ok($r{ok}, "$name: a valid SOAP 1.1 response")
        or $tb->diag(join("\n", @why, 'HTTP ' . $res->status_line,
                          'body: ' . substr($res->content // '', 0, 3000)));
    return \%r;
}

sub _check_fault {
    my($fault, $r, $why) = @_;
    my @f = _elements($fault, $why);
    my @names = map { ($_->namespaceURI // '') eq '' ? $_->localname : _clark($_) } @f;
    my $names = join ',', @names;
    unless ($names =~ /^faultcode,faultstring(,faultactor)?,detail$/) {
        push @$why, "the Fault holds ($names), not (faultcode, faultstring, faultactor?, detail), unqualified";
        return;
    }
    my %f = map { $_->localname => $_ } @f;

    my $qn = $f{faultcode}->textContent;
    $qn =~ s/^\s+|\s+$//g;
    if ($qn =~ /^(?:([A-Za-z_][\w.-]*):)?([A-Za-z_][\w.-]*)$/) {
        my($prefix, $local) = ($1, $2);
        my $ns = $f{faultcode}->lookupNamespaceURI($prefix);
        if (defined $prefix && !defined $ns) {
            push @$why, "faultcode '$qn': prefix '$prefix' is not declared";
        }
        $r->{faultcode} = sprintf '{%s}%s', $ns // '', $local;
        $r->{faultcode_local} = $local;
    }
    else {
        push @$why, "faultcode '$qn' is not a QName";
    }

    $r->{faultstring} = $f{faultstring}->textContent;
    push @$why, 'faultstring is empty' unless $r->{faultstring} =~ /\S/;
    push @$why, 'faultstring has no xml:lang'
        unless $f{faultstring}->hasAttributeNS('http://www.w3.org/XML/1998/namespace', 'lang');

    my @d = _elements($f{detail}, $why);
    my $fault_xsd = File::Spec->catfile(vars('t_dir'), 'schemas', 'fault.xsd');
    unless (@d >= 2 && _is($d[0], NS_E, 'ResponseCode') && _is($d[1], NS_E, 'Message')
            && (@d == 2 || (@d == 3 && _is($d[2], NS_T, 'MessageXml')))) {
        push @$why, 'detail holds (' . join(', ', map { _clark($_) } @d)
            . '), not (e:ResponseCode, e:Message, t:MessageXml?)';
        return;
    }
    for my $el (@d[0, 1]) {
        if (my $err = _validate_element($fault_xsd, $el)) {
            push @$why, 'detail ' . $el->localname . " is not valid against fault.xsd: $err";
        }
    }
    $r->{code} = $d[0]->textContent;
    $r->{message} = $d[1]->textContent;
    push @$why, 'detail Message is empty' unless $r->{message} =~ /\S/;
    return unless @d == 3;

    my @x = _elements($d[2], $why);
    my $xnames = join ',', map { _is($_, NS_T, $_->localname) ? $_->localname : _clark($_) } @x;
    unless ($xnames =~ /^(LineNumber,LinePosition)?(,?Violation)?$/ && $xnames ne '') {
        push @$why, "MessageXml holds ($xnames), not (LineNumber, LinePosition)?, Violation?";
        return;
    }
    for my $el (@x) {
        my $v = $el->textContent;
        if ($el->localname eq 'LineNumber') {
            push @$why, "LineNumber '$v' is not a positive integer" unless $v =~ /^[1-9]\d*$/;
            $r->{line} = $v;
        }
        elsif ($el->localname eq 'LinePosition') {
            push @$why, "LinePosition '$v' is not a non-negative integer" unless $v =~ /^\d+$/;
            $r->{position} = $v;
        }
        else {
            push @$why, 'Violation is empty' unless $v =~ /\S/;
            $r->{violation} = $v;
        }
    }
}

# ------------------------------------------------------------------ reading answers

# ask($user, $op_xml, path => ..., vhost => ..., name => ...): posts the
# operation in an envelope, runs check_soap (one test), returns its hash.
sub ask {
    my($user, $op, %a) = @_;
    my $name = delete $a{name} // 'request';
    my $res = soap_post(user => $user, body => soap_envelope(body => $op), %a);
    return check_soap($res, $name);
}

sub _kids {
    my($node, $ns, $local) = @_;
    return () unless $node;
    return grep { $_->nodeType == XML::LibXML::XML_ELEMENT_NODE()
                  && ($_->namespaceURI // '') eq $ns && $_->localname eq $local } $node->childNodes;
}

sub _kid_text {
    my($node, $local) = @_;
    my($k) = _kids($node, NS_T, $local);
    return $k ? $k->textContent : undef;
}

sub _address {
    my $node = shift;
    return undef unless $node;
    return _kid_text($node, 'EmailAddress') // '';
}

sub _response_el {
    my $r = shift;
    return undef unless $r->{doc} && ($r->{kind} // '') eq 'response';
    my($body) = _kids($r->{doc}->documentElement, NS_SOAP11, 'Body');
    my($op) = grep { $_->nodeType == XML::LibXML::XML_ELEMENT_NODE() } $body ? $body->childNodes : ();
    return $op;
}

# The results of a Find response (check_soap's hash): a list of
# {subject, sender, recipients => [...], submitted, id, previous_hop, first_hop}.
sub search_results {
    my $op = _response_el(shift) or return;
    my($list) = _kids($op, NS_M, 'MessageTrackingSearchResults');
    return map {
        my $res = $_;
        my($rcpts) = _kids($res, NS_T, 'Recipients');
        { subject => _kid_text($res, 'Subject'),
          sender => _address((_kids($res, NS_T, 'Sender'))[0]),
          recipients => [ map { _address($_) } _kids($rcpts, NS_T, 'Mailbox') ],
          submitted => _kid_text($res, 'SubmittedTime'),
          id => _kid_text($res, 'MessageTrackingReportId'),
          previous_hop => _kid_text($res, 'PreviousHopServer'),
          first_hop => _kid_text($res, 'FirstHopServer') }
    } _kids($list, NS_T, 'MessageTrackingSearchResult');
}

# The report of a Get response: {sender (undef when absent), subject,
# submit_time, original_recipients => [...], events => [{date, recipient,
# status, description, data => [...], server, internal_id, bcc, hidden (undef
# when absent), path, root}]}, or undef.
sub tracking_report {
    my $op = _response_el(shift) or return undef;
    my($rep) = _kids($op, NS_M, 'MessageTrackingReport') or return undef;
    my($orig) = _kids($rep, NS_T, 'OriginalRecipients');
    my($events) = _kids($rep, NS_T, 'RecipientTrackingEvents');
    my($sender) = _kids($rep, NS_T, 'Sender');
    return {
        sender => $sender ? _address($sender) : undef,
        subject => _kid_text($rep, 'Subject'),
        submit_time => _kid_text($rep, 'SubmitTime'),
        original_recipients => $orig ? [ map { _address($_) } _kids($orig, NS_T, 'Address') ] : undef,
        events => [ map {
            my $e = $_;
            my($data) = _kids($e, NS_T, 'EventData');
            { date => _kid_text($e, 'Date'),
              recipient => _address((_kids($e, NS_T, 'Recipient'))[0]),
              status => _kid_text($e, 'DeliveryStatus'),
              description => _kid_text($e, 'EventDescription'),
              data => [ map { $_->textContent } _kids($data, NS_T, 'String') ],
              server => _kid_text($e, 'Server'),
              internal_id => _kid_text($e, 'InternalId'),
              bcc => _kid_text($e, 'BccRecipient'),
              hidden => _kid_text($e, 'HiddenRecipient'),
              path => _kid_text($e, 'UniquePathId'),
              root => _kid_text($e, 'RootAddress') }
        } _kids($events, NS_T, 'RecipientTrackingEvent') ],
    };
}

# The Diagnostics strings of a response, or () when it has none.
sub diagnostic_strings {
    my $op = _response_el(shift) or return;
    my($d) = _kids($op, NS_M, 'Diagnostics') or return;
    return map { $_->textContent } _kids($d, NS_T, 'String');
}

# ------------------------------------------------------------------ error_log

sub _error_log { File::Spec->catfile(vars('t_logs'), 'error_log') }

sub error_log_size { -s _error_log() || 0 }

# The error_log text written since byte offset $from.
sub error_log_since {
    my $from = shift || 0;
    open my $fh, '<', _error_log() or return '';
    seek $fh, $from, 0;
    local $/;
    my $s = <$fh>;
    return $s // '';
}

# The `config:` lines (LogLevel msgtrack:trace2) of the requests that carried
# X-MsgTrack-Marker: $marker, parsed: a list of hashes (mailbox, privileged,
# max_results, search_days, read_tracking, max_body).
sub config_lines {
    my $marker = shift;
    my @found;
    open my $fh, '<', _error_log() or return;
    while (my $line = <$fh>) {
        next unless index($line, " config: ") >= 0 && $line =~ /, marker \Q$marker\E$/;
        if ($line =~ / config: mailbox=(\S+) privileged=(\d+) max_results=(\d+) search_days=(\d+) read_tracking=(\w+) max_body=(\d+)/) {
            push @found, { mailbox => $1, privileged => $2, max_results => $3,
                           search_days => $4, read_tracking => $5, max_body => $6 };
        }
        else {
            push @found, { unparsed => $line };
        }
    }
    return @found;
}

# ------------------------------------------------------------------ raw sockets

# A request head: raw_head(method => 'POST', path => ENDPOINT, scheme => 'http',
# user => 'alice' (undef: none), headers => [Name => value, ...]).
sub raw_head {
    my %a = (method => 'POST', path => ENDPOINT, scheme => 'http', user => 'alice', @_);
    my $head = "$a{method} $a{path} HTTP/1.1\r\nHost: " . hostport($a{scheme}) . "\r\n";
    $head .= 'Authorization: ' . auth_header($a{user}) . "\r\n" if defined $a{user};
    my @h = @{ $a{headers} || [] };
    while (my($k, $v) = splice @h, 0, 2) {
        $head .= "$k: $v\r\n";
    }
    return "$head\r\n";
}

# A connected socket to the server (TLS for https, verified against the test CA).
sub raw_connect {
    my $scheme = shift || 'http';
    my($host, $port) = split /:/, hostport($scheme);
    my $sock;
    if ($scheme eq 'https') {
        $sock = IO::Socket::SSL->new(
            PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 30,
            SSL_ca_file => ca_file(), SSL_hostname => $host,
            SSL_verifycn_name => $host, SSL_verifycn_scheme => 'http')
            or die "connect https 127.0.0.1:$port: $! $IO::Socket::SSL::SSL_ERROR\n";
    }
    else {
        $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                      Proto => 'tcp', Timeout => 30)
            or die "connect http 127.0.0.1:$port: $!\n";
    }
    $sock->autoflush(1);
    return $sock;
}

# Writes all of $data; false when the peer closed the connection.
sub raw_write {
    my($sock, $data) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my $off = 0;
    while ($off < length $data) {
        my $n = syswrite($sock, $data, length($data) - $off, $off);
        unless (defined $n) {
            next if $! == EINTR || $! == EAGAIN || $! == EWOULDBLOCK;
            return 0;
        }
        $off += $n;
    }
    return 1;
}

# Streams the pieces $next->() returns (undef: no more) for as long as the
# server has not started to answer and still takes data, giving it up to $pace
# seconds to answer before each piece. Returns the number of bytes sent, and
# whether the server answered before the pieces ran out.
sub raw_stream {
    my($sock, $pace, $next) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my $sent = 0;
    my $sel = IO::Select->new($sock);
    while (1) {
        return($sent, 1) if _readable($sock, $sent ? $pace : 0);
        my $piece = $next->();
        return($sent, 0) unless defined $piece;
        my $off = 0;
        while ($off < length $piece) {
            my($r, $w) = IO::Select->select($sel, $sel, undef, 30);
            return($sent, 1) if $r && @$r;
            return($sent, 0) unless $w && @$w;
            my $n = syswrite($sock, $piece, length($piece) - $off, $off);
            unless (defined $n) {
                next if $! == EINTR || $! == EAGAIN || $! == EWOULDBLOCK;
                return($sent, _readable($sock, 5));
            }
            $off += $n;
            $sent += $n;
        }
    }
}

sub _readable {
    my($sock, $timeout) = @_;
    return 1 if $sock->can('pending') && $sock->pending;
    return IO::Select->new($sock)->can_read($timeout) ? 1 : 0;
}

# Reads one response head (status line and headers) within $timeout seconds:
# returns (status, {lower-case name => value}, raw head) or () on timeout/EOF.
sub raw_read_head {
    my($sock, $timeout) = @_;
    $timeout //= 30;
    my $deadline = time + $timeout;
    my $buf = '';
    while ($buf !~ /\r?\n\r?\n\z/) {
        my $left = $deadline - time;
        return if $left <= 0 || !_readable($sock, $left);
        my $n = sysread $sock, my $c, 1;
        return unless $n;
        $buf .= $c;
    }
    my($status_line, @lines) = split /\r?\n/, $buf;
    my($status) = $status_line =~ m{^HTTP/1\.\d (\d{3})} or return;
    my %h;
    for (@lines) {
        my($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        $h{lc $k} = exists $h{lc $k} ? "$h{lc $k}, $v" : $v;
    }
    return($status, \%h, $buf);
}

# Reads the body that follows a head read by raw_read_head.
sub raw_read_body {
    my($sock, $h, $timeout) = @_;
    $timeout //= 30;
    my $deadline = time + $timeout;
    my $body = '';
    my $read = sub {
        my $want = shift;
        my $got = '';
        while (length $got < $want) {
            my $left = $deadline - time;
            last if $left <= 0 || !_readable($sock, $left);
            my $n = sysread $sock, my $c, $want - length $got;
            last unless $n;
            $got .= $c;
        }
        return $got;
    };
    my $line = sub {
        my $l = '';
        while ($l !~ /\n\z/) {
            my $c = $read->(1);
            last if $c eq '';
            $l .= $c;
        }
        return $l;
    };
    if (($h->{'transfer-encoding'} // '') =~ /chunked/i) {
        while (1) {
            my $size = $line->();
            last unless $size =~ /^([0-9a-fA-F]+)/;
            my $n = hex $1;
            if ($n == 0) {
                1 while $line->() =~ /\S/;
                last;
            }
            $body .= $read->($n);
            $line->();
        }
    }
    elsif (defined $h->{'content-length'}) {
        $body = $read->($h->{'content-length'});
    }
    else {
        while (1) {
            my $c = $read->(65536);
            last if $c eq '';
            $body .= $c;
        }
    }
    return $body;
}

# Sends raw request bytes on a fresh connection and returns the final response
# as an HTTP::Response (interim 1xx responses are skipped and counted in the
# X-Interim header). Options: scheme, timeout.
sub raw_request {
    my($data, %a) = @_;
    my $sock = raw_connect($a{scheme} || 'http');
    raw_write($sock, $data);
    my $interim = 0;
    while (1) {
        my($status, $h, $head) = raw_read_head($sock, $a{timeout});
        return HTTP::Response->new(599, 'no response') unless $status;
        if ($status =~ /^1/) {
            $interim++;
            next;
        }
        my $res = HTTP::Response->parse($head . raw_read_body($sock, $h, $a{timeout}));
        $res->header('X-Interim' => $interim);
        return $res;
    }
}

1;
