// A server for tests/thirdparty/test_davexmlrpc.py: the npm package davexmlrpc 0.4.26
// (startServerOverHttp, on davehttp and node's http module). Usage: node
// davexmlrpc_server.js
//
// Listens on a free port of 127.0.0.1 and prints "PORT <n>" once it listens. It exits
// when its stdin closes (the test ended, or died) or on SIGTERM. Keep TYPED in step with
// the test.
'use strict'
const dns = require('dns')
const http = require('http')

// davehttp looks up every client's address with dns.reverse, which asks the DNS servers
// of resolv.conf: answer at once, as a failed lookup (it then keeps the address).
dns.reverse = (address, callback) => callback(new Error('no lookups here'))
// startServerOverHttp listens on every interface and says nothing of its server: bind
// it to 127.0.0.1 instead, and print the port it gets. Idle keep-alive connections are
// closed after 100 ms (node's default is 5 s), plus the second node's http server adds,
// so the tests see a pooled connection closed under them without waiting long.
const createServer = http.createServer
http.createServer = (handler) => {
  const server = createServer(handler)
  server.keepAliveTimeout = 100
  const listen = server.listen
  server.listen = () => listen.call(server, 0, '127.0.0.1', () => {
    process.stdout.write('PORT ' + server.address().port + '\n')
  })
  return server
}
// Both packages log their start and every fault with console.log, on stdout, where the
// test reads the port.
console.log = () => {}

const xmlrpc = require('davexmlrpc')

const TYPED = {
  int: 42,
  negative: -7,
  int_max: 2147483647,
  int_min: -2147483648,
  big: 1099511627776, // every whole number is an <i4>, past 32 bits too
  huge: 1e20, // <i4>100000000000000000000</i4>
  double: 2.5,
  tenth: 0.1,
  tiny: 1e-7, // written as JavaScript prints it: 1e-7
  markup: 'a<b & "c" >',
  nbsp: 'a\u00a0b', // U+00A0 is written as a space
  empty: '',
  null: null, // an empty <struct>: no <nil/>
  when: new Date(Date.UTC(2024, 1, 29, 12, 34, 56)),
  blob: Buffer.from([0, 1, 98, 254, 255]),
  bytes: new Uint8Array([7, 8]), // not a Buffer: a struct of its bytes
  list: [1, 'two', [3, []]],
  nested: { a: { b: {} }, 'k&<>': 'v' },
}

// The handler must answer every call itself: its return value (the README's "false:
// we didn't handle it") is ignored, and a call it does not answer is never answered.
// An exception it throws ends the process.
xmlrpc.startServerOverHttp({ port: 0, flLogToConsole: false }, (request) => {
  const params = request.params
  const answer = (value) => request.returnVal(undefined, value)
  switch (request.verb) {
    case 'echo': answer(params[0]); return true
    case 'typed': answer(TYPED); return true
    // A reply of `size` characters, every one of them escaped or plain ASCII.
    case 'big': answer('x<y&z '.repeat(Math.ceil(params[0] / 6)).slice(0, params[0])); return true
    case 'add': answer(params[0] + params[1]); return true
    case 'fail': request.returnVal({ message: 'it failed' }); return true
  }
  return false
})

process.on('SIGTERM', () => process.exit(0))
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
