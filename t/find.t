# t/find.t: FindMessageTrackingReport against the index built from t/data
# (the stories of t/data/README, November 2026): each filter, the window
# (EndDateTime exclusive, the default window from MsgTrackSearchDays),
# newest first, the MsgTrackMaxResults cap, Domain, Scope, DiagnosticsLevel,
# the fields of a result. Every request names its dates, or goes to a
# location whose window cannot miss November 2026 for ten years (/EWS/wide),
# or anchors the default window at an EndDateTime: nothing depends on today.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use MsgTrack::Test;

my %NOV = (start => '2026-11-01T00:00:00Z', end => '2026-12-01T00:00:00Z');

# alice's messages of 20 November, newest first (t/data: postfix (a) (c) (d)
# (e) (i) and the Exchange 2016 log).
my @ALICE = ('Meeting notes; next steps', 'Supplier day: save the date',
             'Proposal for the joint workshop in January: agenda, venue and? travel arrangements',
             'Meeting notes, 19 November', 'Contract draft v3, comments from legal',
             'Q3 results, final figures', 'Q4 budget, "final" v2');

sub subjects { [ map { $_->{subject} } @_ ] }

# Runs a Find as $user (path /EWS unless given); returns (check_soap hash, results).
sub find_as {
    my($user, $name, %a) = @_;
    my $path = delete $a{path} // ENDPOINT;
    my $r = ask($user, find_req(%a), path => $path, name => $name);
    return($r, search_results($r));
}

plan tests => 89, need(need_lwp(), need_module(SERVER_MODULES));

# ------------------------------------------------------------------ filters, order
{
    my($r, @res) = find_as('alice', 'own messages', sender => 'alice@example.org', %NOV);
    is($r->{response_class}, 'Success', 'own messages: Success');
    is($r->{response_code}, 'NoError', 'own messages: NoError');
    is_deeply(subjects(@res), \@ALICE, 'own messages: all seven, newest first');
    my @times = map { $_->{submitted} } @res;
    is_deeply(\@times, [ sort { $b cmp $a } @times ], 'SubmittedTime descending');
    is(scalar(grep { $_->{sender} eq 'alice@example.org' } @res), 7, 'Sender on every result');
    is(scalar(grep { $_->{id} =~ /^Message-Id=<[^>]+>,Server=[^,]+,Internal-Id=\d+,Sender=alice\@example\.org,Domain=example\.org$/ } @res),
       7, 'every MessageTrackingReportId in Exchange\'s layout');
    my $x = $r->{doc}->getElementsByTagNameNS(NS_M, 'ExecutedSearchScope')->[0];
    is($x && $x->textContent, 'Organization', 'ExecutedSearchScope echoes the Scope');
}
{
    my(undef, @res) = find_as('alice', 'subject', sender => 'alice@example.org',
                              subject => 'MEETING NOTES', %NOV);
    is_deeply(subjects(@res), ['Meeting notes; next steps', 'Meeting notes, 19 November'],
              'Subject: a case-insensitive substring');
}
{
    my(undef, @res) = find_as('bob', 'subject with UTF-8', sender => 'paula@example.net',
                              recipient => 'bob@example.org', subject => "CAF\x{c3}\x{a9} MENU", %NOV);
    is_deeply(subjects(@res), ["Caf\x{e9} menu for Friday\x{2019}s offsite"],
              'Subject: UTF-8 text, ASCII letters in any case');
}
{
    my(undef, @res) = find_as('alice', 'recipient', sender => 'alice@example.org',
                              recipient => 'LEE@example.net', %NOV);
    is_deeply(subjects(@res), ['Meeting notes; next steps', 'Contract draft v3, comments from legal',
                               'Q4 budget, "final" v2'],
              'Recipient: any case, the Bcc recipient of Q4 budget too (alice sent it)');
}
{
    my(undef, @res) = find_as('alice', 'recipient through a group', sender => 'alice@example.org',
                              recipient => 'carol@example.org', %NOV);
    is_deeply(subjects(@res), ['Q3 results, final figures', 'Q4 budget, "final" v2'],
              'Recipient: reached directly, or through finance@ on the next Exchange server');
}
{
    my(undef, @res) = find_as('alice', 'message id', sender => 'alice@example.org',
                              message_id => 'e7d41b08-6c2a-4f95-8d3e-a0b9c4f1e272@example.org', %NOV);
    is(scalar @res, 1, 'MessageId without brackets: one result');
    my $f = $res[0] // {};
    is($f->{subject}, 'Meeting notes, 19 November', 'MessageId: the message');
    is_deeply($f->{recipients}, ['frank@example.com'], 'Recipients');
    is($f->{submitted}, '2026-11-20T09:24:06Z', 'SubmittedTime');
    is($f->{previous_hop}, 'ws-alice.example.org', 'PreviousHopServer: the submitting client\'s name');
    is($f->{first_hop}, 'mx1', 'FirstHopServer');
    like($f->{id} // '', qr/^Message-Id=<e7d41b08-6c2a-4f95-8d3e-a0b9c4f1e272\@example\.org>,Server=mx1,Internal-Id=\d+,/,
         'MessageTrackingReportId');
}
{
    my(undef, @res) = find_as('alice', 'message id with brackets', sender => 'alice@example.org',
                              message_id => '<3f9c2a1e7b4d4e0f9a8b5c6d@MBX01.corp.example.org>', %NOV);
    is_deeply(subjects(@res), ['Q4 budget, "final" v2'], 'MessageId with brackets');
    is($res[0] && $res[0]{first_hop}, 'mbx01.corp.example.org', 'FirstHopServer of an Exchange submission');
    ok($res[0] && !defined $res[0]{previous_hop}, 'no PreviousHopServer for a mailbox submission');
}
{
    my(undef, @res) = find_as('bob', 'previous hop over SMTP', sender => 'paula@example.net',
                              recipient => 'bob@example.org', %NOV);
    is($res[0] && $res[0]{previous_hop}, 'mail.example.net', 'PreviousHopServer of mail received over SMTP');
}
{
    my(undef, @res) = find_as('bob', 'FederatedDeliveryMailbox', sender => 'paula@example.net',
                              federated => 'bob@example.org', %NOV);
    is(scalar @res, 1, 'FederatedDeliveryMailbox names the recipient');
}
{
    my($r, @res) = find_as('alice', 'ignored elements', sender => 'alice@example.org',
                           purported => 'mallory@example.org', server_hint => 'mx9',
                           properties => [Color => 'blue'], %NOV);
    is($r->{response_code}, 'NoError', 'PurportedSender, ServerHint and Properties accepted');
    is(scalar @res, 7, '... and change nothing');
}

