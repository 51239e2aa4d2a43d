// Browser driver for the moderator page and the wall, side by side.
//
//   node tests/browser/moderate.mjs BASE_URL [SCRATCH]   (or env BASE_URL, SCRATCH)
//
// Opens two pages in one Chromium, each with its own storage: "m" at
// BASE_URL#/moderate (the moderator) and "w" at BASE_URL (the wall, as a
// screen in the room shows it), then prints "ready". The wall's WebSocket
// goes through Playwright's WebSocket route (to the real relay, both ways),
// so the driver can also hand the page a frame of its own ("w inject").
//
// Commands, one per line: a page ("m" or "w"), a command, arguments.
//   m goto HASH           open BASE_URL + HASH (e.g. #/moderate?token=T): "goto"
//   m state STATE [USER]  wait until the page's state (idle, checking, ok,
//                         refused) is STATE (and it moderates as USER): "state STATE"
//   m error TEXT          wait until #mod-error reads exactly TEXT: "error TEXT"
//   m confirm             wait for the token question: "confirm TEXT" (its
//                         sentence), then "focus ID" (what has the focus)
//   m queued ID           wait until queued item ID shows its picture, loaded
//                         (from a blob: URL): "queued ID WxH blob"
//   m unqueued ID         wait until item ID has left the queue: "unqueued ID"
//   m recent INDEX STATE  wait until wall picture INDEX is listed as STATE
//                         (visible, hidden): "recent INDEX STATE"
//   m block-confirm       wait for the block question (an open <dialog>):
//                         "block-confirm TEXT", then "focus ID"
//   m blocked INDEX       wait until wall picture INDEX says its sender is
//                         blocked: "blocked INDEX TEXT"
//   m focus               "focus KEY" (q:ID or w:INDEX of the focused item,
//                         else the element's id or tag)
//   w expect INDEX        wait until card INDEX is shown and the "New data is
//                         available" notice was seen: "live INDEX banner",
//                         then "img INDEX WxH" | "img INDEX broken" | "img INDEX none"
//   w card INDEX [MS]     wait until card INDEX is shown: "card INDEX"; with MS,
//                         "no card INDEX" once MS have passed (the driver goes on)
//   w gone INDEX [MS]     wait until card INDEX has left the wall: "gone INDEX";
//                         with MS, "still INDEX" once MS have passed (the driver goes on)
//   w cards               "cards I1 I2 ..." (the wall's cards, in order)
//   w number              "number TEXT" (the number to text, as shown)
//   w conn                "conn TEXT" (the connection indicator now)
//   w inject JSON         send JSON to the page as if the relay had: "injected"
//   w open INDEX          focus card INDEX's picture, press Enter: "lightbox INDEX"
//   w swipe left|right    drag across the lightbox: "lightbox INDEX"
//   w press KEY           a key: "lightbox INDEX" while it is open, else
//                         "closed focus INDEX" (the card holding the focus)
//   X text SELECTOR       wait until SELECTOR is there: "text SELECTOR TEXT"
//   X absent SELECTOR     wait until it is not: "absent SELECTOR"
//   X press KEY           (m) a key: "pressed KEY"
//   X click SELECTOR      click it: "clicked SELECTOR"
//   X shot NAME | viewport WxH | errors     as in common.mjs
//   quit
// Each wait gives up after EXPECT_TIMEOUT_MS: "timeout ..." and exit 1; a page
// that reloaded prints "reloaded" and exits 1.
import { openPage, anotherPage, finish, until, out, oneLine, common, commands, TIMEOUT } from './common.mjs'

const base = process.argv[2] || process.env.BASE_URL
const scratch = process.argv[3] || process.env.SCRATCH || '/tmp'
if (!base) { console.error('usage: moderate.mjs BASE_URL [SCRATCH]'); process.exit(2) }

const M = await openPage()
const W = await anotherPage('wall')

// The wall: remember whether the notice was visible at any moment.
await W.page.addInitScript(() => {
  window.__bannerSeen = 0
  const look = () => {
    const b = document.querySelector('.new-data')
    if (b && b.textContent.includes('New data is available') && b.getClientRects().length) window.__bannerSeen = 1
  }
  window.__lookForBanner = look
  new MutationObserver(look).observe(document, { subtree: true, childList: true, characterData: true, attributes: true })
})
let route = null // the wall's current WebSocket, through Playwright
await W.page.routeWebSocket(/\/ws(\?|$)/, ws => { ws.connectToServer(); route = ws })

