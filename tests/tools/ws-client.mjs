#!/usr/bin/env node
// ws-client.mjs - a scriptable WebSocket client for the relay's shell tests.
//
//   node ws-client.mjs URL [options]
//
// One client (default): connect, send the --send frames once the server's
// hello arrived, print every frame received as one line, and leave when an
// expectation is met, when the server closes, or at --timeout.
//
//   --send TEXT            a frame to send after hello (repeatable, in order;
//                          sent as given: it need not be JSON)
//   --send-size N          a JSON text frame of exactly N bytes
//   --fragment BYTES       send every frame in fragments of at most BYTES
//   --repeat N             send the --send frames N times over (a load)
//   --pause-until FILE     stop reading from the socket after hello until
//                          FILE exists: a client that does not read
//   --in FILE              also send every line appended to FILE (polled every
//                          50 ms): a background client driven from shell
//   --count N              leave after N frames (hello included)
//   --expect-messages K    leave after K "message" frames
//   --until REGEX          leave after printing a line matching REGEX
//   --timeout S            give up after S seconds (default 10)
//   --out FILE             append the lines to FILE instead of stdout
//   --ready FILE           create FILE when hello arrived (or the connection
//                          was refused or closed): "the client is in place"
//   --raw                  print frames exactly as received
//   --pings                print "ping" for every ping from the server
//   --no-pong              never answer pings: a client gone silent
//
// Lines printed (stable and greppable):
//   message ROOM INDEX USERID CHATMESSAGE   a message frame (text on one line)
//   {"type":"hello","connectionId":"ID",...}  other frames: compact JSON, the
//                                           connection id masked as "ID"
//   http STATUS BODY                        the upgrade was refused with STATUS
//   close CODE REASON                       the server closed the connection
//                                           (1006: without a close frame)
//   ping                                    a ping (with --pings)
//   fail MESSAGE                            could not connect, or timed out
// Exit status: 0 when done, 1 when an expectation (--count,
// --expect-messages, --until) was not met, 2 on bad usage.
//
// Many clients (--clients N): N connections in this process, each sending
// the --send frames after its hello, each checking the "message" frames it
// gets per room: an index at or below the last one is a duplicate (below:
// out of order), one beyond last+1 a gap (the first expected index is
// after+1 when the client subscribed with "after"). A client is complete
// after K (--expect-messages) messages. At the end one summary line:
//   clients=N complete=C dup=D gap=G order=ok|bad [reconnects=R]
// and with --verbose one line per client: client I ROOM FIRST-LAST COUNT.
//   --reconnect            reconnect a closed client (100..1000 ms backoff)
//                          and resend its subscribes with "after" set to the
//                          highest index it got: the relay must then deliver
//                          exactly what is missing
// Exit status 0 only if every client is complete with no dup or gap.
import fs from 'node:fs'
import WebSocket from 'ws'

function usage (msg) {
  process.stderr.write(`ws-client: ${msg}\nusage: ws-client.mjs URL [--send TEXT]... [--count N] [--expect-messages K] [--timeout S] [--clients N] ...\n`)
  process.exit(2)
}

const opt = { sends: [], timeout: 10, count: 0, expect: 0, clients: 0 }
const args = process.argv.slice(2)
for (let i = 0; i < args.length; i++) {
  const a = args[i]
  const val = () => { if (i + 1 >= args.length) usage(`${a} needs a value`); return args[++i] }
  const num = () => { const v = Number(val()); if (!Number.isFinite(v) || v < 0) usage(`${a} needs a number`); return v }
  switch (a) {
    case '--send': opt.sends.push(val()); break
    case '--send-size': opt.sends.push(sized(num())); break
    case '--fragment': opt.fragment = num(); break
    case '--repeat': opt.repeat = num(); break
    case '--pause-until': opt.pauseUntil = val(); break
    case '--in': opt.in = val(); break
    case '--count': opt.count = num(); break
    case '--expect-messages': opt.expect = num(); break
    case '--until': opt.until = new RegExp(val()); break
    case '--timeout': opt.timeout = num(); break
    case '--out': opt.out = val(); break
    case '--ready': opt.ready = val(); break
    case '--raw': opt.raw = true; break
    case '--pings': opt.pings = true; break
    case '--no-pong': opt.noPong = true; break
    case '--clients': opt.clients = num(); break
    case '--reconnect': opt.reconnect = true; break
    case '--verbose': opt.verbose = true; break
    default:
      if (a.startsWith('--') || opt.url) usage(`unknown argument ${a}`)
      opt.url = a
  }
}
if (!opt.url) usage('no URL')