# ------------------------------------------------------------------ the window
{
    my(undef, @res) = find_as('alice', 'end exclusive', sender => 'alice@example.org',
                              start => '2026-11-20T09:15:03Z', end => '2026-11-20T09:24:06Z');
    is_deeply(subjects(@res), ['Contract draft v3, comments from legal', 'Q3 results, final figures'],
              'StartDateTime inclusive (09:15:03 in), EndDateTime exclusive (09:24:06 out)');
}
{
    my(undef, @res) = find_as('alice', 'time zones', sender => 'alice@example.org',
                              start => '2026-11-20T10:15:03+01:00', end => '2026-11-20T04:24:06.000001-05:00');
    is_deeply(subjects(@res), ['Meeting notes, 19 November', 'Contract draft v3, comments from legal',
                               'Q3 results, final figures'],
              'times with zones; a microsecond past 09:24:06 takes it in');
}
{
    my(undef, @res) = find_as('alice', 'default window, wide', path => '/EWS/wide/Exchange.asmx',
                              sender => 'alice@example.org');
    is_deeply(subjects(@res), \@ALICE,
              'no dates: MsgTrackSearchDays (3650 at /EWS/wide) back from now finds November 2026');
}
{
    my(undef, @res) = find_as('admin', 'default window, anchored, 1 day',
                              path => '/EWS/short/Exchange.asmx', end => '2026-11-20T00:00:00Z');
    is(scalar @res, 3, 'no StartDateTime: MsgTrackSearchDays (1) back from EndDateTime');
    is(scalar(grep { $_->{submitted} =~ /^2026-11-19T/ } @res), 3, '... the 19th only');
    my(undef, @day) = find_as('admin', 'default window, anchored, 1 day, the 20th',
                              path => '/EWS/short/Exchange.asmx', end => '2026-11-21T00:00:00Z');
    ok(@day > 10 && !grep({ $_->{submitted} !~ /^2026-11-20T/ } @day), '... the 20th only (' . scalar(@day) . ')');
    my(undef, @month) = find_as('admin', 'default window, anchored, 30 days',
                                end => '2026-11-21T00:00:00Z');
    is(scalar @month, @day + 3, 'the same end with 30 days (/EWS) takes in the 19th');
}
{
    my(undef, @res) = find_as('alice', 'start without end', sender => 'alice@example.org',
                              start => '2026-11-20T09:42:11Z');
    is_deeply(subjects(@res), [@ALICE[0, 1]], 'StartDateTime alone: no end');
}
{
    my($r, @res) = find_as('alice', 'start after end', sender => 'alice@example.org',
                           start => '2026-11-21T00:00:00Z', end => '2026-11-20T00:00:00Z');
    is($r->{response_code}, 'NoError', 'start after end: NoError ...');
    is(scalar @res, 0, '... and nothing');
}

