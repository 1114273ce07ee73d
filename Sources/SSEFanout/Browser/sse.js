// sse-fanout browser client. Served by every node at /sse.js (types at /sse.d.ts):
//
//   const { default: SSE } = await import('https://push.example.com/sse.js')
//   const sse = new SSE({ getToken: () => fetch('/my-token').then(r => r.text()),
//                         eventListeners: { chat: e => console.log(JSON.parse(e.data)) } })
//
// One stream per browser: the tabs of an origin that ask for the same stream (URL, query and user)
// elect a leader (Web Locks) that holds it and hands every event to the others (BroadcastChannel).
// The last event id is kept in storage per stream, so a reload, a new tab or a new leader resumes
// where the last one stopped.
// The stream is read with fetch, not EventSource, so the token travels in a header and a refusal's
// status and reason are seen.

const MODULE_ORIGIN = new URL(import.meta.url).origin
const BUILT_IN = ['connected', 'reset', 'disconnect', 'expired', 'close']
const MAX_BACKOFF = 30000
// How long a leader that stopped for good keeps the lock: every tab hears of the stop (and stops)
// before another tab could take the stream over.
const STOPPED_LOCK_HOLD = 500
// A send the node could not take now is tried again after its `Retry-After`, or after this many ms,
// doubled per attempt up to SEND_MAX_BACKOFF, with jitter.
const SEND_FIRST_BACKOFF = 500
const SEND_MAX_BACKOFF = 10000
// What a sender who is not authenticated gives as who it is (the node refuses them beside a token).
const SENDER_QUERY = ['user', 'tenant', 'session']

function randomId () {
  const bytes = crypto.getRandomValues(new Uint8Array(12))
  return Array.from(bytes, b => b.toString(36).padStart(2, '0')).join('').slice(0, 20)
}

function withQuery (url, query) {
  const u = new URL(url, MODULE_ORIGIN)
  for (const [key, value] of Object.entries(query || {})) {
    if (value === undefined || value === null) continue
    if (Array.isArray(value)) value.forEach(v => u.searchParams.append(key, String(v)))
    else u.searchParams.set(key, String(value))
  }
  return u
}

/** The `sub` of a JWT, read without checking it (the server checks): where the last id is kept. */
function tokenSubject (token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
    return JSON.parse(atob(payload)).sub || ''
  } catch { return '' }
}

/** The `connectionId` in a `connected` event's data. */
function connectionOf (data) {
  try { return JSON.parse(data).connectionId || null } catch { return null }
}

/** Whether a send's answer says "not now": the node or its backend could not take it (502, 503, 504),
 * or the same send's earlier attempt is still being handed on (409 `in_flight`). */
async function answersNotNow (response) {
  if (response.status === 502 || response.status === 503 || response.status === 504) return true
  if (response.status !== 409) return false
  try { return (await response.clone().json()).error === 'in_flight' } catch { return false }
}

/** Why a send gave up, with the last answer (if any) at `response`. */
function sendFailed (response, error) {
  if (!response) return error
  const failed = new Error(`send not taken: ${response.status}`)
  failed.response = response
  return failed
}

/** Whether a built-in event ends the stream for good: a kick, or a close, that says not to come back. */
function endsForGood (name, data) {
  if (name !== 'disconnect' && name !== 'close') return false
  try { return JSON.parse(data).reconnect === false } catch { return false }
}

/** Splits a text/event-stream into events, as the HTML standard says (fields, blank-line dispatch). */
class EventStreamParser {
  constructor (onEvent, onRetry) {
    this.onEvent = onEvent
    this.onRetry = onRetry
    this.buffer = ''
    this.reset()
  }

  reset () { this.data = []; this.event = ''; this.id = null }

  push (text) {
    this.buffer += text
    let start = 0
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer.slice(start))
      if (!match) break
      // A lone \r at the very end may be the first half of \r\n: wait for more.
      if (match[0] === '\r' && start + match.index === this.buffer.length - 1) break
      this.line(this.buffer.slice(start, start + match.index))
      start += match.index + match[0].length
    }
    this.buffer = this.buffer.slice(start)
  }

  line (line) {
    if (line === '') {
      if (this.data.length > 0 || this.id !== null) {
        this.onEvent({ event: this.event || 'message', data: this.data.join('\n'), id: this.id, hasData: this.data.length > 0 })
      }
      this.reset()
      return
    }
    if (line.startsWith(':')) return
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') this.data.push(value)
    else if (field === 'event') this.event = value
    else if (field === 'id' && !value.includes('\0')) this.id = value
    else if (field === 'retry' && /^\d+$/.test(value)) this.onRetry(Number(value))
  }
}

