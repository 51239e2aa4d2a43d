// Shared by tests/client/*.test.mjs: the running system (set up by
// tests/t8000-client-js.sh, which passes it in the environment), the client
// library with the ws package as its WebSocket, and small helpers.
import { execFileSync } from 'node:child_process'
import { createHmac } from 'node:crypto'
import fs from 'node:fs'
import WebSocket from 'ws'
import { connect as rawConnect } from '../../clients/js/bookpics-client.js'

export const env = process.env
export const BASE = env.BASE
export const WS = env.WS
export const T1 = env.T1
export const T2 = env.T2
export const T3 = env.T3

// connect() with the ws package (Node 18 has no global WebSocket) and
// quick retries so the tests do not wait on the production backoff.
export function connect (url, opts = {}) {
  return rawConnect(url, { WebSocket, minReconnectDelay: 100, maxReconnectDelay: 1000, ...opts })
}

export const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

// Resolve the first time the client emits `event` (optionally matching).
export function once (emitter, event, ms = 10000, test = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { emitter.off(event, fn); reject(new Error(`no ${event} within ${ms} ms`)) }, ms)
    function fn (v) {
      if (!test(v)) return
      clearTimeout(timer)
      emitter.off(event, fn)
      resolve(v)
    }
    emitter.on(event, fn)
  })
}

// Poll fn() until truthy or `ms` passed.
export async function until (fn, ms = 10000) {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await fn()) return true
    await sleep(50)
  }
  return false
}

// A chat message over HTTP, as another program would send it: its index.
export async function post (room, token, text) {
  const res = await fetch(`${BASE}/api/rooms/${room}/messages`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ chatMessage: text })
  }).catch(e => { throw new Error(`post ${room}: ${e.message}: ${e.cause && (e.cause.code || e.cause.message)}`) })
  if (res.status !== 201) throw new Error(`post ${room}: HTTP ${res.status}`)
  return (await res.json()).index
}

export function admin (...args) {
  return execFileSync(`${env.BIN}/bookpics-admin`, ['--var', env.VAR, ...args], { encoding: 'utf8' }).trim()
}

// A correctly signed token for any user name (the secret is in the conf):
// how a token for a user who does not exist looks.
export function mintToken (user, expires) {
  const conf = fs.readFileSync(`${env.VAR}/bookpics.conf`, 'utf8')
  const secret = /^token_secret *= *(.*)$/m.exec(conf)[1].trim()
  const payload = `${user}.${expires}`
  return `${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`
}

async function relayUp (up) {
  try {
    const h = await (await fetch(`${BASE}/api/health`)).json()
    return h.relay === up
  } catch (e) { return false }
}

// The supervisor (bookpics-run, $TRASH/bookpics.pid) restarts a dead relay
// within 2 s: hold it (SIGSTOP) while a test looks at the site without a
// relay, as tests/lib-ws.sh's relay_kill9 does; relayStart lets it go.
function supervisor () {
  return Number(fs.readFileSync(`${env.TRASH}/bookpics.pid`, 'utf8'))
}

// kill -9 the relay and wait until the site says it is down.
export async function relayKill9 () {
  process.kill(supervisor(), 'SIGSTOP')
  const pid = Number(fs.readFileSync(`${env.VAR}/run/relay.pid`, 'utf8'))
  process.kill(pid, 'SIGKILL')
  if (!await until(() => relayUp(false), 5000)) throw new Error('relay still up')
}

// Let the supervisor start the relay again, and wait until it answers.
export async function relayStart () {
  process.kill(supervisor(), 'SIGCONT')
  if (!await until(() => relayUp(true), 10000)) throw new Error('relay did not come back')
}

// Collect a client's messages per room: {room: [index, ...]}.
export function collect (client) {
  const got = {}
  client.on('message', m => { (got[m.room] ||= []).push(m.index) })
  return got
}

export const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i)

// Until `got` (from collect) holds `index` for `room`: a message may arrive
// before the HTTP answer to the post that caused it, so never wait for an
// event after posting.
export async function arrived (got, room, index, ms = 5000) {
  if (!await until(() => (got[room] || []).includes(index), ms)) {
    throw new Error(`${room} ${index} did not arrive (got ${JSON.stringify(got[room] || [])})`)
  }
}
