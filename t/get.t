# t/get.t: GetMessageTrackingReport against the index built from t/data:
# Summary (one event per recipient, its current status), RecipientPath (the
# whole history across hops and servers, the NDR of a failed delivery), the
# normative empty report, ReturnQueueEvents, MsgTrackReadTracking On and Off,
# the fields filled from the index, errors. Report ids come from Find: each
# test also checks that Find's ids work in Get.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use MsgTrack::Test;

my %NOV = (start => '2026-11-01T00:00:00Z', end => '2026-12-01T00:00:00Z');
my $READ = '/EWS/read/Exchange.asmx';

# The report id Find gives $user for the message with $msgid.
sub id_of {
    my($user, $msgid, %a) = @_;
    my $r = ask($user, find_req(message_id => $msgid, %NOV, %a), name => "find $msgid");
    my @res = search_results($r);
    return @res == 1 ? $res[0]{id} : undef;
}

# Get as $user: (check_soap hash, report).
sub get_as {
    my($user, $name, %a) = @_;
    my $path = delete $a{path} // ENDPOINT;
    my $r = ask($user, get_op(%a), path => $path, name => $name);
    return($r, tracking_report($r));
}

sub col { my($rep, $k) = @_; [ map { $_->{$k} } @{ $rep ? $rep->{events} : [] } ] }

my %MID = (
    a  => '<0b6e3c1a-5f2d-4c8e-9a71-3d2f8e6b4c10@example.org>',     # alice: bob, carol, dave (Bcc)
    b  => '<1f6a9d2e-83c4-4b57-a0e1-6c9d3b2f7e45@mail.example.net>', # paula to team@ (bob, erin)
    d  => '<e7d41b08-6c2a-4f95-8d3e-a0b9c4f1e272@example.org>',     # alice to frank: deferred, sent
    e  => '<93c0f5e6-2b7d-4a18-9e4f-7d6c1a0b8e59@example.org>',     # alice to nobody: bounced, NDR
    i  => '<c2b8e4f1-7a3d-4e6c-9b05-8f1d2a6e3c97@example.org>',     # alice to greg: expired, NDR
    q4 => '<3f9c2a1e7b4d4e0f9a8b5c6d@MBX01.corp.example.org>',      # Exchange: bob.jones, finance, lee (Bcc)
);

plan tests => 88, need(need_lwp(), need_module(SERVER_MODULES));

my %id = (
    a  => id_of('alice', $MID{a}, sender => 'alice@example.org'),
    b  => id_of('bob', $MID{b}, sender => 'paula@example.net', recipient => 'bob@example.org'),
    d  => id_of('alice', $MID{d}, sender => 'alice@example.org'),
    e  => id_of('alice', $MID{e}, sender => 'alice@example.org'),
    i  => id_of('alice', $MID{i}, sender => 'alice@example.org'),
    q4 => id_of('alice', $MID{q4}, sender => 'alice@example.org'),
);
is(scalar(grep { defined } values %id), 6, 'Find gave a report id for each message');

