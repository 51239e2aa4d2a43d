// bookpics front end: a picture wall (#/), a chat (#/chat) and a moderator
// page (#/moderate), Vue 3 without
// a build step ("vue" is mapped to /vendor/vue.js by the import map in
// index.html). Every user-supplied string is shown with {{ }} interpolation,
// i.e. as text; nothing in the app uses v-html.
import { createApp, ref, nextTick } from 'vue'
import PictureWall from './js/wall.js'
import ChatView from './js/chat.js'
import ModeratePage from './js/moderate.js'
import { CHAT_TOKEN, MODERATOR_TOKEN, storedToken, tokenUser } from './js/token.js'

const VIEWS = ['wall', 'chat', 'moderate']
const TITLES = { wall: 'bookpics', chat: 'Chat · bookpics', moderate: 'Moderate · bookpics' }
const TOKEN_KEYS = { chat: CHAT_TOKEN, moderate: MODERATOR_TOKEN }

// "#/chat?token=abc" -> {view: 'chat', params: {token: 'abc'}}
function parseHash () {
  const h = location.hash.replace(/^#\/?/, '')
  const [path, query] = h.split('?')
  return { view: VIEWS.includes(path) ? path : 'wall', params: new URLSearchParams(query || '') }
}

const App = {
  components: { PictureWall, ChatView, ModeratePage },
  template: `
<header class="site-header">
  <div class="header-inner">
    <a class="brand" href="#/"><svg class="logo" viewBox="0 0 32 32" aria-hidden="true" focusable="false"><rect width="32" height="32" rx="9" fill="#b4451f"/><path d="M7 10.5c3-1.2 6-1 9 1 3-2 6-2.2 9-1v12c-3-1.2-6-1-9 1-3-2-6-2.2-9-1z" fill="#fff"/><path d="M16 11.5v12" stroke="#b4451f" stroke-width="1.4"/></svg><h1>bookpics</h1></a>
    <nav class="main-nav" aria-label="Main">
      <a href="#/" :aria-current="view === 'wall' ? 'page' : null">Wall</a>
      <a href="#/chat" :aria-current="view === 'chat' ? 'page' : null">Chat<span v-if="unread" class="badge">{{ unread }}</span></a>
      <a v-if="view === 'moderate'" href="#/moderate" aria-current="page">Moderate</a>
    </nav>
  </div>
</header>
<main class="page">
  <picture-wall v-if="wallOpened" v-show="view === 'wall'"></picture-wall>
  <chat-view v-show="view === 'chat'" :active="view === 'chat'" :token-request="tokenRequest"
             @unread="n => unread = n"></chat-view>
  <moderate-page v-if="modOpened" v-show="view === 'moderate'" :active="view === 'moderate'"
                 :token-request="modTokenRequest"></moderate-page>
</main>
<div v-if="ask" class="backdrop">
  <div id="token-confirm" class="confirm" role="alertdialog" aria-modal="true"
       aria-labelledby="token-confirm-title" aria-describedby="token-confirm-text" @keydown.esc="answer(false)">
    <h2 id="token-confirm-title">Use the token from this link?</h2>
    <p id="token-confirm-text">This browser is signed in{{ ask.oldUser ? ' as ' + ask.oldUser : '' }}.
      The link you opened carries another token{{ ask.newUser ? ', for ' + ask.newUser : '' }}.
      Only use it if you trust whoever sent you the link.</p>
    <div class="confirm-buttons">
      <button id="token-keep" ref="keepButton" type="button" class="secondary" @click="answer(false)">Keep {{ ask.oldUser || 'the saved token' }}</button>
      <button id="token-use" type="button" @click="answer(true)">Use {{ ask.newUser || 'the new token' }}</button>
    </div>
  </div>
</div>`,

  setup () {
    const view = ref('wall')
    const unread = ref(0)
    const tokenRequest = ref(null)
    const modTokenRequest = ref(null)
    const wallOpened = ref(false) // the wall (and its socket) starts when first shown
    const modOpened = ref(false)
    const ask = ref(null) // {view, token, oldUser, newUser}: a link's token waiting for a yes
    const keepButton = ref(null)
    let seq = 0

    function handOver (v, token) {
      const req = { token, seq: ++seq }
      if (v === 'chat') tokenRequest.value = req
      else modTokenRequest.value = req
    }

    // A token in a link: taken at once when nothing is kept yet (or the same
    // one), otherwise only after the person agrees (issue 11: a link must not
    // silently swap the user this browser acts as).
    function offer (v, token) {
      const old = storedToken(TOKEN_KEYS[v])
      if (!old || old === token) { handOver(v, token); return }
      ask.value = { view: v, token, oldUser: tokenUser(old), newUser: tokenUser(token) }
      // The safe answer has the focus: Enter or Escape keeps the saved token.
      nextTick(() => { if (keepButton.value) keepButton.value.focus() })
    }

    function answer (yes) {
      const a = ask.value
      ask.value = null
      if (a && yes) handOver(a.view, a.token)
    }

    function route () {
      const { view: v, params } = parseHash()
      const token = params.get('token')
      if (TOKEN_KEYS[v] && token) {
        // Drop the token from the address bar and history at once.
        history.replaceState(null, '', location.pathname + location.search + '#/' + v)
        offer(v, token)
      }
      view.value = v
      if (v === 'wall') wallOpened.value = true
      if (v === 'moderate') modOpened.value = true
      document.title = TITLES[v]
    }
    route()
    window.addEventListener('hashchange', route)

    return { view, unread, tokenRequest, modTokenRequest, wallOpened, modOpened, ask, keepButton, answer }
  }
}

createApp(App).mount('#app')
