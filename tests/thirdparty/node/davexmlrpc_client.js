// A client for aioxmlrpc.server: the npm package davexmlrpc 0.4.26 (its client, on the
// request package). Usage: node davexmlrpc_client.js URL
//
// Makes a fixed list of calls, one after the other, and prints one JSON line per call:
//   {"call": NAME, "value": ...}          for a result
//   {"call": NAME, "fault": [CODE, TEXT]} for a fault
//   {"call": NAME, "error": TEXT}         when the call itself failed
// Dates print as ISO 8601 text, so that JSON can carry them. The package reads <base64>
// as text (its bytes decoded as UTF-8), never as a Buffer.
'use strict'
const xmlrpc = require('davexmlrpc')

const url = process.argv[2]

function plain (value) {
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return value.map(plain)
  if (value !== null && typeof value === 'object') {
    const out = {}
    for (const key of Object.keys(value)) out[key] = plain(value[key])
    return out
  }
  return value
}

function call (name, method, params) {
  return new Promise((resolve) => {
    xmlrpc.client(url, method, params, 'xml', (error, value) => {
      const line = { call: name }
      if (error && error.faultCode !== undefined) line.fault = [error.faultCode, error.faultString]
      else if (error) line.error = String(error.message || error)
      else line.value = plain(value)
      process.stdout.write(JSON.stringify(line) + '\n')
      resolve()
    })
  })
}

// Written with entities (no CDATA); U+00A0 goes out as a space.
const TRICKY = 'h\u00e9llo & <tags> ]]> "q" \u2603\u00a0end'

async function main () {
  await call('ping', 'ping', [])
  await call('int', 'show_type', [42])
  await call('big_int', 'show_type', [1099511627776]) // <i4>, past 32 bits
  await call('double', 'show_type', [2.5])
  await call('tiny', 'show_type', [1e-7]) // <double>1e-7</double>
  await call('string', 'show_type', [TRICKY])
  await call('crlf', 'show_type', ['cr\rlf\r\nend'])
  await call('boolean', 'show_type', [true]) // <boolean>true</boolean>
  await call('array', 'show_type', [[1, 'two', 3.5]])
  await call('struct', 'show_type', [{ a: 1, b: 'x' }])
  await call('null', 'show_type', [null]) // an empty <struct>
  await call('base64', 'send_back_binary', [Buffer.from([0, 1, 98, 105, 110])])
  await call('datetime', 'show_type', [new Date(Date.UTC(2024, 1, 29, 12, 34, 56))])
  await call('fault', 'raises_exception', ['A message'])
  await call('unknown', 'no.such.method', [])
  await call('bad_params', 'ping', [1, 2])
  await call('methodHelp', 'system.methodHelp', ['ping'])
  await call('multicall', 'system.multicall', [[
    { methodName: 'ping', params: [] },
    { methodName: 'show_type', params: [TRICKY] },
    { methodName: 'raises_exception', params: ['Next to last call stops execution'] },
  ]])
  await call('ping_again', 'ping', [])
}

main()
