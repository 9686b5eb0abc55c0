/* An XML-RPC server in C++ for tests/thirdparty/test_xmlrpcpp.py: ROS's XmlRpc++
 * (Debian's libxmlrpcpp-dev, 1.15). The test compiles it with
 * `g++ xmlrpcpp_server.cpp -lxmlrpcpp -lrostime -lcpp_common`.
 *
 * Usage: xmlrpcpp_server
 * Listens on a free port of 127.0.0.1, prints "PORT <n>" once it listens, and serves until
 * SIGTERM or until its stdin closes. Keep the values in step with the test.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <string>

#include <xmlrpcpp/XmlRpc.h>

using XmlRpc::XmlRpcDispatch;
using XmlRpc::XmlRpcException;
using XmlRpc::XmlRpcServer;
using XmlRpc::XmlRpcServerMethod;
using XmlRpc::XmlRpcValue;

class Echo : public XmlRpcServerMethod {
  public:
    explicit Echo(XmlRpcServer *server) : XmlRpcServerMethod("echo", server) {}
    void execute(XmlRpcValue &params, XmlRpcValue &result) { result = params[0]; }
    std::string help() { return "Returns its argument."; }
};

class Add : public XmlRpcServerMethod {
  public:
    explicit Add(XmlRpcServer *server) : XmlRpcServerMethod("add", server) {}
    void execute(XmlRpcValue &params, XmlRpcValue &result) {
        // int& throws XmlRpcException("type error") on anything but an <int>/<i4>.
        result = int(params[0]) + int(params[1]);
    }
};

class Typed : public XmlRpcServerMethod {
  public:
    explicit Typed(XmlRpcServer *server) : XmlRpcServerMethod("typed", server) {}
    void execute(XmlRpcValue &, XmlRpcValue &result) {
        static const unsigned char blob[] = {0, 1, 2, 255};
        // XmlRpc++ writes the fields of a struct tm as they are, not as mktime reads
        // them (year - 1900, month from 0): fill them as the date reads.
        struct tm when;
        memset(&when, 0, sizeof when);
        when.tm_year = 2024;
        when.tm_mon = 2;
        when.tm_mday = 29;
        when.tm_hour = 12;
        when.tm_min = 34;
        when.tm_sec = 56;
        result["int"] = 42;
        result["negative"] = -7;
        result["int_max"] = 2147483647;
        result["int_min"] = int(-2147483647 - 1);
        result["true"] = true;
        result["false"] = false;
        result["double"] = 2.5;
        result["tenth"] = 0.1;
        result["tiny"] = 1e-7;
        result["huge"] = 1e20;
        result["string"] = "h\xc3\xa9llo <&> \"q\" 'a' \xe2\x98\x83";
        result["empty"] = "";
        result["blob"] = XmlRpcValue((void *)blob, sizeof blob);
        result["when"] = XmlRpcValue(&when);
        result["list"][0] = 1;
        result["list"][1] = "two";
        result["list"][2][0] = 3.5;
        result["empty_list"].setSize(0);
        result["nested"]["a"]["b"] = "c";
    }
};

/* The same moment as gmtime() gives it: XmlRpc++ writes tm_year 124 as " 124", and
 * tm_mon 1 (February) as "01". */
class Gmtime : public XmlRpcServerMethod {
  public:
    explicit Gmtime(XmlRpcServer *server) : XmlRpcServerMethod("gmtime", server) {}
    void execute(XmlRpcValue &, XmlRpcValue &result) {
        time_t moment = 1709210096;  // 2024-02-29T12:34:56Z
        struct tm when;
        gmtime_r(&moment, &when);
        result = XmlRpcValue(&when);
    }
};

class Big : public XmlRpcServerMethod {
  public:
    explicit Big(XmlRpcServer *server) : XmlRpcServerMethod("big", server) {}
    void execute(XmlRpcValue &params, XmlRpcValue &result) {
        int size = params[0];
        if (size < 0 || size > 16 * 1024 * 1024)
            throw XmlRpcException("size out of range", 3);
        result = std::string(size_t(size), 'x');
    }
};

class Fail : public XmlRpcServerMethod {
  public:
    explicit Fail(XmlRpcServer *server) : XmlRpcServerMethod("fail", server) {}
    void execute(XmlRpcValue &, XmlRpcValue &) { throw XmlRpcException("it failed", 7); }
};

/* Exit when stdin closes: the test ended, or died without stopping us. */
static void *watch_stdin(void *) {
    char buffer[64];
    while (read(0, buffer, sizeof buffer) > 0) {
    }
    _exit(0);
}

/* A non-blocking socket listening on a free port of 127.0.0.1, its port in *port; -1 on
 * failure. XmlRpcServer::bindAndListen(0) would bind every interface (INADDR_ANY), with
 * no way to name one: the test's server stays on the loopback. */
static int listen_on_loopback(int *port) {
    struct sockaddr_in address;
    socklen_t length = sizeof address;
    int one = 1;
    int sock = socket(AF_INET, SOCK_STREAM, 0);
    if (sock < 0)
        return -1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(sock, (struct sockaddr *)&address, sizeof address) != 0 || listen(sock, 16) != 0 ||
        getsockname(sock, (struct sockaddr *)&address, &length) != 0 ||
        fcntl(sock, F_SETFL, O_NONBLOCK) != 0) {
        close(sock);
        return -1;
    }
    *port = ntohs(address.sin_port);
    return sock;
}

int main() {
    XmlRpcServer server;
    Echo echo(&server);
    Add add(&server);
    Typed typed(&server);
    Gmtime gmtime(&server);
    Big big(&server);
    Fail fail(&server);
    pthread_t watcher;
    int port;

    server.enableIntrospection(true);
    int sock = listen_on_loopback(&port);
    if (sock < 0) {
        perror("listen on 127.0.0.1");
        return 1;
    }
    // What bindAndListen does once it listens: the server accepts on that socket.
    server.setfd(sock);
    server.get_dispatch()->addSource(&server, XmlRpcDispatch::ReadableEvent);
    pthread_create(&watcher, NULL, watch_stdin, NULL);
    // It listens already: a client connecting as soon as it reads the port is accepted.
    printf("PORT %d\n", port);
    fflush(stdout);
    server.work(-1.0);  // forever: SIGTERM, or the watcher, ends the process
    return 0;
}
