// The moderator page (#/moderate): the wall's queue of pictures waiting for
// approval (moderation = pre), and the wall's recent pictures with hide/show.
// Everything goes through the moderator routes of docs/API.md with the
// moderator's Bearer token; queued pictures are served to moderators only,
// so they are fetched with the token and shown from blob: URLs.
//
// Keyboard: j/k or the arrow keys move between items, a approves, r
// rejects (queued items), h hides, s shows, b blocks the sender (wall
// pictures that came by SMS). Every action is a real <button> too.
//
// Blocking a sender asks first, in a modal <dialog> (the focus starts on
// Cancel, Escape cancels, the focus goes back to the picture). It does not
// hide the picture: the moderator hides it separately (docs/API.md). The
// API has no "is this sender blocked?" read, so the page says "sender
// blocked" only for what it blocked itself while open.
import { ref, reactive, computed, watch, nextTick, onBeforeUnmount } from 'vue'
import { getJSON, ApiError, messagesPath, wsUrl, safeMedia, friendlyTime, fullTime } from './util.js'
import { MODERATOR_TOKEN, storedToken, storeToken, tokenUser } from './token.js'
import { connect } from 'bookpics-client'

const POLL_MS = 3000 // the queue is read this often while the page is open
const RECENT = 24 // wall pictures listed

// POST a moderator action (empty body: lighttpd wants a Content-Length).
async function post (path, token) {
  let res
  try {
    res = await fetch(path, { method: 'POST', body: '', headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } })
  } catch (e) {
    throw new ApiError(0, 'network', 'The server cannot be reached')
  }
  let body = null
  try { body = await res.json() } catch (e) { /* not JSON */ }
  if (!res.ok) throw new ApiError(res.status, body && body.error, (body && body.message) || `HTTP ${res.status}`)
  return body
}

