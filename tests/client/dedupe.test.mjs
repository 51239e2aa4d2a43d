// The library checks the server: a replay is dropped, a skip is filled
// from the HTTP API before anything after it is delivered.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { connect, once, sleep, post, collect, arrived, WS, T2, range } from './helpers.mjs'

const c = connect(WS, { token: T2 })
const got = collect(c)
after(() => c.disconnect())

test('a replay from the server is dropped: nothing delivered twice', async () => {
  await once(c, 'connected')
  const first = await post('uuidroom3', T2, 'd 1')
  for (let i = 2; i <= 6; i++) await post('uuidroom3', T2, `d ${i}`)
  await arrived(got, 'uuidroom3', first + 5)
  assert.deepEqual(got.uuidroom3, range(first, first + 5))
  const dropped = c.stats.duplicates
  assert.equal(c.resume({ uuidroom3: first - 1 }), true) // the relay sends all six again
  const ok = await (async () => { const end = Date.now() + 5000; while (Date.now() < end && c.stats.duplicates < dropped + 6) await sleep(50); return c.stats.duplicates })()
  assert.equal(ok, dropped + 6)
  await sleep(200)
  assert.deepEqual(got.uuidroom3, range(first, first + 5))
})

test('a skip by the server is filled over HTTP, in order, before what follows', async () => {
  const last = c.lastIndex('uuidroom3')
  for (let i = 1; i <= 3; i++) await post('uuidroom3', T2, `s ${i}`)
  await arrived(got, 'uuidroom3', last + 3)
  const filled = c.stats.gapsFilled
  const texts = []
  c.on('message', m => { if (m.room === 'uuidroom3') texts.push(m.chatMessage) })
  // Tell the relay we have 4 more than we do: it skips them.
  for (let i = 4; i <= 7; i++) await post('uuidroom3', T2, `s ${i}`)
  await sleep(300)
  c.resume({ uuidroom3: last + 9 })
  await sleep(300)
  await post('uuidroom3', T2, 's 8') // last+8: the relay skips it too
  await post('uuidroom3', T2, 's 9') // last+9: skipped
  await post('uuidroom3', T2, 's 10') // last+10: delivered by the relay, a gap before it
  await arrived(got, 'uuidroom3', last + 10)
  assert.deepEqual(got.uuidroom3.slice(-10), range(last + 1, last + 10))
  assert.equal(new Set(got.uuidroom3).size, got.uuidroom3.length)
  assert.deepEqual(texts.slice(-3), ['s 8', 's 9', 's 10'])
  assert.equal(c.stats.gapsFilled, filled + 1)
})
