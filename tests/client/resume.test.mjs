// Resume across a relay kill -9: messages posted before, while the relay is
// down and while it comes back all reach the client once, in order.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, once, sleep, post, collect, arrived, relayKill9, relayStart, WS, T1, T2, range } from './helpers.mjs'

test('kill -9 of the relay: 0 missing, 0 duplicates, in order', async () => {
  const c = connect(WS, { token: T2 })
  const got = collect(c)
  const states = []
  c.on('state', s => states.push(s.state))
  const errors = []
  c.on('error', e => errors.push(e.code))
  try {
    await once(c, 'connected')
    const posted = []
    for (let i = 1; i <= 20; i++) posted.push(await post('uuidroom2', T1, `before ${i}`))
    await sleep(300)
    await relayKill9()
    await once(c, 'connecting', 5000).catch(() => {}) // may have happened already
    for (let i = 1; i <= 20; i++) posted.push(await post('uuidroom2', T1, `down ${i}`))
    // keep posting while the relay starts and the client reconnects
    let posting = true
    const during = (async () => {
      let i = 0
      while (posting) { posted.push(await post('uuidroom2', T1, `back ${++i}`)); await sleep(20) }
    })()
    await relayStart()
    await once(c, 'connected', 10000, () => true).catch(() => {})
    await sleep(500)
    posting = false
    await during
    for (let i = 1; i <= 5; i++) posted.push(await post('uuidroom2', T1, `after ${i}`))
    const lastPosted = posted[posted.length - 1]
    const end = Date.now() + 10000
    while (Date.now() < end && (got.uuidroom2 || []).at(-1) !== lastPosted) await sleep(50)
    assert.equal(c.state, 'connected')
    assert.ok(posted.length > 50, `posted ${posted.length}: too few while the relay came back`)
    assert.deepEqual(posted, range(posted[0], lastPosted))
    const mine = got.uuidroom2.filter(i => i >= posted[0])
    const missing = posted.filter(i => !mine.includes(i))
    const dups = mine.length - new Set(mine).size
    console.log(`# posted=${posted.length} delivered=${mine.length} missing=${missing.length} duplicates=${dups} dropped=${c.stats.duplicates} reconnects=${c.stats.reconnects}`)
    assert.deepEqual(missing, [])
    assert.equal(dups, 0)
    assert.deepEqual(mine, posted)
    assert.equal(c.stats.reconnects >= 1, true)
    assert.ok(errors.every(e => e === 'server_down' || e === 'refused'), `errors: ${errors}`)
    assert.ok(states.includes('connecting'))
  } finally {
    c.disconnect()
  }
})

test('positions() resumes a new client where the old one stopped', async () => {
  const a = connect(WS, { token: T2 })
  const gotA = collect(a)
  let saved, i1
  try {
    await once(a, 'connected')
    i1 = await post('uuidroom2', T1, 'seen by a')
    await arrived(gotA, 'uuidroom2', i1)
    saved = a.positions()
    assert.equal(saved.uuidroom2, i1)
  } finally {
    a.disconnect()
  }
  const i2 = await post('uuidroom2', T1, 'while nobody is there 1')
  const i3 = await post('uuidroom2', T1, 'while nobody is there 2')
  // A lower position than the server's cursor: only the client's positions
  // make it replay i1 (a page reload that lost what it showed).
  const b = connect(WS, { token: T2, positions: { uuidroom2: i1 - 1 } })
  const gotB = collect(b)
  try {
    await arrived(gotB, 'uuidroom2', i3)
    await sleep(300)
    assert.deepEqual(gotB.uuidroom2, [i1, i2, i3])
    assert.equal(gotA.uuidroom2.at(-1), i1)
  } finally {
    b.disconnect()
  }
})

test('the relay down: server_down (the site answers, relay: false), then it connects by itself', async () => {
  await relayKill9()
  const c = connect(WS, { token: T2 })
  try {
    const err = await once(c, 'error')
    assert.equal(err.code, 'server_down')
    assert.match(err.message, /relay is down/)
    assert.equal(c.state, 'connecting')
    await relayStart()
    await once(c, 'connected', 10000)
    assert.equal(c.userId, 'uuid2')
  } finally {
    c.disconnect()
  }
})
