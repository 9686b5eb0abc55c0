# A non-Python client for aioxmlrpc.server: Ruby's XMLRPC::Client (Debian's ruby-xmlrpc).
# Usage: ruby ruby_client.rb URL
#
# Makes a fixed list of calls and prints one JSON line per call:
#   {"call": NAME, "value": ...}          for a result
#   {"call": NAME, "fault": [CODE, TEXT]} for a fault
#   {"call": NAME, "error": TEXT}         when the call itself failed
# Dates print as ISO 8601 text (base64 comes back as a plain string), so that JSON can
# carry them; a multicall prints its items, a fault as {"fault": [CODE, TEXT]}.
require "json"
require "xmlrpc/client"

def plain(value)
  case value
  when XMLRPC::DateTime then value.to_time.utc.strftime("%Y-%m-%dT%H:%M:%S")
  when Array then value.map { |item| plain(item) }
  when Hash then value.transform_values { |item| plain(item) }
  else value
  end
end

client = XMLRPC::Client.new2(ARGV.fetch(0), nil, 10)
tricky = "h\u00e9llo & <tags> ]]> \u2603"

def show(client, name, method, *params)
  ok, value = client.call2(method, *params)
  line = if ok
           { "call" => name, "value" => plain(value) }
         else
           { "call" => name, "fault" => [value.faultCode, value.faultString] }
         end
rescue StandardError => e
  line = { "call" => name, "error" => "#{e.class}: #{e.message}" }
ensure
  $stdout.puts JSON.generate(line)
end

show(client, "ping", "ping")
show(client, "int", "show_type", 42)
show(client, "double", "show_type", 2.5)
show(client, "string", "show_type", tricky)
show(client, "boolean", "show_type", true)
show(client, "array", "show_type", [1, "two", 3.5])
show(client, "struct", "show_type", { "a" => 1, "b" => "x" })
show(client, "base64", "send_back_binary", XMLRPC::Base64.new("\x00\x01bin".b))
show(client, "datetime", "show_type", Time.utc(2024, 2, 29, 12, 34, 56))
show(client, "fault", "raises_exception", "A message")
show(client, "unknown", "no.such.method")
show(client, "bad_params", "ping", 1, 2)
show(client, "methodHelp", "system.methodHelp", "ping")
ok, results = client.multicall2(
  ["ping"], ["show_type", tricky], ["raises_exception", "Next to last call stops execution"]
)
items = results.map do |item|
  item.is_a?(XMLRPC::FaultException) ? { "fault" => [item.faultCode, item.faultString] } : plain(item)
end
$stdout.puts JSON.generate({ "call" => "multicall", "ok" => ok, "value" => items })
show(client, "ping_again", "ping")
