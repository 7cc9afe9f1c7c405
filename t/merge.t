# t/merge.t: how the directory-level directives merge: defaults, server level,
# virtual host, <Location>, a nested <Location> overriding with explicit
# Off/false, and a deeper one setting nothing. Read back from the `config:`
# line each SOAP request logs at LogLevel msgtrack:trace2 (t/conf/extra.conf.in
# makes the line end with the request's X-MsgTrack-Marker).
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use MsgTrack::Test;

# What extra.conf.in sets at server level, and what the HTTPS virtual host
# (end of t/conf/extra.conf.in) sets at its server level.
my %server = (privileged => 0, max_results => 500, search_days => 30, read_tracking => 'off',
              max_body => 65536);
my %vhost = (privileged => 0, max_results => 777, search_days => 30, read_tracking => 'on',
             max_body => 32768);

my @cases = (
    { name => '<Location /EWS>: Mailbox and Privileged set there, the rest from the server',
      path => '/EWS/Exchange.asmx', user => 'alice',
      expect => { %server, mailbox => 'alice@example.org' } },
    { name => '<Location /EWS>: the Privileged expression holds for admin',
      path => '/EWS/Exchange.asmx', user => 'admin',
      expect => { %server, mailbox => 'admin@example.org', privileged => 1 } },
    { name => '<LocationMatch (?i)^/ews/> alone: Mailbox and Privileged at their defaults',
      path => '/ews/exchange.asmx', user => 'admin',
      expect => { %server, mailbox => 'admin' } },
    { name => '<Location /EWS-small>: MaxRequestBody 2K, Mailbox default %{REMOTE_USER}',
      path => '/EWS-small/Exchange.asmx', user => 'bob',
      expect => { %server, mailbox => 'bob', max_body => 2048 } },
    { name => '<Location /merge>: everything set there',
      path => '/merge/Exchange.asmx', user => 'alice',
      expect => { mailbox => 'outer-alice@example.org', privileged => 1, max_results => 50,
                  search_days => 30, read_tracking => 'on', max_body => 8192 } },
    { name => '<Location /merge/inner>: overrides, explicit Off and false win over On and true',
      path => '/merge/inner/Exchange.asmx', user => 'alice',
      expect => { mailbox => 'outer-alice@example.org', privileged => 0, max_results => 50,
                  search_days => 7, read_tracking => 'off', max_body => 4096 } },
    { name => '<Location /merge/inner/deeper>: sets nothing, inherits all',
      path => '/merge/inner/deeper/Exchange.asmx', user => 'admin',
      expect => { mailbox => 'outer-admin@example.org', privileged => 0, max_results => 50,
                  search_days => 7, read_tracking => 'off', max_body => 4096 } },
    { name => '<Location /EWS-open>: no user, no mailbox',
      path => '/EWS-open/Exchange.asmx', user => undef,
      expect => { %server, mailbox => '-' } },

    { name => 'vhost + <Location /EWS>: the Location\'s Mailbox and Privileged win',
      path => '/EWS/Exchange.asmx', user => 'bob', scheme => 'https',
      expect => { %vhost, mailbox => 'bob@example.org' } },
    { name => 'vhost + <Location /EWS>: the Location\'s Privileged expression',
      path => '/EWS/Exchange.asmx', user => 'admin', scheme => 'https',
      expect => { %vhost, mailbox => 'admin@example.org', privileged => 1 } },
    { name => 'vhost + <Location /EWS-small>: the vhost\'s Mailbox and Privileged',
      path => '/EWS-small/Exchange.asmx', user => 'bob', scheme => 'https',
      expect => { %vhost, mailbox => 'vhost-bob@example.org', privileged => 1, max_body => 2048 } },
    { name => 'vhost + <Location /EWS-small>: the vhost\'s Privileged is false for admin',
      path => '/EWS-small/Exchange.asmx', user => 'admin', scheme => 'https',
      expect => { %vhost, mailbox => 'vhost-admin@example.org', max_body => 2048 } },
    { name => 'vhost + <Location /merge>: the Location beats the vhost',
      path => '/merge/Exchange.asmx', user => 'bob', scheme => 'https',
      expect => { mailbox => 'outer-bob@example.org', privileged => 1, max_results => 50,
                  search_days => 30, read_tracking => 'on', max_body => 8192 } },
    { name => 'vhost + <Location /merge/inner>: explicit Off beats the vhost\'s On',
      path => '/merge/inner/Exchange.asmx', user => 'bob', scheme => 'https',
      expect => { mailbox => 'outer-bob@example.org', privileged => 0, max_results => 50,
                  search_days => 7, read_tracking => 'off', max_body => 4096 } },
);

plan tests => scalar @cases, need(need_lwp(), need_module(SERVER_MODULES));

for my $c (@cases) {
    my $scheme = $c->{scheme} // 'http';
  SKIP: {
        skip "https: mod_ssl is not available to the test server", 1
            unless $scheme eq 'http' || have_https();
        subtest "$scheme $c->{path}: $c->{name}" => sub {
            Test::More::plan(tests => 3);
            my $marker = marker();
            my $res = soap_post(scheme => $scheme, path => $c->{path}, user => $c->{user},
                                marker => $marker, body => soap_envelope(body => find_op()));
            check_soap($res, $c->{name});
            my @lines = config_lines($marker);
            is(scalar @lines, 1, 'one config: line for the request');
            is_deeply($lines[0], $c->{expect}, 'the merged configuration');
        };
    }
}
