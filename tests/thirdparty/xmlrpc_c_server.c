/* An XML-RPC server in C for tests/thirdparty/test_xmlrpc_c.py: xmlrpc-c's Abyss server
 * (Debian's libxmlrpc-core-c3-dev, 1.33). The test compiles it with
 * `cc xmlrpc_c_server.c $(xmlrpc-c-config abyss-server --cflags --libs)`.
 *
 * Usage: xmlrpc_c_server [chunked]
 * Listens on a free port of 127.0.0.1, prints "PORT <n>" once it listens, and serves
 * until SIGTERM or until its stdin closes. A kept-alive connection carries at most three
 * requests (then the server closes it) and is closed after one second of silence;
 * "chunked" sends every reply with chunked transfer encoding. Keep the values in step
 * with the test.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <xmlrpc-c/base.h>
#include <xmlrpc-c/server.h>
#include <xmlrpc-c/server_abyss.h>

static xmlrpc_value *echo(xmlrpc_env *env, xmlrpc_value *params, void *server) {
    xmlrpc_value *value;
    (void)server;
    xmlrpc_decompose_value(env, params, "(V)", &value);
    return env->fault_occurred ? NULL : value;
}

static xmlrpc_value *add(xmlrpc_env *env, xmlrpc_value *params, void *server) {
    xmlrpc_int32 a, b;
    (void)server;
    xmlrpc_decompose_value(env, params, "(ii)", &a, &b);
    return env->fault_occurred ? NULL : xmlrpc_build_value(env, "i", a + b);
}

static xmlrpc_value *typed(xmlrpc_env *env, xmlrpc_value *params, void *server) {
    static const unsigned char blob[] = {0, 1, 'b', 0xfe, 0xff};
    (void)params;
    (void)server;
    return xmlrpc_build_value(
        env, "{s:i,s:i,s:I,s:I,s:d,s:d,s:b,s:b,s:s,s:s,s:n,s:8,s:6,s:(is(i())),s:{s:{s:()}}}",
        "int", (xmlrpc_int32)42, "negative", (xmlrpc_int32)-7,
        "i8", (xmlrpc_int64)1099511627776LL, "i8_min", (xmlrpc_int64)(-9223372036854775807LL - 1),
        "double", 2.5, "tiny", 1e-7, "true", (xmlrpc_bool)1, "false", (xmlrpc_bool)0,
        "string", "h\xc3\xa9llo & <tag> ]]> \"q\" 'a' \xe2\x98\x83", "empty", "",
        "nil", "when", "20240229T12:34:56", "blob", blob, sizeof blob,
        "list", 1, "two", 3, "nested", "a", "b");
}

static xmlrpc_value *strings(xmlrpc_env *env, xmlrpc_value *params, void *server) {
    (void)params;
    (void)server;
    return xmlrpc_build_value(env, "(ssssss)", "a ]]> b", "cr\rlf\r\nend", "tab\there",
                              " padded ", "&amp; as written", "\xe6\x97\xa5\xe6\x9c\xac");
}

static xmlrpc_value *big(xmlrpc_env *env, xmlrpc_value *params, void *server) {
    xmlrpc_int32 size;
    xmlrpc_value *result;
    char *text;
    (void)server;
    xmlrpc_decompose_value(env, params, "(i)", &size);
    if (env->fault_occurred)
        return NULL;
    if (size < 0 || size > 16 * 1024 * 1024) {
        xmlrpc_env_set_fault(env, 3, "size out of range");
        return NULL;
    }
    text = malloc((size_t)size + 1);
    if (text == NULL) {
        xmlrpc_env_set_fault(env, 3, "out of memory");
        return NULL;
    }
    for (xmlrpc_int32 i = 0; i < size; i++)
        text[i] = "x<y&z "[i % 6];
    text[size] = '\0';
    result = xmlrpc_string_new_lp(env, (size_t)size, text);
    free(text);
    return result;
}

static xmlrpc_value *fail(xmlrpc_env *env, xmlrpc_value *params, void *server) {
    (void)params;
    (void)server;
    xmlrpc_env_set_fault(env, 4, "Too many parameters.");
    return NULL;
}

/* Exit when stdin closes: the test ended, or died without stopping us. */
static void *watch_stdin(void *unused) {
    char buffer[64];
    (void)unused;
    while (read(0, buffer, sizeof buffer) > 0) {
    }
    _exit(0);
}

static void check(xmlrpc_env *env, const char *what) {
    if (env->fault_occurred) {
        fprintf(stderr, "%s: %s (%d)\n", what, env->fault_string, env->fault_code);
        exit(1);
    }
}

int main(int argc, char **argv) {
    struct {
        const char *name;
        xmlrpc_method1 function;
    } methods[] = {{"echo", echo}, {"add", add}, {"typed", typed},
                   {"strings", strings}, {"big", big}, {"fail", fail}};
    struct sockaddr_in address;
    socklen_t length = sizeof address;
    xmlrpc_server_abyss_parms parms;
    xmlrpc_registry *registry;
    xmlrpc_env env;
    pthread_t watcher;
    int sock, one = 1;

    xmlrpc_env_init(&env);
    xmlrpc_server_abyss_global_init(&env);
    check(&env, "global init");
    registry = xmlrpc_registry_new(&env);
    check(&env, "registry");
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        xmlrpc_registry_add_method(&env, registry, NULL, methods[i].name, methods[i].function,
                                   NULL);
        check(&env, methods[i].name);
    }

    sock = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (sock < 0 || bind(sock, (struct sockaddr *)&address, sizeof address) != 0 ||
        getsockname(sock, (struct sockaddr *)&address, &length) != 0) {
        perror("bind");
        return 1;
    }
    /* Listen before saying so: Abyss listens only once it starts, after the "PORT" line,
       and a client that connected in between was refused. Its own listen() then only
       sets the backlog again. */
    if (listen(sock, 16) != 0) {
        perror("listen");
        return 1;
    }

    memset(&parms, 0, sizeof parms);
    parms.config_file_name = NULL;
    parms.registryP = registry;
    parms.log_file_name = NULL;
    parms.keepalive_timeout = 1;
    parms.keepalive_max_conn = 3;
    parms.timeout = 10;
    parms.dont_advertise = 1;
    parms.socket_bound = 1;
    parms.socket_handle = sock;
    parms.uri_path = "/RPC2";
    parms.chunk_response = argc > 1 && strcmp(argv[1], "chunked") == 0;

    pthread_create(&watcher, NULL, watch_stdin, NULL);
    printf("PORT %d\n", ntohs(address.sin_port));
    fflush(stdout);
    xmlrpc_server_abyss(&env, &parms, XMLRPC_APSIZE(chunk_response));
    check(&env, "server");
    return 0;
}
