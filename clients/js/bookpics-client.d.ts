// Type declarations for bookpics-client.js.

/** A message as the API and the relay send it (CONTRACT.md, "One data model"). */
export interface Message {
  room: string
  index: number
  userId?: string
  messageType?: 'text message' | 'picture' | string
  chatMessage?: string
  createTime: string
  media?: { url: string, contentType: string }[]
  /** A message hidden by a moderator: only room, index, createTime are set. */
  hidden?: true
}

export interface HiddenEvent { room: string, index: number }

export type State = 'connecting' | 'connected' | 'disconnected'

/** Stable reasons; `message` is for humans. */
export type ErrorCode =
  | 'token_expired' | 'token_invalid' | 'unknown_user' | 'duplicate_connection'
  | 'server_down' | 'replaced' | 'refused'
  | 'not_connected' | 'disconnected' | 'timeout' | 'too_large' | 'gap' | 'network'
  | 'not_member' | 'not_found' | 'bad_request' | 'unauthorized' | 'forbidden' | 'internal'
  | 'idempotency_key_reused' | 'unavailable'
  | (string & {})

export class BookpicsError extends Error {
  constructor (code: ErrorCode, message?: string, extra?: object)
  name: 'BookpicsError'
  code: ErrorCode
  /** HTTP status, for errors from the HTTP API. */
  status?: number
  /** The WebSocket close code, for connection refusals. */
  closeCode?: number
  /** The room, for room-level errors (subscribe refused, gap not fillable). */
  room?: string
  userId?: string
  /** Unix time the token expired (token_expired). */
  expires?: number
  /** The send's id, for a rejected send: sending again with it stores at most once. */
  clientMessageId?: string
}

export interface ConnectOptions {
  /** A connection token (bookpics-admin token, POST /api/admin/tokens). */
  token?: string
  /** Called for a token when there is none, and again after token_expired. */
  getToken?: () => string | Promise<string>
  /** HTTP API base, e.g. "https://books.example.org"; default: from the WebSocket URL. */
  api?: string
  /** WebSocket constructor (Node 18: `import WebSocket from 'ws'`). Default: globalThis.WebSocket. */
  WebSocket?: any
  /** fetch implementation. Default: globalThis.fetch. */
  fetch?: typeof fetch
  /** Where to resume from: client.positions() saved earlier. */
  positions?: Record<string, number>
  /** First reconnect delay in ms (default 500; doubles, jittered +-25%). */
  minReconnectDelay?: number
  /** Reconnect delay ceiling in ms (default 10000). */
  maxReconnectDelay?: number
  /** Handshake, ack and HTTP timeout in ms (default 10000). */
  timeout?: number
  /** Connect at once (default true). */
  autoConnect?: boolean
}

export interface StateEvent { state: State, previous: State, code?: number, reason?: string, error?: BookpicsError }
export interface ConnectedEvent { userId: string | null, connectionId: string | null, rooms: { room: string, last: number }[] }
export interface Page { room: string, last: number, messages: Message[] }

interface Events {
  state: StateEvent
  connecting: { code?: number, reason?: string, error?: BookpicsError }
  connected: ConnectedEvent
  disconnected: { code?: number, reason?: string, error?: BookpicsError }
  message: Message
  hidden: HiddenEvent
  shown: Message
  error: BookpicsError
}

/**
 * clientMessageId: 1 to 64 of A-Z a-z 0-9 . _ : - (default newMessageId());
 * the same id again stores nothing new and resolves the first index.
 */
export interface SendOptions { messageType?: string, clientMessageId?: string }

interface SubEvents { message: Message, hidden: HiddenEvent, shown: Message, error: BookpicsError }

export class Subscription {
  readonly room: string
  on<K extends keyof SubEvents> (event: K, fn: (arg: SubEvents[K]) => void): this
  off<K extends keyof SubEvents> (event?: K, fn?: (arg: SubEvents[K]) => void): this
  unsubscribe (): void
  history (params?: { before?: number, after?: number, limit?: number }): Promise<Page>
  presence (): Promise<string[]>
  send (text: string, opts?: SendOptions): Promise<{ room: string, index: number }>
}

export class Client {
  constructor (url: string, opts?: ConnectOptions)
  readonly state: State
  readonly userId: string | null
  readonly connectionId: string | null
  readonly rooms: { room: string, last: number }[]
  readonly lastError: BookpicsError | null
  readonly stats: { delivered: number, duplicates: number, gapsFilled: number, reconnects: number }
  token: string
  on<K extends keyof Events> (event: K, fn: (arg: Events[K]) => void): this
  off<K extends keyof Events> (event?: K, fn?: (arg: Events[K]) => void): this
  connect (): this
  disconnect (): this
  subscribe (room: string, opts?: { after?: number }): Subscription
  send (room: string, text: string, opts?: SendOptions): Promise<{ room: string, index: number }>
  history (room: string, params?: { before?: number, after?: number, limit?: number }): Promise<Page>
  presence (room: string): Promise<string[]>
  positions (): Record<string, number>
  lastIndex (room: string): number | null
  resume (rooms: Record<string, number>): boolean
}

/** A new clientMessageId: crypto.randomUUID(), or 32 random hex digits. */
export function newMessageId (): string

export function decodeToken (token: string): { user: string, expires: number } | null
export function connect (url: string, opts?: ConnectOptions): Client
export default connect
