// The chat: connect with a token, list the user's rooms, show a room's
// history plus live messages, send over the WebSocket.
//
// The connection is the bookpics client (clients/js): it reconnects, resumes
// every room from the last index it delivered (gapless, without repeats) and
// says why a connection is refused. Every message is also keyed by (room,
// index) here: whatever way it arrives (history page, live, catch-up) it is
// shown once, in index order.
import { ref, reactive, computed, watch, nextTick, onBeforeUnmount } from 'vue'
import { getJSON, messagesPath, wsUrl, safeMedia, friendlyTime, fullTime } from './util.js'
import { connect as connectClient } from 'bookpics-client'
import { CHAT_TOKEN, storedToken as kept, storeToken as keep } from './token.js'

const PAGE = 50
const MAX_BYTES = 4096
const DUPLICATE = 'This user is already connected elsewhere (another tab or device). Close it there, then press Connect.'

// What the page says for each reason the client gives (BookpicsError.code)
// when a connection is refused or lost.
const REFUSALS = {
  token_expired: 'This token has expired. Ask for a new one, paste it and press Connect.',
  token_invalid: 'The server did not accept this token: it is mistyped or not valid. Check it and press Connect.',
  unknown_user: 'This token is for a user who does not exist on this server.',
  duplicate_connection: DUPLICATE,
  replaced: 'This chat was opened somewhere else, so it stopped here. Press Connect to use it here again.',
  server_down: 'The chat server cannot be reached right now. Still trying…',
  refused: 'The server refused the connection. Still trying…'
}
function storedToken () { return kept(CHAT_TOKEN) }
function storeToken (t) { keep(CHAT_TOKEN, t) }

