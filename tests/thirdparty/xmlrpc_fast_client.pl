#!/usr/bin/perl
# A non-Python client for aioxmlrpc.server: Perl's XML::RPC::Fast (Debian's
# libxml-rpc-fast-perl 0.8, on LWP). Usage: perl xmlrpc_fast_client.pl URL
#
# Makes a fixed list of calls and prints one JSON line per call:
#   {"call": NAME, "value": ...}          for a result
#   {"call": NAME, "fault": [CODE, TEXT]} for a fault (the package's own, 499 and HTTP
#                                         statuses, included: it makes them faults)
#   {"call": NAME, "error": TEXT}         when the call itself died
# A value of a type the encoder has no Perl type for (boolean, nil...) is an object of
# that class around its text: it prints as {"type": CLASS, "value": TEXT}. The URL, which
# the package puts in its own faults, prints as "URL". Run with PERL_HASH_SEED=0, so that
# a struct is sent with its members in the same order each time.
use strict;
use warnings;

use JSON::PP;
use Scalar::Util qw(blessed reftype);
use XML::RPC::Fast qw(customtype);

my $url = $ARGV[0];
my $rpc = XML::RPC::Fast->new($url, timeout => 10);
my $json = JSON::PP->new->ascii->canonical;

sub plain {
    my ($value) = @_;
    return { type => ref $value, value => $$value } if blessed $value and reftype $value eq 'SCALAR';
    return [map { plain($_) } @$value] if ref $value eq 'ARRAY';
    return { map { ($_ => plain($value->{$_})) } keys %$value } if ref $value eq 'HASH';
    return $value;
}

sub show {
    my ($name, $method, @params) = @_;
    my @results;
    my $line;
    # With a callback, call() hands over what came back, a fault as { fault => {...} }.
    if (eval { $rpc->call(sub { @results = @_ }, $method, @params); 1 }) {
        my $first = $results[0];
        if (@results == 1 and ref $first eq 'HASH' and keys %$first == 1 and $first->{fault}) {
            (my $text = $first->{fault}{faultString}) =~ s/\Q$url\E/URL/g;
            $line = { call => $name, fault => [$first->{fault}{faultCode}, $text] };
        } else {
            $line = { call => $name, value => plain(@results == 1 ? $first : \@results) };
        }
    } else {
        $line = { call => $name, error => "$@" };
    }
    print $json->encode($line), "\n";
}

my $tricky = "h\x{e9}llo & <tags> ]]> \x{2603}";
show(ping => 'ping');
show(int => show_type => 42);
show(numeric_string => show_type => "42");
show(double => show_type => 2.5);
show(string => show_type => $tricky);
show(boolean => show_type => customtype(boolean => 1));
show(array => show_type => [1, "two", 3.5]);
show(struct => show_type => { a => 1, b => "x" });
show(base64 => send_back_binary => customtype(base64 => 'AAFiaW4='));
show(datetime => show_type => customtype('dateTime.iso8601' => '20240229T12:34:56'));
show(nil => show_type => customtype(nil => undef));
show(undefined => show_type => undef);
show(now => 'now');
show(fault => raises_exception => "A message");
show(unknown => 'no.such.method');
show(bad_params => ping => 1, 2);
show(methodHelp => 'system.methodHelp', 'ping');
show(multicall => 'system.multicall', [
    { methodName => 'ping', params => [] },
    { methodName => 'show_type', params => [$tricky] },
    { methodName => 'raises_exception', params => ["Next to last call stops execution"] },
]);
show(ping_again => 'ping');
