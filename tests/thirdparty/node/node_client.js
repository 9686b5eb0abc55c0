// A non-Python client for aioxmlrpc.server: the npm package xmlrpc 1.3.2 (createClient).
// Usage: node node_client.js URL
//
// Makes a fixed list of calls, one after the other, and prints one JSON line per call:
//   {"call": NAME, "value": ...}          for a result
//   {"call": NAME, "fault": [CODE, TEXT]} for a fault
//   {"call": NAME, "error": TEXT}         when the call itself failed
// Dates print as ISO 8601 text and buffers as {"base64": ...}, so that JSON can carry them.
'use strict'
const xmlrpc = require('xmlrpc')

const url = new URL(process.argv[2])
const client = xmlrpc.createClient({ host: url.hostname, port: Number(url.port), path: url.pathname })

function plain (value) {
  if (value instanceof Date) return value.toISOString()
  if (Buffer.isBuffer(value)) return { base64: value.toString('base64') }
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
    client.methodCall(method, params, (error, value) => {
      const line = { call: name }
      if (error && error.faultCode !== undefined) line.fault = [error.faultCode, error.faultString]
      else if (error) line.error = String(error)
      else line.value = plain(value)
      process.stdout.write(JSON.stringify(line) + '\n')
      resolve()
    })
  })
}

// Strings holding "<", "&" or "]]>" go out as CDATA sections, the first "]]>" split.
const TRICKY = 'h\u00e9llo & <tags> ]]> done'

async function main () {
  await call('ping', 'ping', [])
  await call('int', 'show_type', [42])
  await call('double', 'show_type', [2.5])
  await call('string', 'show_type', [TRICKY])
  await call('boolean', 'show_type', [true])
  await call('array', 'show_type', [[1, 'two', 3.5]])
  await call('struct', 'show_type', [{ a: 1, b: 'x' }])
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
