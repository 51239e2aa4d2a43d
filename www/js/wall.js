// The picture wall: the public room (default "books"), newest first, with
// infinite scroll towards older pictures and live arrivals over /ws.
//
// Layout: a grid of equal cards whose pictures keep their whole shape
// (object-fit: contain in a 4:5 box: no book title is cropped) and whose
// captions are clamped to a few lines (one long caption does not make its
// row taller than the others); the lightbox shows the picture large with
// its whole caption. A grid rather than CSS columns: the newest picture
// stays top left and the reading order is the wall's order.
import { ref, reactive, computed, onMounted, onBeforeUnmount, nextTick } from 'vue'
import { getJSON, messagesPath, wsUrl, safeMedia, friendlyTime, fullTime } from './util.js'
import { connect } from 'bookpics-client'
import PictureLightbox from './lightbox.js'

const PAGE = 30 // pictures per page
const BANNER_MS = 3000 // how long "New data is available" stays up once the new pictures are in sight
const TOP_PX = 120 // scrolled less than this: the newest pictures are in sight

export default {
  name: 'PictureWall',
  components: { PictureLightbox },
  template: `
<section class="wall" aria-labelledby="wall-title">
  <div class="toolbar">
    <h2 id="wall-title">Book pictures <span class="room-name">#{{ room }}</span></h2>
    <span id="conn" class="conn" :class="connClass" :title="connTitle">{{ connLabel }}</span>
  </div>
  <p v-if="wallNumber" class="wall-number" id="wall-number">Text a picture of a book you love to
    <a :href="'sms:' + wallNumber.replace(/[^+0-9]/g, '')" class="number">{{ wallNumber }}</a></p>

  <div class="new-data-region" role="status">
    <button v-if="bannerKey" :key="bannerKey" type="button" class="new-data" @click="toTop">New data is available</button>
  </div>

  <p v-if="loadError && !pictures.length" class="problem">
    Couldn't load the pictures ({{ loadError }}).
    <button type="button" @click="loadFirst">Try again</button>
  </p>
  <p v-else-if="!loaded" class="loading">Loading pictures…</p>
  <p v-else-if="!pictures.length" class="empty">No pictures yet — text one to our number!</p>

  <transition-group v-if="pictures.length" tag="ul" name="card" class="grid">
    <li v-for="m in pictures" :key="m.index" class="card"
        :class="{ 'text-only': !m.media.length, fresh: fresh[m.index] }"
        :data-index="m.index" :data-user="m.userId">
      <div v-if="m.media.length" class="media" :class="m.media.length > 1 ? 'multi m' + Math.min(m.media.length, 3) : ''">
        <template v-for="(md, i) in m.media" :key="i">
          <!-- non-image media (video, vCard...) are not shown: /media answers 404 -->
          <a v-if="isPicture(md)" :href="md.url" class="pic" :aria-label="'Open picture: ' + (m.chatMessage || 'book picture')"
             @click.prevent="openAt(m.index + ':' + i, $event)">
            <img :src="md.url + '/640'" :srcset="srcset(md)" :sizes="m.media.length > 1 ? sizesMulti : sizesOne"
                 loading="lazy" :alt="m.chatMessage || 'book picture'"
                 :class="{ broken: broken[md.url] }" @error="broken[md.url] = true">
            <span v-if="broken[md.url]" class="img-broken">picture unavailable</span>
          </a>
        </template>
      </div>
      <p v-if="m.chatMessage" class="caption">{{ m.chatMessage }}</p>
      <footer class="meta">
        <span class="who">{{ m.userId }}</span>
        <time :datetime="m.createTime" :title="fullTime(m.createTime)">{{ friendlyTime(m.createTime) }}</time>
      </footer>
    </li>
  </transition-group>

  <picture-lightbox v-if="lbOpen && lbItems.length" :items="lbItems" :at="lbAt"
                    @move="n => lbKey = lbItems[n].key" @close="closeLightbox"></picture-lightbox>

  <div ref="sentinel" class="sentinel" aria-hidden="true"></div>
  <p v-if="olderError" class="problem">
    Couldn't load older pictures ({{ olderError }}).
    <button type="button" @click="loadOlder">Try again</button>
  </p>
  <p v-else-if="loadingOlder" class="loading">Loading older pictures…</p>
  <p v-else-if="loaded && pictures.length && exhausted" class="end">That's every picture so far.</p>
  <p v-else-if="loaded && pictures.length" class="more">
    <button type="button" @click="loadOlder">Show older pictures</button>
  </p>
</section>`,

  setup () {
    const room = ref('books')
    const pictures = reactive([]) // newest first
    const seen = new Set() // indexes shown (dedupe)
    const broken = reactive({}) // media url -> true when it failed to load
    const fresh = reactive({}) // index -> true while the arrival highlight runs
    const loaded = ref(false)
    const loadError = ref('')
    const loadingOlder = ref(false)
    const olderError = ref('')
    const exhausted = ref(false)
    const conn = ref('connecting') // connecting (first time) | live | reconnecting (after a loss)
    const wallNumber = ref('')
    const lbOpen = ref(false)
    const lbKey = ref('') // "index:n" of the picture the lightbox shows
    let lbPos = 0 // its last position, for when it leaves the wall
    let lbOpener = null // what had the focus when it opened
    let bannerSticky = false // the banner waits until the top is in sight
    const bannerKey = ref(0) // a new key re-creates the banner element
    const sentinel = ref(null)
    let highest = 0 // highest index shown
    let lowest = Infinity // lowest index shown
    let bannerTimer = null
    let retryTimer = null
    let observer = null
    let client = null // the bookpics client (clients/js): reconnects and resumes by itself
    let alive = true

    const connLabel = computed(() => conn.value)
    const connClass = computed(() => ({ live: 'is-live', connecting: 'is-off', reconnecting: 'is-down' })[conn.value])
    const connTitle = computed(() => ({
      live: 'New pictures appear here as they arrive',
      connecting: 'Connecting for live pictures',
      reconnecting: 'Connection lost: trying again; no picture will be missed'
    })[conn.value])

    // Every picture on the wall, in order, for the lightbox.
    const lbItems = computed(() => {
      const out = []
      for (const m of pictures) {
        m.media.forEach((md, i) => {
          if (isPicture(md) && !broken[md.url]) {
            out.push({ key: m.index + ':' + i, index: m.index, url: md.url, chatMessage: m.chatMessage, userId: m.userId, createTime: m.createTime })
          }
        })
      }
      return out
    })
    // Where the lightbox is; if its picture left the wall, the one now in its place.
    const lbAt = computed(() => {
      const i = lbItems.value.findIndex(x => x.key === lbKey.value)
      if (i >= 0) { lbPos = i; return i }
      return Math.max(0, Math.min(lbPos, lbItems.value.length - 1))
    })

    function openAt (key, ev) {
      lbOpener = ev && ev.currentTarget ? ev.currentTarget : document.activeElement
      lbKey.value = key
      lbOpen.value = true
    }

    function closeLightbox () {
      const key = (lbItems.value[lbAt.value] || {}).key || lbKey.value
      lbOpen.value = false
      nextTick(() => {
        // Back to the picture it was opened from, or the one it was moved to
        // (the wall follows), or whatever is in that place now.
        const [index, n] = key.split(':')
        const moved = document.querySelectorAll(`.card[data-index="${index}"] .pic`)[Number(n) || 0]
        const target = (lbOpener && lbOpener.isConnected && lbOpener.closest(`.card[data-index="${index}"]`)) ? lbOpener : (moved || lbOpener)
        if (target && target.isConnected) target.focus()
        lbOpener = null
      })
    }

    function isPicture (md) { return /^image\//.test(md.contentType || '') }
    // The WebP variants /media serves (320, 640, 1280 px wide, never
    // enlarged); the browser picks by the card's width and the screen's density.
    function srcset (md) { return [320, 640, 1280].map(w => `${md.url}/${w} ${w}w`).join(', ') }
    // A card is the whole width on a phone, at most ~400 px in the grid; two pictures share it.
    const sizesOne = '(max-width: 540px) 100vw, 400px' // the grid's cards: 250 px and up, at most ~400
    const sizesMulti = '(max-width: 540px) 50vw, 200px'

    // Keep what the API sends and what the page needs.
    function norm (m) {
      return {
        index: m.index,
        userId: m.userId || '',
        chatMessage: typeof m.chatMessage === 'string' ? m.chatMessage : '',
        createTime: m.createTime || '',
        media: safeMedia(m.media)
      }
    }

    // Add older messages (any order) at the bottom.
    function addOlder (list) {
      const add = list.filter(m => m && Number.isInteger(m.index) && !seen.has(m.index) && !m.hidden)
        .sort((a, b) => b.index - a.index)
      for (const m of add) {
        seen.add(m.index)
        // Usually they all go at the end; keep the order right in any case.
        let i = pictures.length
        while (i > 0 && pictures[i - 1].index < m.index) i--
        pictures.splice(i, 0, norm(m))
        highest = Math.max(highest, m.index)
        lowest = Math.min(lowest, m.index)
      }
    }

    async function loadFirst () {
      clearTimeout(retryTimer)
      loadError.value = ''
      loaded.value = false
      try {
        const health = await getJSON('/api/health').catch(() => null)
        if (health && typeof health.twilio_room === 'string' && health.twilio_room) room.value = health.twilio_room
        if (health && typeof health.wall_number === 'string') wallNumber.value = health.wall_number
        const page = await getJSON(messagesPath(room.value, { limit: PAGE }))
        const list = (page && Array.isArray(page.messages)) ? page.messages : []
        addOlder(list)
        exhausted.value = list.length < PAGE || lowest <= 1
        loaded.value = true
        startLive()
        await nextTick()
        fillScreen()
      } catch (e) {
        loadError.value = e.message
        loaded.value = true
        // A wall often runs unattended on a screen: keep trying by itself.
        clearTimeout(retryTimer)
        if (alive) retryTimer = setTimeout(() => { if (!pictures.length) loadFirst() }, 5000)
      }
    }

    async function loadOlder () {
      if (loadingOlder.value || exhausted.value || !loaded.value || !pictures.length) return
      loadingOlder.value = true
      olderError.value = ''
      try {
        const page = await getJSON(messagesPath(room.value, { before: lowest, limit: PAGE }))
        const list = (page && Array.isArray(page.messages)) ? page.messages : []
        addOlder(list)
        if (list.length < PAGE || lowest <= 1) exhausted.value = true
      } catch (e) {
        olderError.value = e.message
      } finally {
        loadingOlder.value = false
      }
      await nextTick()
      if (!olderError.value) fillScreen()
    }

    // The observer only fires on changes; if the bottom is still in sight after
    // a page arrived (tall screen), keep loading.
    function fillScreen () {
      const el = sentinel.value
      if (!el || exhausted.value || loadingOlder.value || !alive) return
      if (el.offsetParent === null) return // view hidden
      if (el.getBoundingClientRect().top < window.innerHeight + 800) loadOlder()
    }

    // A live message for the wall: banner first, then the picture on top.
    function arrived (m) {
      if (!Number.isInteger(m.index) || m.index <= highest || seen.has(m.index)) return
      seen.add(m.index)
      highest = m.index
      if (m.hidden) return
      if (lowest === Infinity) lowest = m.index
      bannerKey.value++
      clearTimeout(bannerTimer)
      // At the top, the new picture is in sight: a short notice. Scrolled
      // away, the notice stays until the top is seen (or it is pressed).
      bannerSticky = window.scrollY > TOP_PX
      if (!bannerSticky) bannerTimer = setTimeout(() => { bannerKey.value = 0 }, BANNER_MS)
      pictures.unshift(norm(m))
      fresh[m.index] = true
      setTimeout(() => { delete fresh[m.index] }, 2500)
    }

    // Live arrivals: the client follows the wall from the newest picture
    // shown; across reconnects it resumes from the last one it delivered,
    // drops repeats and fetches any it missed, so each arrives here once.
    function startLive () {
      if (client) return
      client = connect(wsUrl(), { api: location.origin })
      let wasLive = false // "reconnecting" only once a connection was lost, never on first load
      client.on('state', s => {
        if (s.state === 'connected') { wasLive = true; conn.value = 'live' } else conn.value = wasLive ? 'reconnecting' : 'connecting'
      })
      client.on('message', m => { if (m.room === room.value) arrived(m) })
      client.on('hidden', m => { if (m.room === room.value) hide(m.index) })
      client.on('shown', m => { if (m.room === room.value) { hide(m.index); seen.delete(m.index); addOlder([m]) } })
      client.subscribe(room.value, { after: highest })
    }

    // A picture taken down by a moderator leaves the wall.
    function hide (index) {
      const i = pictures.findIndex(p => p.index === index)
      if (i >= 0) pictures.splice(i, 1)
    }

    function toTop () { window.scrollTo({ top: 0, behavior: 'smooth' }) }

    // The sticky notice was seen: the top (with the new pictures) is in sight.
    function onScroll () {
      if (!bannerSticky || !bannerKey.value || window.scrollY > TOP_PX) return
      bannerSticky = false
      clearTimeout(bannerTimer)
      bannerTimer = setTimeout(() => { bannerKey.value = 0 }, BANNER_MS)
    }

    onMounted(() => {
      if ('IntersectionObserver' in window) {
        observer = new IntersectionObserver(entries => {
          if (entries.some(e => e.isIntersecting)) loadOlder()
        }, { rootMargin: '0px 0px 800px 0px' })
        if (sentinel.value) observer.observe(sentinel.value)
      }
      window.addEventListener('scroll', onScroll, { passive: true })
      loadFirst()
    })

    onBeforeUnmount(() => {
      alive = false
      window.removeEventListener('scroll', onScroll)
      if (observer) observer.disconnect()
      if (client) client.disconnect()
      clearTimeout(bannerTimer)
      clearTimeout(retryTimer)
    })

    return {
      room, pictures, broken, fresh, loaded, loadError, loadingOlder, olderError, exhausted,
      bannerKey, sentinel, connLabel, connClass, connTitle, wallNumber,
      lbOpen, lbKey, lbItems, lbAt, openAt, closeLightbox,
      isPicture, srcset, sizesOne, sizesMulti, loadFirst, loadOlder, toTop, friendlyTime, fullTime
    }
  }
}
