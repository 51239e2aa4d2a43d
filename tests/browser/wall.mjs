// Browser driver for the picture wall.
//
//   node tests/browser/wall.mjs BASE_URL [SCRATCH]     (or env BASE_URL, SCRATCH)
//
// Opens BASE_URL, waits for the wall, prints one line per card as displayed
// (newest first), then "ready N":
//   card <index> <chatMessage>
//   ready <number of cards>
// Then reads commands from stdin, one per line:
//   expect <index>    wait until the card <index> is shown and the "New data is
//                     available" banner has been seen since the last expect;
//                     prints "live <index> banner", then checks the page was not
//                     reloaded and the card's first picture:
//                     "img <index> <W>x<H>" | "img <index> broken" | "img <index> none"
//   cards             print the cards again, then "ready N"
//   scroll-all        scroll down until every older picture is loaded:
//                     "all <count> <highest index> <lowest index>"
//   conn <state>      wait until the indicator #conn reads <state> (live or
//                     reconnecting): "conn <state>"
//   shot NAME         screenshot to SCRATCH/NAME.png: "shot <file>"
//   viewport WxH      resize the page: "viewport WxH"
//   sockets           "socket <host:port/path>" for each WebSocket the page
//                     opened (query left out), then "sockets N"
//   errors            "errors N": JavaScript errors seen so far
//   quit              exit 0 (so does end of input)
// With env WS_URL, index.html's <meta name="bookpics-ws"> is set to it as the
// page loads (as a site deploying clients straight to the relay would).
// A wait that runs out (EXPECT_TIMEOUT_MS, default 10 s) prints
// "timeout <what>" and exits 1; a reloaded page prints "reloaded" and exits 1.
import { openPage, finish, until, out, oneLine, common, commands, TIMEOUT } from './common.mjs'

const base = process.argv[2] || process.env.BASE_URL
const scratch = process.argv[3] || process.env.SCRATCH || '/tmp'
if (!base) { console.error('usage: wall.mjs BASE_URL [SCRATCH]'); process.exit(2) }

const { page, errors } = await openPage()

// Runs in the page before its own scripts: remember whether the banner was
// visible at any moment since the flag was last cleared. A MutationObserver
// catches even a short-lived banner; the driver also polls.
await page.addInitScript(() => {
  window.__bannerSeen = 0
  const look = () => {
    const b = document.querySelector('.new-data')
    if (b && b.textContent.includes('New data is available') && b.getClientRects().length) window.__bannerSeen = 1
  }
  window.__lookForBanner = look
  new MutationObserver(look).observe(document, { subtree: true, childList: true, characterData: true, attributes: true })
})

const sockets = []
page.on('websocket', ws => {
  const u = new URL(ws.url())
  sockets.push(u.host + u.pathname)
})
if (process.env.WS_URL) {
  // Set as index.html's meta is parsed, before the module scripts run. (A
  // page.route rewrite would serve the document from no address, which
  // Chromium then treats as public and blocks its loopback WebSocket.)
  await page.addInitScript(url => {
    new MutationObserver((_, obs) => {
      const m = document.querySelector('meta[name="bookpics-ws"]')
      if (m) { m.content = url; obs.disconnect() }
    }).observe(document, { subtree: true, childList: true })
  }, process.env.WS_URL)
}

await page.goto(base)
// Set after load: a reload of the page would wipe it.
await page.evaluate(() => { window.__noReload = 1 })

// The wall is ready when it shows cards or its empty state.
if (!await until(() => page.evaluate(() => document.querySelector('.card, .empty') !== null))) {
  await finish(1, 'timeout wall')
}

async function printCards () {
  const cards = await page.$$eval('.card', els => els.map(e => [
    e.getAttribute('data-index'), (e.querySelector('.caption') || {}).textContent || ''
  ]))
  for (const [i, text] of cards) out(`card ${i} ${oneLine(text)}`.trimEnd())
  out('ready ' + cards.length)
}
await printCards()

for await (const line of commands()) {
  const [cmd, ...rest] = line.trim().split(/\s+/)
  const arg = rest.join(' ')
  if (!cmd) continue

  if (cmd === 'expect') {
    const sel = `.card[data-index="${Number(arg)}"]`
    const ok = await until(() => page.evaluate(s => {
      window.__lookForBanner()
      return document.querySelector(s) !== null && window.__bannerSeen === 1
    }, sel))
    if (!ok) {
      const card = await page.$(sel)
      await finish(1, `timeout ${card ? 'banner' : 'card'} ${arg}`)
    }
    await page.evaluate(() => { window.__bannerSeen = 0 })
    out(`live ${arg} banner`)
    if (await page.evaluate(() => window.__noReload) !== 1) await finish(1, 'reloaded')

    // The picture: bring it into view (it may be lazy), wait for it to settle.
    const img = await page.$(`${sel} img`)
    if (!img) { out(`img ${arg} none`); continue }
    await img.scrollIntoViewIfNeeded().catch(() => {})
    await until(() => img.evaluate(i => i.complete), TIMEOUT)
    // The pixels of the file the browser chose from srcset: naturalWidth is
    // scaled by the chosen candidate's density (a 160 px picture listed as
    // 320w reads 100 at sizes 200px), so load currentSrc alone.
    const [w, h] = await img.evaluate(i => new Promise(resolve => {
      if (!i.naturalWidth) return resolve([0, 0])
      const x = new Image()
      x.onload = () => resolve([x.naturalWidth, x.naturalHeight])
      x.onerror = () => resolve([0, 0])
      x.src = i.currentSrc || i.src
    }))
    out(w > 0 ? `img ${arg} ${w}x${h}` : `img ${arg} broken`)
    await page.evaluate(() => window.scrollTo(0, 0))
  } else if (cmd === 'sockets') {
    for (const s of sockets) out('socket ' + s)
    out('sockets ' + sockets.length)
  } else if (cmd === 'cards') {
    await printCards()
  } else if (cmd === 'scroll-all') {
    // Scroll to the bottom until the end marker shows; fail if no progress in TIMEOUT.
    let count = -1
    let lastChange = Date.now()
    for (;;) {
      const [n, done] = await page.evaluate(() => {
        window.scrollTo(0, document.documentElement.scrollHeight)
        return [document.querySelectorAll('.card').length, !!document.querySelector('.end, .empty')]
      })
      if (done) break
      if (n !== count) { count = n; lastChange = Date.now() }
      if (Date.now() - lastChange > TIMEOUT) await finish(1, `timeout scroll-all ${n}`)
      await new Promise(resolve => setTimeout(resolve, 200))
    }
    const idx = await page.$$eval('.card', els => els.map(e => Number(e.getAttribute('data-index'))))
    out(`all ${idx.length} ${idx.length ? Math.max(...idx) : 0} ${idx.length ? Math.min(...idx) : 0}`)
    await page.evaluate(() => window.scrollTo(0, 0))
  } else if (cmd === 'conn') {
    const ok = await until(() => page.evaluate(s => {
      const c = document.getElementById('conn')
      return c && c.textContent.trim() === s
    }, arg))
    if (!ok) await finish(1, `timeout conn ${arg}`)
    out('conn ' + arg)
  } else if (!await common(page, errors, scratch, cmd, arg)) {
    out('unknown ' + cmd)
  }
}
await finish(0)
