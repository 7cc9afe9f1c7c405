# t/e2e.t: the end-to-end test's second stage: what the module answers over
# the index that real daemons' logs built.
#
# t/e2e/run.py (the first stage, as root: scripts/test.sh runs it before the
# suites) ran Postfix, Dovecot and smtp-sink on loopback, sent and read mail,
# had `msgtrack-index follow` index the logs live, and asserted every
# recipient's state through msgtrack-index. It left in t/e2e/out the index
# (made by the user that runs this server), the logs, and run.json: what was
# sent and each message's report as msgtrack-index gives it (the help desk's
# view). The msgtrack_e2e virtual host serves that index (MsgTrackDatabase,
# read tracking on); this file asks it, through SOAP, as the sender alice,
# as the recipient bob and as the privileged admin, and holds the answers to
# run.json and to the visibility rules (DESIGN.md, "Semantics").
#
# Skips, saying why, when there was no run (not root, the daemons not
# installed: run.json says which). A run that failed fails here too, and so
# does a module that cannot read the index (every answer would be
# ErrorMessageTrackingTransientError).
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use JSON::PP ();
use XML::LibXML ();
use MsgTrack::Test;

my $OUT = vars('serverroot') . '/e2e/out';     # MsgTrackDatabase of msgtrack_e2e: $OUT/index
my $VHOST = 'msgtrack_e2e';

# ------------------------------------------------------------------ the run

my($run, $why_not);
if (open my $fh, '<:raw', "$OUT/run.json") {
    local $/;
    $run = eval { JSON::PP->new->utf8->decode(<$fh>) };
    $why_not = "t/e2e/out/run.json does not parse: $@" unless $run;
}
else {
    $why_not = 'no end-to-end run: t/e2e/out/run.json is missing (scripts/test.sh runs '
             . 't/e2e/run.py as root first; README, "End-to-end test")';
}
$why_not = "the end-to-end run was skipped: $run->{reason}"
    if $run && $run->{result} eq 'skip';

my %M = $run && $run->{messages} ? %{ $run->{messages} } : ();
my %W = $run ? (start => $run->{start}, end => $run->{end}) : ();

# ------------------------------------------------------------------ requests

sub url {
    my $cfg = Apache::Test::config();
    my $v = $cfg->{vhosts}->{$VHOST} or die "no $VHOST virtual host in the test configuration\n";
    return "http://$cfg->{vars}->{servername}:$v->{port}" . ENDPOINT;
}

sub email { my($el, $a) = @_; "<m:$el><t:EmailAddress>" . xml_escape($a) . "</t:EmailAddress></m:$el>" }

sub find_xml {
    my %a = @_;
    return sprintf('<m:FindMessageTrackingReport xmlns:m="%s" xmlns:t="%s">', NS_M, NS_T)
        . '<m:Scope>Organization</m:Scope><m:Domain>example.org</m:Domain>'
        . (defined $a{sender} ? email(Sender => $a{sender}) : '')
        . (defined $a{recipient} ? email(Recipient => $a{recipient}) : '')
        . "<m:StartDateTime>$W{start}</m:StartDateTime><m:EndDateTime>$W{end}</m:EndDateTime>"
        . '</m:FindMessageTrackingReport>';
}

sub get_xml {
    my %a = @_;
    return sprintf('<m:GetMessageTrackingReport xmlns:m="%s" xmlns:t="%s">', NS_M, NS_T)
        . '<m:Scope>Organization</m:Scope>'
        . '<m:ReportTemplate>' . ($a{recipient} ? 'RecipientPath' : 'Summary') . '</m:ReportTemplate>'
        . '<m:MessageTrackingReportId>' . xml_escape($a{id}) . '</m:MessageTrackingReportId>'
        . ($a{recipient} ? email(RecipientFilter => $a{recipient}) : '')
        . ($a{queue} ? '<m:ReturnQueueEvents>true</m:ReturnQueueEvents>' : '')
        . '</m:GetMessageTrackingReport>';
}

sub post {
    my($user, $op) = @_;
    return soap_post(user => $user, url => url(), body => soap_envelope(body => $op));
}

# call($user, $op, $name): one test (check_soap); returns its hash.
sub call { my($user, $op, $name) = @_; check_soap(post($user, $op), $name) }