// A JSON text frame of exactly n bytes: {"action":"pad","pad":"xxx..."}.
function sized (n) {
  const head = '{"action":"pad","pad":"'
  const tail = '"}'
  return head + 'x'.repeat(Math.max(0, n - head.length - tail.length)) + tail
}

const outFd = opt.out ? fs.openSync(opt.out, 'a') : 1
function emit (line) { fs.writeSync(outFd, line + '\n') }
function touchReady () { if (opt.ready) fs.writeFileSync(opt.ready, '') }

// Send text, in fragments when --fragment is set.
function sendFrame (ws, text) {
  if (!opt.fragment || text.length <= opt.fragment) { ws.send(text); return }
  for (let off = 0; off < text.length; off += opt.fragment) {
    ws.send(text.slice(off, off + opt.fragment), { fin: off + opt.fragment >= text.length })
  }
}

// One line for a frame: see the header.
function frameLine (data) {
  const text = data.toString()
  if (opt.raw) return text
  let f
  try { f = JSON.parse(text) } catch (e) { return 'nonjson ' + text }
  if (f && f.type === 'message') {
    return ['message', f.room, f.index, f.userId, String(f.chatMessage ?? '').replace(/\s+/g, ' ')].join(' ').trimEnd()
  }
  if (f && f.type === 'hello' && 'connectionId' in f) f.connectionId = 'ID'
  return JSON.stringify(f)
}

// The --send frames, --repeat times over.
function sendAll (ws) {
  for (let n = 0; n < (opt.repeat || 1); n++) for (const s of opt.sends) sendFrame(ws, s)
}

// --pause-until: stop reading now, read again once the file exists.
function pauseReading (ws) {
  if (!opt.pauseUntil || !ws._socket) return
  ws._socket.pause()
  const t = setInterval(() => {
    if (fs.existsSync(opt.pauseUntil)) { clearInterval(t); ws._socket.resume() }
  }, 100)
}

// Read the body of a refused upgrade, then call done(body).
function readBody (res, done) {
  let body = ''
  res.on('data', d => { body += d })
  res.on('end', () => done(body))
  res.on('error', () => done(body))
}

if (opt.clients > 0) many(); else single()

function single () {
  let frames = 0
  let messages = 0
  let finished = false
  let inPoll = null
  const metExpectation = () =>
    (!opt.count || frames >= opt.count) && (!opt.expect || messages >= opt.expect) && !opt.until
  const hasExpectation = () => opt.count || opt.expect || opt.until
  const finish = (code) => {
    if (finished) return
    finished = true
    clearInterval(inPoll)
    touchReady()
    try { ws.terminate() } catch (e) { /* gone */ }
    setImmediate(() => process.exit(code))
  }
  const timer = setTimeout(() => {
    if (hasExpectation()) emit(`fail timeout after ${opt.timeout} s (${frames} frames, ${messages} messages)`)
    finish(hasExpectation() ? 1 : 0)
  }, opt.timeout * 1000)
  timer.unref()

  const ws = new WebSocket(opt.url, { autoPong: !opt.noPong })
  if (opt.pings) ws.on('ping', () => { if (!finished) emit('ping') })
  ws.on('unexpected-response', (req, res) => {
    readBody(res, body => {
      emit(`http ${res.statusCode} ${body.replace(/\s+/g, ' ').trim()}`)
      finish(hasExpectation() && !metExpectation() ? 1 : 0)
    })
  })
  ws.on('error', e => { if (finished) return; emit(`fail ${e.message}`); finish(1) })
  ws.on('close', (code, reason) => {
    if (finished) return
    emit(`close ${code} ${reason.toString()}`.trimEnd())
    finish(hasExpectation() && !metExpectation() ? 1 : 0)
  })
  ws.on('message', (data) => {
    if (finished) return
    const line = frameLine(data)
    emit(line)
    frames++
    if (line.startsWith('message ')) messages++
    if (frames === 1) {
      touchReady()
      sendAll(ws)
      if (opt.in) startIn()
      pauseReading(ws)
    }
    if (opt.until && opt.until.test(line)) { finish(0); return }
    if (hasExpectation() && !opt.until && metExpectation()) finish(0)
  })

  function startIn () {
    let offset = 0
    let rest = ''
    inPoll = setInterval(() => {
      let st
      try { st = fs.statSync(opt.in) } catch (e) { return }
      if (st.size <= offset) return
      const fd = fs.openSync(opt.in, 'r')
      const buf = Buffer.alloc(st.size - offset)
      fs.readSync(fd, buf, 0, buf.length, offset)
      fs.closeSync(fd)
      offset = st.size
      const lines = (rest + buf.toString()).split('\n')
      rest = lines.pop()
      for (const l of lines) if (l.length) sendFrame(ws, l)
    }, 50)
  }
}

