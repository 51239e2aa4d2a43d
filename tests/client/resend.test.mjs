// Sends across a lost connection: every send carries a clientMessageId; one
// whose ack was lost, or whose frame never left, is sent again with the
// same id after the reconnect and stored once.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import WebSocket from 'ws'
import { connect, once, WS, T1, T2 } from './helpers.mjs'
import { BookpicsError, newMessageId } from '../../clients/js/bookpics-client.js'

// A ws that records the sendMessage frames it sends and can lose one
// exchange: 'ack' ends the connection when the next ack arrives (the
// message is stored, the client never hears it), 'send' ends it instead of
// sending the next sendMessage (the server never hears it).
const wire = []
let lose = null
class Lossy extends WebSocket {
  send (data, ...rest) {
    const f = JSON.parse(data)
    if (f.action === 'sendMessage') {
      wire.push(f)
      if (lose === 'send') { lose = null; this.terminate(); return }
    }
    return super.send(data, ...rest)
  }

  get onmessage () { return super.onmessage }
  set onmessage (fn) {
    super.onmessage = ev => {
      if (lose === 'ack' && JSON.parse(String(ev.data)).type === 'ack') { lose = null; this.terminate(); return }
      fn(ev)
    }
  }
}

// The texts of uuidroom2 after index `after`, as the API has them.
async function texts (c, after) {
  const page = await c.history('uuidroom2', { after, limit: 500 })
  return page.messages.map(m => `${m.index} ${m.chatMessage}`)
}

test('newMessageId: a UUID here; the server accepts its shape', () => {
  const a = newMessageId()
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
  assert.notEqual(a, newMessageId())
})

test('an ack lost with the connection: sent again with the same id, stored once, the first index', async () => {
  const c = connect(WS, { token: T1, WebSocket: Lossy })
  const watcher = connect(WS, { token: T2 })
  try {
    await Promise.all([once(c, 'connected'), once(watcher, 'connected')])
    const before = (await c.history('uuidroom2', { limit: 1 })).last
    wire.length = 0
    lose = 'ack'
    const ack = await c.send('uuidroom2', 'the ack was lost')
    assert.deepEqual(ack, { room: 'uuidroom2', index: before + 1 })
    assert.equal(c.stats.reconnects, 1)
    assert.equal(wire.length, 2, 'sent once, then again after the reconnect')
    assert.equal(wire[0].clientMessageId, wire[1].clientMessageId)
    assert.match(wire[0].clientMessageId, /^[0-9a-f-]{36}$/)
    assert.deepEqual(await texts(watcher, before), [`${before + 1} the ack was lost`])
    // the connection goes on: the next send is a new message
    const next = await c.send('uuidroom2', 'and the next one')
    assert.equal(next.index, before + 2)
  } finally {
    c.disconnect()
    watcher.disconnect()
  }
})

test('a send lost with the connection: sent after the reconnect, stored once', async () => {
  const c = connect(WS, { token: T1, WebSocket: Lossy })
  try {
    await once(c, 'connected')
    const before = (await c.history('uuidroom2', { limit: 1 })).last
    wire.length = 0
    lose = 'send'
    const ack = await c.send('uuidroom2', 'the frame was lost')
    assert.deepEqual(ack, { room: 'uuidroom2', index: before + 1 })
    assert.equal(wire.length, 2)
    assert.equal(wire[0].clientMessageId, wire[1].clientMessageId)
    assert.deepEqual(await texts(c, before), [`${before + 1} the frame was lost`])
  } finally {
    c.disconnect()
  }
})

test('send with a clientMessageId of the caller: its retry resolves the first index; reuse and bad ids reject', async () => {
  const c = connect(WS, { token: T1 })
  try {
    await once(c, 'connected')
    const id = `app-${newMessageId()}`
    const first = await c.send('uuidroom2', 'the app retries', { clientMessageId: id })
    const again = await c.send('uuidroom2', 'the app retries', { clientMessageId: id })
    assert.deepEqual(again, first)
    await assert.rejects(c.send('uuidroom2', 'something else', { clientMessageId: id }),
      e => e instanceof BookpicsError && e.code === 'idempotency_key_reused' && e.clientMessageId === id)
    await assert.rejects(c.send('uuidroom2', 'x', { clientMessageId: 'a b' }), e => e.code === 'bad_request')
    assert.deepEqual(await texts(c, first.index - 1), [`${first.index} the app retries`])
  } finally {
    c.disconnect()
  }
})