function isPicture (md) { return /^image\//.test(md.contentType || '') }

// Came by SMS (the webhook's users are "sms:…1234"): it may have a sender to block.
function isSms (m) { return /^sms:/.test(m.userId || '') }

export default {
  name: 'ModeratePage',
  props: {
    active: { type: Boolean, default: false },
    tokenRequest: { type: Object, default: null } // {token, seq}: a token from a link, already agreed to
  },
  template: `
<section class="moderate" aria-labelledby="mod-title" :data-state="state">
  <div class="toolbar">
    <h2 id="mod-title">Moderate <span class="room-name">#{{ room }}</span></h2>
    <span v-if="state === 'ok'" class="me">moderating as <b id="mod-user">{{ user }}</b></span>
  </div>

  <form class="connect-bar" @submit.prevent="useToken(tokenInput)" autocomplete="off">
    <label for="mod-token">Moderator token</label>
    <div class="connect-row">
      <input id="mod-token" v-model.trim="tokenInput" type="password" spellcheck="false"
             placeholder="Paste a moderator token" autocomplete="off">
      <button id="mod-use" type="submit">Use token</button>
    </div>
  </form>

  <p id="mod-error" class="chat-error" role="alert">{{ error }}</p>

  <template v-if="state === 'ok'">
    <p class="keys" id="mod-keys"><kbd>j</kbd>/<kbd>k</kbd> or <kbd>↓</kbd>/<kbd>↑</kbd> move ·
      <kbd>a</kbd> approve · <kbd>r</kbd> reject · <kbd>h</kbd> hide · <kbd>s</kbd> show · <kbd>b</kbd> block sender</p>

    <h3 class="mod-head">Waiting for approval <span class="count" id="queue-count">{{ queue.length }}</span></h3>
    <p v-if="!queue.length" class="hint" id="queue-empty">No pictures waiting. New ones appear here by themselves.</p>
    <ul v-else class="mod-list" id="queue" aria-label="Waiting for approval">
      <li v-for="q in queue" :key="'q' + q.id" class="mod-item queued" :data-key="'q:' + q.id" :data-id="q.id"
          :class="{ selected: selected === 'q:' + q.id }" :tabindex="selected === 'q:' + q.id ? 0 : -1"
          @focus="selected = 'q:' + q.id" :aria-label="'Queued picture ' + q.id + (q.chatMessage ? ': ' + q.chatMessage : '')">
        <div class="mod-pics">
          <template v-for="(md, i) in q.media" :key="i">
            <img v-if="isPicture(md) && blobs[md.url] && blobs[md.url] !== 'error'" :src="blobs[md.url]"
                 :alt="q.chatMessage || 'queued picture'" class="mod-pic">
            <span v-else-if="isPicture(md)" class="mod-pic placeholder">{{ blobs[md.url] === 'error' ? 'picture unavailable' : 'loading…' }}</span>
          </template>
          <span v-if="!q.media.some(isPicture)" class="mod-pic placeholder">no picture</span>
        </div>
        <div class="mod-text">
          <p class="caption">{{ q.chatMessage }}</p>
          <p class="meta"><span class="who">{{ q.userId }}</span>
            <time :datetime="q.createTime" :title="fullTime(q.createTime)">{{ friendlyTime(q.createTime) }}</time></p>
          <div class="mod-actions">
            <button type="button" class="approve" aria-keyshortcuts="a" :disabled="busy['q:' + q.id]" @click="approve(q)">Approve</button>
            <button type="button" class="reject secondary" aria-keyshortcuts="r" :disabled="busy['q:' + q.id]" @click="reject(q)">Reject</button>
          </div>
        </div>
      </li>
    </ul>

    <h3 class="mod-head">On the wall</h3>
    <p v-if="!recent.length" class="hint">Nothing on the wall yet.</p>
    <ul v-else class="mod-list" id="recent" aria-label="On the wall">
      <li v-for="m in recent" :key="'w' + m.index" class="mod-item" :data-key="'w:' + m.index" :data-index="m.index"
          :class="{ selected: selected === 'w:' + m.index, 'is-hidden': m.hidden }" :data-state="m.hidden ? 'hidden' : 'visible'"
          :tabindex="selected === 'w:' + m.index ? 0 : -1" @focus="selected = 'w:' + m.index"
          :aria-label="'Wall picture ' + m.index + (m.hidden ? ' (hidden)' : '') + (m.chatMessage ? ': ' + m.chatMessage : '')">
        <div class="mod-pics">
          <template v-if="!m.hidden">
            <template v-for="(md, i) in m.media" :key="i">
              <img v-if="isPicture(md)" :src="md.url + '/320'" :alt="m.chatMessage || 'wall picture'" class="mod-pic" loading="lazy">
            </template>
          </template>
          <span v-if="m.hidden" class="mod-pic placeholder">hidden</span>
          <span v-else-if="!m.media.some(isPicture)" class="mod-pic placeholder">text</span>
        </div>
        <div class="mod-text">
          <p class="caption">{{ m.hidden && !m.chatMessage ? '(hidden: its text is not shown to anyone)' : m.chatMessage }}</p>
          <p class="meta"><span class="who">#{{ m.index }} {{ m.userId }}</span>
            <time :datetime="m.createTime" :title="fullTime(m.createTime)">{{ friendlyTime(m.createTime) }}</time></p>
          <div class="mod-actions">
            <button v-if="!m.hidden" type="button" class="hide secondary" aria-keyshortcuts="h" :disabled="busy['w:' + m.index]" @click="hide(m)">Hide</button>
            <button v-else type="button" class="show" aria-keyshortcuts="s" :disabled="busy['w:' + m.index]" @click="show(m)">Show again</button>
            <template v-if="isSms(m)">
              <button v-if="!blocked[m.index]" type="button" class="block secondary" aria-keyshortcuts="b"
                      :disabled="busy['w:' + m.index]" @click="askBlock(m)">Block sender</button>
              <template v-else>
                <span class="blocked-note" role="status">sender blocked</span>
                <button type="button" class="unblock secondary" :disabled="busy['w:' + m.index]" @click="unblock(m)">Unblock</button>
              </template>
            </template>
          </div>
        </div>
      </li>
    </ul>
    <p class="hint block-hint">Blocking a sender refuses that phone number's next texts; it does not hide
      what it already sent. <code>bookpics-admin sender list</code> lists the blocked senders.</p>
  </template>
  <p v-else-if="state === 'idle'" class="intro">Paste the moderator token you were given and press <b>Use token</b>.</p>
  <p v-else-if="state === 'checking'" class="loading">Checking the token…</p>
  <dialog ref="blockDialog" id="block-confirm" class="confirm" aria-labelledby="block-confirm-title"
          aria-describedby="block-confirm-text" @cancel.prevent="answerBlock(false)">
    <template v-if="blockAsk">
      <h2 id="block-confirm-title">Block this sender?</h2>
      <p id="block-confirm-text">Texts from the number that sent picture #{{ blockAsk.index }}
        ({{ blockAsk.userId }}) will no longer reach the wall. Blocking does not hide this picture: hide it separately.</p>
      <div class="confirm-buttons">
        <button id="block-no" ref="blockNo" type="button" class="secondary" @click="answerBlock(false)">Cancel</button>
        <button id="block-yes" type="button" class="danger" @click="answerBlock(true)">Block sender</button>
      </div>
    </template>
  </dialog>
</section>`,

  setup (props) {
    const room = ref('books')
    const tokenInput = ref(storedToken(MODERATOR_TOKEN))
    const token = ref('') // the token in use (accepted by the server)
    const user = computed(() => tokenUser(token.value) || 'a moderator')
    const state = ref('idle') // idle | checking | ok | refused
    const error = ref('')
    const queue = reactive([]) // oldest first, as the API lists it
    const recent = reactive([]) // newest first
    const blobs = reactive({}) // queued media url -> blob: URL | 'error'
    const busy = reactive({}) // 'q:ID' | 'w:INDEX' -> true while its request runs
    const selected = ref('')
    const blocked = reactive({}) // INDEX -> true: this page blocked its sender
    const blockAsk = ref(null) // the wall message the block question is about
    const blockDialog = ref(null)
    const blockNo = ref(null)
    let pollTimer = null
    let client = null
    let roomKnown = null
    let attempt = 0

    const keys = computed(() => [...queue.map(q => 'q:' + q.id), ...recent.map(m => 'w:' + m.index)])

    function refusal (e) {
      if (e.status === 401) return `The server did not accept this token (${e.message}). Paste a valid moderator token.`
      if (e.status === 403) return `This token is not a moderator of ${room.value}.`
      if (e.status === 0) return `Couldn't reach the server: ${e.message}. Still trying…`
      return `Something went wrong: ${e.message}`
    }

    function learnRoom () {
      if (!roomKnown) {
        roomKnown = getJSON('/api/health').catch(() => null).then(h => {
          if (h && typeof h.twilio_room === 'string' && h.twilio_room) room.value = h.twilio_room
        })
      }
      return roomKnown
    }

    // Try a token: it is used (and kept) once the queue answers 200 to it.
    async function useToken (t) {
      t = (t || '').trim()
      if (!t) { error.value = 'Paste a moderator token first.'; return }
      const mine = ++attempt
      stopPolling()
      state.value = 'checking'
      error.value = ''
      await learnRoom()
      try {
        const q = await getJSON(`/api/rooms/${encodeURIComponent(room.value)}/queue`, t)
        if (mine !== attempt) return
        token.value = t
        tokenInput.value = t
        storeToken(MODERATOR_TOKEN, t)
        state.value = 'ok'
        setQueue(q)
        loadRecent()
        startLive()
        schedulePoll()
      } catch (e) {
        if (mine !== attempt) return
        token.value = ''
        state.value = 'refused'
        error.value = refusal(e)
      }
    }

    function setQueue (q) {
      const items = (q && Array.isArray(q.items)) ? q.items : []
      const ids = new Set(items.map(it => it.id))
      for (let i = queue.length - 1; i >= 0; i--) if (!ids.has(queue[i].id)) dropQueued(i)
      for (const it of items) {
        if (!Number.isInteger(it.id) || queue.some(x => x.id === it.id)) continue
        const item = {
          id: it.id,
          userId: it.userId || '',
          chatMessage: typeof it.chatMessage === 'string' ? it.chatMessage : '',
          createTime: it.createTime || '',
          media: safeMedia(it.media)
        }
        queue.push(item)
        for (const md of item.media) if (isPicture(md)) loadBlob(md.url)
      }
      if (!selected.value && keys.value.length) selected.value = keys.value[0]
    }

    function dropQueued (i) {
      for (const md of queue[i].media) {
        if (blobs[md.url] && blobs[md.url] !== 'error') URL.revokeObjectURL(blobs[md.url])
        delete blobs[md.url]
      }
      queue.splice(i, 1)
    }

    // Queued media is for moderators only: fetched with the token.
    async function loadBlob (url) {
      if (blobs[url]) return
      try {
        const res = await fetch(url, { headers: { Authorization: `Bearer ${token.value}` } })
        if (!res.ok) throw new Error(`HTTP ${res.status}`)
        const b = await res.blob()
        if (!queue.some(q => q.media.some(md => md.url === url))) return // gone meanwhile
        blobs[url] = URL.createObjectURL(b)
      } catch (e) {
        blobs[url] = 'error'
      }
    }

    async function pollQueue () {
      if (state.value !== 'ok') return
      const t = token.value
      try {
        const q = await getJSON(`/api/rooms/${encodeURIComponent(room.value)}/queue`, t)
        if (t !== token.value) return
        setQueue(q)
        if (error.value.startsWith("Couldn't reach")) error.value = ''
      } catch (e) {
        if (t !== token.value) return
        error.value = refusal(e)
        if (e.status === 401 || e.status === 403) { state.value = 'refused'; token.value = ''; stopPolling() }
      }
    }

    function schedulePoll () {
      clearTimeout(pollTimer)
      pollTimer = setTimeout(async () => { await pollQueue(); if (state.value === 'ok') schedulePoll() }, POLL_MS)
    }

    function stopPolling () { clearTimeout(pollTimer); pollTimer = null }

    function normMsg (m) {
      return {
        index: m.index,
        userId: m.userId || '',
        chatMessage: typeof m.chatMessage === 'string' ? m.chatMessage : '',
        createTime: m.createTime || '',
        media: safeMedia(m.media),
        hidden: m.hidden === true
      }
    }

    // Put a message in the recent list (newest first), replacing what was known of it.
    function putRecent (m) {
      if (!m || !Number.isInteger(m.index)) return
      const i = recent.findIndex(x => x.index === m.index)
      const n = normMsg(m)
      if (i >= 0) {
        // A tombstone does not wipe what this page already knew of a picture.
        if (n.hidden && !recent[i].hidden) Object.assign(recent[i], { hidden: true })
        else if (!n.hidden) recent[i] = n
        return
      }
      let j = 0
      while (j < recent.length && recent[j].index > n.index) j++
      recent.splice(j, 0, n)
      if (recent.length > RECENT * 2) recent.splice(RECENT * 2)
    }

    async function loadRecent () {
      try {
        const page = await getJSON(messagesPath(room.value, { limit: RECENT }))
        for (const m of (page && page.messages) || []) putRecent({ ...m, room: room.value })
        if (!selected.value && keys.value.length) selected.value = keys.value[0]
      } catch (e) {
        error.value = `Couldn't load the wall: ${e.message}`
      }
    }

    async function fetchOne (index) {
      const page = await getJSON(messagesPath(room.value, { after: index - 1, limit: 1 }))
      const m = ((page && page.messages) || []).find(x => x.index === index)
      if (m) putRecent(m)
    }

    // The wall's live frames: a new message may be an approval made
    // elsewhere (the queue changed too); hidden/shown keep the list right.
    function startLive () {
      if (client) return
      client = connect(wsUrl(), { api: location.origin })
      client.on('message', m => { if (m.room === room.value) { putRecent(m); pollQueue() } })
      client.on('hidden', m => {
        if (m.room !== room.value) return
        const x = recent.find(r => r.index === m.index)
        if (x) x.hidden = true
      })
      client.on('shown', m => { if (m.room === room.value) putRecent({ ...m, hidden: false }) })
      client.subscribe(room.value)
    }

    function actionFailed (what, e) {
      error.value = e.status === 401 || e.status === 403 ? refusal(e) : `Couldn't ${what}: ${e.message}`
    }

    // The key of the item after `key` once it leaves (or before it, at the end).
    function neighbour (key) {
      const k = keys.value
      const i = k.indexOf(key)
      return i < 0 ? (k[0] || '') : (k[i + 1] || k[i - 1] || '')
    }

    async function approve (q) {
      const key = 'q:' + q.id
      if (busy[key]) return
      busy[key] = true
      try {
        const r = await post(`/api/rooms/${encodeURIComponent(room.value)}/queue/${q.id}/approve`, token.value)
        error.value = ''
        leave(key, () => { const i = queue.findIndex(x => x.id === q.id); if (i >= 0) dropQueued(i) })
        if (r && Number.isInteger(r.index)) fetchOne(r.index).catch(() => {})
      } catch (e) {
        actionFailed('approve it', e)
        if (e.status === 404) pollQueue() // gone already (another moderator)
      } finally {
        delete busy[key]
      }
    }

    async function reject (q) {
      const key = 'q:' + q.id
      if (busy[key]) return
      busy[key] = true
      try {
        await post(`/api/rooms/${encodeURIComponent(room.value)}/queue/${q.id}/reject`, token.value)
        error.value = ''
        leave(key, () => { const i = queue.findIndex(x => x.id === q.id); if (i >= 0) dropQueued(i) })
      } catch (e) {
        actionFailed('reject it', e)
        if (e.status === 404) pollQueue()
      } finally {
        delete busy[key]
      }
    }

    async function hide (m) {
      const key = 'w:' + m.index
      if (busy[key]) return
      busy[key] = true
      try {
        await post(`/api/rooms/${encodeURIComponent(room.value)}/messages/${m.index}/hide`, token.value)
        error.value = ''
        m.hidden = true
      } catch (e) {
        actionFailed('hide it', e)
      } finally {
        delete busy[key]
      }
    }

    async function show (m) {
      const key = 'w:' + m.index
      if (busy[key]) return
      busy[key] = true
      try {
        await post(`/api/rooms/${encodeURIComponent(room.value)}/messages/${m.index}/show`, token.value)
        error.value = ''
        m.hidden = false
        await fetchOne(m.index).catch(() => {}) // its content, if the page had only the tombstone
      } catch (e) {
        actionFailed('show it', e)
      } finally {
        delete busy[key]
      }
    }

    // The question first; the dialog is modal, so the page's keys wait.
    function askBlock (m) {
      if (busy['w:' + m.index] || blockAsk.value) return
      selected.value = 'w:' + m.index
      blockAsk.value = m
      nextTick(() => {
        if (blockDialog.value && !blockDialog.value.open) blockDialog.value.showModal()
        if (blockNo.value) blockNo.value.focus()
      })
    }

    function answerBlock (yes) {
      const m = blockAsk.value
      if (blockDialog.value && blockDialog.value.open) blockDialog.value.close()
      blockAsk.value = null
      focusSelected()
      if (yes && m) senderChange(m, true)
    }

    async function senderChange (m, block) {
      const key = 'w:' + m.index
      if (busy[key]) return
      busy[key] = true
      try {
        const what = block ? 'block' : 'unblock'
        await post(`/api/rooms/${encodeURIComponent(room.value)}/messages/${m.index}/${what}`, token.value)
        error.value = ''
        if (block) blocked[m.index] = true
        else delete blocked[m.index]
      } catch (e) {
        actionFailed(block ? 'block the sender' : 'unblock the sender', e)
      } finally {
        delete busy[key]
      }
    }

    function unblock (m) { senderChange(m, false) }

    // An item leaves: the selection (and the focus, if it was there) moves on.
    function leave (key, drop) {
      const hadFocus = document.activeElement && document.activeElement.closest &&
        document.activeElement.closest(`[data-key="${key}"]`)
      const next = selected.value === key ? neighbour(key) : selected.value
      drop()
      selected.value = next
      if (hadFocus || document.activeElement === document.body) focusSelected()
    }

    function focusSelected () {
      nextTick(() => {
        const el = document.querySelector(`.moderate [data-key="${selected.value}"]`)
        if (el) { el.focus(); el.scrollIntoView({ block: 'nearest' }) }
      })
    }

    function move (d) {
      const k = keys.value
      if (!k.length) return
      const inList = document.activeElement && document.activeElement.closest &&
        document.activeElement.closest('.moderate [data-key]')
      // The first key press when no item has the focus starts at the top
      // (the oldest queued picture, else the newest on the wall).
      if (!inList) { selected.value = k[0]; focusSelected(); return }
      const i = k.indexOf(selected.value)
      selected.value = i < 0 ? k[0] : k[Math.max(0, Math.min(k.length - 1, i + d))]
      focusSelected()
    }

    function onKey (ev) {
      if (!props.active || state.value !== 'ok' || ev.ctrlKey || ev.metaKey || ev.altKey) return
      const t = ev.target
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return
      if (document.getElementById('token-confirm')) return // answering the link's question first
      if (blockAsk.value) return // the block question is open: its own buttons and Escape
      const [kind, id] = selected.value.split(':')
      const q = kind === 'q' ? queue.find(x => x.id === Number(id)) : null
      const m = kind === 'w' ? recent.find(x => x.index === Number(id)) : null
      switch (ev.key) {
        case 'j': case 'ArrowDown': move(1); break
        case 'k': case 'ArrowUp': move(-1); break
        case 'a': if (q) approve(q); break
        case 'r': if (q) reject(q); break
        case 'h': if (m && !m.hidden) hide(m); break
        case 's': if (m && m.hidden) show(m); break
        case 'b': if (m && isSms(m) && !blocked[m.index]) askBlock(m); break
        default: return
      }
      ev.preventDefault()
    }

    window.addEventListener('keydown', onKey)

    watch(() => props.tokenRequest, req => { if (req && req.token) useToken(req.token) }, { immediate: true })
    watch(() => props.active, on => {
      if (!on) { stopPolling(); return }
      if (state.value === 'ok') { pollQueue(); schedulePoll() } else if (state.value === 'idle' && tokenInput.value && !props.tokenRequest) useToken(tokenInput.value)
    }, { immediate: true })

    onBeforeUnmount(() => {
      window.removeEventListener('keydown', onKey)
      stopPolling()
      if (client) client.disconnect()
      for (const u of Object.values(blobs)) if (u !== 'error') URL.revokeObjectURL(u)
    })

    return {
      room, tokenInput, user, state, error, queue, recent, blobs, busy, selected,
      blocked, blockAsk, blockDialog, blockNo,
      useToken, approve, reject, hide, show, askBlock, answerBlock, unblock,
      isPicture, isSms, friendlyTime, fullTime
    }
  }
}