export default class SSEConnection {
  /**
   * @param {object} options see sse.d.ts
   */
  constructor (options = {}) {
    this.url = String(options.url || MODULE_ORIGIN + '/events')
    this.query = options.query || {}
    this.token = options.token || null
    this.getToken = options.getToken || null
    this.reconnectTime = options.reconnectTime || 3000
    this.sendRetryTime = options.sendRetryTime ?? 60000
    this.storage = options.storage === undefined ? globalThis.localStorage : options.storage
    this.onlyWhenVisible = options.onlyWhenVisible === true ? 30 : (options.onlyWhenVisible || 0)
    this.shareAcrossTabs = options.shareAcrossTabs !== false && 'locks' in navigator && 'BroadcastChannel' in globalThis
    this.clientId = options.clientId || this.storedClientId()
    this.listeners = new Map()
    this.outbox = [] // sends waiting for a connection
    this.retrying = new Set() // sends waiting to be tried again while connected
    this.connectionId = null // the stream's, from its `connected` event: sends name it
    this.state = 'idle' // idle, connecting, open, waiting (to reconnect), closed (for good)
    this.leader = !this.shareAcrossTabs
    this.attempt = 0
    this.serverRetry = null
    this.abort = null
    this.timer = null
    this.tabId = randomId()
    this.visibleTabs = new Map() // tabId -> visible, as the leader last heard
    this.hiddenSince = null
    this.addListener(options.eventListeners || {})
    this.onVisibility = () => this.visibilityChanged()
    if (options.connect !== false) this.connect()
  }

  // ---- listeners ------------------------------------------------------------------------------

  addListener (name, fn) {
    if (typeof name === 'object') {
      for (const [key, value] of Object.entries(name)) this.addListener(key, value)
      return this
    }
    if (!this.listeners.has(name)) this.listeners.set(name, new Set())
    this.listeners.get(name).add(fn)
    return this
  }

  removeListener (name, fn) {
    if (typeof name === 'object') {
      for (const [key, value] of Object.entries(name)) this.removeListener(key, value)
      return this
    }
    const set = this.listeners.get(name)
    if (set) { if (fn) set.delete(fn); else set.clear() }
    return this
  }

  dispatch (name, data, lastEventId = '') {
    const event = new MessageEvent(name, { data, lastEventId, origin: new URL(this.url, MODULE_ORIGIN).origin })
    for (const fn of this.listeners.get(name) || []) {
      try { fn.call(this, event) } catch (error) { setTimeout(() => { throw error }) }
    }
  }

  // ---- the connection ---------------------------------------------------------------------------

  isActive () { return this.state === 'open' || this.state === 'connecting' || (!this.leader && this.state !== 'closed' && this.state !== 'idle') }

  connect () {
    if (this.state !== 'idle' && this.state !== 'closed') return
    this.state = 'waiting'
    document.addEventListener('visibilitychange', this.onVisibility)
    if (!this.shareAcrossTabs) { this.open(); return }
    const name = 'sse-fanout:' + this.streamName()
    this.channel = new BroadcastChannel(name)
    this.channel.onmessage = message => this.fromTab(message.data)
    this.post({ type: 'visible', tab: this.tabId, visible: document.visibilityState === 'visible' })
    // Only the lock's holder streams; the others wait in line for it, and take over when it goes.
    // Each connect() asks once: close() withdraws the request (or lets the lock go), so a tab that
    // connects again never holds, or waits for, the lock twice.
    const withdraw = new AbortController()
    let release
    const held = new Promise(resolve => { release = resolve })
    const lock = { withdraw, release }
    this.lock = lock
    navigator.locks.request(name, { signal: withdraw.signal }, () => {
      if (this.lock !== lock) return
      this.leader = true
      this.post({ type: 'leader', tab: this.tabId })
      this.open()
      return held
    }).catch(() => {}) // withdrawn before it was granted
  }

