#!/usr/bin/perl
# A non-Python client for aioxmlrpc.server: Perl's RPC::XML::Client (Debian's
# librpc-xml-perl). Usage: perl perl_client.pl URL
#
# Makes a fixed list of calls and prints one JSON line per call:
#   {"call": NAME, "value": ...}          for a result
#   {"call": NAME, "fault": [CODE, TEXT]} for a fault
#   {"call": NAME, "error": TEXT}         when the call itself failed
use strict;
use warnings;
use JSON::PP;
use RPC::XML;
use RPC::XML::Client;

my $url = shift or die "usage: perl_client.pl URL\n";
# RPC::XML declares us-ascii by default but writes its strings as UTF-8.
$RPC::XML::ENCODING = "utf-8";
my $client = RPC::XML::Client->new($url, timeout => 10);
my $json = JSON::PP->new->ascii->canonical->allow_nonref;

sub show {
    my ($name, $response) = @_;
    my %line = (call => $name);
    if (!ref $response) {
        $line{error} = "$response";
    } elsif ($response->is_fault) {
        $line{fault} = [$response->code + 0, $response->string];
    } else {
        $line{value} = $response->value;
    }
    print $json->encode(\%line), "\n";
}

show("ping", $client->send_request("ping"));
show("int", $client->send_request("show_type", RPC::XML::int->new(42)));
show("double", $client->send_request("show_type", RPC::XML::double->new(2.5)));
show("string", $client->send_request("show_type", RPC::XML::string->new("h\x{e9}llo & <tags>")));
show("boolean", $client->send_request("show_type", RPC::XML::boolean->new(1)));
show("array", $client->send_request("show_type", [1, "two", 3.5]));
show("struct", $client->send_request("show_type", {a => 1, b => "x"}));
show("base64", $client->send_request("send_back_binary", RPC::XML::base64->new("\x00\x01bin")));
show("datetime", $client->send_request("show_type",
    RPC::XML::datetime_iso8601->new("20240229T12:34:56")));
show("fault", $client->send_request("raises_exception", "A message"));
show("unknown", $client->send_request("no.such.method"));
show("bad_params", $client->send_request("ping", 1, 2));
show("listMethods", $client->send_request("system.listMethods"));
show("methodHelp", $client->send_request("system.methodHelp", "ping"));
show("methodSignature", $client->send_request("system.methodSignature", "ping"));
show("multicall", $client->send_request("system.multicall", [
    {methodName => "ping", params => []},
    {methodName => "show_type", params => [RPC::XML::int->new(1)]},
    {methodName => "raises_exception", params => ["Next to last call stops execution"]},
]));
show("ping_again", $client->send_request("ping"));
