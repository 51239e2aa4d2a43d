// Shared plumbing for the browser test drivers (wall.mjs, chat.mjs).
//
// A driver opens one headless Chromium page, prints what it sees as plain
// lines on stdout, then obeys one command per line on stdin. Diagnostics go to
// stderr, prefixed with "# ", so stdout stays easy to parse from a shell test.
//
// Environment:
//   CHROMIUM           the browser binary (default /usr/bin/chromium)
//   VIEWPORT           WIDTHxHEIGHT (default 1280x900)
//   EXPECT_TIMEOUT_MS  how long a wait may take (default 10000)
import { chromium } from 'playwright-core'
import readline from 'node:readline'
import path from 'node:path'

export const TIMEOUT = +(process.env.EXPECT_TIMEOUT_MS || 10000)

export function out (line) { process.stdout.write(line + '\n') }
export function note (line) { process.stderr.write('# ' + line + '\n') }

// One line of text, whitespace collapsed (captions may hold newlines).
export function oneLine (s) { return String(s ?? '').replace(/\s+/g, ' ').trim() }

let browser = null

// Start Chromium and open a page. Page errors are counted; network failures
// (e.g. a 502 picture) are only noted, they may be what a test wants.
export async function openPage () {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run']
  })
  return anotherPage()
}

// One more page in the same browser (its own context: its own storage),
// watched the same way: { page, errors }.
export async function anotherPage (label) {
  const [w, h] = (process.env.VIEWPORT || '1280x900').split('x').map(Number)
  const page = await browser.newPage({ viewport: { width: w, height: h } })
  const errors = []
  const tell = line => note((label ? label + ': ' : '') + line)
  page.on('pageerror', e => { errors.push(e.message); tell('page error: ' + e.message) })
  page.on('console', m => {
    if (m.type() !== 'error') return
    // Network trouble the browser itself logs (a 502 picture, a WebSocket
    // retry while the server restarts) is not a page error.
    if (/Failed to load resource|WebSocket connection to/.test(m.text())) { tell('network: ' + m.text()); return }
    errors.push(m.text()); tell('console error: ' + m.text())
  })
  page.on('dialog', d => { errors.push('dialog: ' + d.message()); tell('dialog: ' + d.message()); d.dismiss() })
  return { page, errors }
}

// Print a message and leave with status `code`, closing the browser first.
export async function finish (code, line) {
  if (line) out(line)
  try { if (browser) await browser.close() } catch (e) { /* already gone */ }
  process.exit(code)
}

// Poll fn() (may be async) every 100 ms until it returns something truthy;
// return that value, or null after `ms`.
export async function until (fn, ms = TIMEOUT) {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn().catch(() => null)
    if (v) return v
    if (Date.now() > end) return null
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

// Commands shared by both drivers; returns true when it handled the line.
export async function common (page, errors, scratch, cmd, arg) {
  switch (cmd) {
    case 'shot': { // shot NAME -> $SCRATCH/NAME.png
      const file = path.join(scratch, (arg || 'shot').replace(/[^\w.-]/g, '_') + '.png')
      await page.screenshot({ path: file })
      out('shot ' + file)
      return true
    }
    case 'viewport': { // viewport 390x844
      const [w, h] = arg.split('x').map(Number)
      await page.setViewportSize({ width: w, height: h })
      out(`viewport ${w}x${h}`)
      return true
    }
    case 'errors': // errors -> "errors N" (page errors and console errors so far)
      out('errors ' + errors.length)
      return true
    case 'quit':
      await finish(0)
      return true
  }
  return false
}

// The command lines from stdin, one at a time; a driver exits 0 at EOF.
export function commands () {
  return readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
}

process.on('SIGTERM', () => finish(143))
process.on('SIGINT', () => finish(130))
