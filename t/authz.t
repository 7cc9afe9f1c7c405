# t/authz.t: who may track what, with the test users alice and bob and the
# privileged admin (MsgTrackPrivileged at /EWS), over the index built from
# t/data. Identity comes from httpd only (MsgTrackMailbox), never from the
# SOAP body.
#
# Find: a user must name itself as Sender (any recipients), or name a Sender
# and itself as Recipient; anything else is ErrorAccessDenied. A recipient
# sees only itself among a result's recipients.
# Get: a user may read reports of messages it sent or received; a recipient
# sees only its own events (never other recipients, never Bcc ones); the
# sender sees Bcc recipients, flagged; HiddenRecipient and queue events are
# for privileged callers only. Report ids are never trusted: crafted ids for
# another user's message get ErrorAccessDenied, ids that do not describe
# their hop ErrorMessageTrackingPermanentError.
# No identity (no authentication, or MsgTrackMailbox gives nothing): denied.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use MsgTrack::Test;

my %NOV = (start => '2026-11-01T00:00:00Z', end => '2026-12-01T00:00:00Z');
my %MID = (
    a  => '<0b6e3c1a-5f2d-4c8e-9a71-3d2f8e6b4c10@example.org>',     # alice: bob, carol, dave (Bcc)
    b  => '<1f6a9d2e-83c4-4b57-a0e1-6c9d3b2f7e45@mail.example.net>', # paula to team@ (bob, erin)
    d  => '<e7d41b08-6c2a-4f95-8d3e-a0b9c4f1e272@example.org>',     # alice to frank: deferred
    e  => '<93c0f5e6-2b7d-4a18-9e4f-7d6c1a0b8e59@example.org>',     # alice to nobody@example.net
    q4 => '<3f9c2a1e7b4d4e0f9a8b5c6d@MBX01.corp.example.org>',      # alice: bob.jones, finance, lee (Bcc)
);
my $OPEN = '/EWS-open/Exchange.asmx';
my $UNMAPPED = '/EWS/unmapped/Exchange.asmx';

sub find_as {
    my($user, $name, %a) = @_;
    my $path = delete $a{path} // ENDPOINT;
    my $r = ask($user, find_req(%NOV, %a), path => $path, name => $name);
    return($r, search_results($r));
}

sub get_as {
    my($user, $name, %a) = @_;
    my $path = delete $a{path} // ENDPOINT;
    my $r = ask($user, get_op(%a), path => $path, name => $name);
    return($r, tracking_report($r));
}

sub col { my($rep, $k) = @_; [ map { $_->{$k} } @{ $rep ? $rep->{events} : [] } ] }
sub body_of { my $r = shift; $r->{doc} ? $r->{doc}->toString : '' }

plan tests => 117, need(need_lwp(), need_module(SERVER_MODULES));

# The admin finds every report id (the users' own Finds are tested below).
my %id;
for my $k (sort keys %MID) {
    my(undef, @res) = find_as('admin', "admin finds $k", message_id => $MID{$k});
    $id{$k} = @res == 1 ? $res[0]{id} : undef;
}
is(scalar(grep { defined } values %id), 5, 'the admin finds every message');

