// A server for tests/thirdparty/test_foxglove_xmlrpc.py: the npm package @foxglove/xmlrpc
// 1.3.0 (XmlRpcServer on its node backend, HttpServerNodejs). Usage: node
// foxglove_xmlrpc_server.js
//
// Listens on a free port of 127.0.0.1 and prints "PORT <n>" once it listens. It exits
// when its stdin closes (the test ended, or died) or on SIGTERM. Keep TYPED in step with
// the test.
'use strict'
const { XmlRpcServer, XmlRpcFault } = require('@foxglove/xmlrpc')
const { HttpServerNodejs } = require('@foxglove/xmlrpc/nodejs')

const TYPED = {
  int: 42,
  negative: -7,
  int_max: 2147483647,
  int_min: -2147483648,
  big: 1099511627776, // written as <int>, past the 32 bits of <i4>
  double: 2.5,
  tenth: 0.1,
  tiny: 1e-7, // written as JavaScript prints it: 1e-7
  huge: 1e20, // a whole number: <int>100000000000000000000</int>
  inf: Infinity,
  nan: NaN,
  true: true,
  false: false,
  string: 'h\u00e9llo \u2603 \ud83d\ude00',
  markup: 'a<b & "c" >', // holds "<" or "&": one CDATA section
  gt: 'x > y', // no "<" or "&": text, ">" escaped
  empty: '',
  nil: undefined,
  null: null, // <nil/> too
  when: new Date(Date.UTC(2024, 1, 29, 12, 34, 56)),
  blob: Buffer.from([0, 1, 98, 254, 255]),
  bytes: new Uint8Array([7, 8]), // not a Buffer: a struct of its bytes
  list: [1, 'two', [3, []]],
  nested: { a: { b: {} }, 'k&<>': 'v' },
}

const server = new XmlRpcServer(new HttpServerNodejs())
// Idle keep-alive connections are closed after 100 ms (node's default is 5 s), plus the
// second node's http server adds, so the tests see a pooled connection closed under them
// without waiting long. The backend keeps its http.Server in a field TypeScript calls
// private.
server.server._server.keepAliveTimeout = 100

function answer (name, method) {
  server.setHandler(name, async (methodName, args) => method(...args))
}

answer('echo', (value) => value)
answer('typed', () => TYPED)
// A reply of `size` characters (its text holds "<" and "&": one CDATA section).
answer('big', (size) => 'x<y&z '.repeat(Math.ceil(size / 6)).slice(0, size))
answer('add', (a, b) => a + b)
answer('fail', () => { throw new XmlRpcFault('it failed', 7) })
answer('crash', () => { throw new TypeError('not a fault') })

server.listen(0, '127.0.0.1').then(() => {
  process.stdout.write('PORT ' + server.port() + '\n')
})

process.on('SIGTERM', () => process.exit(0))
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