# ------------------------------------------------------------------ reading answers

sub xpc {
    my $doc = shift;
    my $x = XML::LibXML::XPathContext->new($doc);
    $x->registerNs(s => NS_SOAP11);
    $x->registerNs(m => NS_M);
    $x->registerNs(t => NS_T);
    return $x;
}

# The value of one field of a report id ("Message-Id=<...>,Server=...").
sub id_field {
    my($id, $key) = @_;
    for (split /,/, $id // '') {
        my($k, $v) = split /=/, $_, 2;
        next unless defined $v && lc $k eq lc $key;
        $v =~ s/\+([0-9A-Fa-f]{2})/chr hex $1/ge;
        return $v;
    }
    return undef;
}

# Find results: [{id, message_id, sender, subject, recipients => [...]}].
sub results {
    my $r = shift;
    return [] unless $r->{doc};
    my $x = xpc($r->{doc});
    return [ map {
        my $n = $_;
        my $id = $x->findvalue('t:MessageTrackingReportId', $n);
        { id => $id, message_id => id_field($id, 'Message-Id') // '',
          sender => $x->findvalue('t:Sender/t:EmailAddress', $n),
          subject => $x->findvalue('t:Subject', $n),
          recipients => [ map { $_->textContent } $x->findnodes('t:Recipients/t:Mailbox/t:EmailAddress', $n) ] }
    } $x->findnodes('/s:Envelope/s:Body/m:FindMessageTrackingReportResponse/m:MessageTrackingSearchResults/t:MessageTrackingSearchResult') ];
}

# A Get's events: [{recipient, status, description, data => [...], bcc, hidden, root}].
sub events {
    my $r = shift;
    return [] unless $r->{doc};
    my $x = xpc($r->{doc});
    return [ map {
        my $n = $_;
        my $opt = sub { my($p) = @_; my($e) = $x->findnodes($p, $n); $e ? $e->textContent : undef };
        { recipient => $x->findvalue('t:Recipient/t:EmailAddress', $n),
          status => $x->findvalue('t:DeliveryStatus', $n),
          description => $x->findvalue('t:EventDescription', $n),
          data => [ map { $_->textContent } $x->findnodes('t:EventData/t:String', $n) ],
          bcc => $opt->('t:BccRecipient'), hidden => $opt->('t:HiddenRecipient'),
          root => $opt->('t:RootAddress') }
    } $x->findnodes('/s:Envelope/s:Body/m:GetMessageTrackingReportResponse/m:MessageTrackingReport/t:RecipientTrackingEvents/t:RecipientTrackingEvent') ];
}

# The EventData string that names the NDR of message $tag.
sub ndr_data {
    my $mid = $M{ $_[0] }{ndr}{message_id} // 'no NDR in run.json';
    $mid =~ s/^<|>$//g;
    return qr/^non-delivery notification <\Q$mid\E> to alice\@example\.org$/;
}

sub body_of { my $r = shift; $r->{doc} ? $r->{doc}->toString : '' }

# "recipient status/description" for each event: of a SOAP answer, or of
# msgtrack-index's JSON events.
sub states { [ map { "$_->{recipient} $_->{status}/$_->{description}" } @{ $_[0] } ] }
sub cli_states {
    my($events, $keep) = @_;
    return [ map { "$_->{recipient} $_->{delivery_status}/$_->{event_description}" }
             grep { $keep ? $keep->($_) : 1 } @{ $events || [] } ];
}
sub cli_descriptions {
    my($events, $keep) = @_;
    return [ map { $_->{event_description} } grep { $keep ? $keep->($_) : 1 } @{ $events || [] } ];
}

