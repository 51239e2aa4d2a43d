// Small helpers shared by the wall and the chat: HTTP calls and time display.
import { ref } from 'vue'

// An Error carrying the HTTP status and the API's {"error","message"} body.
export class ApiError extends Error {
  constructor (status, code, message) {
    super(message || code || `HTTP ${status}`)
    this.status = status
    this.code = code
  }
}

// GET a JSON document from the bookpics API (same origin). `token`, when given,
// is sent as a Bearer token. Throws ApiError on any non-2xx answer.
export async function getJSON (path, token) {
  const headers = { Accept: 'application/json' }
  if (token) headers.Authorization = `Bearer ${token}`
  let res
  try {
    res = await fetch(path, { headers, cache: 'no-store' })
  } catch (e) {
    throw new ApiError(0, 'network', 'The server cannot be reached')
  }
  let body = null
  try { body = await res.json() } catch (e) { /* not JSON */ }
  if (!res.ok) {
    throw new ApiError(res.status, body && body.error, (body && body.message) || `HTTP ${res.status}`)
  }
  return body
}

// The messages endpoint of a room, with query parameters (after, before, limit).
export function messagesPath (room, params) {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null) q.set(k, String(v))
  const qs = q.toString()
  return `/api/rooms/${encodeURIComponent(room)}/messages${qs ? '?' + qs : ''}`
}

// Media items worth showing: an object with a same-origin path ("/media/...")
// or an http(s) URL. Anything else (javascript:, data:, ...) is dropped.
export function safeMedia (list) {
  if (!Array.isArray(list)) return []
  return list.filter(md => md && typeof md.url === 'string' && /^(\/(?![\/\\])|https?:\/\/)/i.test(md.url))
}

// The URL of the WebSocket endpoint on this origin, with an optional token.
// The WebSocket address: index.html's <meta name="bookpics-ws"> when a
// site lets clients reach the relay directly, else /ws on this host.
export function wsUrl (token) {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:'
  const meta = document.querySelector('meta[name="bookpics-ws"]')
  const base = (meta && meta.content.trim()) || `${proto}//${location.host}/ws`
  const q = token ? `?token=${encodeURIComponent(token)}` : ''
  return base + q
}

// A clock that ticks every 30 s, so relative times ("5 minutes ago") stay right.
export const now = ref(Date.now())
setInterval(() => { now.value = Date.now() }, 30000)

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })

// A short, friendly local time: "just now", "12 minutes ago", "yesterday", "3 Mar".
export function friendlyTime (iso) {
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return ''
  const s = Math.round((now.value - t) / 1000)
  if (s < 45) return 'just now'
  if (s < 3600) return rtf.format(-Math.round(s / 60), 'minute')
  if (s < 86400) return rtf.format(-Math.round(s / 3600), 'hour')
  if (s < 7 * 86400) return rtf.format(-Math.round(s / 86400), 'day')
  const d = new Date(t)
  const opts = { day: 'numeric', month: 'short' }
  if (d.getFullYear() !== new Date(now.value).getFullYear()) opts.year = 'numeric'
  return d.toLocaleDateString(undefined, opts)
}

// The full local date and time, for tooltips.
export function fullTime (iso) {
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return ''
  return new Date(t).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}