await M.page.goto(base + '#/moderate')
await W.page.goto(base)
for (const p of [M.page, W.page]) await p.evaluate(() => { window.__noReload = 1 })
if (!await until(() => W.page.evaluate(() => document.querySelector('.card, .empty') !== null))) await finish(1, 'timeout wall')
if (!await until(() => M.page.evaluate(() => document.querySelector('.moderate') !== null))) await finish(1, 'timeout moderate')
out('ready')

async function wait (what, fn) {
  if (!await until(fn)) await finish(1, 'timeout ' + what)
}

async function lightboxOrFocus (page) {
  await new Promise(resolve => setTimeout(resolve, 150))
  const r = await page.evaluate(() => {
    const f = document.querySelector('.lightbox .lb-figure')
    if (f) return 'lightbox ' + f.getAttribute('data-index')
    const c = document.activeElement && document.activeElement.closest('.card')
    return 'closed focus ' + (c ? c.getAttribute('data-index') : (document.activeElement || {}).tagName)
  })
  out(r)
}

async function mod (cmd, arg) {
  const page = M.page
  const a = arg.split(' ')
  switch (cmd) {
    case 'goto':
      await page.goto(base + arg)
      await page.evaluate(() => { window.__noReload = 1 })
      out('goto')
      return true
    case 'state':
      await wait(`state ${arg}`, () => page.evaluate(([s, u]) => {
        const sec = document.querySelector('.moderate')
        const who = document.getElementById('mod-user')
        return sec && sec.getAttribute('data-state') === s && (!u || (who && who.textContent === u))
      }, a))
      out('state ' + a[0])
      return true
    case 'error':
      if (!await until(() => page.evaluate(t => document.getElementById('mod-error').textContent === t, arg))) {
        await finish(1, 'timeout error; it reads: ' + await page.evaluate(() => document.getElementById('mod-error').textContent))
      }
      out('error ' + arg)
      return true
    case 'confirm':
      await wait('confirm', () => page.evaluate(() => document.getElementById('token-confirm') !== null))
      out('confirm ' + oneLine(await page.$eval('#token-confirm-text', e => e.textContent)))
      out('focus ' + await page.evaluate(() => document.activeElement.id || document.activeElement.tagName))
      return true
    case 'block-confirm':
      await wait('block-confirm', () => page.evaluate(() => {
        const d = document.getElementById('block-confirm')
        return d && d.open && d.matches(':modal')
      }))
      out('block-confirm ' + oneLine(await page.$eval('#block-confirm-text', e => e.textContent)))
      out('focus ' + await page.evaluate(() => document.activeElement.id || document.activeElement.tagName))
      return true
    case 'blocked': {
      const sel = `#recent [data-index="${Number(arg)}"] .blocked-note`
      await wait(`blocked ${arg}`, () => page.evaluate(s => !!document.querySelector(s), sel))
      out(`blocked ${arg} ` + oneLine(await page.$eval(sel, e => e.textContent)))
      return true
    }
    case 'queued': {
      const sel = `#queue [data-id="${Number(arg)}"] img.mod-pic`
      await wait(`queued ${arg}`, () => page.evaluate(s => {
        const i = document.querySelector(s)
        return i && i.complete && i.naturalWidth > 0
      }, sel))
      const [w, h, src] = await page.$eval(sel, i => [i.naturalWidth, i.naturalHeight, i.currentSrc.split(':')[0]])
      out(`queued ${arg} ${w}x${h} ${src}`)
      return true
    }
    case 'unqueued':
      await wait(`unqueued ${arg}`, () => page.evaluate(id => !document.querySelector(`#queue [data-id="${id}"]`), Number(arg)))
      out('unqueued ' + arg)
      return true
    case 'recent':
      await wait(`recent ${arg}`, () => page.evaluate(([i, s]) => {
        const e = document.querySelector(`#recent [data-index="${i}"]`)
        return e && e.getAttribute('data-state') === s
      }, a))
      out('recent ' + arg)
      return true
    case 'focus':
      out('focus ' + await page.evaluate(() => {
        const e = document.activeElement
        const item = e && e.closest('[data-key]')
        return item ? item.getAttribute('data-key') : (e.id || e.tagName)
      }))
      return true
    case 'press':
      await page.keyboard.press(arg)
      out('pressed ' + arg)
      return true
  }
  return false
}

