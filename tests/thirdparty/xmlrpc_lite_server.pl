#!/usr/bin/perl
# An XML-RPC server on Perl's XMLRPC::Lite (Debian's libxmlrpc-lite-perl, on SOAP::Lite
# and HTTP::Daemon), the library under Bugzilla's XML-RPC API, for
# tests/thirdparty/test_xmlrpc_lite.py. Usage: perl xmlrpc_lite_server.pl
#
# Listens on a free port of 127.0.0.1, prints "PORT <n>" once it listens, and serves one
# connection at a time (HTTP::Daemon's loop) until SIGTERM, or for ten minutes at most.
# Values without an explicit XMLRPC::Data type are typed by XMLRPC::Lite's guessing, on
# purpose: that is what its users' clients read. Keep them in step with the test.
use strict;
use warnings;

use XMLRPC::Transport::HTTP;

$SIG{PIPE} = 'IGNORE';    # a client gone mid-reply must not end the server
alarm 600;                # should the test die without stopping us
# SOAP::Lite 1.27 warns on every XML-RPC call that it has no SOAP method URI (XML-RPC
# has none): drop that one warning, so that the test sees any other.
$SIG{__WARN__} = sub { print STDERR $_[0] unless $_[0] =~ /uninitialized value \$method_uri/ };

sub echo { my ($class, $value) = @_; return $value }
sub add { my ($class, $a, $b) = @_; return $a + $b }
sub fail { die SOAP::Fault->faultcode(4)->faultstring("Too many parameters.") }
sub big { my ($class, $size) = @_; return substr("x<y&z " x (int($size / 6) + 1), 0, $size) }

sub typed {
    return {
        int            => 42,
        negative       => -7,
        double         => 2.5,
        ascii          => "plain & <tag> ]]>",
        latin1         => "h\x{e9}llo",          # guessed to be binary: sent as base64
        numeric_string => "0123",                 # guessed to be an int
        empty          => "",
        undefined      => undef,                  # an empty <value />
        list           => [1, "two", [3, []]],
        nested         => { a => { b => [] } },
        typed_int      => XMLRPC::Data->type(int => 7),
        typed_boolean  => XMLRPC::Data->type(boolean => 1),
        typed_string   => XMLRPC::Data->type(string => "42"),
        when           => XMLRPC::Data->type(dateTime => "20240229T12:34:56"),
        blob           => XMLRPC::Data->type(base64 => "\x00\x01b\xfe\xff"),
    };
}

my $daemon = XMLRPC::Transport::HTTP::Daemon->new(
    LocalAddr => '127.0.0.1',
    LocalPort => 0,
    ReuseAddr => 1,
)->dispatch_to('main');
$| = 1;
print "PORT ", $daemon->{_daemon}->sockport, "\n";
$daemon->handle;