  /**
   * Opens the stream (the leader only), resuming from the stored last id. `this.abort` is set while a
   * stream is being opened or read: there is never more than one, and whatever ends it goes through
   * `lost()` (to reconnect) or `shutdown()` (for good) exactly once.
   */
  async open () {
    if (this.state === 'closed' || this.abort) return
    if (this.onlyWhenVisible && this.nobodyLooks()) { this.state = 'waiting'; return }
    clearTimeout(this.timer)
    this.state = 'connecting'
    const abort = new AbortController()
    this.abort = abort
    let token = this.token
    try {
      if (!token && this.getToken) token = this.token = await this.getToken()
    } catch (error) {
      if (this.abort === abort) this.lost()
      return
    }
    if (this.abort !== abort) return
    const lastId = this.lastId(token)
    const url = withQuery(this.url, { ...this.query, clientId: this.clientId })
    const headers = { Accept: 'text/event-stream' }
    if (token) headers.Authorization = 'Bearer ' + token
    if (lastId) headers['Last-Event-ID'] = lastId
    let response
    try {
      response = await fetch(url, { headers, signal: abort.signal, cache: 'no-store' })
    } catch (error) {
      if (this.abort === abort) this.lost()
      return
    }
    if (!response.ok) { await this.refused(response, abort); return }
    this.state = 'open'
    const parser = new EventStreamParser(event => this.received(event, token), ms => { this.serverRetry = ms })
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        parser.push(value)
      }
    } catch (error) { /* the network went, or close() aborted */ }
    if (this.abort === abort) this.lost()
  }

  /**
   * The stream ended, or never opened, without a reason to stop: try again after `after` ms, or after
   * the server's `retry:` (else `reconnectTime`), doubled per failed attempt up to 30 s, with jitter.
   */
  lost (after = null) {
    this.abort = null
    if (this.state === 'closed') return
    this.state = 'waiting'
    this.connectionId = null
    this.post({ type: 'lost' }) // the other tabs' sends wait for the next `connected` too
    const base = this.serverRetry ?? this.reconnectTime
    const delay = after ?? Math.min(base * 2 ** Math.min(this.attempt, 5), MAX_BACKOFF)
    this.attempt += 1
    const jittered = delay * (0.5 + Math.random())
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.open(), jittered)
  }

  /** A stream the server would not open: say so, and reconnect only when it can help. */
  async refused (response, abort) {
    let body = {}
    try { body = await response.json() } catch { }
    if (this.abort !== abort) return
    if (response.status === 401 && this.getToken && body.error !== 'missing_credentials') {
      this.token = null // fetch a fresh one on the next attempt
      this.lost()
    } else if (response.status === 403 || response.status === 401 || response.status === 400) {
      this.announce('close', JSON.stringify({ reason: body.error || 'refused', status: response.status, reconnect: false }))
      this.stop()
    } else {
      const after = Number(response.headers.get('Retry-After'))
      this.lost(after > 0 ? after * 1000 : null)
    }
  }

  /** An event of the client's own, for this tab's listeners and every other tab's. */
  announce (name, data) {
    this.post({ type: 'event', name, data, id: '' })
    this.dispatch(name, data)
  }

  received (event, token) {
    if (event.id !== null && event.id !== '') this.storeLastId(token, event.id)
    if (!event.hasData) return // an id-only block: moves the last id, no event
    const fanout = { type: 'event', name: event.event, data: event.data, id: event.id || '' }
    this.post(fanout)
    this.dispatch(event.event, event.data, event.id || '')
    this.control(event.event, event.data)
  }

  /** What the built-in events mean for the connection (in every tab, the leader acts). */
  control (name, data) {
    if (!BUILT_IN.includes(name) || !this.leader) return
    if (name === 'connected') {
      this.attempt = 0 // backoff starts over only once a stream really opened
      this.connectionId = connectionOf(data)
      this.flushOutbox()
    } else if (endsForGood(name, data)) {
      this.stop()
    } else if (name === 'expired') {
      if (this.getToken) this.token = null
      else this.stop() // nobody can give a new token
    }
  }

  /** Ends the stream for good (until `connect()`), in every tab: they hear it before the lock goes. */
  stop () {
    this.post({ type: 'stopped' })
    this.shutdown(STOPPED_LOCK_HOLD)
  }

  /** Ends this tab's part: its stream if it leads, its place in line for the lock (kept `holdLock` ms). */
  shutdown (holdLock = 0) {
    this.state = 'closed'
    this.connectionId = null
    clearTimeout(this.timer)
    if (this.abort) { const abort = this.abort; this.abort = null; abort.abort() }
    if (this.lock) {
      const lock = this.lock
      this.lock = null
      lock.withdraw.abort()
      if (holdLock > 0) setTimeout(lock.release, holdLock)
      else lock.release()
    }
    this.leader = !this.shareAcrossTabs
  }

  /** Closes this tab's connection; `reason` is passed to this tab's `close` listeners. */
  close (reason = 'client') {
    if (this.state === 'closed') return
    this.shutdown()
    document.removeEventListener('visibilitychange', this.onVisibility)
    this.post({ type: 'visible', tab: this.tabId, visible: false, gone: true })
    if (this.channel) { this.channel.close(); this.channel = null }
    this.dispatch('close', JSON.stringify({ reason, reconnect: false }))
  }

  destroy () {
    this.close('destroy')
    this.listeners.clear()
    this.outbox = []
    for (const item of this.retrying) clearTimeout(item.timer)
    this.retrying.clear()
  }

  switchURL (url) {
    const wasActive = this.state !== 'idle' && this.state !== 'closed'
    this.close('switch')
    this.url = String(url)
    this.state = 'idle'
    if (wasActive) this.connect()
  }

  // ---- tabs -------------------------------------------------------------------------------------

  post (message) {
    if (this.channel) this.channel.postMessage({ ...message, from: this.tabId })
  }

  fromTab (message) {
    if (message.type === 'event') {
      if (this.leader) return
      this.state = 'open'
      this.dispatch(message.name, message.data, message.id)
      if (message.name === 'connected') {
        this.connectionId = connectionOf(message.data)
        this.flushOutbox()
      }
      // The leader stops at this event too: this tab must not take the stream over when it lets go.
      else if (endsForGood(message.name, message.data)) this.shutdown()
    } else if (message.type === 'lost') {
      if (this.leader || this.state === 'closed') return
      this.state = 'waiting'
      this.connectionId = null
    } else if (message.type === 'stopped') {
      this.shutdown()
    } else if (message.type === 'open') {
      if (this.leader || this.state === 'closed') return
      this.state = 'open'
      this.connectionId = message.connectionId
      this.flushOutbox()
    } else if (message.type === 'visible' && this.leader) {
      // A tab that came after `connected`: it learns the stream is open, and its id, for its sends.
      if (!message.gone && !this.visibleTabs.has(message.tab) && this.state === 'open') {
        this.post({ type: 'open', connectionId: this.connectionId })
      }
      if (message.gone) this.visibleTabs.delete(message.tab)
      else this.visibleTabs.set(message.tab, message.visible)
      this.visibilityChanged()
    } else if (message.type === 'leader' && !this.leader) {
      // A new leader: tell it whether this tab is looked at.
      this.post({ type: 'visible', tab: this.tabId, visible: document.visibilityState === 'visible' })
    }
  }

  nobodyLooks () {
    if (document.visibilityState === 'visible') return false
    for (const visible of this.visibleTabs.values()) if (visible) return false
    return true
  }

  /** With `onlyWhenVisible`, lets the stream go once no tab was visible for that many seconds. */
  visibilityChanged () {
    if (!this.leader) {
      this.post({ type: 'visible', tab: this.tabId, visible: document.visibilityState === 'visible' })
      return
    }
    if (!this.onlyWhenVisible || this.state === 'closed') return
    clearTimeout(this.hiddenTimer)
    if (!this.nobodyLooks()) {
      if (this.state === 'waiting' && !this.abort) { this.attempt = 0; this.open() }
      return
    }
    this.hiddenTimer = setTimeout(() => {
      if (!this.nobodyLooks() || !this.abort) return
      const abort = this.abort
      this.abort = null
      this.state = 'waiting'
      clearTimeout(this.timer)
      abort.abort()
    }, this.onlyWhenVisible * 1000)
  }

  // ---- where things are kept ----------------------------------------------------------------------

  /**
   * What tells this stream from another: its URL with its query (channels …), and its user as far as
   * it is known (the token's subject, or `query.user`). Tabs share a stream, and a last id is kept,
   * under this name.
   */
  streamName (token = this.token) {
    const url = withQuery(this.url, this.query)
    url.searchParams.sort()
    return url.href + ' ' + (tokenSubject(token || '') || this.query.user || '')
  }

  storageKey (token) {
    return 'sse-fanout:last-id:' + this.streamName(token)
  }

  lastId (token) {
    try { return this.storage ? this.storage.getItem(this.storageKey(token)) : null } catch { return null }
  }

  storeLastId (token, id) {
    try { if (this.storage) this.storage.setItem(this.storageKey(token), id) } catch { }
  }

  storedClientId () {
    const key = 'sse-fanout:client-id'
    try {
      const stored = this.storage && this.storage.getItem(key)
      if (stored) return stored
      const id = randomId()
      if (this.storage) this.storage.setItem(key, id)
      return id
    } catch { return randomId() }
  }

  // ---- browser → server --------------------------------------------------------------------------

  /** POSTs JSON to `/send/<path>` as this connection's user; queued while there is no connection. */
  send (path, body, query, headers) {
    return this.enqueue('send', path, JSON.stringify(body ?? {}), 'application/json', query, headers)
  }

  /** POSTs a FormData to `/upload/<path>` as this connection's user; queued like `send`. */
  upload (path, formData, query, headers) {
    return this.enqueue('upload', path, formData, null, query, headers)
  }

  enqueue (kind, path, body, contentType, query, headers) {
    return new Promise((resolve, reject) => {
      // One id per send, kept across retries: the node hands it on once.
      const item = { kind, path, body, contentType, query, headers, id: randomId(), resolve, reject, tries: 0, since: null, timer: null }
      if (this.state === 'open') this.deliver(item)
      else this.outbox.push(item)
    })
  }

  flushOutbox () {
    const waiting = this.outbox
    this.outbox = []
    for (const item of waiting) this.deliver(item)
  }

  /** Without a token the node takes the sender's `user`, `tenant` and `session` from the query, as the stream's. */
  senderQuery () {
    const sender = {}
    for (const key of SENDER_QUERY) if (this.query[key] !== undefined && this.query[key] !== null) sender[key] = this.query[key]
    return sender
  }

  async deliver (item) {
    const base = new URL(this.url, MODULE_ORIGIN)
    const headers = new Headers(item.headers || {})
    if (item.contentType) headers.set('Content-Type', item.contentType)
    headers.set('Idempotency-Key', item.id)
    headers.set('X-SSE-Client', this.clientId)
    if (this.connectionId) headers.set('X-SSE-Connection', this.connectionId)
    let response
    try {
      if (!this.token && this.getToken) this.token = await this.getToken()
      if (this.token) headers.set('Authorization', 'Bearer ' + this.token)
      const query = this.token ? item.query : { ...item.query, ...this.senderQuery() }
      const url = withQuery(new URL(`/${item.kind}/${String(item.path).replace(/^\/+/, '')}`, base.origin), query)
      response = await fetch(url, { method: 'POST', body: item.body, headers })
    } catch (error) {
      this.retry(item, null, error) // offline, or the node went
      return
    }
    if (await answersNotNow(response)) this.retry(item, response, null)
    else item.resolve(response)
  }

  /**
   * A send that did not get through. While the stream is open it is tried again after the answer's
   * `Retry-After`, else with backoff and jitter, for up to `sendRetryTime` ms, then its promise rejects;
   * without a stream it waits for the next `connected`.
   */
  retry (item, response, error) {
    if (this.state === 'closed') { item.reject(sendFailed(response, error)); return }
    if (this.state !== 'open') { item.since = null; item.tries = 0; this.outbox.push(item); return }
    const now = Date.now()
    item.since ??= now
    const left = item.since + this.sendRetryTime - now
    if (left <= 0) { item.reject(sendFailed(response, error)); return }
    const after = Number(response && response.headers.get('Retry-After'))
    const backoff = Math.min(SEND_FIRST_BACKOFF * 2 ** item.tries, SEND_MAX_BACKOFF) * (0.5 + Math.random())
    item.tries += 1
    this.retrying.add(item)
    item.timer = setTimeout(() => {
      this.retrying.delete(item)
      if (this.state === 'open') this.deliver(item)
      else this.retry(item, response, error)
    }, Math.min(after > 0 ? after * 1000 : backoff, left))
  }
}
