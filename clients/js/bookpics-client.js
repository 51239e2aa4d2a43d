// bookpics-client.js - the bookpics JavaScript client: live rooms over the
// WebSocket relay, with catch-up that never loses or repeats a message.
// An ES module without dependencies, for browsers and Node >= 18.
//
//   import { connect } from './bookpics-client.js'
//   const client = connect('wss://books.example.org/ws', { token })
//   client.on('message', m => console.log(m.room, m.index, m.chatMessage))
//
// Guarantees, per room, checked by the library itself (not only trusted from
// the server): every message is delivered to 'message' once, in index
// order, without a gap. It tracks the last index it delivered in each room;
// on reconnect it sends {"action":"resume"} with those, drops whatever
// arrives twice, and when an index is skipped it fetches the missing range
// from the HTTP API before delivering what follows.
//
// Sends: each message carries a clientMessageId (the server stores one
// message per user and id). A send whose ack has not come when the
// connection drops is kept and sent again, with the same id, once the
// client is connected again: the server answers the first one's ack if it
// had stored it, so a lost connection neither loses nor doubles it.
//
// The protocol is docs/PROTOCOL.md; the contract is CONTRACT.md ("WebSocket
// /ws", "Web developers").

const FIRST_DELAY = 500 // ms before the first retry
const MAX_DELAY = 10000 // backoff ceiling
const TIMEOUT = 10000 // handshake, ack and HTTP probes
const PAGE_MAX = 500 // the API's largest page
const MAX_BYTES = 4096 // chatMessage limit
const DUPLICATE_TRIES = 2 // retries before a duplicate connection is final
const MESSAGE_ID = /^[A-Za-z0-9._:-]{1,64}$/ // the server's rule (docs/PROTOCOL.md)

// Why something failed, as a stable `code` (message is for humans).
// Connection refusals: token_expired, token_invalid, unknown_user,
// duplicate_connection, server_down, replaced, refused. Sends: the relay's
// error codes (not_member, bad_request, ...), not_connected, disconnected,
// timeout. HTTP: the API's error codes, network.
export class BookpicsError extends Error {
  constructor (code, message, extra) {
    super(message || code)
    this.name = 'BookpicsError'
    this.code = code
    if (extra) Object.assign(this, extra)
  }
}

// A small on/off/emit, so the module needs no EventTarget polyfill.
class Emitter {
  constructor () { this._handlers = new Map() }
  on (event, fn) {
    if (!this._handlers.has(event)) this._handlers.set(event, new Set())
    this._handlers.get(event).add(fn)
    return this
  }

  off (event, fn) {
    if (!event) this._handlers.clear()
    else if (!fn) this._handlers.delete(event)
    else if (this._handlers.has(event)) this._handlers.get(event).delete(fn)
    return this
  }

  _emit (event, arg) {
    const set = this._handlers.get(event)
    if (!set) return
    for (const fn of [...set]) {
      try { fn(arg) } catch (e) { setTimeout(() => { throw e }) } // a handler's bug is not ours
    }
  }
}

// The payload of a token USER.EXPIRY[.ISSUED].SIG (lib/token.c): {user,
// expires} or null when it does not have that shape. The signature is the
// server's business; the expiry is readable by anyone.
export function decodeToken (token) {
  const m = /^([^.]+)\.(\d+)(?:\.\d+)?\.([A-Za-z0-9_-]+)$/.exec(String(token || ''))
  return m ? { user: m[1], expires: Number(m[2]) } : null
}

// A new clientMessageId: crypto.randomUUID() where there is one (it needs a
// secure context in browsers), else 128 random bits in hex.
export function newMessageId () {
  const c = globalThis.crypto
  if (c && typeof c.randomUUID === 'function') return c.randomUUID()
  const b = new Uint8Array(16)
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(b)
  else for (let i = 0; i < b.length; i++) b[i] = Math.floor(Math.random() * 256)
  return Array.from(b, x => x.toString(16).padStart(2, '0')).join('')
}

// ws(s)://host/path -> http(s)://host
function apiBase (wsUrl) {
  const u = new URL(wsUrl)
  u.protocol = u.protocol === 'wss:' ? 'https:' : (u.protocol === 'ws:' ? 'http:' : u.protocol)
  return u.origin
}