# ------------------------------------------------------------------ Summary
{
    my($r, $rep) = get_as('alice', 'summary', id => $id{a});
    is($r->{response_class}, 'Success', 'summary: Success');
    is($r->{response_code}, 'NoError', 'summary: NoError');
    is($rep->{sender}, 'alice@example.org', 'Sender');
    is($rep->{subject}, 'Q3 results, final figures', 'Subject');
    is($rep->{submit_time}, '2026-11-20T09:15:03Z', 'SubmitTime');
    is_deeply($rep->{original_recipients}, [qw(bob@example.org carol@example.org dave@example.org)],
              'OriginalRecipients');
    is_deeply(col($rep, 'recipient'), [qw(bob@example.org carol@example.org dave@example.org)],
              'one event per recipient');
    is_deeply(col($rep, 'status'), [qw(Delivered Delivered Delivered)],
              'their current DeliveryStatus (read tracking off at /EWS)');
    is_deeply(col($rep, 'bcc'), [qw(false false true)], 'the sender sees the Bcc recipient, flagged');
    is_deeply(col($rep, 'server'), [qw(mx1 mx1 mx1)], 'Server');
    my($internal) = ($id{a} // '') =~ /,Internal-Id=(\d+),/;
    is_deeply(col($rep, 'internal_id'), [($internal) x 3],
              'InternalId: the hop, as Internal-Id in the report id');
    is_deeply(col($rep, 'path'), [qw(bob@example.org carol@example.org dave@example.org)],
              'UniquePathId: one per recipient');
    is_deeply(col($rep, 'hidden'), [undef, undef, undef], 'no HiddenRecipient for a user');
}
{
    my(undef, $rep) = get_as('alice', 'summary, read tracking', path => $READ, id => $id{a});
    is_deeply(col($rep, 'description'), [qw(Read NotRead NotRead)],
              'MsgTrackReadTracking On: Read and NotRead (from Dovecot\'s mail_log)');
    is_deeply(col($rep, 'status'), [qw(Read Delivered Delivered)], '... with their statuses');
    is_deeply(col($rep, 'server'), [('imap.example.org') x 3], '... on the mailbox server');
}
{
    my(undef, $rep) = get_as('alice', 'summary, Exchange', id => $id{q4});
    is_deeply(col($rep, 'recipient'),
              [qw(lee@example.net bob@example.org carol@example.org erin@example.org)],
              'Exchange: every recipient, resolved and expanded');
    is_deeply(col($rep, 'root'), [undef, 'bob.jones@example.org', 'finance@example.org', 'finance@example.org'],
              'RootAddress: the address the sender used');
    is_deeply(col($rep, 'description'), [qw(TransferredToForeignOrg Delivered Delivered Delivered)],
              'EventDescription');
    is($rep->{events}[0]{bcc}, 'true', 'the Bcc recipient, flagged');
    is_deeply($rep->{events}[0]{data}, ['mx1.example.net'], 'EventData: where it went');
    is_deeply(col($rep, 'server'), ['mbx01.corp.example.org', 'mbx01.corp.example.org',
                                    'mbx02.corp.example.org', 'mbx01.corp.example.org'],
              'events on both mailbox servers');
}

# ------------------------------------------------------------------ RecipientPath
{
    my(undef, $rep) = get_as('bob', 'path, read tracking', path => $READ, id => $id{a},
                             template => 'RecipientPath', recipient => 'bob@example.org');
    is_deeply(col($rep, 'description'), [qw(Submitted Delivered Read)], 'path: submitted, delivered, read');
    is_deeply(col($rep, 'server'), [qw(mx1 mx1 imap.example.org)], 'path: across servers');
    is_deeply(col($rep, 'date'), ['2026-11-20T09:15:03Z', '2026-11-20T09:15:03Z', '2026-11-20T09:22:14Z'],
              'path: in order');
    (undef, $rep) = get_as('bob', 'path, no read tracking', id => $id{a},
                           template => 'RecipientPath', recipient => 'bob@example.org');
    is_deeply(col($rep, 'description'), [qw(Submitted Delivered)], 'without read tracking: no Read');
}
{
    my(undef, $rep) = get_as('bob', 'path through an alias', id => $id{b}, template => 'RecipientPath',
                             recipient => 'bob@example.org');
    is_deeply(col($rep, 'description'), [qw(SmtpReceive Expanded Delivered)], 'path through team@');
    is_deeply(col($rep, 'root'), [('team@example.org') x 3], 'RootAddress team@example.org');
    is_deeply(col($rep, 'path'), [('team@example.org/bob@example.org') x 3], 'UniquePathId');
    is_deeply($rep->{original_recipients}, ['bob@example.org'], 'a recipient\'s OriginalRecipients: itself');
}
{
    my(undef, $rep) = get_as('alice', 'path across Exchange servers', id => $id{q4},
                             template => 'RecipientPath', recipient => 'carol@example.org');
    is_deeply(col($rep, 'description'), [qw(Submitted Expanded SmtpSend SmtpReceive Delivered)],
              'path through a group and to the next server');
    is_deeply(col($rep, 'server'), [('mbx01.corp.example.org') x 3, ('mbx02.corp.example.org') x 2],
              '... across both servers');
}
{
    my(undef, $rep) = get_as('alice', 'path of a bounce', id => $id{e}, template => 'RecipientPath',
                             recipient => 'nobody@example.net');
    is_deeply(col($rep, 'description'), [qw(Submitted FailedGeneral)], 'bounced: submitted, failed');
    is_deeply(col($rep, 'status'), [qw(Pending Unsuccessful)], '... Unsuccessful');
    my $data = $rep->{events}[1]{data} // [];
    is($data->[0], '5.1.1', 'EventData: the DSN code');
    like($data->[1] // '', qr/550 5\.1\.1 <nobody\@example\.net>: Recipient address rejected/,
         'EventData: the remote reply');
    is($data->[2], 'non-delivery notification <20261120094212.6D4B10C30F4@mx1.example.org> '
                 . 'to alice@example.org', 'EventData: the NDR that reported it');
}

# ------------------------------------------------------------------ queue events
{
    my(undef, $rep) = get_as('admin', 'queue events', id => $id{d}, template => 'RecipientPath',
                             recipient => 'frank@example.com', queue => 'true');
    is_deeply(col($rep, 'description'),
              [qw(Submitted MessageDefer MessageDefer TransferredToForeignOrg)],
              'ReturnQueueEvents for a privileged caller: the deferrals');
    like(join('|', @{ $rep->{events}[2]{data} // [] }), qr/^4\.7\.1\|.*Greylisted/,
         'a deferral\'s EventData');
    is_deeply(col($rep, 'hidden'), [qw(false false false false)],
              'HiddenRecipient for a privileged caller');
    (undef, $rep) = get_as('admin', 'no queue events', id => $id{d}, template => 'RecipientPath',
                           recipient => 'frank@example.com');
    is_deeply(col($rep, 'description'), [qw(Submitted TransferredToForeignOrg)],
              'without ReturnQueueEvents: none');
    (undef, $rep) = get_as('admin', 'ReturnQueueEvents false', id => $id{d}, template => 'RecipientPath',
                           recipient => 'frank@example.com', queue => 'false');
    is_deeply(col($rep, 'description'), [qw(Submitted TransferredToForeignOrg)],
              'ReturnQueueEvents false: none');
    (undef, $rep) = get_as('alice', 'queue events for a user', id => $id{d}, template => 'RecipientPath',
                           recipient => 'frank@example.com', queue => 'true');
    is_deeply(col($rep, 'description'), [qw(Submitted TransferredToForeignOrg)],
              'ReturnQueueEvents from the sender, not privileged: no queue events');
}
{
    my(undef, $rep) = get_as('admin', 'expired', id => $id{i}, template => 'RecipientPath',
                             recipient => 'greg@example.com', queue => '1');
    my @d = @{ col($rep, 'description') };
    is(scalar(grep { $_ eq 'MessageDefer' } @d), 8, 'expired: eight deferrals');
    is($d[-1], 'FailedGeneral', 'expired: then failed');
    is($rep->{events}[-1]{data}[-1], 'non-delivery notification <20261120140221.D31A8C6A4F2@mx1.example.org> '
                                   . 'to alice@example.org',
       'expired: the NDR, not the delay warning before it');
}

# ------------------------------------------------------------------ the normative empty report
{
    my($r, $rep) = get_as('alice', 'path of a non-recipient', id => $id{a}, template => 'RecipientPath',
                          recipient => 'erin@example.org');
    is($r->{response_code}, 'NoError', 'a RecipientPath for someone the message did not go to: NoError');
    is($rep->{submit_time}, '0001-01-01T00:00:00', '... SubmitTime 0001-01-01T00:00:00');
    is(scalar @{ $rep->{events} }, 0, '... no events');
    ok(!defined $rep->{sender} && !defined $rep->{subject} && !defined $rep->{original_recipients},
       '... and nothing else');
}

# ------------------------------------------------------------------ errors
{
    my($r) = get_as('alice', 'garbage id', id => 'not a report id');
    is($r->{response_class}, 'Error', 'an id that does not parse: Error');
    is($r->{response_code}, 'ErrorInvalidArgument', '... ErrorInvalidArgument');
    ($r) = get_as('alice', 'bad escape', id => 'Message-Id=<x+ZZ@example.org>,Internal-Id=1');
    is($r->{response_code}, 'ErrorInvalidArgument', 'a malformed escape: ErrorInvalidArgument');
    ($r) = get_as('alice', 'unknown message');
    is($r->{response_code}, 'ErrorMessageTrackingPermanentError',
       'an id of no message: ErrorMessageTrackingPermanentError');
    ($r) = get_as('alice', 'path without filter', id => $id{a}, template => 'RecipientPath');
    is($r->{response_code}, 'ErrorInvalidArgument', 'RecipientPath without RecipientFilter: ErrorInvalidArgument');
    ($r) = get_as('alice', 'bad scope', id => $id{a}, scope => 'Moon');
    is($r->{response_code}, 'ErrorInvalidArgument', 'an unknown Scope: ErrorInvalidArgument');
    ($r) = get_as('alice', 'scope Forest', id => $id{a}, scope => 'Forest');
    is($r->{response_code}, 'NoError', 'Scope Forest: NoError');
}

# ------------------------------------------------------------------ diagnostics
{
    my($r) = get_as('alice', 'diagnostics', id => $id{a}, diagnostics => 'Verbose');
    my @d = diagnostic_strings($r);
    like($d[0] // '', qr/^plan: the report id's hop, then the hops sharing its Message-ID; hops read: \d+$/,
         'Get Diagnostics: the plan');
    is($d[1], 'events: 3 returned', 'Get Diagnostics: events');
    like($d[2] // '', qr/^milliseconds: \d+\.\d{3}$/, 'Get Diagnostics: milliseconds');
}
