# An XML-RPC server in Ruby (Debian's ruby-xmlrpc 0.3, on WEBrick), for
# tests/thirdparty/test_ruby.py. Usage: ruby ruby_server.rb
#
# Listens on a free port of 127.0.0.1, prints "PORT <n>" once it listens, and serves
# until SIGTERM, until its stdin closes, or for ten minutes at most. Keep the values in
# step with the test.
require "xmlrpc/server"
require "webrick"

# The package's servlet on WEBrick: port 0 (a free one), 127.0.0.1 only, no logs.
http = WEBrick::HTTPServer.new(
  BindAddress: "127.0.0.1", Port: 0, Logger: WEBrick::Log.new(File::NULL), AccessLog: []
)
server = XMLRPC::WEBrickServlet.new
http.mount("/RPC2", server)
server.add_handler("echo") { |value| value }
server.add_handler("add") { |a, b| a + b }
server.add_handler("fail") { raise XMLRPC::FaultException.new(4, "Too many parameters.") }
server.add_handler("crash") { raise "a Ruby exception" }
server.add_handler("big") { |size| ("x<y&z " * (size / 6 + 1))[0, size] }
server.add_handler("typed") do
  {
    "int" => 42,
    "negative" => -7,
    "double" => 2.5,
    "huge" => 1e100,  # written 1.0e+100
    "true" => true,
    "false" => false,
    "string" => "h\u00e9llo & <tag> ]]> \u2603 \u{1F600}",
    "empty" => "",
    "when" => Time.utc(2024, 2, 29, 12, 34, 56),
    "blob" => XMLRPC::Base64.new("\x00\x01b\xfe\xff".b),
    "list" => [1, "two", [3, []]],
    "nested" => { "a" => { "b" => [] } },
  }
end

Thread.new do
  $stdin.read  # until it closes: the test ended, or died without stopping us
  exit!(0)
end
Thread.new do
  sleep 600
  exit!(0)
end
trap("TERM") { exit!(0) }

$stdout.puts "PORT #{http.config[:Port]}"
$stdout.flush
http.start