function absoluteWs (url) {
  if (/^wss?:\/\//i.test(url)) return url
  if (typeof location !== 'undefined') {
    const u = new URL(url, location.href)
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:'
    return u.href
  }
  throw new BookpicsError('bad_request', `not a WebSocket URL: ${url}`)
}

// A subscription: the same events as the client, for one room only.
export class Subscription extends Emitter {
  constructor (client, room) {
    super()
    this.client = client
    this.room = room
  }

  // Stop delivering this room here (the server may still send it; the
  // client keeps its position so a later subscribe resumes gaplessly).
  unsubscribe () { this.client._unsubscribe(this) }

  history (params) { return this.client.history(this.room, params) }
  presence () { return this.client.presence(this.room) }
  send (text, opts) { return this.client.send(this.room, text, opts) }
}

export class Client extends Emitter {
  constructor (url, opts = {}) {
    super()
    this.url = absoluteWs(url)
    this.api = (opts.api || apiBase(this.url)).replace(/\/+$/, '')
    this.token = opts.token || ''
    this._getToken = opts.getToken || null
    this._WebSocket = opts.WebSocket || globalThis.WebSocket
    this._fetch = opts.fetch || (globalThis.fetch && globalThis.fetch.bind(globalThis))
    this._minDelay = opts.minReconnectDelay ?? FIRST_DELAY
    this._maxDelay = opts.maxReconnectDelay ?? MAX_DELAY
    this._timeout = opts.timeout ?? TIMEOUT
    if (!this._WebSocket) {
      throw new BookpicsError('bad_request', 'no WebSocket here: pass {WebSocket} (e.g. the ws package) in Node 18')
    }
    this.state = 'disconnected' // connecting | connected | disconnected
    this.userId = null
    this.connectionId = null
    this.rooms = [] // from hello: [{room, last}]
    this.lastError = null
    this.stats = { delivered: 0, duplicates: 0, gapsFilled: 0, reconnects: 0 }
    this._pos = new Map() // room -> last index delivered (null: not known yet)
    for (const [r, i] of Object.entries(opts.positions || {})) {
      if (Number.isInteger(i) && i >= 0) this._pos.set(r, i)
    }
    this._ahead = new Map() // room -> Map(index -> frame) waiting for a gap to fill
    this._filling = new Set() // rooms whose gap is being fetched
    this._subs = new Map() // room -> Set(Subscription)
    this._wanted = new Map() // room -> {after} subscribed by the user, kept across reconnects
    this._sends = [] // [{room, id, frame, resolve, reject, timer}] unacked, in the order sent
    this._ws = null
    this._timer = null
    this._delay = this._minDelay
    this._hellos = 0
    this._dupTries = 0
    this._stopped = true
    this._wake = () => { if (!this._stopped && !this._ws) this._attempt() }
    if (opts.autoConnect !== false) this.connect()
  }

  // Start (or restart after disconnect()) connecting.
  connect () {
    if (!this._stopped) return this
    this._stopped = false
    this._delay = this._minDelay
    this._dupTries = 0
    if (typeof window !== 'undefined' && window.addEventListener) window.addEventListener('online', this._wake)
    this._attempt()
    return this
  }

  // Close for good (until connect()). Pending sends are rejected.
  disconnect () {
    this._stopped = true
    clearTimeout(this._timer)
    this._timer = null
    if (typeof window !== 'undefined' && window.removeEventListener) window.removeEventListener('online', this._wake)
    const ws = this._ws
    this._ws = null
    if (ws) { try { ws.close(1000, 'bye') } catch (e) { /* closed already */ } }
    this._failSends(new BookpicsError('disconnected', 'the client was disconnected'))
    this._setState('disconnected', { code: 1000, reason: 'disconnect called' })
    return this
  }

  // The last index delivered per room: store it, pass it back as
  // connect(url, {positions}) to resume after a page reload.
  positions () {
    const o = {}
    for (const [r, i] of this._pos) if (i !== null) o[r] = i
    return o
  }

  lastIndex (room) { return this._pos.get(room) ?? null }

  // Follow a room. {after: N}: deliver from N+1 (an explicit replay if the
  // client already delivered past N); without it: the room's new messages,
  // or, for a room already followed, from where the client is.
  subscribe (room, opts = {}) {
    const sub = new Subscription(this, room)
    if (!this._subs.has(room)) this._subs.set(room, new Set())
    this._subs.get(room).add(sub)
    const after = Number.isInteger(opts.after) && opts.after >= 0 ? opts.after : null
    this._wanted.set(room, { after })
    if (after !== null) { this._pos.set(room, after); this._ahead.delete(room) }
    if (this.state === 'connected') this._follow(room)
    return sub
  }

  _unsubscribe (sub) {
    const set = this._subs.get(sub.room)
    if (set) set.delete(sub)
    if (set && !set.size) this._subs.delete(sub.room)
  }

  // Ask the server to deliver each room after the index given. Nothing is
  // delivered twice (a replay is dropped) and nothing is skipped (an index
  // beyond what was delivered leaves a gap the client fetches over HTTP).
  resume (rooms) { return this._frame({ action: 'resume', rooms }) }

  // Send a text message; resolves {room, index} with the server's ack,
  // rejects a BookpicsError (code from the relay's error frame). The frame
  // carries opts.clientMessageId, or a new one: until its ack it is sent
  // again after each reconnect. A rejection for a send that may be stored
  // (timeout, disconnected, unavailable) has err.clientMessageId: sending
  // again with it stores the message at most once.
  send (room, text, opts = {}) {
    return new Promise((resolve, reject) => {
      if (typeof text !== 'string' || new TextEncoder().encode(text).length > MAX_BYTES) {
        reject(new BookpicsError('too_large', `a message is a string of at most ${MAX_BYTES} bytes`))
        return
      }
      const id = opts.clientMessageId === undefined ? newMessageId() : opts.clientMessageId
      if (typeof id !== 'string' || !MESSAGE_ID.test(id)) {
        reject(new BookpicsError('bad_request', 'clientMessageId must be 1 to 64 of A-Z a-z 0-9 . _ : -'))
        return
      }
      if (this.state !== 'connected') {
        reject(new BookpicsError('not_connected', 'not connected right now'))
        return
      }
      const frame = { action: 'sendMessage', chatroomId: room, chatMessage: text, messageType: opts.messageType || 'text message', clientMessageId: id }
      const entry = { room, id, frame, resolve, reject, timer: null }
      entry.timer = setTimeout(() => {
        this._sends = this._sends.filter(e => e !== entry)
        reject(new BookpicsError('timeout', 'no answer from the server: the message may or may not be stored', { clientMessageId: id }))
      }, this._timeout)
      this._sends.push(entry)
      this._frame(frame)
    })
  }

  // A page of a room's messages (GET /api/rooms/{room}/messages):
  // {after} oldest first, {before} newest first, neither: the newest page.
  // Resolves {room, last, messages}.
  history (room, params = {}) {
    const q = new URLSearchParams()
    for (const k of ['after', 'before', 'limit']) if (params[k] !== undefined && params[k] !== null) q.set(k, String(params[k]))
    const qs = q.toString()
    return this._get(`/api/rooms/${encodeURIComponent(room)}/messages${qs ? '?' + qs : ''}`)
  }

  // Who is connected now (GET /api/rooms/{room}/presence): an array of user ids.
  async presence (room) {
    const body = await this._get(`/api/rooms/${encodeURIComponent(room)}/presence`)
    return Array.isArray(body && body.users) ? body.users : []
  }

  // --- HTTP ---

  async _http (path, token) {
    if (!this._fetch) throw new BookpicsError('network', 'no fetch here')
    const headers = { Accept: 'application/json' }
    if (token) headers.Authorization = `Bearer ${token}`
    const ctl = typeof AbortController !== 'undefined' ? new AbortController() : null
    const timer = ctl ? setTimeout(() => ctl.abort(), this._timeout) : null
    let res
    try {
      res = await this._fetch(this.api + path, { headers, cache: 'no-store', signal: ctl && ctl.signal })
    } catch (e) {
      throw new BookpicsError('network', `${this.api} cannot be reached`, { status: 0 })
    } finally {
      clearTimeout(timer)
    }
    let body = null
    try { body = await res.json() } catch (e) { /* not JSON */ }
    return { status: res.status, body }
  }

  async _get (path) {
    const { status, body } = await this._http(path, this.token)
    if (status < 200 || status > 299) {
      throw new BookpicsError((body && body.error) || 'http', (body && body.message) || `HTTP ${status}`, { status })
    }
    return body
  }

  // --- the socket ---

  _setState (state, info) {
    if (this.state === state) return
    const previous = this.state
    this.state = state
    this._emit('state', { state, previous, ...(info || {}) })
    this._emit(state, info || {})
  }

  _frame (obj) {
    const ws = this._ws
    if (!ws || ws.readyState !== 1 || this.state !== 'connected') return false
    ws.send(JSON.stringify(obj))
    return true
  }

  async _attempt () {
    clearTimeout(this._timer)
    this._timer = null
    if (this._stopped) return
    this._setState('connecting', {})
    if (!this.token && this._getToken) {
      try { this.token = await this._getToken() } catch (e) { this._refused(new BookpicsError('token_invalid', 'getToken failed: ' + e.message)); return }
      if (this._stopped) return
    }
    const url = this.token ? this.url + (this.url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(this.token) : this.url
    let ws
    try { ws = new this._WebSocket(url) } catch (e) { this._retry(new BookpicsError('server_down', e.message)); return }
    this._ws = ws
    let hello = false
    let refusal = null // an error frame or close code before hello
    const guard = setTimeout(() => { if (this._ws === ws && !hello) { try { ws.close() } catch (e) { /* gone */ } } }, this._timeout)
    ws.onmessage = ev => {
      if (this._ws !== ws) return
      let f
      try { f = JSON.parse(typeof ev.data === 'string' ? ev.data : String(ev.data)) } catch (e) { return }
      if (!f || typeof f !== 'object') return
      if (f.type === 'hello') { hello = true; clearTimeout(guard); this._hello(f); return }
      if (!hello) { if (f.type === 'error') refusal = f; return }
      this._onFrame(f)
    }
    ws.onerror = () => { /* a close follows */ }
    ws.onclose = ev => {
      clearTimeout(guard)
      if (this._ws !== ws) return
      this._ws = null
      // unacked sends stay: _hello sends them again with their ids
      if (this._stopped) return
      if (hello) this._closedAfterHello(ev)
      else this._diagnose(ev.code, refusal).then(err => this._refusedOrRetry(err))
    }
  }

  _closedAfterHello (ev) {
    if (ev.code === 4000) {
      this._refused(new BookpicsError('replaced', 'a newer connection of this user replaced this one', { closeCode: 4000 }))
      return
    }
    this._retry(null, { code: ev.code, reason: ev.reason || '' })
  }

  _refusedOrRetry (err) {
    if (this._stopped) return
    // A page reload opens the new socket before the relay has seen the old
    // one close: a duplicate is believed only when it lasts a moment.
    if (err.code === 'duplicate_connection' && this._dupTries++ < DUPLICATE_TRIES) { this._retry(null); return }
    const permanent = ['token_invalid', 'unknown_user', 'duplicate_connection'].includes(err.code) ||
      (err.code === 'token_expired' && !this._getToken)
    if (permanent) { this._refused(err); return }
    if (err.code === 'token_expired') this.token = '' // getToken is asked again
    this._retry(err)
  }

  _refused (err) {
    this._failSends(new BookpicsError('disconnected', `the client stopped (${err.code}) before the answer came: the message may or may not be stored`))
    this.lastError = err
    this._emit('error', err)
    this._stopped = true
    this._setState('disconnected', { code: err.closeCode || 0, reason: err.message, error: err })
  }

  _retry (err, info) {
    if (err) { this.lastError = err; this._emit('error', err) }
    this._setState('connecting', info || { error: err })
    const wait = Math.min(this._maxDelay, this._delay) * (0.75 + Math.random() * 0.5)
    this._delay = Math.min(this._maxDelay, this._delay * 2)
    clearTimeout(this._timer)
    this._timer = setTimeout(() => { this._timer = null; this._attempt() }, wait)
  }

  // The upgrade failed before hello: a browser cannot read the HTTP status,
  // so ask the HTTP API why. Resolves a BookpicsError.
  async _diagnose (closeCode, frame) {
    const ex = { closeCode }
    if (closeCode === 4409 || (frame && frame.code === 'duplicate_connection')) {
      return new BookpicsError('duplicate_connection', (frame && frame.message) || 'this user is already connected elsewhere', ex)
    }
    let health
    try {
      health = await this._http('/api/health')
    } catch (e) {
      return new BookpicsError('server_down', `the server cannot be reached (${this.api})`, ex)
    }
    const h = health.body || {}
    if (!health.body || h.relay === false ||
        (Array.isArray(h.problems) && h.problems.some(p => /relay/i.test(String(p))))) {
      return new BookpicsError('server_down', h.relay === false ? 'the server is up but its relay is down' : `the server answered HTTP ${health.status}`, ex)
    }
    if (!this.token) return new BookpicsError('refused', 'the server refused the connection', ex)
    const t = decodeToken(this.token)
    if (!t) return new BookpicsError('token_invalid', 'this is not a bookpics token (USER.EXPIRY.SIGNATURE)', ex)
    // A room the token may be checked on: the API authenticates on room
    // routes only. One the client knows, else the public room.
    const known = [...this.rooms.map(r => r.room), ...this._wanted.keys(), ...this._pos.keys()]
    const rooms = [...new Set([...known, h.twilio_room || 'books'])]
    for (const room of rooms) {
      let r
      try { r = await this._http(`/api/rooms/${encodeURIComponent(room)}/presence`, this.token) } catch (e) {
        return new BookpicsError('server_down', `the server cannot be reached (${this.api})`, ex)
      }
      if (r.status === 404) continue // no such room: try the next
      if (r.status === 401) {
        const msg = String((r.body && r.body.message) || '')
        if (/expired/i.test(msg)) return new BookpicsError('token_expired', 'the token has expired', { ...ex, expires: t.expires })
        if (/unknown user/i.test(msg)) return new BookpicsError('unknown_user', `there is no user '${t.user}' on this server`, { ...ex, userId: t.user })
        return new BookpicsError('token_invalid', `the server did not accept the token (${msg || 'unauthorized'})`, ex)
      }
      if (r.status === 200 && r.body && Array.isArray(r.body.users) && r.body.users.includes(t.user)) {
        return new BookpicsError('duplicate_connection', `user ${t.user} is already connected elsewhere`, { ...ex, userId: t.user })
      }
      if (r.status === 200 || r.status === 403) break // the token is good
    }
    if (t.expires * 1000 <= Date.now()) return new BookpicsError('token_expired', 'the token has expired', { ...ex, expires: t.expires })
    return new BookpicsError('refused', 'the server refused the connection', ex)
  }

  _hello (f) {
    this.userId = f.userId || null
    this.connectionId = f.connectionId || null
    this.rooms = Array.isArray(f.rooms) ? f.rooms.filter(r => r && typeof r.room === 'string') : []
    this._delay = this._minDelay
    this._dupTries = 0
    if (this._hellos++) this.stats.reconnects++
    this.lastError = null
    this._setState('connected', { userId: this.userId, connectionId: this.connectionId, rooms: this.rooms })
    // Resume every room the client has delivered from: the rooms of the
    // user (followed anyway; resume makes it exact) and those subscribed.
    const mine = new Set(this.rooms.map(r => r.room))
    const resume = {}
    for (const [room, i] of this._pos) {
      if (i !== null && (mine.has(room) || this._wanted.has(room))) resume[room] = i
    }
    if (Object.keys(resume).length) this._frame({ action: 'resume', rooms: resume })
    for (const room of this._wanted.keys()) if (!(room in resume)) this._follow(room)
    // Sends the last connection left unanswered, in their order, with
    // their ids: stored once whether or not the first try got there.
    for (const e of this._sends) this._frame(e.frame)
  }

  // Start following a subscribed room on the live connection.
  async _follow (room) {
    const pos = this._pos.get(room)
    if (pos !== undefined && pos !== null) { this._frame({ action: 'resume', rooms: { [room]: pos } }); return }
    if (this.rooms.some(r => r.room === room)) return // a member room: followed from its cursor already
    // New messages only: learn where the room is now, then follow from
    // there, so a reconnect before the first message loses nothing either.
    let page
    try {
      page = await this.history(room, { limit: 1 })
    } catch (e) {
      this._roomError(room, e)
      if (e.status) this._wanted.delete(room) // refused for good (401, 403, 404)
      return
    }
    if (!this._wanted.has(room) || this.state !== 'connected') return
    const cur = this._pos.get(room)
    if (cur === undefined || cur === null) this._pos.set(room, Number.isInteger(page.last) ? page.last : 0)
    this._frame({ action: 'resume', rooms: { [room]: this._pos.get(room) } })
  }

  _roomError (room, err) {
    err.room = room
    this._emit('error', err)
    for (const s of this._subs.get(room) || []) s._emit('error', err)
  }

  _onFrame (f) {
    switch (f.type) {
      case 'message': this._accept(f); break
      case 'hidden':
      case 'shown': {
        if (typeof f.room !== 'string' || !Number.isInteger(f.index)) return
        const { type, ...m } = f
        this._deliverEvent(type, m)
        break
      }
      case 'ack': {
        // by its id; a relay that echoes none: the oldest send to the room
        const i = typeof f.clientMessageId === 'string'
          ? this._sends.findIndex(e => e.id === f.clientMessageId)
          : this._sends.findIndex(e => e.room === f.room)
        if (i < 0) return
        const [e] = this._sends.splice(i, 1)
        clearTimeout(e.timer)
        e.resolve({ room: f.room, index: f.index })
        break
      }
      case 'error': {
        const err = new BookpicsError(f.code || 'error', f.message || f.code)
        const e = this._sends.shift() // the relay answers frames in order
        if (e) err.clientMessageId = e.id
        if (e) { clearTimeout(e.timer); e.reject(err) } else this._emit('error', err)
        break
      }
    }
  }

  _deliverEvent (event, m) {
    this._emit(event, m)
    for (const s of this._subs.get(m.room) || []) s._emit(event, m)
  }

  // One message, from the socket or from a gap fetch: deliver it if it is
  // the next one, drop it if it was delivered, hold it if one is missing.
  _accept (f) {
    if (typeof f.room !== 'string' || !Number.isInteger(f.index) || f.index < 1) return
    const room = f.room
    const { type, ...m } = f
    let last = this._pos.get(room)
    if (last === undefined || last === null) last = m.index - 1 // the first one sets the start
    if (m.index <= last) { this.stats.duplicates++; return }
    if (m.index > last + 1) {
      if (!this._ahead.has(room)) this._ahead.set(room, new Map())
      this._ahead.get(room).set(m.index, m)
      this._pos.set(room, last)
      this._fill(room)
      return
    }
    this._deliver(room, m)
    const ahead = this._ahead.get(room)
    while (ahead && ahead.has(this._pos.get(room) + 1)) {
      const next = ahead.get(this._pos.get(room) + 1)
      ahead.delete(next.index)
      this._deliver(room, next)
    }
    if (ahead) {
      for (const i of ahead.keys()) if (i <= this._pos.get(room)) ahead.delete(i)
      if (!ahead.size) this._ahead.delete(room)
    }
  }

  _deliver (room, m) {
    this._pos.set(room, m.index)
    this.stats.delivered++
    this._deliverEvent('message', m)
  }

  // Fetch what is missing between the last delivered index and the first
  // held one, over HTTP; retried with backoff until it arrives (by either way).
  async _fill (room) {
    if (this._filling.has(room)) return
    this._filling.add(room)
    let wait = this._minDelay
    try {
      for (;;) {
        const ahead = this._ahead.get(room)
        if (!ahead || !ahead.size) return
        const last = this._pos.get(room)
        const first = Math.min(...ahead.keys())
        if (first <= last + 1) { this._accept({ ...ahead.get(first) }); continue }
        let got = 0
        try {
          const page = await this.history(room, { after: last, limit: Math.min(PAGE_MAX, first - last - 1) })
          for (const m of (page && page.messages) || []) {
            if (m && m.room === undefined) m.room = room
            if (m && m.index > this._pos.get(room) && m.index < first) got++
            this._accept(m)
          }
          if (got) this.stats.gapsFilled++
        } catch (e) {
          this._roomError(room, new BookpicsError('gap', `messages ${last + 1}..${first - 1} of ${room} are missing and could not be fetched: ${e.message}`, { status: e.status }))
        }
        if (!got) {
          await new Promise(resolve => setTimeout(resolve, wait))
          wait = Math.min(this._maxDelay, wait * 2)
        }
        if (this._stopped) return
      }
    } finally {
      this._filling.delete(room)
    }
  }

  _failSends (err) {
    const sends = this._sends
    this._sends = []
    for (const e of sends) {
      clearTimeout(e.timer)
      e.reject(new BookpicsError(err.code, err.message, { clientMessageId: e.id }))
    }
  }
}

// Connect to a bookpics relay: `url` is its WebSocket address
// (ws://HOST:PORT/ws, or /ws relative to the page). Options: token,
// getToken, api (HTTP base, default from url), WebSocket, fetch,
// positions, minReconnectDelay, maxReconnectDelay, timeout, autoConnect.
export function connect (url, opts) {
  return new Client(url, opts)
}

export default connect
