// sse-fanout browser client. Served by every node at /sse.js (types at /sse.d.ts):
//
//   const { default: SSE } = await import('https://push.example.com/sse.js')
//   const sse = new SSE({ getToken: () => fetch('/my-token').then(r => r.text()),
//                         eventListeners: { chat: e => console.log(JSON.parse(e.data)) } })
//
// One stream per browser and user: the tabs of an origin that ask for the same stream (URL, query)
// as the same user and tenant elect a leader (Web Locks) that holds it and hands every
// event to the others (BroadcastChannel). A tab that cannot tell who its user is shares with nobody.
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

/** A JWT's claims, read without checking them (the server checks); {} when it is not a JWT. */
function tokenClaims (token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), c => c.charCodeAt(0))))
    return claims && typeof claims === 'object' ? claims : {}
  } catch { return {} }
}

/** The `sub` of a JWT: where the last id is kept. */
function tokenSubject (token) {
  const sub = tokenClaims(token).sub
  return typeof sub === 'string' ? sub : ''
}

/** Whether a JWT's `exp` has passed (by this clock). */
function tokenExpired (token) {
  const exp = tokenClaims(token).exp
  return typeof exp === 'number' && exp * 1000 <= Date.now()
}

/** `{user, tenant}` ('' for the default tenant), or null without a user. */
function userOf (user, tenant) {
  if (typeof user !== 'string' || user === '') return null
  return { user, tenant: tenant === undefined || tenant === null ? '' : String(tenant) }
}

/** The user a `connected` event's data says the stream is for. */
function connectedUser (data) {
  try { const info = JSON.parse(data); return userOf(info.user, info.tenant) } catch { return null }
}

function sameUser (a, b) {
  return a.user === b.user && a.tenant === b.tenant
}

/** The name of the lock and channel of the tabs streaming from `url` as `identity`: a SHA-256 of them,
 * so nothing in it (not the user, never a token) can be read by other scripts of the origin. */