async function wall (cmd, arg) {
  const page = W.page
  switch (cmd) {
    case 'expect': {
      const sel = `.card[data-index="${Number(arg)}"]`
      const ok = await until(() => page.evaluate(s => {
        window.__lookForBanner()
        return document.querySelector(s) !== null && window.__bannerSeen === 1
      }, sel))
      if (!ok) await finish(1, `timeout ${await page.$(sel) ? 'banner' : 'card'} ${arg}`)
      await page.evaluate(() => { window.__bannerSeen = 0 })
      out(`live ${arg} banner`)
      const img = await page.$(`${sel} img`)
      if (!img) { out(`img ${arg} none`); return true }
      await img.scrollIntoViewIfNeeded().catch(() => {})
      await until(() => img.evaluate(i => i.complete), TIMEOUT)
      const [w, h] = await img.evaluate(i => new Promise(resolve => {
        if (!i.naturalWidth) return resolve([0, 0])
        const x = new Image()
        x.onload = () => resolve([x.naturalWidth, x.naturalHeight])
        x.onerror = () => resolve([0, 0])
        x.src = i.currentSrc || i.src
      }))
      out(w > 0 ? `img ${arg} ${w}x${h}` : `img ${arg} broken`)
      await page.evaluate(() => window.scrollTo(0, 0))
      return true
    }
    case 'card': { // card INDEX [MS]: with MS, "no card INDEX" after MS instead of giving up
      const [i, ms] = arg.split(' ').map(Number)
      const there = () => page.evaluate(n => !!document.querySelector(`.card[data-index="${n}"]`), i)
      if (ms) out((await until(there, ms) ? 'card ' : 'no card ') + i)
      else { await wait(`card ${i}`, there); out('card ' + i) }
      return true
    }
    case 'gone': { // gone INDEX [MS]: with MS, "still INDEX" after MS instead of giving up
      const [i, ms] = arg.split(' ').map(Number)
      const gone = () => page.evaluate(n => !document.querySelector(`.card[data-index="${n}"]`), i)
      if (ms) out((await until(gone, ms) ? 'gone ' : 'still ') + i)
      else { await wait(`gone ${i}`, gone); out('gone ' + i) }
      return true
    }
    case 'cards':
      out(('cards ' + (await page.$$eval('.card', els => els.map(e => e.getAttribute('data-index')))).join(' ')).trimEnd())
      return true
    case 'number':
      await wait('number', () => page.evaluate(() => !!document.querySelector('#wall-number .number')))
      out('number ' + await page.$eval('#wall-number .number', e => e.textContent))
      return true
    case 'conn':
      out('conn ' + await page.$eval('#conn', e => e.textContent.trim()))
      return true
    case 'inject':
      if (!route) await finish(1, 'no socket to inject into')
      route.send(arg)
      out('injected')
      return true
    case 'open':
      await page.focus(`.card[data-index="${Number(arg)}"] .pic`)
      await page.keyboard.press('Enter')
      await wait('lightbox', () => page.evaluate(() => !!document.querySelector('.lightbox .lb-figure')))
      await lightboxOrFocus(page)
      return true
    case 'swipe': {
      const box = await page.$eval('.lightbox', e => { const r = e.getBoundingClientRect(); return [r.width, r.height] })
      const [x0, x1] = arg === 'left' ? [box[0] * 0.7, box[0] * 0.3] : [box[0] * 0.3, box[0] * 0.7]
      await page.mouse.move(x0, box[1] * 0.5)
      await page.mouse.down()
      await page.mouse.move(x1, box[1] * 0.5, { steps: 5 })
      await page.mouse.up()
      await lightboxOrFocus(page)
      return true
    }
    case 'press':
      await page.keyboard.press(arg)
      await lightboxOrFocus(page)
      return true
  }
  return false
}

for await (const line of commands()) {
  const [who, cmd, ...rest] = line.trim().split(/\s+/)
  if (!who) continue
  if (who === 'quit') break
  const arg = rest.join(' ')
  const P = who === 'm' ? M : W
  if (cmd === 'text') {
    await wait('text ' + arg, () => P.page.evaluate(s => !!document.querySelector(s), arg))
    out(`text ${arg} ${oneLine(await P.page.$eval(arg, e => e.textContent))}`)
  } else if (cmd === 'absent') {
    await wait('absent ' + arg, () => P.page.evaluate(s => !document.querySelector(s), arg))
    out('absent ' + arg)
  } else if (cmd === 'click') {
    await P.page.click(arg)
    out('clicked ' + arg)
  } else if (!(who === 'm' ? await mod(cmd, arg) : await wall(cmd, arg)) &&
             !await common(P.page, P.errors, scratch, cmd, arg)) {
    out('unknown ' + cmd)
  }
  if (await P.page.evaluate(() => window.__noReload) !== 1 && cmd !== 'goto') await finish(1, 'reloaded')
}
await finish(0)
