package MsgTrack::Clients;
# What a SOAP client (t/zeep.t, t/gsoap.t) must have parsed from the same
# calls on the sample index. Both clients print what they parsed as the same
# "call.field: value" lines (%$kv); the checks they share are here, each
# file keeps what only its client does differently.
use strict;
use warnings;

use Exporter 'import';
use Test::More ();

our @EXPORT = qw(ALICE_SUBJECTS ALICE_TESTS BOB_TESTS check_alice_parsed check_bob_parsed);

# alice's messages of November 2026, newest first.
use constant ALICE_SUBJECTS => join ' | ', 'Meeting notes; next steps',
    'Supplier day: save the date',
    'Proposal for the joint workshop in January: agenda, venue and? travel arrangements',
    'Meeting notes, 19 November', 'Contract draft v3, comments from legal',
    'Q3 results, final figures', 'Q4 budget, "final" v2';

# How many tests each check below runs (for the plans).
use constant { ALICE_TESTS => 23, BOB_TESTS => 12 };

# alice's calls over $scheme: find (her messages), get (Summary of "Q3
# results"), path (bob's RecipientPath), empty (erin's path: the normative
# empty report). The HTTPS virtual host has MsgTrackReadTracking On
# (t/conf/extra.conf.in).
sub check_alice_parsed {
    my($kv, $scheme) = @_;
    my $rt = $scheme eq 'https';

    for my $op (qw(find get path empty)) {
        Test::More::is(join(' ', map { $kv->{"$op.$_"} // '?' } qw(ResponseClass ResponseCode)),
                       'Success NoError', "$scheme: $op: Success, NoError");
    }
    Test::More::is($kv->{'find.ServerVersion'}, 'Exchange2010_SP1',
                   "$scheme: the ServerVersionInfo header");
    Test::More::is($kv->{'find.ExecutedSearchScope'}, 'Organization',
                   "$scheme: find: ExecutedSearchScope");
    Test::More::is($kv->{'find.count'}, 7, "$scheme: find: alice's seven messages");
    Test::More::is($kv->{'find.subjects'}, ALICE_SUBJECTS,
                   "$scheme: find: their subjects, newest first");
    my @times = split ' ', $kv->{'find.times'} // '';
    Test::More::is_deeply(\@times, [ sort { $b cmp $a } @times ],
                          "$scheme: find: SubmittedTime parsed, descending");
    Test::More::is($times[0], '2026-11-20T17:20:41.515000+00:00',
                   "$scheme: find: a time with its fraction, in UTC");
    Test::More::is($kv->{'find.target.recipients'},
                   'bob@example.org,carol@example.org,dave@example.org',
                   "$scheme: find: the recipients of Q3 results");
    Test::More::like($kv->{'find.target.id'} // '',
        qr/^Message-Id=<0b6e3c1a-5f2d-4c8e-9a71-3d2f8e6b4c10\@example\.org>,Server=mx1,Internal-Id=(\d+),Sender=alice\@example\.org,Domain=example\.org$/,
        "$scheme: find: its MessageTrackingReportId");
    my($key) = ($kv->{'find.target.id'} // '') =~ /Internal-Id=(\d+)/;

    Test::More::is($kv->{'get.Subject'}, 'Q3 results, final figures',
                   "$scheme: get: Find's id gives the same message");
    Test::More::is($kv->{'get.Sender'}, 'alice@example.org', "$scheme: get: Sender");
    Test::More::is($kv->{'get.SubmitTime'}, '2026-11-20T09:15:03+00:00', "$scheme: get: SubmitTime");
    Test::More::is($kv->{'get.OriginalRecipients'},
                   'bob@example.org,carol@example.org,dave@example.org',
                   "$scheme: get: OriginalRecipients");
    Test::More::is($kv->{'get.recipients'}, 'bob@example.org,carol@example.org,dave@example.org',
                   "$scheme: get: one event per recipient");
    Test::More::is($kv->{'get.statuses'},
                   $rt ? 'Read,Delivered,Delivered' : 'Delivered,Delivered,Delivered',
                   "$scheme: get: statuses" . ($rt ? ' (read tracking on)' : ''));
    Test::More::is($kv->{'get.bcc'}, 'false,false,true', "$scheme: get: dave is Bcc");
    if ($rt) {
        Test::More::like($kv->{'get.internal_ids'} // '', qr/^\d+,\d+,\d+$/,
                         "$scheme: get: InternalId, integers (the mailbox hops)");
    }
    else {
        Test::More::is($kv->{'get.internal_ids'}, join(',', ($key // '?') x 3),
                       "$scheme: get: InternalId, the hop of the report id");
    }

    Test::More::is($kv->{'path.descriptions'},
                   $rt ? 'Submitted,Delivered,Read' : 'Submitted,Delivered',
                   "$scheme: path: bob's events");
    Test::More::is($kv->{'path.servers'}, $rt ? 'mx1,mx1,imap.example.org' : 'mx1,mx1',
                   "$scheme: path: where");
    Test::More::is($kv->{'empty.events'}, 0, "$scheme: empty: no events");
}

# bob's calls over HTTP: what alice sent him, and only his own part of it.
# $out is everything the client printed; $client names it.
sub check_bob_parsed {
    my($kv, $out, $client) = @_;

    Test::More::is($kv->{'find.ResponseCode'}, 'NoError', 'bob: find: NoError');
    Test::More::is($kv->{'find.subjects'}, 'Q3 results, final figures | Q4 budget, "final" v2',
                   'bob: find: what alice sent him');
    Test::More::is($kv->{'find.target.recipients'}, 'bob@example.org',
                   'bob: find: only himself among the recipients');
    Test::More::is($kv->{'get.ResponseCode'}, 'NoError', 'bob: get: NoError');
    Test::More::is($kv->{'get.recipients'}, 'bob@example.org', 'bob: get: only his own event');
    Test::More::is($kv->{'get.OriginalRecipients'}, 'bob@example.org', 'bob: get: only himself');
    Test::More::is($kv->{'get.statuses'}, 'Delivered', 'bob: get: delivered');
    Test::More::is($kv->{'get.bcc'}, 'false', 'bob: get: not Bcc');
    Test::More::is($kv->{'path.descriptions'}, 'Submitted,Delivered', 'bob: path: his own path');
    Test::More::is($kv->{'empty.ResponseCode'}, 'NoError', 'bob: erin\'s path: NoError');
    Test::More::is($kv->{'empty.events'}, 0, 'bob: erin\'s path: nothing');
    Test::More::unlike($out, qr/carol\@|dave\@/,
                       "bob: neither carol nor dave anywhere in what $client parsed");
}

1;