async function groupName (url, identity) {
  const text = new TextEncoder().encode(JSON.stringify([url, ...identity]))
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', text))
  return 'sse-fanout:' + Array.from(digest, b => b.toString(16).padStart(2, '0')).join('')
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
    this.userKey = options.userKey === undefined || options.userKey === null || options.userKey === '' ? null : String(options.userKey)
    this.reconnectTime = options.reconnectTime || 3000
    this.sendRetryTime = options.sendRetryTime ?? 60000
    this.storage = options.storage === undefined ? globalThis.localStorage : options.storage
    this.onlyWhenVisible = options.onlyWhenVisible === true ? 30 : (options.onlyWhenVisible || 0)
    this.shareAcrossTabs = options.shareAcrossTabs !== false && 'locks' in navigator && 'BroadcastChannel' in globalThis &&
      !!(globalThis.crypto && crypto.subtle)
    this.clientId = options.clientId || this.storedClientId()
    this.listeners = new Map()
    this.outbox = [] // sends waiting for a connection
    this.retrying = new Set() // sends waiting to be tried again while connected
    this.connectionId = null // the stream's, from its `connected` event: sends name it
    this.state = 'idle' // idle, connecting, open, waiting (to reconnect), closed (for good)
    this.leader = !this.shareAcrossTabs
    this.alone = !this.shareAcrossTabs // streams for this tab only, whoever its user is
    this.group = null // the name of this tab's group of tabs (its lock and channel); null: alone
    this.streamUser = null // the leader's: who its stream is for, from its `connected`
    this.groupUser = null // a follower's: who the leader's stream was for, when this tab cannot tell its own user
    this.turn = null // the join() under way: close() or another join() ends it
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
    this.alone = !this.shareAcrossTabs
    document.addEventListener('visibilitychange', this.onVisibility)
    this.leave() // what a stop left of the group this tab was in
    this.join(this.token)
  }

  /**
   * Joins the tabs that stream from the same URL as the same user: their lock and channel are named
   * by the user (`identity`), so another user's tabs never share it. With `getToken` (and no
   * `userKey`) the token is taken first, to know who that is. A tab that cannot tell streams alone.
   */
  async join (token) {
    const turn = this.turn = {}
    if (!this.alone && !this.userKey && !token && this.getToken) {
      try { token = await this.getToken() } catch { token = null }
      if (this.turn !== turn) return
      // No token yet: stream alone for now; open() asks again, and joins the user's tabs once it knows.
      if (!token) { this.leader = true; this.lost(); return }
      this.token = token
    }
    const name = await this.groupNameFor(token)
    if (this.turn !== turn) return
    this.turn = null
    if (!name) { this.leader = true; this.open(); return }
    this.group = name
    this.leader = false
    this.channel = new BroadcastChannel(name)
    this.channel.onmessage = message => this.fromTab(message.data)
    this.post({ type: 'visible', tab: this.tabId, visible: document.visibilityState === 'visible' })
    // Only the lock's holder streams; the others wait in line for it, and take over when it goes.
    // Each join asks once: close() withdraws the request (or lets the lock go), so a tab that
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

  /** The name of the group of tabs a stream with this token joins; null: it streams alone. */
  async groupNameFor (token) {
    if (this.alone) return null
    const identity = this.identity(token)
    return identity ? groupName(this.streamURL(), identity) : null
  }

  /**
   * Who this tab streams as, as far as it can tell before streaming: the page's `userKey`, else the
   * token's `sub` and `tenant`, else (no token: authentication off) the query's `user` and `tenant`.
   * Null when it cannot tell.
   */
  identity (token) {
    if (this.userKey) return ['key', this.userKey]
    const user = this.ownUser(token)
    return user && ['user', user.user, user.tenant]
  }

  /** The user and tenant the node would stream to with this token (read, not checked). */
  ownUser (token = this.token) {
    if (token) {
      const claims = tokenClaims(token)
      return userOf(claims.sub, claims.tenant)
    }
    if (this.getToken) return null
    return userOf(this.query.user === undefined || this.query.user === null ? null : String(this.query.user), this.query.tenant)
  }

  /** Leaves this tab's group of tabs: its place in line for the lock (or the lock) and its channel. */
  leave () {
    if (this.leader && this.group) this.post({ type: 'lost' })
    this.post({ type: 'visible', tab: this.tabId, visible: false, gone: true })
    this.letGo()
    if (this.channel) { this.channel.close(); this.channel = null }
    this.group = null
    this.streamUser = null
    this.groupUser = null
    this.visibleTabs.clear()
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
    // A token kept since this tab joined may have run out by the time it takes the stream over.
    if (token && this.getToken && tokenExpired(token)) token = this.token = null
    try {
      if (!token && this.getToken) token = this.token = await this.getToken()
    } catch (error) {
      if (this.abort === abort) this.lost()
      return
    }
    if (this.abort !== abort) return
    const group = await this.groupNameFor(token)
    if (this.abort !== abort) return
    if (group !== this.group) {
      // The token is another user's (an account switch), or the first that says who the user is:
      // this tab leaves the tabs it streamed for (another of them takes their stream over) and joins
      // its user's, with this token.
      this.abort = null
      this.leave()
      this.leader = false
      this.state = 'waiting'
      this.connectionId = null
      this.join(token)
      return
    }
    const own = this.ownUser(token)
    if (this.group && this.streamUser && own && !sameUser(own, this.streamUser)) {
      // The same `userKey`, another user's token: the page's key no longer says who the user is, so
      // this tab leaves the tabs it streamed for and streams alone.
      this.leave()
      this.alone = true
    }
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
    if (event.event === 'connected') this.streamUser = connectedUser(event.data) // the other tabs check it
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
    this.turn = null
    if (this.abort) { const abort = this.abort; this.abort = null; abort.abort() }
    this.letGo(holdLock)
    this.leader = !this.shareAcrossTabs
  }

  /** Withdraws this tab's request for its group's lock, or lets the lock go (after `holdLock` ms). */
  letGo (holdLock = 0) {
    if (!this.lock) return
    const lock = this.lock
    this.lock = null
    lock.withdraw.abort()
    if (holdLock > 0) setTimeout(lock.release, holdLock)
    else lock.release()
  }

  /** Closes this tab's connection; `reason` is passed to this tab's `close` listeners. */
  close (reason = 'client') {
    if (this.state === 'closed') return
    this.shutdown()
    document.removeEventListener('visibilitychange', this.onVisibility)
    this.leave()
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

  /** To the other tabs of this tab's group; a leader says who its stream is for. */
  post (message) {
    if (!this.channel) return
    this.channel.postMessage({ ...message, from: this.tabId, group: this.group, user: this.leader ? this.streamUser : null })
  }

  /**
   * Whether a follower takes events from a leader whose stream is for `user`: the same user as this
   * tab's token (or query) says; without one, the same user as the first leader it heard.
   */
  trusts (user) {
    if (!user) return true // no `connected` yet: nothing of the user's came
    const own = this.ownUser()
    if (own) return sameUser(own, user)
    if (!this.groupUser) this.groupUser = user
    return sameUser(this.groupUser, user)
  }

  /** A leader that streams for another user than this tab's: this tab leaves its tabs and streams alone. */
  standAlone () {
    this.leave()
    this.alone = true
    this.leader = true
    this.state = 'waiting'
    this.connectionId = null
    this.open()
  }

  fromTab (message) {
    if (message.group !== this.group || this.state === 'closed') return
    if ((message.type === 'event' || message.type === 'open') && !this.leader && !this.trusts(message.user)) {
      this.standAlone()
      return
    }
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
    return this.streamURL() + ' ' + (tokenSubject(token || '') || this.query.user || '')
  }

  /** The stream's URL with its query, sorted. */
  streamURL () {
    const url = withQuery(this.url, this.query)
    url.searchParams.sort()
    return url.href
  }

  storageKey (token) {
    // The tenant too: one subject in two tenants is two users, each with a position of its own.
    const tenant = tokenClaims(token || '').tenant || this.query.tenant || ''
    return 'sse-fanout:last-id:' + this.streamName(token) + (typeof tenant === 'string' && tenant ? '@' + tenant : '')
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
