// bookpics front end: a picture wall (#/) and a chat (#/chat), Vue 3 without
// a build step ("vue" is mapped to /vendor/vue.js by the import map in
// index.html). Every user-supplied string is shown with {{ }} interpolation,
// i.e. as text; nothing in the app uses v-html.
import { createApp, ref } from 'vue'
import PictureWall from './js/wall.js'
import ChatView from './js/chat.js'

// "#/chat?token=abc" -> {view: 'chat', params: {token: 'abc'}}
function parseHash () {
  const h = location.hash.replace(/^#\/?/, '')
  const [path, query] = h.split('?')
  return { view: path === 'chat' ? 'chat' : 'wall', params: new URLSearchParams(query || '') }
}

const App = {
  components: { PictureWall, ChatView },
  template: `
<header class="site-header">
  <div class="header-inner">
    <a class="brand" href="#/"><svg class="logo" viewBox="0 0 32 32" aria-hidden="true" focusable="false"><rect width="32" height="32" rx="9" fill="#b4451f"/><path d="M7 10.5c3-1.2 6-1 9 1 3-2 6-2.2 9-1v12c-3-1.2-6-1-9 1-3-2-6-2.2-9-1z" fill="#fff"/><path d="M16 11.5v12" stroke="#b4451f" stroke-width="1.4"/></svg><h1>bookpics</h1></a>
    <nav class="main-nav" aria-label="Main">
      <a href="#/" :aria-current="view === 'wall' ? 'page' : null">Wall</a>
      <a href="#/chat" :aria-current="view === 'chat' ? 'page' : null">Chat<span v-if="unread" class="badge">{{ unread }}</span></a>
    </nav>
  </div>
</header>
<main class="page">
  <picture-wall v-if="wallOpened" v-show="view === 'wall'"></picture-wall>
  <chat-view v-show="view === 'chat'" :active="view === 'chat'" :token-request="tokenRequest"
             @unread="n => unread = n"></chat-view>
</main>`,

  setup () {
    const view = ref('wall')
    const unread = ref(0)
    const tokenRequest = ref(null)
    const wallOpened = ref(false) // the wall (and its socket) starts when first shown
    let seq = 0

    function route () {
      const { view: v, params } = parseHash()
      const token = params.get('token')
      if (v === 'chat' && token) {
        // Take the token, then drop it from the address bar and history.
        tokenRequest.value = { token, seq: ++seq }
        history.replaceState(null, '', location.pathname + location.search + '#/chat')
      }
      view.value = v
      if (v === 'wall') wallOpened.value = true
      document.title = v === 'chat' ? 'Chat · bookpics' : 'bookpics'
    }
    route()
    window.addEventListener('hashchange', route)

    return { view, unread, tokenRequest, wallOpened }
  }
}

createApp(App).mount('#app')
