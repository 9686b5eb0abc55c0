#!/usr/bin/perl
# An XML-RPC server written in Perl (RPC::XML::Server, Debian's librpc-xml-perl), for
# tests/thirdparty/test_perl_server.py: an implementation that shares no code with
# Python's or C's. Usage: perl perl_server.pl PORT [ENCODING]. It listens on
# 127.0.0.1:PORT only, prints "READY <port>" once the socket is bound, and serves (one
# connection at a time, as RPC::XML::Server does) until it gets SIGTERM.
#
# Every value it returns is built with an explicit RPC::XML type class, so the wire type
# is known exactly (smart_encode's guessing only applies to "echo", on purpose).
use strict;
use warnings;
use utf8;    # the string literals below hold non-ASCII characters

use RPC::XML;
use RPC::XML::Server;

$RPC::XML::ALLOW_NIL = 1;    # <nil/> both ways
# A client that goes away mid-reply must not end the server: RPC::XML guards only some
# of its writes against SIGPIPE.
$SIG{PIPE} = 'IGNORE';

my ($port, $encoding) = @ARGV;
die "usage: $0 PORT [ENCODING]\n" unless defined $port && $port =~ /^\d+$/;
# What the XML declaration of every reply says. RPC::XML's default is "us-ascii", yet
# it writes every string as UTF-8 bytes: only an ENCODING of "utf-8" makes the replies
# that hold non-ASCII text well-formed.
$RPC::XML::ENCODING = $encoding if defined $encoding;

# Shared with the Python tests: keep the two in step.
my $TEXT = "h\x{e9}llo \x{2603} & <tag> \"q\" 'a' \x{1F600}";

sub typed {
    # Fresh objects on each call: a value object is not meant to be shared.
    return {
        int      => RPC::XML::int->new(42),
        negative => RPC::XML::int->new(-2147483648),
        i4       => RPC::XML::i4->new(2147483647),
        i8       => RPC::XML::i8->new('1099511627776'),      # 2**40
        i8_min   => RPC::XML::i8->new('-9223372036854775808'),
        double   => RPC::XML::double->new(3.25),
        tiny     => RPC::XML::double->new(0.1),
        string   => RPC::XML::string->new($TEXT),
        empty    => RPC::XML::string->new(q{}),
        true     => RPC::XML::boolean->new(1),
        false    => RPC::XML::boolean->new(0),
        nil      => RPC::XML::nil->new(),
        datetime => RPC::XML::datetime_iso8601->new('20240229T12:34:56'),
        base64   => RPC::XML::base64->new("\x00\x01binary\xfe\xff"),
        array    => RPC::XML::array->new(
            from => [ RPC::XML::int->new(1), RPC::XML::string->new('two'),
                      RPC::XML::double->new(3.5) ]
        ),
        struct   => RPC::XML::struct->new(
            { a => RPC::XML::int->new(1), 'b&<>' => RPC::XML::string->new('x') }
        ),
    };
}

sub nested {
    # An array of structs of arrays, three levels down.
    return RPC::XML::array->new(
        from => [
            map {
                my $n = $_;
                RPC::XML::struct->new({
                    index => RPC::XML::int->new($n),
                    items => RPC::XML::array->new(
                        from => [ map { RPC::XML::i8->new($n * 4294967296 + $_) } 0 .. $n ]
                    ),
                    flags => RPC::XML::array->new(
                        from => [ RPC::XML::boolean->new($n % 2),
                                  RPC::XML::array->new(from => []) ]
                    ),
                })
            } 0 .. 2
        ]
    );
}

my $server;
$server = RPC::XML::Server->new(
    host    => '127.0.0.1',
    port    => $port,
    queue   => 128,       # the listen backlog (default 5)
    timeout => 10,        # seconds a kept-alive connection may idle
);
die "cannot start: $server\n" unless ref $server;

# "function": no signature check; the code gets the decoded (plain Perl) arguments.
my @functions = (
    [ 'types.all',    sub { RPC::XML::struct->new(typed()) } ],
    [ 'types.get',    sub {
          my $name = shift;
          my $value = typed()->{$name};
          return defined $value ? $value
              : RPC::XML::fault->new(404, "no type named '$name'");
      } ],
    [ 'types.i8',     sub { RPC::XML::i8->new('1099511627776') } ],
    [ 'types.nil',    sub { RPC::XML::nil->new() } ],
    [ 'types.nested', sub { nested() } ],
    # The first argument back, re-encoded by smart_encode from RPC::XML's plain value.
    [ 'echo',         sub { return shift } ],
    # The wire types RPC::XML read for each argument.
    [ 'args.types',   sub {
          my @types = @{ $server->{signature} }[ 1 .. $#{ $server->{signature} } ];
          RPC::XML::array->new(from => [ map { RPC::XML::string->new($_) } @types ]);
      } ],
    [ 'fail',         sub { RPC::XML::fault->new(4, 'Too many parameters: ' . scalar @_) } ],
    [ 'sum',          sub {
          my $total = 0;
          $total += $_ for @_;
          RPC::XML::int->new($total);
      } ],
    [ 'text.repeat',  sub {
          my ($text, $count) = @_;
          RPC::XML::string->new($text x $count);
      } ],
);
for my $entry (@functions) {
    my ($name, $code) = @{$entry};
    my $added = $server->add_function({ name => $name, code => $code });
    die "cannot add $name: $added\n" unless ref $added;
}

$| = 1;
print 'READY ', $server->port, "\n";
$server->server_loop(signal => [ 'INT', 'HUP' ]);    # SIGTERM ends the process
exit 0;
