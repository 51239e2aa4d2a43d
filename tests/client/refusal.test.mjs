// Each reason a connection is refused surfaces as its own error code,
// found by probing the HTTP API (what a browser has to do too: it cannot
// read the handshake's status).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, once, sleep, admin, mintToken, WS, T1, T3 } from './helpers.mjs'
import { BookpicsError } from '../../clients/js/bookpics-client.js'

// Connect, and resolve with the first error and the state after it.
async function refusal (url, opts) {
  const c = connect(url, opts)
  try {
    const err = await once(c, 'error', 10000)
    await sleep(50)
    return { err, state: c.state }
  } finally {
    c.disconnect()
  }
}

test('an expired token: token_expired, no more attempts', async () => {
  const tok = admin('token', 'uuid1', '--ttl', '1')
  await sleep(2100)
  const { err, state } = await refusal(WS, { token: tok })
  assert.ok(err instanceof BookpicsError)
  assert.equal(err.code, 'token_expired')
  assert.equal(state, 'disconnected')
})

test('an expired token with getToken: a fresh token is fetched and used', async () => {
  const stale = admin('token', 'uuid1', '--ttl', '1')
  await sleep(1100)
  let asked = 0
  const c = connect(WS, { token: stale, getToken: async () => { asked++; return T1 } })
  try {
    const err = await once(c, 'error')
    assert.equal(err.code, 'token_expired')
    await once(c, 'connected')
    assert.equal(c.userId, 'uuid1')
    assert.equal(asked, 1)
  } finally {
    c.disconnect()
  }
})

test('a tampered token: token_invalid', async () => {
  const bad = T1.slice(0, -2) + (T1.endsWith('AA') ? 'BB' : 'AA')
  assert.equal((await refusal(WS, { token: bad })).err.code, 'token_invalid')
  assert.equal((await refusal(WS, { token: 'not-a-token' })).err.code, 'token_invalid')
})

test('a well-signed token for a user that does not exist: unknown_user', async () => {
  const tok = mintToken('ghost', Math.floor(Date.now() / 1000) + 3600)
  const { err, state } = await refusal(WS, { token: tok })
  assert.equal(err.code, 'unknown_user')
  assert.equal(err.userId, 'ghost')
  assert.equal(state, 'disconnected')
})

test('a second connection of a connected user: duplicate_connection; the first stays', async () => {
  const first = connect(WS, { token: T3 })
  try {
    await once(first, 'connected')
    const { err, state } = await refusal(WS, { token: T3 })
    assert.equal(err.code, 'duplicate_connection')
    assert.equal(state, 'disconnected')
    assert.equal(first.state, 'connected')
  } finally {
    first.disconnect()
  }
})

test('nothing listening: server_down, and it keeps trying', async () => {
  const c = connect('ws://127.0.0.1:1/ws', { token: T1 })
  try {
    const err = await once(c, 'error')
    assert.equal(err.code, 'server_down')
    assert.equal(c.state, 'connecting')
    const again = await once(c, 'error', 5000)
    assert.equal(again.code, 'server_down')
  } finally {
    c.disconnect()
  }
  assert.equal(c.state, 'disconnected')
})