# ------------------------------------------------------------------ Find
{
    my($r, @res) = find_as('alice', 'alice: her own', sender => 'alice@example.org');
    is($r->{response_code}, 'NoError', 'alice, Sender alice: NoError');
    is(scalar @res, 7, 'alice, Sender alice: her seven messages');
    my($a) = grep { $_->{subject} eq 'Q3 results, final figures' } @res;
    is_deeply($a && $a->{recipients}, [qw(bob@example.org carol@example.org dave@example.org)],
              'alice sees every recipient of her message, Bcc too');
}
{
    my($r, @res) = find_as('alice', 'alice: her own to bob', sender => 'alice@example.org',
                           recipient => 'bob@example.org');
    is_deeply([ map { $_->{subject} } @res ], ['Q3 results, final figures', 'Q4 budget, "final" v2'],
              'alice, Sender alice, Recipient bob: also through bob.jones@');
}
{
    my($r, @res) = find_as('bob', 'bob: sent to him by alice', sender => 'alice@example.org',
                           recipient => 'bob@example.org');
    is($r->{response_code}, 'NoError', 'bob, Sender alice, Recipient bob: NoError');
    is_deeply([ map { $_->{subject} } @res ], ['Q3 results, final figures', 'Q4 budget, "final" v2'],
              'bob finds what alice sent him');
    is_deeply([ map { @{ $_->{recipients} } } @res ], [qw(bob@example.org bob@example.org)],
              'bob sees only himself among the recipients (not carol, not Bcc dave)');
    unlike(body_of($r), qr/dave\@|carol\@|lee\@|finance\@/, 'no other recipient anywhere in the answer');
}
{
    my(undef, @res) = find_as('bob', 'bob: his own', sender => 'Bob@Example.org');
    is_deeply([ map { $_->{subject} } @res ], ['Handover notes, part 2'], 'bob, Sender bob (any case)');
}
for my $c (['Sender alice only', sender => 'alice@example.org'],
           ['Recipient bob only', recipient => 'bob@example.org'],
           ['Sender alice, Recipient carol', sender => 'alice@example.org', recipient => 'carol@example.org'],
           ['MessageId of alice\'s message only', message_id => $MID{a}],
           ['a Subject only', subject => 'Q3'],
           ['nothing named']) {
    my($name, %a) = @$c;
    my($r, @res) = find_as('bob', "bob: $name", %a);
    is($r->{response_code}, 'ErrorAccessDenied', "bob, $name: ErrorAccessDenied");
    is(scalar @res, 0, "bob, $name: no results");
}
{
    my($r) = find_as('bob', 'bob: the rule explained', sender => 'alice@example.org');
    is($r->{message_text}, 'bob@example.org may search for messages it sent (Sender bob@example.org) '
       . 'or for messages sent to it by a named sender (a Sender, and Recipient bob@example.org)',
       'the MessageText says what is allowed');
}
{
    my($r, @res) = find_as('alice', 'alice: paula sent her nothing', sender => 'paula@example.net',
                           recipient => 'alice@example.org');
    is($r->{response_code}, 'NoError', 'alice, Sender paula, Recipient alice: allowed');
    is(scalar @res, 0, '... and nothing: paula wrote to team@, not alice');
}
{
    my($r, @res) = find_as('admin', 'admin: recipient only', recipient => 'bob@example.org');
    is($r->{response_code}, 'NoError', 'admin, Recipient bob only: allowed');
    is(scalar @res, 6, 'admin: every message to bob');
    my($a) = grep { $_->{subject} eq 'Q3 results, final figures' } @res;
    is_deeply($a && $a->{recipients}, [qw(bob@example.org carol@example.org dave@example.org)],
              'admin sees every recipient');
}
{
    my($r, @res) = find_as('admin', 'admin: nothing named');
    ok($r->{response_code} eq 'NoError' && @res > 20, 'admin, nothing named: the whole window');
}
{
    my($r) = find_as(undef, 'no authentication', path => $OPEN, sender => 'alice@example.org');
    is($r->{response_code}, 'ErrorAccessDenied', 'no authentication: ErrorAccessDenied');
    is($r->{message_text}, 'the caller has no mailbox to search messages for', '... no mailbox');
    ($r) = find_as('alice', 'MsgTrackMailbox gives nothing', path => $UNMAPPED, sender => 'alice@example.org');
    is($r->{response_code}, 'ErrorAccessDenied', 'authenticated, but no mailbox: ErrorAccessDenied');
    ($r) = find_as('admin', 'privileged, no mailbox', path => $UNMAPPED, sender => 'alice@example.org');
    is($r->{response_code}, 'NoError', 'privileged without a mailbox: the help desk view still works');
}

# ------------------------------------------------------------------ Get: sender, recipient
{
    my($r, $rep) = get_as('alice', 'alice: her message', id => $id{a});
    is($r->{response_code}, 'NoError', 'alice reads her report');
    is_deeply(col($rep, 'recipient'), [qw(bob@example.org carol@example.org dave@example.org)],
              'alice: every recipient');
    is_deeply(col($rep, 'bcc'), [qw(false false true)], 'alice: dave flagged BccRecipient');
    is_deeply(col($rep, 'hidden'), [undef, undef, undef], 'alice: no HiddenRecipient');
}
{
    my($r, $rep) = get_as('bob', 'bob: a message to him', id => $id{a});
    is($r->{response_code}, 'NoError', 'bob reads the report of a message to him');
    is_deeply(col($rep, 'recipient'), ['bob@example.org'], 'bob: only his own events');
    is_deeply($rep->{original_recipients}, ['bob@example.org'], 'bob: only himself in OriginalRecipients');
    unlike(body_of($r), qr/dave\@|carol\@/, 'bob: neither carol nor the Bcc recipient anywhere');
}
{
    my($r, $rep) = get_as('bob', 'bob: read tracking, his own', path => '/EWS/read/Exchange.asmx',
                          id => $id{a});
    is_deeply(col($rep, 'description'), ['Read'], 'bob, read tracking on: his Read, not carol\'s NotRead');
}
for my $who (qw(dave carol)) {
    my($r, $rep) = get_as('bob', "bob: $who\'s path", id => $id{a}, template => 'RecipientPath',
                          recipient => "$who\@example.org");
    is($r->{response_code}, 'NoError', "bob asks for $who\'s path: NoError ...");
    is($rep->{submit_time}, '0001-01-01T00:00:00', '... the normative empty report');
    is(scalar @{ $rep->{events} }, 0, '... no events');
    unlike(body_of($r), qr/\Q$who\E\@/, "... $who is not named");
}
{
    my($r, $rep) = get_as('bob', 'bob: Exchange, Bcc lee', id => $id{q4});
    is_deeply(col($rep, 'recipient'), ['bob@example.org'], 'bob on Q4 budget: only himself');
    is_deeply(col($rep, 'root'), ['bob.jones@example.org'], '... through bob.jones@');
    unlike(body_of($r), qr/lee\@|carol\@|erin\@|finance\@/, '... no Bcc lee, no finance@ members');
}
{
    my($r, $rep) = get_as('bob', 'bob: through an alias', id => $id{b});
    is_deeply(col($rep, 'recipient'), ['bob@example.org'], 'bob on paula\'s message to team@: himself');
    unlike(body_of($r), qr/erin\@/, '... not erin');
    ($r, $rep) = get_as('admin', 'admin: the same message', id => $id{b});
    is_deeply(col($rep, 'recipient'), [qw(bob@example.org erin@example.org)], 'admin: both members');
    is_deeply(col($rep, 'hidden'), [qw(false false)], 'admin: HiddenRecipient written');
}