# ------------------------------------------------------------------ the cap
{
    my(undef, @res) = find_as('alice', 'max results', path => '/EWS/few/Exchange.asmx',
                              sender => 'alice@example.org', %NOV);
    is_deeply(subjects(@res), [@ALICE[0 .. 2]], 'MsgTrackMaxResults 3: the three newest');
}

# ------------------------------------------------------------------ Domain, Scope
{
    my($r, @res) = find_as('alice', 'domain not served', domain => 'example.com',
                           sender => 'alice@example.org', %NOV);
    is($r->{response_class}, 'Error', 'a Domain not in MsgTrackDomains: Error');
    is($r->{response_code}, 'ErrorMessageTrackingNoSuchDomain', '... ErrorMessageTrackingNoSuchDomain');
    like($r->{message_text} // '', qr/example\.com/, '... naming the domain');
    is(scalar @res, 0, '... and no results');
    ($r, @res) = find_as('alice', 'domain in capitals', domain => 'EXAMPLE.ORG',
                         sender => 'alice@example.org', %NOV);
    is($r->{response_code}, 'NoError', 'the Domain in capitals is served');
    is(scalar @res, 7, '... with the results');
}
for my $scope (['Forest', 'Forest'], ['site', 'Site'], ['ORGANIZATION', 'Organization']) {
    my($r, @res) = find_as('alice', "scope $scope->[0]", scope => $scope->[0],
                           sender => 'alice@example.org', %NOV);
    my $x = $r->{doc} && $r->{doc}->getElementsByTagNameNS(NS_M, 'ExecutedSearchScope')->[0];
    is($x && $x->textContent, $scope->[1], "Scope $scope->[0]: ExecutedSearchScope $scope->[1]");
}
{
    my($r) = find_as('alice', 'unknown scope', scope => 'Galaxy', sender => 'alice@example.org', %NOV);
    is($r->{response_code}, 'ErrorInvalidArgument', 'an unknown Scope: ErrorInvalidArgument');
}

# ------------------------------------------------------------------ DiagnosticsLevel
{
    my($r) = find_as('alice', 'no diagnostics', sender => 'alice@example.org', %NOV);
    my @d = diagnostic_strings($r);
    is(scalar @d, 0, 'without DiagnosticsLevel: no Diagnostics');
    ($r) = find_as('alice', 'diagnostics None', sender => 'alice@example.org', diagnostics => 'None', %NOV);
    @d = diagnostic_strings($r);
    is(scalar @d, 0, 'DiagnosticsLevel None: no Diagnostics');
}
{
    my($r, @res) = find_as('alice', 'diagnostics', sender => 'alice@example.org',
                           diagnostics => 'Verbose', %NOV);
    my @d = diagnostic_strings($r);
    is(scalar @d, 4, 'DiagnosticsLevel: four strings');
    is($d[0], 'plan: sender index (alice@example.org), submitted from 2026-11-01T00:00:00Z '
            . 'to 2026-11-30T23:59:59.999999Z', 'the plan: the index, the value, the range');
    like($d[1] // '', qr/^rows scanned: (\d+) \(0 to choose the index, \1 by the scan\); hops read: \d+$/,
         'rows scanned');
    is($d[2], 'messages: 7 matched, 7 returned', 'messages');
    like($d[3] // '', qr/^milliseconds: \d+\.\d{3}$/, 'milliseconds');
    is(scalar @res, 7, 'diagnostics change no results');
}
{
    my($r) = find_as('bob', 'diagnostics, two indexes', sender => 'alice@example.org',
                     recipient => 'bob@example.org', diagnostics => 'Basic', %NOV);
    my @d = diagnostic_strings($r);
    like($d[0] // '', qr/^plan: (sender index \(alice\@example\.org\)|recipient index \(bob\@example\.org\)), /,
         'sender and recipient: one of their indexes');
    like($d[1] // '', qr/^rows scanned: \d+ \([1-9]\d* to choose the index, \d+ by the scan\)/,
         'the planner counted entries to choose');
}
{
    my($r) = find_as('admin', 'diagnostics, subject only', subject => 'invoice',
                     diagnostics => '1', %NOV);
    my @d = diagnostic_strings($r);
    like($d[0] // '', qr/^plan: time index, submitted from 2026-11-01T00:00:00Z /,
         'a subject alone: the time index, within the window');
}
{
    my($r) = find_as('alice', 'diagnostics, default window', path => '/EWS/short/Exchange.asmx',
                     sender => 'alice@example.org', end => '2026-11-21T00:00:00Z', diagnostics => 'Basic');
    my @d = diagnostic_strings($r);
    like($d[0] // '', qr/submitted from 2026-11-20T00:00:00Z to 2026-11-20T23:59:59\.999999Z$/,
         'the default window as searched');
}
