// The page the browser tests drive. It loads the client module from a node (another origin than this
// page's), connects as the configuration in the URL's hash says, and records what arrives where the
// tests read it (window.harness), on the page (the screenshot) and in sessionStorage (kept across
// reloads of this tab).
//
// Configuration (JSON in the hash): module (the node's origin), and the client's options: url, token,
// tokens (getToken hands them out in turn, the last one for good), userKey, query, clientId, onlyWhenVisible,
// reconnectTime, sendRetryTime; garbageLastId (a storage that hands this out as every last id it has
// not been given). harness.send(…) and harness.upload(…) call the client's and record how they end.

const config = JSON.parse(decodeURIComponent(location.hash.slice(1)))
const BUILT_IN = ['connected', 'reset', 'disconnect', 'expired', 'close']
const kept = JSON.parse(sessionStorage.getItem('harness:kept') || '[]')

const harness = {
  page: crypto.randomUUID(), // tells this load of the page from the one before a reload
  events: [], // every event this page load's listeners got: {name, data, id, leader, at}
  kept, // the same, across every load of this tab
  opens: [], // every GET of a stream this page made: {at, lastEventId}
  posts: [], // every attempt of a send or upload this page made: {at, path, key, status, answeredAt} (status 0: no answer)
  sends: [], // every send or upload asked for, as it ended: {label, status, body, error} (status null: pending)
  tokenCalls: 0,
  loaded: false,
  error: null,
  sse: null,
  /** What the tests poll (and the status line brought up to date, for the screenshot). */
  snapshot () {
    const sse = this.sse
    if (sse) show()
    return {
      page: this.page,
      loaded: this.loaded,
      error: this.error,
      state: sse && sse.state,
      leader: !!(sse && sse.leader),
      active: !!(sse && sse.isActive()),
      visibility: document.visibilityState,
      events: this.events,
      kept: this.kept,
      opens: this.opens,
      posts: this.posts,
      sends: this.sends,
      tokenCalls: this.tokenCalls
    }
  }
}
window.harness = harness

const status = document.getElementById('status')
const list = document.getElementById('events')

function show () {
  const sse = harness.sse
  status.textContent = harness.error ? 'error: ' + harness.error
    : `state ${sse.state} · ${sse.leader ? 'leader' : 'follower'} · ${document.visibilityState} · ` +
      `${harness.events.length} events · ${harness.opens.length} stream requests · ` +
      `${harness.sends.filter(s => s.status !== null).length}/${harness.sends.length} sends answered`
  status.className = harness.error ? 'error' : ''
}

// Saved once per task (a chunk of the stream is parsed in one), before the page can unload.
let saving = false
function keep () {
  if (saving) return
  saving = true
  queueMicrotask(() => { saving = false; sessionStorage.setItem('harness:kept', JSON.stringify(harness.kept)) })
}

function record (name) {
  return function (event) {
    const entry = { name, data: event.data, id: event.lastEventId, leader: this.leader, at: Date.now() }
    harness.events.push(entry)
    harness.kept.push(entry)
    keep()
    const item = document.createElement('li')
    if (BUILT_IN.includes(name)) item.className = 'built-in'
    const label = document.createElement('span')
    label.className = 'name'
    label.textContent = name
    item.append(label, ' ', event.data.length > 140 ? event.data.slice(0, 140) + '…' : event.data)
    if (!this.leader) item.append(' (from the leading tab)')
    list.append(item)
    show()
  }
}

// Count the streams this page opens (the client reads them with fetch).
const pageFetch = window.fetch
window.fetch = function (input, init) {
  const url = new URL(input instanceof Request ? input.url : String(input), location.href)
  if (url.pathname.endsWith('/events')) {
    const headers = new Headers((init && init.headers) || {})
    harness.opens.push({ at: Date.now(), lastEventId: headers.get('Last-Event-ID') })
  }
  const sending = /^\/(send|upload)\//.test(url.pathname)
  const answer = pageFetch.apply(this, arguments)
  if (!sending) return answer
  const post = { at: Date.now(), path: url.pathname, key: new Headers((init && init.headers) || {}).get('Idempotency-Key'), status: null, answeredAt: null }
  harness.posts.push(post)
  return answer.then(response => { post.status = response.status; post.answeredAt = Date.now(); return response },
    error => { post.status = 0; post.answeredAt = Date.now(); throw error })
}

/** Records how a send or upload (its promise) ends under `label`: its status and body, or its error. */
function track (label, promise) {
  const entry = { label, status: null, body: null, contentType: null, error: null }
  harness.sends.push(entry)
  promise.then(async response => {
    entry.body = await response.text()
    entry.contentType = response.headers.get('Content-Type')
    entry.status = response.status
  }, error => {
    entry.error = String(error && error.message || error)
    entry.status = error && error.response ? error.response.status : 0
  }).finally(show)
}

/** `sse.send(path, body, query)`, recorded under `label`. */
harness.send = (label, path, body, query) => track(label, harness.sse.send(path, body, query))

/** `sse.upload(path, form, query)` with a FormData made of `fields` ({name: text}) and `files`
 * ([{field, name, type, text}]), recorded under `label`. */
harness.upload = (label, path, fields, files, query) => {
  const form = new FormData()
  for (const [name, value] of Object.entries(fields || {})) form.append(name, value)
  for (const file of files || []) form.append(file.field, new Blob([file.text], { type: file.type }), file.name)
  track(label, harness.sse.upload(path, form, query))
}

/** A storage that knows no last id yet but this garbage: the first stream must resume from it. */
function garbageStorage (garbage) {
  const items = new Map()
  return { getItem: key => items.has(key) ? items.get(key) : garbage, setItem: (key, value) => items.set(key, value) }
}

try {
  const { default: SSE } = await import(config.module + '/sse.js')
  const listeners = {}
  for (const name of [...BUILT_IN, ...(config.events || ['tick'])]) listeners[name] = record(name)
  const options = { eventListeners: listeners }
  for (const key of ['url', 'token', 'userKey', 'query', 'clientId', 'onlyWhenVisible', 'reconnectTime', 'sendRetryTime']) {
    if (config[key] !== undefined) options[key] = config[key]
  }
  if (config.tokens) {
    const tokens = [...config.tokens]
    options.getToken = async () => { harness.tokenCalls += 1; return tokens.length > 1 ? tokens.shift() : tokens[0] }
  }
  if (config.garbageLastId) options.storage = garbageStorage(config.garbageLastId)
  harness.sse = new SSE(options)
  harness.loaded = true
  show()
  document.addEventListener('visibilitychange', show)
} catch (error) {
  harness.error = String(error && error.message || error)
  status.textContent = 'error: ' + harness.error
  status.className = 'error'
}
