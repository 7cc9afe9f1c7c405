#!/usr/bin/perl
# scripts/valgrind-report.pl: summarises the XML logs (--xml=yes) of valgrind
# memcheck runs of httpd and decides what the module answers for.
#
#   perl scripts/valgrind-report.pl vg.PID.xml...
#
# An error is the module's when a frame of its stack is in mod_msgtrack.so,
# or is a function of the core (mt_*, msgtrack_*) or in one of its files.
# Exit status 1 when any of these is found:
#   - a memory error (invalid read/write/free, uninitialised value, overlap,
#     bad syscall argument) that is the module's;
#   - a block definitely or indirectly lost that is the module's;
#   - a log that is not valgrind's XML or did not finish (the server crashed
#     or was killed before the leak check).
# Everything else (possibly lost blocks, errors and leaks wholly inside
# httpd, APR, libxml2, ICU, Berkeley DB, OpenSSL) is listed, not fatal.
# Suppressed errors are counted by suppression name (scripts/valgrind.supp).
use strict;
use warnings;
use XML::LibXML ();

my $MODULE_OBJ = qr{(?:^|/)mod_msgtrack\.so$};
my $MODULE_FN = qr{^(?:mt_|msgtrack_)};
my $MODULE_FILE = qr{^(?:mt_\w+|mod_msgtrack\w*|msgtrack_index\w*)\.[ch]$};
my $FATAL_LEAK = qr{^Leak_(?:DefinitelyLost|IndirectlyLost)$};

die "usage: $0 VALGRIND-XML...\n" unless @ARGV;

my(@mine, @theirs, %supp, %leak, %errors, @broken);
my $processes = 0;

sub frame_text {
    my $f = shift;
    my $fn = $f->findvalue('fn') || '???';
    my $file = $f->findvalue('file');
    my $where = $file ? "$file:" . $f->findvalue('line') : ($f->findvalue('obj') =~ s{.*/}{}r);
    return "$fn ($where)";
}

sub is_module_frame {
    my $f = shift;
    return $f->findvalue('obj') =~ $MODULE_OBJ || $f->findvalue('fn') =~ $MODULE_FN
        || $f->findvalue('file') =~ $MODULE_FILE;
}

for my $path (@ARGV) {
    my $doc = eval { XML::LibXML->load_xml(location => $path) };
    if (!$doc) {
        push @broken, "$path: not a complete valgrind XML log (the server did not exit normally?)";
        next;
    }
    if (!$doc->findnodes('/valgrindoutput/status[state="FINISHED"]')->size) {
        push @broken, "$path: valgrind did not finish";
        next;
    }
    $processes++;
    my $pid = $doc->findvalue('/valgrindoutput/pid');
    for my $e ($doc->findnodes('/valgrindoutput/error')) {
        my $kind = $e->findvalue('kind');
        my $what = $e->findvalue('xwhat/text') || $e->findvalue('what');
        my @frames = $e->findnodes('stack[1]/frame');
        my $ours = grep { is_module_frame($_) } @frames;
        my %item = (pid => $pid, kind => $kind, what => $what,
                    stack => [ map { frame_text($_) } @frames ]);
        # Where an uninitialised value came from (--track-origins).
        if (my @origin = $e->findnodes('stack[2]/frame')) {
            $item{origin} = [ map { frame_text($_) } @origin ];
            $item{origin_what} = $e->findvalue('auxwhat[1]');
            $ours ||= grep { is_module_frame($_) } @origin;
        }
        if ($kind =~ /^Leak_/) {
            my $k = $kind =~ s/^Leak_//r;
            $leak{$k}{bytes} += $e->findvalue('xwhat/leakedbytes') || 0;
            $leak{$k}{blocks} += $e->findvalue('xwhat/leakedblocks') || 0;
            $leak{$k}{$ours ? 'module_bytes' : 'other_bytes'} += $e->findvalue('xwhat/leakedbytes') || 0;
            $item{fatal} = $ours && $kind =~ $FATAL_LEAK;
        }
        else {
            $errors{$ours ? 'module' : 'other'}++;
            $item{fatal} = !!$ours;
        }
        push @{ $ours ? \@mine : \@theirs }, \%item;
    }
    for my $p ($doc->findnodes('/valgrindoutput/suppcounts/pair')) {
        $supp{ $p->findvalue('name') } += $p->findvalue('count');
    }
}

# A stack up to the frame below the module's outermost one (the rest is
# httpd's request loop), or its first $max frames when the module is not on it.
sub trimmed {
    my($stack, $max) = @_;
    my @s = @$stack;
    my($last) = grep { $s[$_] =~ /^(?:mt_|msgtrack_|handle_soap|msgtrack_handler)/ } reverse 0 .. $#s;
    my $keep = defined $last ? $last + 2 : $max;
    $keep = @s if $keep > @s;
    my $more = @s - $keep;
    return(map("      $_\n", @s[0 .. $keep - 1]), $more ? "      ... $more more\n" : ());
}

sub show {
    my($item, $max) = @_;
    print "  [$item->{kind}] $item->{what}\n", trimmed($item->{stack}, $max);
    print "    $item->{origin_what}\n", trimmed($item->{origin}, $max) if $item->{origin};
}

my $fatal = grep { $_->{fatal} } @mine;
my $fmt = sub { my $k = shift; my $l = $leak{$k} // {};
                sprintf '%d bytes in %d blocks (module: %d, not attributable: %d)',
                    $l->{bytes} // 0, $l->{blocks} // 0, $l->{module_bytes} // 0, $l->{other_bytes} // 0 };

print "\n==== valgrind summary: $processes server process(es)\n";
printf "errors (invalid access, uninitialised, bad free, ...): %d in the module, %d elsewhere\n",
    $errors{module} // 0, $errors{other} // 0;
print "definitely lost: ", $fmt->('DefinitelyLost'), "\n";
print "indirectly lost: ", $fmt->('IndirectlyLost'), "\n";
print "possibly lost:   ", $fmt->('PossiblyLost'), "\n";
print "suppressed (scripts/valgrind.supp):", (%supp ? "\n" : " none\n");
printf "  %5d  %s%s\n", $supp{$_}, $_, /^known-/ ? '  (KNOWN, not yet fixed: see the entry)' : ''
    for sort keys %supp;

if (@mine) {
    print "\n---- attributable to the module", ($fatal ? " ($fatal fatal)" : ''), "\n";
    show($_, 40) for @mine;
}
if (@theirs) {
    print "\n---- not attributable (no module frame on the stack)\n";
    show($_, 12) for @theirs;
}
print "\n---- broken logs\n", map("  $_\n", @broken) if @broken;
print "\n";

if ($fatal || @broken || !$processes) {
    print "valgrind: FAIL\n";
    exit 1;
}
print "valgrind: PASS\n";
exit 0;