if (!$why_not && $run->{result} ne 'pass') {
    plan tests => 1;
    fail("the end-to-end run passed: it says $run->{result}: " . ($run->{reason} // '?')
         . ' (t/e2e/out/run.log)');
    exit;
}

my $SENDER_TAGS = [qw(m1 m3 m4 m5 m6 m7)];
plan tests => 58, need(need_lwp(), need_module(SERVER_MODULES),
                       $why_not ? { $why_not => sub { 0 } } : ());

my @ndr_mids = map { $M{$_}{ndr}{message_id} } qw(m4 m7);
my %by_mid = map { ($M{$_}{message_id} // '') => $_ } keys %M;     # m6 has none: ''

# ------------------------------------------------------------------ the sender: alice
my %id;      # tag -> report id, as the module's Find gave it
{
    my $r = call('alice', find_xml(sender => 'alice@example.org'), 'alice: Find Sender alice');
    is($r->{response_code}, 'NoError', 'alice: Find Sender alice: NoError');
    my $res = results($r);
    is_deeply([ sort map { $_->{message_id} } @$res ],
              [ sort map { $M{$_}{message_id} // '' } @$SENDER_TAGS ],
              'alice finds her six messages (m6, refused at RCPT, without a Message-ID)');
    for my $x (@$res) {
        my $tag = $by_mid{ $x->{message_id} } or next;
        $id{$tag} = $x->{id};
    }
    my($m1) = grep { $_->{message_id} eq $M{m1}{message_id} } @$res;
    is_deeply($m1 && $m1->{recipients}, $M{m1}{recipients},
              'alice sees every recipient of m1, the Bcc one (dave) too');
}
for my $tag (@$SENDER_TAGS) {
    my $r = call('alice', get_xml(id => $id{$tag} // 'Message-Id=<missing>'), "alice: Get $tag");
    is_deeply(states(events($r)), cli_states($M{$tag}{summary}{events}),
              "alice: $tag Summary as msgtrack-index reported it");
}
{
    my $ev = events(call('alice', get_xml(id => $id{m1} // ''), 'alice: Get m1 again'));
    is_deeply([ map { "$_->{recipient} " . ($_->{bcc} // 'absent') } @$ev ],
              ['bob@example.org false', 'carol@example.org false', 'dave@example.org true'],
              'alice: dave flagged BccRecipient, bob and carol not');
    ok(!grep({ ($_->{hidden} // 'false') eq 'true' } @$ev), 'alice: no HiddenRecipient');
}
{
    my $ev = events(call('alice', get_xml(id => $id{m5} // '', recipient => 'frank@example.com'),
                        'alice: RecipientPath m5 frank'));
    is_deeply([ map { $_->{description} } @$ev ],
              cli_descriptions($M{m5}{paths}{'frank@example.com'}{events}, sub { !$_[0]{queue_event} }),
              'alice: m5 path to frank without the queue events (the deferral)');
}
{
    my $ev = events(call('alice', get_xml(id => $id{m4} // '', recipient => 'nobody@example.net'),
                        'alice: RecipientPath m4 nobody'));
    my $last = $ev->[-1] || {};
    ok(($last->{status} // '') eq 'Unsuccessful' && ($last->{description} // '') eq 'FailedGeneral'
       && ($last->{data}[0] // '') eq '5.1.1' && ($last->{data}[1] // '') =~ /550 5\.1\.1/,
       'alice: m4 to nobody: Unsuccessful, FailedGeneral, 5.1.1 and the remote reply');
    like($last->{data}[2] // '', ndr_data('m4'), 'alice: m4 to nobody: and the NDR sent back to her');
}
{
    my $ev = events(call('alice', get_xml(id => $id{m7} // '', recipient => 'ghost@example.org'),
                        'alice: RecipientPath m7 ghost'));
    my $last = $ev->[-1] || {};
    ok(($last->{status} // '') eq 'Unsuccessful' && ($last->{data}[0] // '') eq '5.1.1'
       && ($last->{data}[2] // '') =~ ndr_data('m7'),
       'alice: m7 to ghost (refused by LMTP): Unsuccessful, 5.1.1, and the NDR sent back to her');
}

# ------------------------------------------------------------------ a recipient: bob
{
    my $r = call('bob', find_xml(sender => 'alice@example.org', recipient => 'bob@example.org'),
                'bob: Find Sender alice, Recipient bob');
    is($r->{response_code}, 'NoError', 'bob: Find Sender alice, Recipient bob: NoError');
    my $res = results($r);
    is_deeply([ map { $_->{message_id} } @$res ], [ $M{m1}{message_id} ], 'bob finds m1 only');
    is_deeply([ map { @{ $_->{recipients} } } @$res ], ['bob@example.org'],
              'bob sees only himself among m1\'s recipients');
    unlike(body_of($r), qr/carol\@|dave\@/, 'bob: neither carol nor the Bcc recipient in the answer');
    my $ev = events(call('bob', get_xml(id => $res->[0] ? $res->[0]{id} : ''), 'bob: Get m1'));
    is_deeply(states($ev), cli_states($M{m1}{summary}{events}, sub { $_[0]{recipient} eq 'bob@example.org' }),
              'bob: m1 Summary holds his own event only (Read)');
}
{
    my $r = call('bob', find_xml(sender => 'paula@example.net', recipient => 'bob@example.org'),
                'bob: Find Sender paula, Recipient bob');
    my $res = results($r);
    is_deeply([ map { $_->{message_id} } @$res ], [ $M{m2}{message_id} ], 'bob finds m2 (sent to team@)');
    unlike(body_of($r), qr/erin\@/, 'bob: erin is not in the answer');
    my $g = call('bob', get_xml(id => $res->[0] ? $res->[0]{id} : ''), 'bob: Get m2');
    is_deeply(states(events($g)), cli_states($M{m2}{summary}{events}, sub { $_[0]{recipient} eq 'bob@example.org' }),
              'bob: m2 Summary holds his own event only');
    unlike(body_of($g), qr/erin\@/, 'bob: erin is not in m2\'s report');
}
{
    my $r = call('bob', find_xml(sender => 'alice@example.org'), 'bob: Find Sender alice');
    is($r->{response_code}, 'ErrorAccessDenied', 'bob: Find Sender alice without Recipient bob: ErrorAccessDenied');
    $r = call('bob', get_xml(id => $id{m3} // ''), 'bob: Get m3');
    is($r->{response_code}, 'ErrorAccessDenied', 'bob: Get of m3 (alice to lee): ErrorAccessDenied');
}

# ------------------------------------------------------------------ the help desk: admin
my %aid;
{
    my $r = call('admin', find_xml(), 'admin: Find everything');
    is($r->{response_code}, 'NoError', 'admin: Find without a Sender: NoError');
    my $res = results($r);
    is_deeply([ sort map { $_->{message_id} } @$res ],
              [ sort((map { $_->{message_id} // '' } values %M), @ndr_mids) ],
              'admin finds every message of the run, the two NDRs included');
    for my $x (@$res) {
        my $tag = $by_mid{ $x->{message_id} } or next;
        $aid{$tag} = $x->{id};
    }
    my @ndr = grep { my $m = $_->{message_id}; grep { $_ eq $m } @ndr_mids } @$res;
    is_deeply([ map { "$_->{sender} @{ $_->{recipients} }" } @ndr ], [ (' alice@example.org') x 2 ],
              'admin: the NDRs go from <> to alice');
}
for my $tag (qw(m1 m2 m5)) {
    my $r = call('admin', get_xml(id => $aid{$tag} // ''), "admin: Get $tag");
    is_deeply(states(events($r)), cli_states($M{$tag}{summary}{events}),
              "admin: $tag Summary as msgtrack-index reported it");
}
{
    my $ev = events(call('admin', get_xml(id => $aid{m2} // ''), 'admin: Get m2 again'));
    my($erin) = grep { $_->{recipient} eq 'erin@example.org' } @$ev;
    is_deeply($erin && [ $erin->{description}, $erin->{data}, $erin->{root} ],
              ['MovedToFolderByInboxRule', ['Lists'], 'team@example.org'],
              'admin: erin\'s copy of m2 filed into Lists by her Sieve script, through team@');
}
{
    my $ev = events(call('admin', get_xml(id => $aid{m5} // '', recipient => 'frank@example.com', queue => 1),
                        'admin: RecipientPath m5 frank with queue events'));
    is_deeply([ map { $_->{description} } @$ev ],
              cli_descriptions($M{m5}{paths}{'frank@example.com'}{events}),
              'admin: m5 path to frank with the deferral, as msgtrack-index reported it');
    my($defer) = grep { $_->{description} eq 'MessageDefer' } @$ev;
    ok($defer && $defer->{status} eq 'Pending' && ($defer->{data}[0] // '') eq '4.7.1',
       'admin: the deferral is Pending with 4.7.1');
}
