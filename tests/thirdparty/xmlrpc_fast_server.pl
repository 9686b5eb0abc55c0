#!/usr/bin/perl
# An XML-RPC server on Perl's XML::RPC::Fast (Debian's libxml-rpc-fast-perl 0.8, its
# default XML::LibXML encoder), for tests/thirdparty/test_xmlrpc_fast.py.
# Usage: perl xmlrpc_fast_server.pl
#
# XML::RPC::Fast has no HTTP server: its server side is receive($xml, $handler), which
# turns a request's body into a reply's (its SYNOPSIS runs it as a CGI). HTTP::Daemon
# (libhttp-daemon-perl) carries it here, as it carries XMLRPC::Lite: one connection at
# a time, for as long as the client keeps it alive.
#
# Listens on a free port of 127.0.0.1, prints "PORT <n>" once it listens, and serves
# until its stdin closes, or for ten minutes at most. Values are typed by the encoder's
# guessing, on purpose, but where customtype() names a type: that is what its users'
# clients read. Keep them in step with the test.
use strict;
use warnings;

use HTTP::Daemon;
use HTTP::Response;
use IO::Select;
use XML::RPC::Fast qw(rpcfault customtype);
use DateTime::Format::ISO8601 ();    # what the encoder reads dates with, when installed

$SIG{PIPE} = 'IGNORE';    # a client gone mid-reply must not end the server
alarm 600;                # should the test die without stopping us

my %methods = (
    echo  => sub { return $_[0] },
    add   => sub { return $_[0] + $_[1] },
    big   => sub { my ($size) = @_; return substr("x<y&z " x (int($size / 6) + 1), 0, $size) },
    fail  => sub { return rpcfault(4, "Too many parameters.") },
    crash => sub { die "a Perl exception\n" },
    crash_where => sub { die "a Perl exception" },    # Perl adds where: " at FILE line N."
    coded => sub { $XML::RPC::Fast::faultCode = 7; die "a coded exception\n" },    # as its doc says
    nothing => sub { return },
    two     => sub { return (1, "two") },
    typed   => sub {
        return {
            int            => 42,
            negative       => -7,
            double         => 2.5,
            whole_double   => 2.0,              # guessed to be an int
            beyond_32_bits => 2**40,            # an <i8>
            string         => "h\x{e9}llo & <tag> ]]> \x{2603} \x{1F600}",
            numeric_string => "0123",           # guessed to be an int
            empty          => "",
            undefined      => undef,            # an empty <string/>
            list           => [1, "two", [3, []]],
            nested         => { a => { b => [] } },
            true           => customtype(boolean => 1),
            false          => customtype(boolean => 0),
            when           => customtype('dateTime.iso8601' => '20240229T12:34:56'),
            blob           => customtype(base64 => 'AAFi/v8='),
            nil            => customtype(nil => undef),
        };
    },
);

my $rpc = XML::RPC::Fast->new(undef);
my $handler = sub {
    my ($name, @params) = @_;
    my $method = $methods{$name} or die "Unknown method $name\n";
    return $method->(@params);
};

my $daemon = HTTP::Daemon->new(LocalAddr => '127.0.0.1', LocalPort => 0, ReuseAddr => 1)
    or die "cannot listen on 127.0.0.1: $!";
$| = 1;
print "PORT ", $daemon->sockport, "\n";

# Wait for a connection, or for stdin to close (readable at its end: the test is over).
my $stdin = \*STDIN;
my $waiting = IO::Select->new($daemon, $stdin);
while (1) {
    for my $ready ($waiting->can_read) {
        exit 0 if $ready == $stdin;
        my $conn = $daemon->accept or next;
        serve($conn);
        $conn->close;
    }
}

# Serve one connection's requests until the client closes it or asks to (HTTP::Daemon
# keeps that in httpd_nomore, which get_request returns undef on).
sub serve {
    my ($conn) = @_;
    my $reading = IO::Select->new($conn, $stdin);
    while (!${*$conn}{'httpd_nomore'}) {
        for my $ready ($reading->can_read) {
            exit 0 if $ready == $stdin;
            my $request = $conn->get_request or return;
            my $xml = $rpc->receive($request->content, $handler);
            $conn->send_response(HTTP::Response->new(200, 'OK', ['Content-Type' => 'text/xml'], $xml));
        }
    }
}
