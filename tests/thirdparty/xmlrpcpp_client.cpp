/* A non-Python client for aioxmlrpc.server: ROS's XmlRpc++ XmlRpcClient (Debian's
 * libxmlrpcpp-dev), for tests/thirdparty/test_xmlrpcpp.py, which compiles it with
 * `g++ xmlrpcpp_client.cpp -lxmlrpcpp -lrostime -lcpp_common`.
 *
 * Usage: xmlrpcpp_client PORT   (calls http://127.0.0.1:PORT/RPC2)
 *
 * Makes a fixed list of calls and prints one JSON line per call:
 *   {"call": NAME, "value": ...}          for a result
 *   {"call": NAME, "fault": [CODE, TEXT]} for a fault
 *   {"call": NAME, "error": TEXT}         when the call itself failed
 * A date prints as its text, as XmlRpc++ reads it into a struct tm; base64 as
 * {"base64": [byte, ...]}; a multicall prints its items, a fault as {"fault": [CODE, TEXT]}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <string>

#include <xmlrpcpp/XmlRpc.h>

using XmlRpc::XmlRpcClient;
using XmlRpc::XmlRpcValue;

static std::string json_string(const std::string &text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += char(c);
        } else if (c < 0x20) {
            char escape[8];
            snprintf(escape, sizeof escape, "\\u%04x", c);
            out += escape;
        } else {
            out += char(c);  // UTF-8 as it came
        }
    }
    return out + "\"";
}

static std::string json(XmlRpcValue &value) {
    char buffer[64];
    switch (value.getType()) {
    case XmlRpcValue::TypeBoolean:
        return bool(value) ? "true" : "false";
    case XmlRpcValue::TypeInt:
        snprintf(buffer, sizeof buffer, "%d", int(value));
        return buffer;
    case XmlRpcValue::TypeDouble:
        snprintf(buffer, sizeof buffer, "%.17g", double(value));
        return buffer;
    case XmlRpcValue::TypeString:
        return json_string(value);
    case XmlRpcValue::TypeDateTime: {
        struct tm &t = value;
        snprintf(buffer, sizeof buffer, "%04d%02d%02dT%02d:%02d:%02d", t.tm_year, t.tm_mon,
                 t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec);
        return json_string(buffer);
    }
    case XmlRpcValue::TypeBase64: {
        XmlRpcValue::BinaryData &data = value;
        std::string out = "{\"base64\": [";
        for (size_t i = 0; i < data.size(); i++) {
            snprintf(buffer, sizeof buffer, "%s%u", i ? ", " : "", (unsigned char)data[i]);
            out += buffer;
        }
        return out + "]}";
    }
    case XmlRpcValue::TypeArray: {
        std::string out = "[";
        for (int i = 0; i < value.size(); i++)
            out += (i ? ", " : "") + json(value[i]);
        return out + "]";
    }
    case XmlRpcValue::TypeStruct: {
        std::string out = "{";
        for (XmlRpcValue::iterator it = value.begin(); it != value.end(); ++it)
            out += (it == value.begin() ? "" : ", ") + json_string(it->first) + ": " +
                   json(it->second);
        return out + "}";
    }
    default:
        return "null";
    }
}

static std::string fault(XmlRpcValue &value) {
    return "[" + json(value["faultCode"]) + ", " + json(value["faultString"]) + "]";
}

/* params: an array of the call's arguments, or an invalid value for none. */
static void show(XmlRpcClient &client, const char *name, const char *method,
                 XmlRpcValue params = XmlRpcValue()) {
    XmlRpcValue result;
    std::string line = "{\"call\": " + json_string(name) + ", ";
    if (!client.execute(method, params, result))
        line += "\"error\": \"execute failed\"}";
    else if (client.isFault())
        line += "\"fault\": " + fault(result) + "}";
    else
        line += "\"value\": " + json(result) + "}";
    printf("%s\n", line.c_str());
    fflush(stdout);
}

static XmlRpcValue one(XmlRpcValue value) {
    XmlRpcValue params;
    params[0] = value;
    return params;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: xmlrpcpp_client PORT\n");
        return 2;
    }
    XmlRpcClient client("127.0.0.1", atoi(argv[1]), "/RPC2");
    const char *tricky = "h\xc3\xa9llo & <tags> ]]> \xe2\x98\x83";

    show(client, "ping", "ping");
    show(client, "now", "now");
    show(client, "int", "show_type", one(42));
    show(client, "double", "show_type", one(2.5));
    show(client, "string", "show_type", one(tricky));
    show(client, "cr", "show_type", one("cr\rlf\r\nend"));
    show(client, "boolean", "show_type", one(true));

    XmlRpcValue array;
    array[0] = 1;
    array[1] = "two";
    array[2] = 3.5;
    show(client, "array", "show_type", one(array));

    XmlRpcValue record;
    record["a"] = 1;
    record["b"] = "x";
    show(client, "struct", "show_type", one(record));

    unsigned char bytes[] = {0, 1, 'b', 'i', 'n', 255};
    show(client, "base64", "send_back_binary", one(XmlRpcValue(bytes, sizeof bytes)));

    // XmlRpc++ writes these fields as they are (not year - 1900, month from 0).
    struct tm when;
    memset(&when, 0, sizeof when);
    when.tm_year = 2024;
    when.tm_mon = 2;
    when.tm_mday = 29;
    when.tm_hour = 12;
    when.tm_min = 34;
    when.tm_sec = 56;
    show(client, "datetime", "show_type", one(XmlRpcValue(&when)));

    show(client, "fault", "raises_exception", one("A message"));
    show(client, "unknown", "no.such.method");
    XmlRpcValue two;
    two[0] = 1;
    two[1] = 2;
    show(client, "bad_params", "ping", two);
    show(client, "methodHelp", "system.methodHelp", one("ping"));
    show(client, "listMethods", "system.listMethods");

    // XmlRpc++ has no multicall helper: the standard call, built by hand.
    XmlRpcValue calls;
    calls[0]["methodName"] = "ping";
    calls[0]["params"].setSize(0);
    calls[1]["methodName"] = "show_type";
    calls[1]["params"][0] = tricky;
    calls[2]["methodName"] = "raises_exception";
    calls[2]["params"][0] = "Next to last call stops execution";
    XmlRpcValue results;
    if (!client.execute("system.multicall", one(calls), results) || client.isFault()) {
        printf("{\"call\": \"multicall\", \"error\": \"execute failed\"}\n");
    } else {
        std::string items = "[";
        for (int i = 0; i < results.size(); i++) {
            items += i ? ", " : "";
            if (results[i].getType() == XmlRpcValue::TypeStruct)
                items += "{\"fault\": " + fault(results[i]) + "}";
            else
                items += json(results[i][0]);
        }
        printf("{\"call\": \"multicall\", \"value\": %s]}\n", items.c_str());
    }
    show(client, "ping_again", "ping");
    return 0;
}
