// A client for aioxmlrpc.server: the npm package @foxglove/xmlrpc 1.3.0 (XmlRpcClient, on
// node-fetch). Usage: node foxglove_xmlrpc_client.js URL
//
// Makes a fixed list of calls, one after the other, and prints one JSON line per call:
//   {"call": NAME, "value": ...}          for a result
//   {"call": NAME, "fault": [CODE, TEXT]} for a fault
//   {"call": NAME, "error": TEXT}         when the call itself failed
// Dates print as ISO 8601 text and buffers as {"base64": ...}, so that JSON can carry
// them; undefined (what <nil/> reads as) prints as {"undefined": true}.
'use strict'
const { XmlRpcClient, XmlRpcFault } = require('@foxglove/xmlrpc')

const client = new XmlRpcClient(process.argv[2])

function plain (value) {
  if (value === undefined) return { undefined: true }
  if (value instanceof XmlRpcFault) return { fault: [value.faultCode, value.faultString] }
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

async function call (name, method, params) {
  const line = { call: name }
  try {
    line.value = plain(await method(params))
  } catch (error) {
    if (error instanceof XmlRpcFault) line.fault = [error.faultCode, error.faultString]
    else line.error = String(error)
  }
  process.stdout.write(JSON.stringify(line) + '\n')
}

const single = (method) => (params) => client.methodCall(method, params)

// Holds "<" and "&": one CDATA section. (A string holding "]]>" it cannot write at all.)
const TRICKY = 'h\u00e9llo & <tags> "q" \u2603 \ud83d\ude00'

async function main () {
  await call('ping', single('ping'), [])
  await call('int', single('show_type'), [42])
  await call('big_int', single('show_type'), [1099511627776]) // <int>, past 32 bits
  await call('whole_double', single('show_type'), [2.0]) // <int>2</int>
  await call('double', single('show_type'), [2.5])
  await call('tiny', single('show_type'), [1e-7]) // <double>1e-7</double>
  await call('string', single('show_type'), [TRICKY])
  await call('crlf', single('show_type'), ['cr\rlf\r\nend'])
  await call('boolean', single('show_type'), [true])
  await call('array', single('show_type'), [[1, 'two', 3.5]])
  await call('struct', single('show_type'), [{ a: 1, b: 'x' }])
  await call('nil', single('show_type'), [null]) // <nil/>
  await call('base64', single('send_back_binary'), [Buffer.from([0, 1, 98, 105, 110])])
  await call('datetime', single('show_type'), [new Date(Date.UTC(2024, 1, 29, 12, 34, 56))])
  await call('fault', single('raises_exception'), ['A message'])
  await call('unknown', single('no.such.method'), [])
  await call('bad_params', single('ping'), [1, 2])
  await call('methodHelp', single('system.methodHelp'), ['ping'])
  // multiMethodCall is its system.multicall: a fault comes back as an XmlRpcFault.
  await call('multicall', (calls) => client.multiMethodCall(calls), [
    { methodName: 'ping', params: [] },
    { methodName: 'show_type', params: [TRICKY] },
    { methodName: 'raises_exception', params: ['Next to last call stops execution'] },
  ])
  await call('ping_again', single('ping'), [])
}

main()
