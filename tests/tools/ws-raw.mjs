#!/usr/bin/env node
// ws-raw.mjs - a WebSocket client on a bare socket, for what a real client
// library will not do: any Origin header, unmasked frames, floods.
//
//   node ws-raw.mjs URL [options]
//
//   --origin ORIGIN     send "Origin: ORIGIN" with the upgrade (default: none)
//   --send TEXT         a text frame after the hello (repeatable, masked)
//   --unmasked TEXT     the same, but unmasked (RFC 6455 5.1: a client MUST mask)
//   --flood TEXT        send TEXT every 10 ms, --per-tick at a time, for
//                       --seconds (or until closed); print one summary line
//   --per-tick N        (default 20)
//   --seconds S         (default 5)
//   --timeout S         give up after S seconds (default 10)
//
// Lines printed:
//   http STATUS BODY     the upgrade was answered STATUS (not 101)
//   open                 the upgrade was accepted (101)
//   hello                the server's hello frame
//   FRAME                any other text frame (the connection id masked), except
//                        in a flood, where frames are only counted
//   flood sent=N errors=E codes=CODE,...   after a flood: frames sent, error
//                        frames received and their distinct codes
//   close CODE REASON    the server's close frame (1006: the socket ended without one)
// Exit status 0, or 2 on bad usage.
import net from 'node:net'
import crypto from 'node:crypto'

const opt = { sends: [], perTick: 20, seconds: 5, timeout: 10 }
const args = process.argv.slice(2)
const usage = m => { process.stderr.write(`ws-raw: ${m}\n`); process.exit(2) }
if (!args.length) usage('URL needed')
const url = new URL(args[0])
for (let i = 1; i < args.length; i++) {
  const val = () => { if (i + 1 >= args.length) usage(`${args[i]} needs a value`); return args[++i] }
  switch (args[i]) {
    case '--origin': opt.origin = val(); break
    case '--send': opt.sends.push({ text: val(), mask: true }); break
    case '--unmasked': opt.sends.push({ text: val(), mask: false }); break
    case '--flood': opt.flood = val(); break
    case '--per-tick': opt.perTick = Number(val()); break
    case '--seconds': opt.seconds = Number(val()); break
    case '--timeout': opt.timeout = Number(val()); break
    default: usage(`unknown option ${args[i]}`)
  }
}

function frame (op, payload, mask) {
  const len = payload.length
  const head = len < 126 ? Buffer.from([0x80 | op, len]) : len < 65536
    ? Buffer.from([0x80 | op, 126, len >> 8, len & 255])
    : (() => { const b = Buffer.alloc(10); b[0] = 0x80 | op; b[1] = 127; b.writeBigUInt64BE(BigInt(len), 2); return b })()
  if (!mask) return Buffer.concat([head, payload])
  head[1] |= 0x80
  const key = crypto.randomBytes(4)
  const body = Buffer.from(payload)
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3]
  return Buffer.concat([head, key, body])
}

const sock = net.connect(Number(url.port || 80), url.hostname)
let buf = Buffer.alloc(0)
let upgraded = false
let done = false
let sent = 0
let errors = 0
const codes = new Set()
let floodTimer = null
let httpLine = null

function finish (line) {
  if (done) return
  done = true
  if (floodTimer) clearInterval(floodTimer)
  if (opt.flood) console.log(`flood sent=${sent} errors=${errors} codes=${[...codes].sort().join(',')}`)
  if (line) console.log(line)
  sock.destroy()
  process.exit(0)
}
setTimeout(() => finish('fail timeout'), opt.timeout * 1000).unref()

sock.on('connect', () => {
  const key = crypto.randomBytes(16).toString('base64')
  sock.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
    'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
    `Sec-WebSocket-Key: ${key}\r\n` + (opt.origin ? `Origin: ${opt.origin}\r\n` : '') + '\r\n')
})

function onText (text) {
  let f = null
  try { f = JSON.parse(text) } catch (e) {}
  if (f && f.type === 'hello') {
    console.log('hello')
    for (const s of opt.sends) sock.write(frame(1, Buffer.from(s.text), s.mask))
    if (opt.flood) {
      const msg = frame(1, Buffer.from(opt.flood), true)
      const end = Date.now() + opt.seconds * 1000
      floodTimer = setInterval(() => {
        if (Date.now() >= end) { finish(null); return }
        for (let i = 0; i < opt.perTick; i++) { sock.write(msg); sent++ }
      }, 10)
    }
    return
  }
  if (opt.flood && f && f.type === 'error') { errors++; codes.add(f.code); return }
  if (opt.flood) return
  if (f && f.connectionId) f.connectionId = 'ID'
  console.log(f ? JSON.stringify(f) : text)
}

function parseFrames () {
  for (;;) {
    if (buf.length < 2) return
    let len = buf[1] & 127
    let off = 2
    if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4 }
    if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10 }
    if (buf.length < off + len) return
    const op = buf[0] & 15
    const payload = buf.subarray(off, off + len)
    buf = buf.subarray(off + len)
    if (op === 1) onText(payload.toString())
    else if (op === 8) finish(`close ${len >= 2 ? payload.readUInt16BE(0) : 1005} ${payload.subarray(2).toString()}`.trimEnd())
    else if (op === 9) sock.write(frame(10, payload, true))
  }
}

sock.on('data', d => {
  buf = Buffer.concat([buf, d])
  if (httpLine) return
  if (!upgraded) {
    const end = buf.indexOf('\r\n\r\n')
    if (end < 0) return
    const head = buf.subarray(0, end).toString()
    const status = Number(head.split(' ')[1])
    if (status !== 101) {
      // the body follows; wait a moment for all of it (or the close)
      httpLine = () => `http ${status} ${buf.subarray(end + 4).toString().trim()}`
      setTimeout(() => finish(httpLine()), 200)
      return
    }
    upgraded = true
    buf = buf.subarray(end + 4)
    console.log('open')
  }
  parseFrames()
})
sock.on('error', e => finish(`fail ${e.message}`))
sock.on('close', () => finish(upgraded ? 'close 1006' : httpLine ? httpLine() : 'fail closed'))
