#!/usr/bin/env node
// t2100-relay-moderation.mjs - many WebSocket clients in one process, for
// t2100: every frame each client gets is one line of --out, prefixed with
// the client's number, so the shell can count who got what in which order.
//
//   node t2100-relay-moderation.mjs URL --clients N --send FRAME --out FILE
//        --ready FILE [--timeout S]
//
// Lines: "I message ROOM INDEX USERID TEXT" for a message frame, "I JSON"
// (compact, as received) for every other frame but hello, "I close CODE"
// when the server closes. --ready is created once every client has its
// hello and has sent FRAME. The clients stay until --timeout (default 55 s)
// or until the process is killed.
import fs from 'node:fs'
import WebSocket from 'ws'

const opt = { clients: 1, timeout: 55 }
const args = process.argv.slice(2)
for (let i = 0; i < args.length; i++) {
  const a = args[i]
  if (a === '--clients') opt.clients = Number(args[++i])
  else if (a === '--send') opt.send = args[++i]
  else if (a === '--out') opt.out = args[++i]
  else if (a === '--ready') opt.ready = args[++i]
  else if (a === '--timeout') opt.timeout = Number(args[++i])
  else if (a.startsWith('--') || opt.url) { process.stderr.write(`t2100: unknown argument ${a}\n`); process.exit(2) }
  else opt.url = a
}
if (!opt.url || !opt.out || !opt.ready) { process.stderr.write('t2100: URL, --out and --ready are needed\n'); process.exit(2) }

const out = fs.openSync(opt.out, 'a')
const emit = line => fs.writeSync(out, line + '\n')
let ready = 0
setTimeout(() => process.exit(0), opt.timeout * 1000).unref()

for (let id = 0; id < opt.clients; id++) {
  const ws = new WebSocket(opt.url)
  let hello = false
  ws.on('error', e => emit(`${id} fail ${e.message}`))
  ws.on('close', code => emit(`${id} close ${code}`))
  ws.on('message', data => {
    const text = data.toString()
    let f
    try { f = JSON.parse(text) } catch (e) { emit(`${id} nonjson ${text}`); return }
    if (!hello) {
      hello = true
      if (opt.send) ws.send(opt.send)
      if (++ready === opt.clients) fs.writeFileSync(opt.ready, '')
      return
    }
    if (f.type === 'message') {
      emit([id, 'message', f.room, f.index, f.userId, String(f.chatMessage ?? '').replace(/\s+/g, ' ')].join(' ').trimEnd())
    } else {
      emit(`${id} ${text}`)
    }
  })
}
