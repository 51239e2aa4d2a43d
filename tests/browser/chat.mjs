// Browser driver for the chat view.
//
//   node tests/browser/chat.mjs BASE_URL TOKEN [SCRATCH]   (or env BASE_URL, TOKEN, SCRATCH)
//
// Opens BASE_URL#/chat, pastes TOKEN into #token and presses #connect. When
// the connection is live it prints the user and the rooms, then "ready N":
//   user <userId>
//   room <name>            (one per room)
//   ready <number of rooms>
// If the connection is refused instead it prints "error <text>" then "ready 0".
// Then it reads commands from stdin, one per line:
//   open ROOM          select the room and wait for its history:
//                      "msg <index> <userId> <text>" per message (oldest first),
//                      then "opened ROOM <count>"
//   say TEXT           type TEXT in #say and press Enter; wait for the ack
//                      (the input clears): "sent", or an error line: "error <text>"
//   expect-text TEXT   wait until a message containing TEXT is shown:
//                      "seen <index> <userId>", then "html-free yes" if no <script>
//                      exists inside any message and the message's text has no
//                      element children (it is rendered as text), else "html-free no"
//   expect-error TEXT  wait until #chat-error contains TEXT: "error-seen"
//   unread ROOM        "unread ROOM N" (the room's unread badge, 0 if none)
//   conn STATE         wait until #chat-conn reads STATE (live, reconnecting,
//                      not connected): "conn STATE"
//   connect            press #connect again: "connect"
//   shot NAME          screenshot to SCRATCH/NAME.png: "shot <file>"
//   viewport WxH       resize the page: "viewport WxH"
//   errors             "errors N": JavaScript errors seen so far
//   quit               exit 0 (so does end of input)
// A wait that runs out (EXPECT_TIMEOUT_MS, default 10 s) prints
// "timeout <what>" and exits 1.
import { openPage, finish, until, out, oneLine, common, commands } from './common.mjs'

const base = (process.argv[2] || process.env.BASE_URL || '').replace(/\/+$/, '')
const token = process.argv[3] || process.env.TOKEN
const scratch = process.argv[4] || process.env.SCRATCH || '/tmp'
if (!base || !token) { console.error('usage: chat.mjs BASE_URL TOKEN [SCRATCH]'); process.exit(2) }

const { page, errors } = await openPage()
await page.goto(base + '/#/chat')
await page.fill('#token', token)
await page.click('#connect')

const text = sel => page.evaluate(s => {
  const e = document.querySelector(s)
  return e ? e.textContent.trim() : ''
}, sel)

// Live (rooms rendered) or refused (an error shown).
const state = await until(async () => {
  if (await text('#chat-error')) return 'error'
  if (await text('#chat-conn') === 'live' && await page.$('.rooms')) return 'live'
  return null
})
if (!state) await finish(1, 'timeout connect')
if (state === 'error') {
  out('error ' + oneLine(await text('#chat-error')))
  out('ready 0')
} else {
  out('user ' + await text('#chat-user'))
  const rooms = await page.$$eval('.room', els => els.map(e => e.getAttribute('data-room')))
  for (const r of rooms) out('room ' + r)
  out('ready ' + rooms.length)
}

for await (const line of commands()) {
  const cmd = line.trim().split(/\s+/)[0]
  const arg = line.trim().slice(cmd.length).trim() // keeps inner spaces of TEXT
  if (!cmd) continue

  if (cmd === 'open') {
    const btn = await page.$(`.room[data-room="${arg.replace(/["\\]/g, '\\$&')}"]`)
    if (!btn) await finish(1, 'timeout room ' + arg)
    await btn.click()
    const ok = await until(() => page.evaluate(r => {
      const list = document.querySelector('.messages')
      return list && list.getAttribute('data-room') === r && list.getAttribute('data-state') === 'loaded'
    }, arg))
    if (!ok) await finish(1, 'timeout open ' + arg)
    const msgs = await page.$$eval('.msg', els => els.map(e => [
      e.getAttribute('data-index'), e.getAttribute('data-user') || '',
      (e.querySelector('.text') || {}).textContent || ''
    ]))
    for (const [i, u, t] of msgs) out(`msg ${i} ${u} ${oneLine(t)}`.trimEnd())
    out(`opened ${arg} ${msgs.length}`)
  } else if (cmd === 'say') {
    await page.fill('#say', arg)
    await page.press('#say', 'Enter')
    // The app clears #chat-error when sending and #say on the ack.
    const res = await until(async () => {
      const err = await text('#chat-error')
      if (err) return 'error ' + oneLine(err)
      if (await page.inputValue('#say') === '') return 'sent'
      return null
    })
    if (!res) await finish(1, 'timeout say')
    out(res)
  } else if (cmd === 'expect-text') {
    const found = await until(() => page.evaluate(t => {
      for (const m of document.querySelectorAll('.msg')) {
        if (m.textContent.includes(t)) {
          const body = m.querySelector('.text')
          const asText = !document.querySelector('.msg script') && (!body || body.children.length === 0)
          return [m.getAttribute('data-index'), m.getAttribute('data-user'), asText]
        }
      }
      return null
    }, arg))
    if (!found) await finish(1, 'timeout text ' + arg)
    out(`seen ${found[0]} ${found[1]}`)
    out('html-free ' + (found[2] ? 'yes' : 'no'))
  } else if (cmd === 'expect-error') {
    if (!await until(async () => (await text('#chat-error')).includes(arg))) {
      await finish(1, 'timeout error ' + arg)
    }
    out('error-seen')
  } else if (cmd === 'unread') {
    const n = await page.evaluate(r => {
      const b = document.querySelector(`.room[data-room="${CSS.escape(r)}"] .badge`)
      return b ? Number(b.textContent) : 0
    }, arg)
    out(`unread ${arg} ${n}`)
  } else if (cmd === 'conn') {
    if (!await until(async () => await text('#chat-conn') === arg)) await finish(1, 'timeout conn ' + arg)
    out('conn ' + arg)
  } else if (cmd === 'connect') {
    await page.click('#connect')
    out('connect')
  } else if (!await common(page, errors, scratch, cmd, arg)) {
    out('unknown ' + cmd)
  }
}
await finish(0)
