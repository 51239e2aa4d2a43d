// slowloris.mjs PORT SOCKETS SECONDS [FIRST_ADDR [PER_ADDR]] - a slow-header
// attack on 127.0.0.1:PORT for the fault suite (tests/t1120, t1121): SOCKETS
// connections bound to 127.0.0.2, 127.0.0.3, ... (PER_ADDR a source address,
// default 250), each sending
// one byte of an endless request header a second, for SECONDS. Prints
// "open N" once every socket connected (or failed), and if any failed
// "failed CODE=COUNT ..." (ECONNRESET: refused as soon as accepted), then
// each second "alive N closed C", and "done alive N closed C" at the end.
// Whatever a server answers (a 408) is read and dropped, so that a close
// is seen when it happens.
import net from 'node:net'

const [port, sockets, seconds, first, perAddr = 250] = process.argv.slice(2).map((v, i) => i !== 3 ? Number(v) : v)
if (!port || !sockets || !seconds || !perAddr) {
  process.stderr.write('usage: slowloris.mjs PORT SOCKETS SECONDS [FIRST_ADDR [PER_ADDR]]\n')
  process.exit(2)
}
const base = (first || '127.0.0.2').split('.').map(Number)
const header = 'GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(100000)
let alive = 0, closed = 0, settled = 0
const conns = []
const failed = {}

function opened () {
  console.log(`open ${alive}`)
  const codes = Object.keys(failed).sort()
  if (codes.length) console.log('failed ' + codes.map((k) => `${k}=${failed[k]}`).join(' '))
}

function addr (i) {
  const n = base[3] + Math.floor(i / perAddr)
  return `${base[0]}.${base[1]}.${base[2] + Math.floor((n - 1) / 254)}.${((n - 1) % 254) + 1}`
}

for (let i = 0; i < sockets; i++) {
  const s = net.connect({ port, host: '127.0.0.1', localAddress: addr(i) })
  const c = { s, sent: 0, up: false }
  s.on('connect', () => { c.up = true; alive++; if (++settled === sockets) opened() })
  s.on('error', (e) => { if (!c.up) failed[e.code] = (failed[e.code] || 0) + 1 })
  s.on('close', () => {
    if (c.up) { alive--; closed++ } else if (++settled === sockets) opened()
    c.up = false
  })
  s.resume()
  conns.push(c)
}
const tick = setInterval(() => {
  for (const c of conns) {
    if (c.up && c.sent < header.length) c.s.write(header[c.sent++])
  }
  console.log(`alive ${alive} closed ${closed}`)
}, 1000)
setTimeout(() => {
  clearInterval(tick)
  console.log(`done alive ${alive} closed ${closed}`)
  for (const c of conns) c.s.destroy()
  process.exit(0)
}, seconds * 1000)
