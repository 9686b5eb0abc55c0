/* A Java client for aioxmlrpc.server: aXMLRPC (Debian's libaxmlrpc-java, the XML-RPC
 * library of Android apps such as WordPress's), for tests/thirdparty/test_axmlrpc.py,
 * which runs it as a single source file: `java -cp axmlrpc.jar AxmlrpcClient.java PORT`.
 *
 * Makes a fixed list of calls to http://127.0.0.1:PORT/RPC2 and prints one JSON line per
 * call:
 *   {"call": NAME, "value": ...}          for a result
 *   {"call": NAME, "fault": [CODE, TEXT]} for a fault
 *   {"call": NAME, "error": TEXT}         when the call itself failed
 * A date prints as its UTC text (yyyyMMdd'T'HH:mm:ss), base64 as {"base64": [byte, ...]},
 * a long (<i8>) as {"i8": N}; a multicall prints its items, a fault as {"fault": [...]}.
 */
import de.timroes.axmlrpc.XMLRPCClient;
import de.timroes.axmlrpc.XMLRPCException;
import de.timroes.axmlrpc.XMLRPCServerException;

import java.net.URL;
import java.text.SimpleDateFormat;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TimeZone;
import java.util.TreeMap;

public class AxmlrpcClient {
    static String string(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    static String json(Object value) {
        if (value == null) return "null";
        if (value instanceof Boolean || value instanceof Integer) return value.toString();
        if (value instanceof Long) return "{\"i8\": " + value + "}";
        if (value instanceof Double) return Double.toString((Double) value);
        if (value instanceof String) return string((String) value);
        if (value instanceof Date) {
            SimpleDateFormat format = new SimpleDateFormat("yyyyMMdd'T'HH:mm:ss");
            format.setTimeZone(TimeZone.getTimeZone("UTC"));
            return string(format.format((Date) value));
        }
        if (value instanceof byte[]) {
            StringBuilder out = new StringBuilder("{\"base64\": [");
            byte[] bytes = (byte[]) value;
            for (int i = 0; i < bytes.length; i++) out.append(i > 0 ? ", " : "").append(bytes[i] & 0xff);
            return out.append("]}").toString();
        }
        if (value instanceof Object[]) {
            StringBuilder out = new StringBuilder("[");
            Object[] items = (Object[]) value;
            for (int i = 0; i < items.length; i++) out.append(i > 0 ? ", " : "").append(json(items[i]));
            return out.append("]").toString();
        }
        if (value instanceof Map) {
            StringBuilder out = new StringBuilder("{");
            boolean first = true;
            for (Map.Entry<?, ?> member : new TreeMap<Object, Object>((Map<?, ?>) value).entrySet()) {
                out.append(first ? "" : ", ").append(string(member.getKey().toString()));
                out.append(": ").append(json(member.getValue()));
                first = false;
            }
            return out.append("}").toString();
        }
        return string("unknown type " + value.getClass().getName());
    }

    static void show(XMLRPCClient client, String name, String method, Object... params) {
        String line = "{\"call\": " + string(name) + ", ";
        try {
            line += "\"value\": " + json(client.call(method, params)) + "}";
        } catch (XMLRPCServerException fault) {
            line += "\"fault\": [" + fault.getErrorNr() + ", " + string(fault.getMessage()) + "]}";
        } catch (XMLRPCException failed) {
            line += "\"error\": " + string(failed.getClass().getSimpleName() + ": " + failed.getMessage()) + "}";
        }
        System.out.println(line);
        System.out.flush();
    }

    static Map<String, Object> call(String method, Object... params) {
        Map<String, Object> call = new HashMap<>();
        call.put("methodName", method);
        call.put("params", params);
        return call;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: AxmlrpcClient PORT");
            System.exit(2);
        }
        URL url = new URL("http://127.0.0.1:" + args[0] + "/RPC2");
        XMLRPCClient client = new XMLRPCClient(url, XMLRPCClient.FLAGS_NIL | XMLRPCClient.FLAGS_8BYTE_INT);
        client.setTimeout(20);
        String tricky = "h\u00e9llo & <tags> ]]> \u2603 \ud83d\ude00";

        show(client, "ping", "ping");
        show(client, "now", "now");
        show(client, "int", "show_type", 42);
        show(client, "i8", "show_type", 1L << 40);
        show(client, "double", "show_type", 2.5);
        show(client, "string", "show_type", tricky);
        show(client, "cr", "show_type", "cr\rlf\r\nend");
        show(client, "boolean", "show_type", true);
        show(client, "nil", "show_type", (Object) null);
        show(client, "array", "show_type", (Object) new Object[] {1, "two", 3.5});
        Map<String, Object> record = new HashMap<>();
        record.put("a", 1);
        record.put("b", "x");
        record.put("c & <d>", tricky);
        show(client, "struct", "show_type", record);
        show(client, "base64", "send_back_binary", (Object) new byte[] {0, 1, 'b', 'i', 'n', (byte) 255});
        Calendar when = Calendar.getInstance(TimeZone.getTimeZone("UTC"));
        when.clear();
        when.set(2024, Calendar.FEBRUARY, 29, 12, 34, 56);
        show(client, "datetime", "show_type", when.getTime());
        StringBuilder big = new StringBuilder();
        for (int i = 0; i < 200000; i++) big.append("x&<");
        show(client, "big", "show_type", big.toString());
        show(client, "fault", "raises_exception", "A message");
        show(client, "unknown", "no.such.method");
        show(client, "bad_params", "ping", 1, 2);
        show(client, "methodHelp", "system.methodHelp", "ping");
        show(client, "listMethods", "system.listMethods");
        show(client, "multicall", "system.multicall", (Object) new Object[] {
            call("ping"),
            call("show_type", tricky),
            call("raises_exception", "Next to last call stops execution"),
        });
        show(client, "ping_again", "ping");
    }
}