export default {
  name: 'ChatView',
  props: {
    active: { type: Boolean, default: false }, // the chat view is on screen
    tokenRequest: { type: Object, default: null } // {token, seq}: a token from the URL
  },
  emits: ['unread'],
  template: `
<section class="chat" aria-label="Chat">
  <form class="connect-bar" @submit.prevent="connect" autocomplete="off">
    <label for="token">Connection token</label>
    <div class="connect-row">
      <input id="token" v-model.trim="token" type="password" spellcheck="false"
             placeholder="Paste your token here" autocomplete="off">
      <button id="connect" type="submit">Connect</button>
      <button v-if="running" type="button" class="secondary" @click="disconnect">Disconnect</button>
    </div>
    <p class="status-line">
      <span id="chat-conn" class="conn" :class="state === 'live' ? 'is-live' : (state === 'offline' || state === 'stopped' ? 'is-off' : 'is-down')">{{ stateLabel }}</span>
      <span v-if="userId" class="me">signed in as <b id="chat-user">{{ userId }}</b></span>
    </p>
  </form>

  <p id="chat-error" class="chat-error" role="alert">{{ error }}</p>

  <div class="chat-body" v-if="connected || roomOrder.length">
    <nav class="rooms" aria-label="Rooms">
      <p v-if="!roomOrder.length" class="hint">You are not a member of any room yet.</p>
      <ul>
        <li v-for="name in roomOrder" :key="name">
          <button type="button" class="room" :class="{ current: name === current }" :data-room="name"
                  :aria-current="name === current ? 'true' : null" @click="openRoom(name)">
            <span class="room-label">#{{ name }}</span>
            <span v-if="rooms[name].unread" class="badge" :aria-label="rooms[name].unread + ' unread'">{{ rooms[name].unread }}</span>
          </button>
        </li>
      </ul>
    </nav>

    <div class="conversation">
      <template v-if="cur">
        <h2 class="conv-title">#{{ cur.name }}</h2>
        <ol class="messages" ref="list" @scroll="onScroll"
            :data-room="cur.name" :data-state="cur.state">
          <li v-if="cur.state === 'loaded' && !cur.exhausted" class="older">
            <button type="button" class="secondary" @click="loadEarlier(cur)" :disabled="cur.loadingOlder">Load earlier messages</button>
          </li>
          <li v-if="cur.state === 'loading'" class="hint">Loading messages…</li>
          <li v-if="cur.state === 'loaded' && !cur.list.length" class="hint">No messages yet. Say hello!</li>
          <li v-for="m in cur.list" :key="m.index" class="msg" :class="{ own: m.userId === userId }"
              :data-index="m.index" :data-user="m.userId">
            <div class="bubble">
              <div class="head">
                <span class="who">{{ m.userId }}</span>
                <time :datetime="m.createTime" :title="fullTime(m.createTime)">{{ friendlyTime(m.createTime) }}</time>
              </div>
              <p v-if="m.chatMessage" class="text">{{ m.chatMessage }}</p>
              <div v-if="m.media.length" class="msg-media">
                <a v-for="(md, i) in m.media" :key="i" :href="md.url" target="_blank" rel="noopener">
                  <img v-if="isImage(md)" :src="md.url" loading="lazy" :alt="m.chatMessage || 'picture'">
                  <span v-else>attachment {{ i + 1 }}</span>
                </a>
              </div>
            </div>
          </li>
        </ol>
        <form class="composer" @submit.prevent="send">
          <input id="say" v-model="say" type="text" autocomplete="off" enterkeyhint="send"
                 :placeholder="'Message #' + cur.name" :aria-label="'Message #' + cur.name">
          <button type="submit" :disabled="!say.trim()">Send</button>
        </form>
      </template>
      <p v-else class="hint pick">Pick a room to read and write messages.</p>
    </div>
  </div>

  <div v-else-if="!running" class="intro">
    <p>Paste the connection token you were given and press <b>Connect</b>.
       Your rooms will appear here, with their history and new messages as they arrive.</p>
  </div>
</section>`,

  setup (props, { emit }) {
    const token = ref(storedToken())
    const state = ref('offline') // offline | connecting | live | reconnecting | stopped
    const running = ref(false) // a connection is wanted
    const connected = ref(false) // a hello arrived in this session
    const userId = ref(null)
    const roomOrder = ref([])
    const rooms = reactive({}) // name -> room state
    const current = ref(null)
    const error = ref('')
    const say = ref('')
    const list = ref(null)
    const seen = {} // name -> Set of indexes (kept outside Vue: plain bookkeeping)
    let sessionToken = '' // the token the current state belongs to
    let client = null // the bookpics client of this session
    let everLive = false // a hello came on this client
    let atBottom = true
    let startedOnce = false

    const cur = computed(() => (current.value && rooms[current.value]) || null)
    const stateLabel = computed(() => ({
      offline: 'not connected', connecting: 'connecting', live: 'live',
      reconnecting: 'reconnecting', stopped: 'not connected'
    })[state.value])
    const unreadTotal = computed(() => roomOrder.value.reduce((n, r) => n + (rooms[r] ? rooms[r].unread : 0), 0))
    watch(unreadTotal, n => emit('unread', n))

    function ensureRoom (name) {
      if (!rooms[name]) {
        rooms[name] = {
          name, last: 0, unread: 0, list: [], highest: 0, lowest: Infinity,
          state: 'idle', exhausted: false, loadingOlder: false
        }
        seen[name] = new Set()
      }
      if (!roomOrder.value.includes(name)) roomOrder.value.push(name)
      return rooms[name]
    }

    function resetRooms () {
      for (const k of Object.keys(rooms)) delete rooms[k]
      for (const k of Object.keys(seen)) delete seen[k]
      roomOrder.value = []
      current.value = null
      userId.value = null
    }

    // Insert one message in its room (sorted by index, once). Returns true if new.
    function addMsg (name, m, live) {
      if (!m || !Number.isInteger(m.index) || typeof name !== 'string') return false
      const r = ensureRoom(name)
      if (seen[name].has(m.index)) return false
      seen[name].add(m.index)
      const msg = {
        index: m.index,
        userId: m.userId || '',
        chatMessage: typeof m.chatMessage === 'string' ? m.chatMessage : '',
        createTime: m.createTime || '',
        media: safeMedia(m.media)
      }
      let i = r.list.length
      while (i > 0 && r.list[i - 1].index > msg.index) i--
      r.list.splice(i, 0, msg)
      r.highest = Math.max(r.highest, msg.index)
      r.lowest = Math.min(r.lowest, msg.index)
      r.last = Math.max(r.last, msg.index)
      if (live && msg.userId !== userId.value && !(name === current.value && props.active)) r.unread++
      if (name === current.value && (atBottom || msg.userId === userId.value)) scrollToBottom()
      return true
    }

    function scrollToBottom () {
      nextTick(() => {
        const el = list.value
        if (el) { el.scrollTop = el.scrollHeight; atBottom = true }
      })
    }

    function onScroll () {
      const el = list.value
      if (el) atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 60
    }

    function httpProblem (e) {
      if (e.status === 401) return 'The server did not accept this token.'
      if (e.status === 403) return 'You are not a member of this room.'
      if (e.status === 404) return 'This room does not exist.'
      return `Couldn't load messages: ${e.message}`
    }

    async function loadHistory (r) {
      r.state = 'loading'
      try {
        const page = await getJSON(messagesPath(r.name, { limit: PAGE }), sessionToken)
        const msgs = (page && Array.isArray(page.messages)) ? page.messages : []
        for (const m of msgs) addMsg(r.name, m, false)
        r.exhausted = msgs.length < PAGE || r.lowest <= 1
        r.state = 'loaded'
        if (r.name === current.value) scrollToBottom()
      } catch (e) {
        r.state = 'error'
        error.value = httpProblem(e)
      }
    }

    async function loadEarlier (r) {
      if (r.loadingOlder || r.exhausted) return
      r.loadingOlder = true
      const el = list.value
      const fromBottom = el ? el.scrollHeight - el.scrollTop : 0
      try {
        const page = await getJSON(messagesPath(r.name, { before: r.lowest, limit: PAGE }), sessionToken)
        const msgs = (page && Array.isArray(page.messages)) ? page.messages : []
        for (const m of msgs) addMsg(r.name, m, false)
        if (msgs.length < PAGE || r.lowest <= 1) r.exhausted = true
        await nextTick()
        if (el && list.value === el) el.scrollTop = el.scrollHeight - fromBottom // keep the view still
      } catch (e) {
        error.value = httpProblem(e)
      } finally {
        r.loadingOlder = false
      }
    }

    function openRoom (name) {
      const r = ensureRoom(name)
      current.value = name
      r.unread = 0
      atBottom = true
      if (r.state === 'idle' || r.state === 'error') loadHistory(r)
      scrollToBottom()
    }

    // An ack came; our own message should also come as a "message" frame. If
    // it does not within a moment, fetch it so the sender always sees it.
    function ensureOwn (room, index) {
      setTimeout(() => {
        if (!seen[room] || seen[room].has(index) || sessionToken === '') return
        getJSON(messagesPath(room, { after: index - 1, limit: 1 }), sessionToken)
          .then(page => { for (const m of (page.messages || [])) addMsg(room, m, false) })
          .catch(() => {})
      }, 1500)
    }

    // The connection said hello (first time or after a reconnect).
    function onConnected (info) {
      if (!info.userId) {
        // Accepted, but as nobody: the token was not recognised.
        error.value = 'The server did not recognise this token. Check it and press Connect.'
        stopAfterRefusal()
        return
      }
      everLive = true
      connected.value = true
      userId.value = info.userId
      const names = info.rooms || []
      // Rooms the user left disappear; new ones are added.
      const keep = new Set(names.map(r => r.room))
      roomOrder.value = roomOrder.value.filter(n => keep.has(n))
      if (current.value && !keep.has(current.value)) current.value = null
      for (const r of names) {
        const st = ensureRoom(r.room)
        if (Number.isInteger(r.last)) st.last = Math.max(st.last, r.last)
      }
      if (error.value && !error.value.startsWith('Message not sent')) error.value = ''
      if (!current.value && roomOrder.value.length === 1) openRoom(roomOrder.value[0])
      else if (cur.value && cur.value.state === 'error') loadHistory(cur.value)
    }

    function onError (e) {
      if (e.room) return // a room-level problem of the library (it keeps trying)
      error.value = REFUSALS[e.code] || `Connection problem: ${e.message}`
    }

    function onState (s) {
      if (s.state === 'connected') state.value = 'live'
      else if (s.state === 'connecting') state.value = everLive ? 'reconnecting' : 'connecting'
      else {
        state.value = 'stopped'
        if (s.error) running.value = false // refused for good: the words are shown
      }
    }

    function stopAfterRefusal () {
      running.value = false
      if (client) client.disconnect()
    }

    function isImage (md) { return /^image\//.test(md.contentType || '') }

    function connect () {
      const t = (token.value || '').trim()
      if (!t) { error.value = 'Paste a connection token first.'; return }
      // Already connected as this user: nothing to do (a second connection
      // would be refused as a duplicate).
      if (t === sessionToken && running.value && state.value === 'live') { error.value = ''; return }
      storeToken(t)
      if (t !== sessionToken) resetRooms() // another user: start afresh
      // Resume from what this page already shows (same user), so a new
      // connection fills exactly what is missing.
      const positions = {}
      for (const n of roomOrder.value) if (rooms[n].highest > 0) positions[n] = rooms[n].highest
      sessionToken = t
      error.value = ''
      connected.value = false
      running.value = true
      startedOnce = true
      everLive = false
      if (client) client.disconnect()
      client = connectClient(wsUrl(), { token: sessionToken, api: location.origin, positions, autoConnect: false })
      client.on('state', onState)
      client.on('connected', onConnected)
      client.on('error', onError)
      client.on('message', m => addMsg(m.room, m, true))
      client.on('hidden', m => hideMsg(m.room, m.index))
      client.on('shown', m => { hideMsg(m.room, m.index); if (seen[m.room]) seen[m.room].delete(m.index); addMsg(m.room, m, false) })
      client.connect()
    }

    function disconnect () {
      running.value = false
      if (client) client.disconnect()
      state.value = 'offline'
    }

    // A message taken down by a moderator leaves the list.
    function hideMsg (name, index) {
      const r = rooms[name]
      if (!r) return
      const i = r.list.findIndex(m => m.index === index)
      if (i >= 0) r.list.splice(i, 1)
    }

    function send () {
      const text = say.value
      if (!text.trim() || !cur.value) return
      if (new TextEncoder().encode(text).length > MAX_BYTES) {
        error.value = `Message not sent: it is longer than ${MAX_BYTES} bytes.`
        return
      }
      error.value = '' // a new attempt: the last problem is history
      if (!client || client.state !== 'connected') {
        error.value = 'Message not sent: not connected right now. Try again in a moment.'
        return
      }
      const room = cur.value.name
      client.send(room, text).then(ack => {
        if (say.value === text) say.value = ''
        error.value = ''
        ensureOwn(ack.room, ack.index)
      }, e => {
        error.value = `Message not sent: ${e.message}${e.code ? ' (' + e.code + ')' : ''}`
      })
    }

    // A token from the URL (#/chat?token=...) connects at once: app.js
    // passes it on only once it is clear that it may replace the kept one.
    watch(() => props.tokenRequest, req => {
      if (req && req.token) { token.value = req.token; connect() }
    }, { immediate: true })

    // Opening the chat view: connect with the stored token the first time,
    // and the room on screen is read.
    watch(() => props.active, on => {
      if (!on) return
      if (!startedOnce && token.value) connect()
      if (cur.value) { cur.value.unread = 0; scrollToBottom() }
    }, { immediate: true })

    onBeforeUnmount(() => { if (client) client.disconnect() })

    return {
      token, state, stateLabel, running, connected, userId, roomOrder, rooms, current, cur,
      error, say, list, connect, disconnect, openRoom, loadEarlier, send, onScroll,
      isImage, friendlyTime, fullTime
    }
  }
}
