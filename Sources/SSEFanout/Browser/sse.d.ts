// Types of the sse-fanout browser client, served at /sse.d.ts beside /sse.js.

export type Listener = (this: SSEConnection, event: MessageEvent<string>) => void

export interface SSEOptions {
  /** The stream URL; default: the module's own origin plus `/events`. */
  url?: string
  /** Listeners by event name (`connected`, `reset`, `disconnect`, `expired`, `close`, or your own). */
  eventListeners?: Record<string, Listener>
  /** Extra query parameters of the stream (e.g. `channel`, an array for several). With authentication off (no token), its `user`, `tenant` and `session` say who the stream's and the sends' sender is. */
  query?: Record<string, string | number | boolean | Array<string | number> | undefined>
  /** This device's id (a `client` target reaches it); generated once and kept in `storage` if absent. */
  clientId?: string
  /** The subscriber's JWT. */
  token?: string
  /** Called for a token before connecting, and again after `expired` or a 401. */
  getToken?: () => Promise<string>
  /** Milliseconds before the first reconnect (the server's `retry:` wins); default 3000. Backoff doubles it, up to 30 s, with jitter. */
  reconnectTime?: number
  /** Where the last event id (per stream: URL, query and user) and the client id are kept; default `localStorage`, `null` for nowhere. */
  storage?: Pick<Storage, 'getItem' | 'setItem'> | null
  /** Release the stream (the user goes offline) once no tab was visible for this many seconds (`true`: 30); back when a tab is shown. */
  onlyWhenVisible?: boolean | number
  /**
   * One stream for the tabs of this origin that ask for the same URL and query as the same user (Web Locks +
   * BroadcastChannel); default true where supported. The user is the `userKey`, else the token's `sub` and
   * `tenant` (with `getToken`, the token is taken before joining), else, with no token, `query.user` and
   * `query.tenant`. A tab that cannot tell its user shares with no other tab; a tab whose token turns
   * out to be another user's leaves the tabs it shared with and joins that user's.
   */
  shareAcrossTabs?: boolean
  /**
   * Who this tab's user is, for sharing a stream across tabs: tabs with the same key (and URL and query) share,
   * without asking `getToken` first. Give one that tells users and tenants apart (e.g. `tenant + '/' + user`).
   * Default: read from the token.
   */
  userKey?: string
  /** How long (ms) a send the node cannot take now (502, 503, 504, 409 `in_flight`, a network error) is tried again while the stream is open, before its promise rejects; default 60000. */
  sendRetryTime?: number
  /** Connect at once; default true. */
  connect?: boolean
}

export default class SSEConnection {
  constructor (options?: SSEOptions)
  readonly url: string
  readonly clientId: string
  /** `idle`, `connecting`, `open`, `waiting` (to reconnect or to be shown) or `closed` (for good). */
  readonly state: 'idle' | 'connecting' | 'open' | 'waiting' | 'closed'
  /** Whether this tab holds the stream for the others. */
  readonly leader: boolean

  addListener (name: string, listener: Listener): this
  addListener (listeners: Record<string, Listener>): this
  removeListener (name: string, listener?: Listener): this
  removeListener (listeners: Record<string, Listener>): this

  connect (): void
  /** Closes this tab's connection; `close` listeners get `{reason, reconnect: false}`. */
  close (reason?: string): void
  /** `close()`, and forgets every listener and queued send. */
  destroy (): void
  /** Closes, and connects again to another stream URL. */
  switchURL (url: string): void
  isActive (): boolean

  /**
   * POSTs `body` as JSON to `/send/<path>` on the stream's origin, as this connection's user (with its
   * `X-SSE-Connection`). Sent after the next `connected` when there is no stream, once (one `Idempotency-Key`
   * per send, kept across retries). While the stream is open, a 502, 503, 504, a 409 `in_flight` or a
   * network error is tried again after `Retry-After`, else with backoff and jitter, for `sendRetryTime` ms;
   * then the promise rejects with an `Error` whose `response` is the last answer (if there was one).
   * Any other answer (the backend's, as it gave it) resolves it.
   */
  send (path: string, body?: unknown, query?: Record<string, string | number | boolean>, headers?: HeadersInit): Promise<Response>
  /** POSTs a multipart form to `/upload/<path>`, like `send`. */
  upload (path: string, formData: FormData, query?: Record<string, string | number | boolean>, headers?: HeadersInit): Promise<Response>
}
