# t/configtest.t: `httpd -t` with small configurations of our own: a usable
# schema directory passes; an unusable one (missing, missing a file, a broken
# XSD, a WSDL without soap:address) and bad directive values fail, naming the
# file or the directive. MsgTrackDatabase: an index passes quietly; a
# directory that does not exist yet or holds no index yet passes with a
# warning naming it; a file, or an index of another format version, fails.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use File::Copy qw(copy);
use File::Spec ();
use File::Temp ();
use MsgTrack::Test;

my $cfg = Apache::Test::config();
my $httpd = vars('httpd');               # under scripts/test.sh's ASan pass: its wrapper
my $module = vars('msgtrack_module');
my($mpm) = grep { $_ && -e $_ }
    map { $cfg->{modules}->{$_} } qw(mod_mpm_event.c mod_mpm_worker.c mod_mpm_prefork.c);
$mpm //= $cfg->find_apache_module('mod_mpm_prefork.so');
my($mpm_sym) = ($mpm // '') =~ /mod_(\w+)\.so$/;

my $tmp = File::Temp->newdir('msgtrack-configtest-XXXXXX', TMPDIR => 1);

# A copy of the bundled schemas, edited by $edit->(dir).
my $n = 0;
sub schema_copy {
    my %a = @_;
    my $dir = File::Spec->catdir($tmp, 'schemas' . ++$n);
    mkdir $dir or die "$dir: $!";
    for my $f (qw(Services.wsdl messages.xsd types.xsd)) {
        next if $a{without} && $a{without} eq $f;
        copy(schema_file($f), "$dir/$f") or die "copy $f: $!";
    }
    $a{edit}->($dir) if $a{edit};
    return $dir;
}

sub edit_file {
    my($file, $from, $to) = @_;
    open my $in, '<', $file or die "$file: $!";
    my $s = do { local $/; <$in> };
    close $in;
    $s =~ s/$from/$to/ or die "$file: no match for $from\n";
    open my $out, '>', $file or die "$file: $!";
    print $out $s;
    close $out;
}

# Runs `httpd -t` on a configuration ending with $extra; returns (exit code, output).
sub configtest {
    my $extra = shift;
    my $root = File::Spec->catdir($tmp, 'root' . ++$n);
    mkdir $root or die "$root: $!";
    my $conf = "$root/httpd.conf";
    open my $fh, '>', $conf or die "$conf: $!";
    print $fh <<"CONF";
ServerRoot "$root"
ServerName localhost
Listen 127.0.0.1:1
DefaultRuntimeDir "$root"
PidFile "$root/httpd.pid"
ErrorLog "$root/error_log"
LoadModule ${mpm_sym}_module "$mpm"
LoadModule msgtrack_module "$module"
$extra
CONF
    close $fh;
    (my $conf_q = $conf) =~ s/'/'\\''/g;
    (my $httpd_q = $httpd) =~ s/'/'\\''/g;
    my $out = `'$httpd_q' -t -f '$conf_q' 2>&1`;
    return($? >> 8, $out);
}

my $good = schema_copy();

# MsgTrackDatabase fixtures: a file, an empty directory, an index of another
# format version (msgtrack-index builds one, db_load rewrites its format
# record).
my $a_file = "$tmp/db-file";
{ open my $fh, '>', $a_file or die "$a_file: $!"; }
my $empty = "$tmp/db-empty";
mkdir $empty or die "$empty: $!";
my($db_load) = grep { -x } map { ("$_/db5.3_load", "$_/db_load") } qw(/usr/bin /usr/local/bin);
my $other = "$tmp/db-other";
my $other_ok = 0;
if ($db_load) {
    my $idx = vars('msgtrack_index');
    my $log = vars('msgtrack_data_dir') . '/dovecot/dovecot.log';
    system($idx, '--db', $other, 'ingest', '--host', 'imap', '--year', '2026', $log) == 0
        or die "msgtrack-index could not build $other\n";
    open my $load, '|-', $db_load, '-h', $other, 'meta' or die "$db_load: $!";
    print $load "VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n"
              . " 666f726d6174\n 0000000000000063\nDATA=END\n";    # "format" => 99
    $other_ok = close $load;
}
my $index = vars('msgtrack_database');

my @cases = (
    { name => 'the bundled schemas', conf => qq{MsgTrackSchemaDir "$good"}, ok => 1 },
    { name => 'a missing directory', conf => qq{MsgTrackSchemaDir "$tmp/no-such-dir"},
      names => qr{mod_msgtrack: MsgTrackSchemaDir\b.*\Q$tmp\E/no-such-dir.*does not exist} },
    { name => 'a directory without messages.xsd',
      conf => sprintf('MsgTrackSchemaDir "%s"', schema_copy(without => 'messages.xsd')),
      names => qr{mod_msgtrack: MsgTrackSchemaDir\b.*/messages\.xsd} },
    { name => 'a directory without Services.wsdl',
      conf => sprintf('MsgTrackSchemaDir "%s"', schema_copy(without => 'Services.wsdl')),
      names => qr{mod_msgtrack: MsgTrackSchemaDir\b.*/Services\.wsdl} },
    { name => 'a types.xsd that is not well-formed',
      conf => sprintf('MsgTrackSchemaDir "%s"', schema_copy(edit => sub {
          edit_file("$_[0]/types.xsd", qr{</xs:schema>\s*\z}, "<xs:element name=\"Broken\">\n");
      })),
      names => qr{mod_msgtrack: MsgTrackSchemaDir\b.*/types\.xsd} },
    { name => 'a types.xsd naming an undefined type',
      conf => sprintf('MsgTrackSchemaDir "%s"', schema_copy(edit => sub {
          edit_file("$_[0]/types.xsd", qr{</xs:schema>},
                    qq{<xs:element name="Broken" type="t:NoSuchType"/>\n</xs:schema>});
      })),
      names => qr{mod_msgtrack: MsgTrackSchemaDir\b.*/types\.xsd} },
    { name => 'an empty messages.xsd',
      conf => sprintf('MsgTrackSchemaDir "%s"', schema_copy(edit => sub {
          open my $fh, '>', "$_[0]/messages.xsd" or die; close $fh;
      })),
      names => qr{mod_msgtrack: MsgTrackSchemaDir\b.*/messages\.xsd} },
    { name => 'a WSDL without soap:address',
      conf => sprintf('MsgTrackSchemaDir "%s"', schema_copy(edit => sub {
          edit_file("$_[0]/Services.wsdl", qr{<soap:address [^>]*/>}, '');
      })),
      names => qr{mod_msgtrack: MsgTrackSchemaDir\b.*/Services\.wsdl} },
    { name => 'a virtual host with a bad schema directory',
      conf => qq{MsgTrackSchemaDir "$good"\n<VirtualHost 127.0.0.1:1>\n  ServerName other.example.org\n}
            . qq{  MsgTrackSchemaDir "$tmp/not-here"\n</VirtualHost>},
      names => qr{mod_msgtrack: MsgTrackSchemaDir\b.*\Q$tmp\E/not-here} },
    { name => 'MsgTrackMaxResults 0', conf => qq{MsgTrackSchemaDir "$good"\nMsgTrackMaxResults 0},
      names => qr/^MsgTrackMaxResults\b/m },
    { name => 'MsgTrackSearchDays -1', conf => qq{MsgTrackSchemaDir "$good"\nMsgTrackSearchDays -1},
      names => qr/^MsgTrackSearchDays\b/m },
    { name => 'MsgTrackMaxRequestBody 12', conf => qq{MsgTrackSchemaDir "$good"\nMsgTrackMaxRequestBody 12},
      names => qr/^MsgTrackMaxRequestBody\b/m },
    { name => 'MsgTrackMaxRequestBody 10X', conf => qq{MsgTrackSchemaDir "$good"\nMsgTrackMaxRequestBody 10X},
      names => qr/^MsgTrackMaxRequestBody\b/m },
    { name => 'MsgTrackDomains with a bad name', conf => qq{MsgTrackSchemaDir "$good"\nMsgTrackDomains "bad domain!"},
      names => qr/^MsgTrackDomains\b/m },
    { name => 'MsgTrackMailbox that does not parse',
      conf => qq(MsgTrackSchemaDir "$good"\nMsgTrackMailbox "%{REMOTE_USER"),
      names => qr/^MsgTrackMailbox\b/m },
    { name => 'MsgTrackDatabase: the suite\'s index', ok => 1,
      conf => qq{MsgTrackSchemaDir "$good"\nMsgTrackDatabase "$index"}, quiet => qr/MsgTrackDatabase/ },
    { name => 'MsgTrackDatabase: a directory that does not exist yet', ok => 1,
      conf => qq{MsgTrackSchemaDir "$good"\nMsgTrackDatabase "$tmp/db-later"},
      warns => qr{mod_msgtrack: MsgTrackDatabase \Q$tmp\E/db-later does not exist \(yet\)} },
    { name => 'MsgTrackDatabase: a directory with no index yet', ok => 1,
      conf => qq{MsgTrackSchemaDir "$good"\nMsgTrackDatabase "$empty"},
      warns => qr{mod_msgtrack: MsgTrackDatabase index \Q$empty\E holds no Berkeley DB environment} },
    { name => 'MsgTrackDatabase: a file',
      conf => qq{MsgTrackSchemaDir "$good"\nMsgTrackDatabase "$a_file"},
      names => qr{mod_msgtrack: MsgTrackDatabase \Q$a_file\E is not a directory} },
    { name => 'MsgTrackDatabase: a file, in a virtual host',
      conf => qq{MsgTrackSchemaDir "$good"\nMsgTrackDatabase "$index"\n<VirtualHost 127.0.0.1:1>\n}
            . qq{  ServerName other.example.org\n  MsgTrackDatabase "$a_file"\n</VirtualHost>},
      names => qr{mod_msgtrack: MsgTrackDatabase \Q$a_file\E is not a directory} },
    { name => 'MsgTrackDatabase: an index of another format',
      needs => 'db_load (Debian: db5.3-util)', have => $other_ok,
      conf => qq{MsgTrackSchemaDir "$good"\nMsgTrackDatabase "$other"},
      names => qr{mod_msgtrack: MsgTrackDatabase index \Q$other\E is in format 99; this build reads formats \d+ to \d+} },
    { name => 'MsgTrackDatabase inside <Location>',
      conf => qq{MsgTrackSchemaDir "$good"\n<Location /x>\n  MsgTrackDatabase "$index"\n</Location>},
      names => qr/^MsgTrackDatabase\b/m },
    { name => 'MsgTrackSchemaDir inside <Location>',
      conf => qq{MsgTrackSchemaDir "$good"\n<Location /x>\n  MsgTrackSchemaDir "$good"\n</Location>},
      names => qr/^MsgTrackSchemaDir\b/m },
);

plan tests => 2 * @cases + grep({ $_->{warns} || $_->{quiet} } @cases),
    need({ 'the httpd binary and the built module' => sub {
        $httpd && -x $httpd && $module && -f $module && $mpm && -f $mpm && $mpm_sym } });

for my $c (@cases) {
  SKIP: {
    # A case that needs a tool the machine lacks is skipped, saying which.
    skip "configtest with $c->{name}: needs $c->{needs}", 2 + ($c->{warns} || $c->{quiet} ? 1 : 0)
        if $c->{needs} && !$c->{have};
    my($rc, $out) = configtest($c->{conf});
    if ($c->{ok}) {
        is($rc, 0, "configtest with $c->{name}: exit 0") or diag($out);
        like($out, qr/Syntax OK/, "configtest with $c->{name}: Syntax OK");
        like($out, $c->{warns}, "configtest with $c->{name}: a warning names it") if $c->{warns};
        unlike($out, $c->{quiet}, "configtest with $c->{name}: nothing said about it") if $c->{quiet};
    }
    else {
        isnt($rc, 0, "configtest with $c->{name}: fails") or diag($out);
        like($out, $c->{names}, "configtest with $c->{name}: the message names the culprit")
            or diag($out);
    }
  }
}
