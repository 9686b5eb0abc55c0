<?php
// An XML-RPC server on PHP's xmlrpc extension (xmlrpc-epi), for tests/thirdparty/test_php_epi.py.
// Run by `php -S 127.0.0.1:PORT php_server.php`: every request is one XML-RPC call.
$server = xmlrpc_server_create();
xmlrpc_server_register_method($server, "echo", function ($name, $args) { return $args[0]; });
xmlrpc_server_register_method($server, "add", function ($name, $args) { return $args[0] + $args[1]; });
xmlrpc_server_register_method($server, "fail", function ($name, $args) {
    return ["faultCode" => 42, "faultString" => "failed on purpose"];
});
xmlrpc_server_register_method($server, "version", function ($name, $args) {
    return phpversion("xmlrpc");
});
if ($_SERVER["REQUEST_METHOD"] !== "POST") {
    http_response_code(405);
    exit;
}
header("Content-Type: text/xml");
echo xmlrpc_server_call_method(
    $server, file_get_contents("php://input"), null, ["encoding" => "utf-8", "escaping" => "markup"]
);
