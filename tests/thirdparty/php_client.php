<?php
// A non-Python client for aioxmlrpc.server: PHP's xmlrpc extension (xmlrpc-epi, Debian's
// php8.2-xmlrpc), POSTing with PHP's own HTTP stream. Usage: php php_client.php URL
//
// Its requests declare ISO-8859-1 and write every byte beyond ASCII as a character
// reference, as the extension does by default (one call declares UTF-8 instead). Makes a fixed list of calls and prints
// one JSON line per call:
//   {"call": NAME, "value": ...}          for a result
//   {"call": NAME, "fault": [CODE, TEXT]} for a fault
//   {"call": NAME, "error": TEXT}         when the call itself failed
// Dates print as their XML-RPC text and base64 as {"base64": ...}.
$url = $argv[1];

function plain($value) {
    if (is_object($value) && isset($value->xmlrpc_type)) {
        if ($value->xmlrpc_type === "base64") return ["base64" => base64_encode($value->scalar)];
        if ($value->xmlrpc_type === "datetime") return $value->scalar;
    }
    if (is_array($value)) return array_map("plain", $value);
    return $value;
}

function show($name, $method, $params, $options = []) {
    global $url;
    $context = stream_context_create(["http" => [
        "method" => "POST",
        "header" => "Content-Type: text/xml",
        "content" => xmlrpc_encode_request($method, $params, $options),
        "timeout" => 10,
        "ignore_errors" => true,
    ]]);
    $body = @file_get_contents($url, false, $context);
    if ($body === false) {
        $line = ["call" => $name, "error" => "no reply"];
    } else {
        $value = xmlrpc_decode($body, "utf-8");
        if (is_array($value) && xmlrpc_is_fault($value)) {
            $line = ["call" => $name, "fault" => [$value["faultCode"], $value["faultString"]]];
        } else {
            $line = ["call" => $name, "value" => plain($value)];
        }
    }
    echo json_encode($line, JSON_UNESCAPED_UNICODE), "\n";
}

$tricky = "h\u{e9}llo & <tags> ]]> \u{2603}";
$binary = "\x00\x01bin";
xmlrpc_set_type($binary, "base64");
$when = "20240229T12:34:56";
xmlrpc_set_type($when, "datetime");

show("ping", "ping", []);
show("int", "show_type", [42]);
show("double", "show_type", [2.5]);
// By default each byte of PHP's UTF-8 string goes out as one character reference
// (&#195;&#169; for "\u{e9}"), read as two Latin-1 characters by any server; with the
// encoding option, the text goes out as UTF-8.
show("string", "show_type", [$tricky]);
show("string_utf8", "show_type", [$tricky], ["encoding" => "utf-8", "escaping" => "markup"]);
show("boolean", "show_type", [true]);
show("array", "show_type", [[1, "two", 3.5]]);
show("struct", "show_type", [["a" => 1, "b" => "x"]]);
show("base64", "send_back_binary", [$binary]);
show("datetime", "show_type", [$when]);
show("fault", "raises_exception", ["A message"]);
show("unknown", "no.such.method", []);
show("bad_params", "ping", [1, 2]);
show("methodHelp", "system.methodHelp", ["ping"]);
show("multicall", "system.multicall", [[
    ["methodName" => "ping", "params" => []],
    ["methodName" => "show_type", "params" => [$tricky]],
    ["methodName" => "raises_exception", "params" => ["Next to last call stops execution"]],
]]);
show("ping_again", "ping", []);
