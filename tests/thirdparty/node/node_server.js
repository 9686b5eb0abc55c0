// A node XML-RPC server for tests/thirdparty/test_node.py: the npm package xmlrpc 1.3.2
// (createServer, on node's http module). Usage: node node_server.js
//
// Listens on a free port of 127.0.0.1 and prints "PORT <n>" once it listens. It exits
// when its stdin closes (the test ended, or died) or on SIGTERM. Keep STRINGS and TYPED
// in step with the test.
'use strict'
const xmlrpc = require('xmlrpc')

// The package writes a string holding "<", "&" or "]]>" as one CDATA section, and
// splits its first "]]>" across two sections ("]]]]><![CDATA[>"): node's split CDATA.
const STRINGS = [
  'a ]]> b', '<tag> & ]]', ']]>', 'x]]>', '&amp; stays as written', 'é€日😀 <', '',
  'plain', 'a]]b', '<![CDATA[', 'line\nbreak & tab\t<', ' padded < ',
]

const TYPED = {
  int: 42,
  big: 1099511627776, // written as <int>, past the 32 bits of <i4>
  negative: -7,
  double: 2.5,
  tiny: 1e-7,
  true: true,
  false: false,
  string: 'txt',
  nil: null,
  when: new Date(Date.UTC(2024, 1, 29, 12, 34, 56)), // written in local time: TZ=UTC
  blob: Buffer.from([0, 1, 98, 254, 255]),
  list: [1, 'two', [3, []]],
  nested: { a: { b: [] }, 'k&<>': 'v' },
}

const server = xmlrpc.createServer({ host: '127.0.0.1', port: 0 }, () => {
  process.stdout.write('PORT ' + server.httpServer.address().port + '\n')
})
// Idle keep-alive connections are closed after 300 ms (node's default is 5 s), so the
// tests can see a pooled connection closed under them without waiting long.
server.httpServer.keepAliveTimeout = 300

function answer (name, method) {
  server.on(name, (error, params, callback) => {
    let result
    try {
      result = method(...params)
    } catch (exc) {
      callback({ faultCode: 2, faultString: String(exc) })
      return
    }
    callback(null, result)
  })
}

answer('echo', (value) => value)
answer('strings', () => STRINGS)
answer('typed', () => TYPED)
// A reply of `size` characters in a single CDATA section (its text holds "<" and "&").
answer('big', (size) => 'x<y&z '.repeat(Math.ceil(size / 6)).slice(0, size))
answer('add', (a, b) => a + b)
server.on('fail', (error, params, callback) => {
  callback({ faultCode: 4, faultString: 'Too many parameters.' })
})

process.on('SIGTERM', () => process.exit(0))
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
