// The wall's lightbox: one picture large, with its whole caption. Arrow
// keys, the buttons or a swipe move to the next/previous picture, Escape
// or the close button closes it; the focus stays inside while it is open
// and goes back where it was (the wall's picture) when it closes.
import { ref, computed, watch, nextTick, onMounted, onBeforeUnmount } from 'vue'
import { friendlyTime, fullTime } from './util.js'

const SWIPE_PX = 50 // a horizontal move this long is a swipe

export default {
  name: 'PictureLightbox',
  props: {
    items: { type: Array, required: true }, // [{key, index, url, chatMessage, userId, createTime}]
    at: { type: Number, required: true } // position in items
  },
  emits: ['close', 'move'],
  template: `
<div class="lightbox" role="dialog" aria-modal="true" tabindex="-1" :aria-label="'Picture ' + (at + 1) + ' of ' + items.length"
     @keydown="onKey" @pointerdown="down" @pointerup="up" @click="backdrop" ref="box">
  <figure v-if="item" class="lb-figure" :data-index="item.index">
    <img :src="item.url + '/1280'" :srcset="srcset(item.url)" sizes="100vw" :alt="item.chatMessage || 'book picture'"
         class="lb-img" draggable="false">
    <figcaption>
      <p v-if="item.chatMessage" class="lb-caption">{{ item.chatMessage }}</p>
      <p class="lb-meta"><span class="who">{{ item.userId }}</span>
        <time :datetime="item.createTime" :title="fullTime(item.createTime)">{{ friendlyTime(item.createTime) }}</time>
        <span class="lb-pos">{{ at + 1 }} / {{ items.length }}</span></p>
    </figcaption>
  </figure>
  <button type="button" class="lb-btn lb-prev" aria-label="Previous picture" :disabled="at <= 0" @click="go(-1)">‹</button>
  <button type="button" class="lb-btn lb-next" aria-label="Next picture" :disabled="at >= items.length - 1" @click="go(1)">›</button>
  <button type="button" class="lb-btn lb-close" aria-label="Close" ref="closer" @click="$emit('close')">×</button>
</div>`,

  setup (props, { emit }) {
    const box = ref(null)
    const closer = ref(null)
    const item = computed(() => props.items[props.at] || null)
    let startX = null
    let startY = 0
    let swiped = false // the click that ends a swipe is not a click on the backdrop

    function srcset (url) { return [320, 640, 1280].map(w => `${url}/${w} ${w}w`).join(', ') }

    function go (d) {
      const n = props.at + d
      if (n >= 0 && n < props.items.length) emit('move', n)
    }

    function onKey (ev) {
      if (ev.key === 'Escape') { ev.preventDefault(); emit('close') } else if (ev.key === 'ArrowRight') { ev.preventDefault(); go(1) } else if (ev.key === 'ArrowLeft') { ev.preventDefault(); go(-1) } else if (ev.key === 'Tab') {
        // Keep the focus in the dialog: cycle through its enabled buttons.
        const f = [...box.value.querySelectorAll('button:not([disabled])')]
        if (!f.length) return
        const i = f.indexOf(document.activeElement)
        const n = ev.shiftKey ? (i <= 0 ? f.length - 1 : i - 1) : (i + 1) % f.length
        ev.preventDefault()
        f[n].focus()
      }
    }

    function down (ev) { startX = ev.clientX; startY = ev.clientY; swiped = false }
    function up (ev) {
      if (startX === null) return
      const dx = ev.clientX - startX
      const dy = ev.clientY - startY
      startX = null
      if (Math.abs(dx) > SWIPE_PX && Math.abs(dx) > Math.abs(dy)) { swiped = true; go(dx < 0 ? 1 : -1) }
    }

    // A click on the dark backdrop (not the picture or a button) closes.
    function backdrop (ev) {
      if (swiped) { swiped = false; return }
      if (ev.target === ev.currentTarget) emit('close')
    }

    // The picture it shows left the wall (hidden) and nothing is left: close.
    watch(() => props.items.length, n => { if (!n) emit('close') })

    onMounted(() => nextTick(() => { if (closer.value) closer.value.focus() }))
    onBeforeUnmount(() => { startX = null })

    return { box, closer, item, srcset, go, onKey, down, up, backdrop, friendlyTime, fullTime }
  }
}