# ------------------------------------------------------------------ Get: not yours, crafted ids
{
    my($r) = get_as('alice', 'alice: paula\'s message to team@', id => $id{b});
    is($r->{response_code}, 'ErrorAccessDenied', 'alice with the id of a message she neither sent nor got: denied');
    is($r->{message_text}, 'the caller neither sent nor received this message', '... saying why');
    is(scalar @{ (tracking_report($r) // { events => [] })->{events} }, 0, '... nothing of it');
}
{
    my($r) = get_as('bob', 'bob: alice\'s bounce', id => $id{e});
    is($r->{response_code}, 'ErrorAccessDenied', 'bob with the id of alice\'s message to someone else: denied');
    ($r) = get_as('bob', 'bob: alice\'s bounce, path', id => $id{e}, template => 'RecipientPath',
                  recipient => 'nobody@example.net');
    is($r->{response_code}, 'ErrorAccessDenied', '... its RecipientPath too');
    unlike(body_of($r), qr/Supplier day|nobody\@/, '... nothing of it is told');
}
{
    (my $forged = $id{b} // '') =~ s/,Sender=[^,]*,Domain=[^,]*$/,Sender=alice\@example.org,Domain=example.org/;
    my($r) = get_as('alice', 'crafted: alice as the sender', id => $forged);
    is($r->{response_code}, 'ErrorMessageTrackingPermanentError',
       'paula\'s message with Sender=alice in the id: no such message');
    my($key_a) = ($id{a} // '') =~ /,Internal-Id=(\d+),/;
    ($forged = $id{b} // '') =~ s/,Internal-Id=\d+,/,Internal-Id=$key_a,/;
    ($r) = get_as('alice', 'crafted: another message\'s hop', id => $forged);
    is($r->{response_code}, 'ErrorMessageTrackingPermanentError',
       'paula\'s Message-Id on the hop of alice\'s message: no such message');
    ($forged = $id{a} // '') =~ s/^Message-Id=<[^>]*>/Message-Id=$MID{b}/;
    ($r) = get_as('bob', 'crafted: bob mixes two ids', id => $forged);
    is($r->{response_code}, 'ErrorMessageTrackingPermanentError', 'a Message-Id from one id, the rest from another');
    ($forged = $id{a} // '') =~ s/,Server=mx1,/,Server=mx2,/;
    ($r) = get_as('alice', 'crafted: another server', id => $forged);
    is($r->{response_code}, 'ErrorMessageTrackingPermanentError', 'the wrong Server');
    ($r) = get_as('alice', 'crafted: escaped', id => ($id{a} // '') =~ s/\@/+40/r);
    is($r->{response_code}, 'NoError', 'an id with escapes a client added still names the same message');
}

# ------------------------------------------------------------------ Get: queue events, no identity
{
    my(undef, $rep) = get_as('admin', 'admin: queue events', id => $id{d}, template => 'RecipientPath',
                             recipient => 'frank@example.com', queue => 'true');
    is(scalar(grep { $_ eq 'MessageDefer' } @{ col($rep, 'description') }), 2, 'admin: queue events');
    (undef, $rep) = get_as('alice', 'alice: queue events', id => $id{d}, template => 'RecipientPath',
                           recipient => 'frank@example.com', queue => 'true');
    is(scalar(grep { $_ eq 'MessageDefer' } @{ col($rep, 'description') }), 0,
       'alice, the sender, asking for queue events: none');
    is(scalar @{ col($rep, 'description') }, 2, '... the rest of the path');
}
{
    my($r) = get_as(undef, 'no authentication', path => $OPEN, id => $id{a});
    is($r->{response_code}, 'ErrorAccessDenied', 'Get without authentication: ErrorAccessDenied');
    ($r) = get_as('alice', 'no mailbox', path => $UNMAPPED, id => $id{a});
    is($r->{response_code}, 'ErrorAccessDenied', 'Get without a mailbox: ErrorAccessDenied');
    ($r) = get_as(undef, 'no authentication, garbage id', path => $OPEN, id => 'garbage');
    is($r->{response_code}, 'ErrorAccessDenied', 'no identity is refused before the id is read');
}
