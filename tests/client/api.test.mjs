// send with its ack, errors as BookpicsError codes, history paging, presence.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { connect, once, post, until, WS, T1, range } from './helpers.mjs'
import { BookpicsError } from '../../clients/js/bookpics-client.js'

const c = connect(WS, { token: T1 })
after(() => c.disconnect())

test('connected: state events, hello fields', async () => {
  if (c.state !== 'connected') await once(c, 'connected')
  assert.equal(c.state, 'connected')
  assert.equal(c.userId, 'uuid1')
  assert.deepEqual(c.rooms.map(r => r.room), ['uuidroom1', 'uuidroom2'])
})

test('send resolves with the ack index, and the message arrives once', async () => {
  const before = (await c.history('uuidroom1', { limit: 1 })).last
  const seen = []
  c.on('message', m => { if (m.room === 'uuidroom1') seen.push(m.index) })
  const ack = await c.send('uuidroom1', 'hello from the client')
  assert.deepEqual(ack, { room: 'uuidroom1', index: before + 1 })
  const ack2 = await c.send('uuidroom1', 'and again')
  assert.equal(ack2.index, before + 2)
  await until(() => seen.includes(before + 2), 5000)
  assert.deepEqual(seen.filter(i => i > before), [before + 1, before + 2])
})

test('send to a room the user is not in rejects with code not_member, nothing stored', async () => {
  await assert.rejects(c.send('uuidroom3', 'no'), e => e instanceof BookpicsError && e.code === 'not_member')
  await assert.rejects(c.send('nosuch', 'no'), e => e.code === 'not_found')
  await assert.rejects(c.send('uuidroom1', 'x'.repeat(4097)), e => e.code === 'too_large')
  // the connection is still usable, acks still match their sends
  const [a, b] = await Promise.all([c.send('uuidroom1', 'one'), c.send('uuidroom1', 'two')])
  assert.equal(b.index, a.index + 1)
})

test('history pages: before (newest first), after (oldest first), limit', async () => {
  const start = (await c.history('uuidroom1', { limit: 1 })).last
  for (let i = 1; i <= 12; i++) await post('uuidroom1', T1, `page ${i}`)
  const last = start + 12
  const newest = await c.history('uuidroom1', { limit: 5 })
  assert.equal(newest.last, last)
  assert.deepEqual(newest.messages.map(m => m.index), range(last - 4, last).reverse())
  const older = await c.history('uuidroom1', { before: last - 4, limit: 5 })
  assert.deepEqual(older.messages.map(m => m.index), range(last - 9, last - 5).reverse())
  const fwd = await c.history('uuidroom1', { after: start, limit: 5 })
  assert.deepEqual(fwd.messages.map(m => m.index), range(start + 1, start + 5))
  assert.equal(fwd.messages[0].chatMessage, 'page 1')
  // every page back to the start, without overlap or gap
  const all = []
  let before = last + 1
  for (;;) {
    const p = await c.history('uuidroom1', { before, limit: 7 })
    if (!p.messages.length) break
    all.push(...p.messages.map(m => m.index))
    before = p.messages[p.messages.length - 1].index
  }
  assert.deepEqual(all, range(1, last).reverse())
})

test('history of a private room the user is not in: code not_member, status 403', async () => {
  await assert.rejects(c.history('uuidroom3'), e => e.code === 'not_member' && e.status === 403)
  await assert.rejects(c.history('nosuch'), e => e.code === 'not_found' && e.status === 404)
})

test('presence: the connected user is listed', async () => {
  assert.deepEqual(await c.presence('uuidroom1'), ['uuid1'])
})
