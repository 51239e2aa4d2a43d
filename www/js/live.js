// A WebSocket that reconnects by itself.
//
// Backoff: the first retry waits about 0.5 s, each further one doubles, up to
// 10 s, every wait jittered by +-25% so a restarted server is not hit by every
// browser at once. The backoff resets once the server has said hello (not
// merely on open: a server that accepts and then closes at once, e.g. a
// refused duplicate connection, must not be hammered).
//
// Callbacks:
//   onFrame(frame)   every JSON frame from the server (hello included)
//   onState(state)   'connecting' | 'live' | 'reconnecting' | 'stopped'
//   onClose(event)   the socket closed; return false to stop reconnecting

const FIRST_DELAY = 500
const MAX_DELAY = 10000

export class LiveSocket {
  constructor ({ url, onFrame, onState, onClose }) {
    this.url = url // a function, called for every attempt
    this.onFrame = onFrame || (() => {})
    this.onState = onState || (() => {})
    this.onClose = onClose || (() => true)
    this.ws = null
    this.timer = null
    this.delay = FIRST_DELAY
    this.stopped = true
    this.failures = 0 // attempts in a row that never reached hello
    this.hellos = 0 // hellos received since start()
    this._wake = () => { if (!this.stopped && !this.ws) this._now() }
  }

  // (Re)start from scratch: fresh backoff, immediate attempt.
  start () {
    this.stop(true)
    this.stopped = false
    this.delay = FIRST_DELAY
    this.failures = 0
    this.hellos = 0
    window.addEventListener('online', this._wake)
    this._open()
  }

  // Close for good (until start() is called again).
  stop (quiet) {
    this.stopped = true
    clearTimeout(this.timer)
    this.timer = null
    window.removeEventListener('online', this._wake)
    const ws = this.ws
    this.ws = null
    if (ws) {
      try { ws.close(1000, 'bye') } catch (e) { /* already closed */ }
    }
    if (!quiet) this.onState('stopped')
  }

  // Send a JSON frame; false when the socket is not open.
  send (obj) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false
    this.ws.send(JSON.stringify(obj))
    return true
  }

  get live () { return !!this.ws && this.ws.readyState === WebSocket.OPEN && this.helloSeen }

  _now () {
    clearTimeout(this.timer)
    this.timer = null
    this._open()
  }

  _open () {
    let ws
    this.helloSeen = false
    this.onState(this.hellos ? 'reconnecting' : (this.failures ? 'reconnecting' : 'connecting'))
    try {
      ws = new WebSocket(this.url())
    } catch (e) {
      this._retry()
      return
    }
    this.ws = ws
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return
      let frame
      try { frame = JSON.parse(ev.data) } catch (e) { return }
      if (!frame || typeof frame !== 'object') return
      if (frame.type === 'hello') {
        this.helloSeen = true
        this.hellos++
        this.failures = 0
        this.delay = FIRST_DELAY
        this.onState('live')
      }
      this.onFrame(frame)
    }
    ws.onerror = () => { /* a close event always follows */ }
    ws.onclose = (ev) => {
      if (this.ws !== ws) return // an old socket we already replaced
      this.ws = null
      if (!this.helloSeen) this.failures++
      const again = this.onClose(ev) !== false
      if (this.stopped) return
      if (!again) { this.stop(); return }
      this._retry()
    }
  }

  _retry () {
    this.ws = null
    this.onState('reconnecting')
    const wait = Math.min(MAX_DELAY, this.delay * (0.75 + Math.random() * 0.5))
    this.delay = Math.min(MAX_DELAY, this.delay * 2)
    clearTimeout(this.timer)
    this.timer = setTimeout(() => { this.timer = null; if (!this.stopped) this._open() }, wait)
  }
}
