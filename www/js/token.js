// Tokens kept in this browser (localStorage), one per page that needs one:
// the chat's (a member's) and the moderator page's. A token that arrives in
// a link (#/chat?token=..., #/moderate?token=...) replaces a kept one only
// when the person says so (app.js asks): a link from someone else must not
// silently sign this browser in as another user.
import { decodeToken } from 'bookpics-client'

export const CHAT_TOKEN = 'bookpics.token'
export const MODERATOR_TOKEN = 'bookpics.moderatorToken'

export function storedToken (key) {
  try { return localStorage.getItem(key) || '' } catch (e) { return '' }
}

export function storeToken (key, t) {
  try { localStorage.setItem(key, t) } catch (e) { /* private mode: kept for this page only */ }
}

// The user a token names (its readable part), or '' when it has no such shape.
export function tokenUser (t) {
  const d = decodeToken(t)
  return d ? d.user : ''
}
