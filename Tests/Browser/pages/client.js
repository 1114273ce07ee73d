// The page the browser tests drive. It loads the client module from a node (another origin than this
// page's), connects as the configuration in the URL's hash says, and records what arrives where the
// tests read it (window.harness), on the page (the screenshot) and in sessionStorage (kept across
// reloads of this tab).
//
// Configuration (JSON in the hash): module (the node's origin), and the client's options: url, token,
// tokens (getToken hands them out in turn, the last one for good), query, clientId, onlyWhenVisible,
// reconnectTime; garbageLastId (a storage that hands this out as every last id it has not been given).

const config = JSON.parse(decodeURIComponent(location.hash.slice(1)))
const BUILT_IN = ['connected', 'reset', 'disconnect', 'expired', 'close']
const kept = JSON.parse(sessionStorage.getItem('harness:kept') || '[]')

const harness = {
  page: crypto.randomUUID(), // tells this load of the page from the one before a reload
  events: [], // every event this page load's listeners got: {name, data, id, leader, at}
  kept, // the same, across every load of this tab
  opens: [], // every GET of a stream this page made: {at, lastEventId}
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
      `${harness.events.length} events · ${harness.opens.length} stream requests`
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
  return pageFetch.apply(this, arguments)
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
  for (const key of ['url', 'token', 'query', 'clientId', 'onlyWhenVisible', 'reconnectTime']) {
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