function many () {
  const clients = []
  let helloCount = 0
  let readyDone = false
  let finished = false
  let reconnects = 0

  // The rooms a client subscribes to, with the "after" it asked for.
  const subs = []
  for (const s of opt.sends) {
    try {
      const f = JSON.parse(s)
      if (f && f.action === 'subscribe' && typeof f.room === 'string') subs.push(f)
    } catch (e) { /* sent as is */ }
  }

  const complete = c => c.count >= opt.expect
  const check = () => {
    if (!finished && clients.every(complete)) finish()
  }
  const finish = () => {
    if (finished) return
    finished = true
    let dup = 0; let gap = 0; let order = true; let done = 0
    for (const c of clients) {
      dup += c.dup; gap += c.gap; if (!c.inOrder) order = false
      if (complete(c)) done++
      if (opt.verbose) {
        for (const [room, r] of Object.entries(c.rooms)) emit(`client ${c.id} ${room} ${r.first}-${r.last} ${r.count}`)
      }
    }
    emit(`clients=${clients.length} complete=${done} dup=${dup} gap=${gap} order=${order ? 'ok' : 'bad'}` +
      (opt.reconnect ? ` reconnects=${reconnects}` : ''))
    for (const c of clients) { try { c.ws.terminate() } catch (e) { /* gone */ } }
    touchReady()
    setImmediate(() => process.exit(done === clients.length && !dup && !gap && order ? 0 : 1))
  }
  setTimeout(finish, opt.timeout * 1000).unref()

  function connect (c) {
    const ws = new WebSocket(opt.url)
    c.ws = ws
    c.hello = false
    ws.on('unexpected-response', (req, res) => {
      readBody(res, body => { if (opt.verbose) emit(`client ${c.id} http ${res.statusCode} ${body}`) })
      retry(c)
    })
    ws.on('error', () => retry(c))
    ws.on('close', () => retry(c))
    ws.on('message', (data) => {
      let f
      try { f = JSON.parse(data.toString()) } catch (e) { c.bad++; return }
      if (!c.hello) {
        c.hello = true
        c.delay = 0
        if (c.connects++ === 0 && ++helloCount === clients.length && !readyDone) { readyDone = true; touchReady() }
        if (c.connects === 1) {
          sendAll(ws)
          pauseReading(ws)
        } else {
          // Resume: every subscribed room after the highest index we got.
          for (const s of subs) {
            const r = c.rooms[s.room]
            const again = { ...s }
            if (r) again.after = r.last
            sendFrame(ws, JSON.stringify(again))
          }
        }
        return
      }
      if (f.type !== 'message') { if (opt.verbose) emit(`client ${c.id} ${JSON.stringify(f)}`); return }
      let r = c.rooms[f.room]
      if (!r) {
        const s = subs.find(x => x.room === f.room)
        const start = s && Number.isInteger(s.after) ? s.after : f.index - 1
        r = c.rooms[f.room] = { first: f.index, last: start, count: 0 }
      }
      if (f.index <= r.last) {
        c.dup++
        if (f.index < r.last) c.inOrder = false
        return
      }
      if (f.index > r.last + 1) c.gap++
      r.last = f.index
      r.count++
      c.count++
      if (complete(c)) check()
    })
  }

  function retry (c) {
    if (finished || c.retrying) return
    try { c.ws.terminate() } catch (e) { /* gone */ }
    if (!opt.reconnect) return
    c.retrying = true
    reconnects++
    c.delay = Math.min(1000, (c.delay || 50) * 2)
    setTimeout(() => { c.retrying = false; if (!finished) connect(c) }, c.delay)
  }

  for (let i = 0; i < opt.clients; i++) {
    const c = { id: i, rooms: {}, count: 0, dup: 0, gap: 0, bad: 0, inOrder: true, connects: 0 }
    clients.push(c)
    connect(c)
  }
  if (!opt.expect) setTimeout(finish, 100).unref()
}
