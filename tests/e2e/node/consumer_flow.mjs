// A third-party Node.js consumer of Dialpad's event websocket, run against
// dialpad-mock by tests/e2e/node_consumer.sh. It does what an app does
// (npm's `ws` for the socket, `jsonwebtoken` for the signatures) and, as the
// test, injects the events and moves the mock's virtual clock itself:
//
//   1. POST /api/v2/websockets with a fresh secret; POST a call and an SMS
//      subscription on it.
//   2. For each of --connections connections: GET /api/v2/websockets/{id} for
//      a fresh websocket_url and connect; inject events through
//      POST /__admin/events (one at a time and in a batch, calls and SMS
//      interleaved) and wait until every one arrived; advance the virtual
//      clock to one second short of the connection TTL, inject more and wait
//      for them (the connection must still be open); advance one more second
//      and wait for the mock's hourly cut to end the connection.
//   3. Assert that every frame verified as an HS256 JWT with the websocket's
//      secret, that its payload is the injected event's exact bytes, that each
//      connection got exactly its events in injection order, so every event
//      arrived exactly once, and that the consumer refreshed its URL with GET
//      (one websocket created, never a second).
//
// Success: one line of JSON on stdout, exit 0. Failure: one line on stderr
// ("consumer_flow: ..."), exit 1; a bad command line exits 2. Nothing sleeps
// to synchronise: each step waits on an explicit event (a frame, a close, an
// HTTP answer), and every wait is bounded.
//
// Usage: DIALPAD_API_KEY=KEY node consumer_flow.mjs --http URL --admin URL
//            [--connections 3] [--ttl 3600] [--timeout-ms 5000]
// The API key is read from the environment only, never from argv.
// NODE_CONSUMER_VERIFY_SECRET, when set, is the secret the signatures are
// verified with instead of the websocket's own (for a negative check).

import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { die as fail, parse_command_line, set_name, usage } from './script_support.mjs';

set_name('consumer_flow');

// --- Command line and environment --------------------------------------------
const options = parse_command_line({
    http: { type: 'string' },
    admin: { type: 'string' },
    connections: { type: 'string', default: '3' },
    ttl: { type: 'string', default: '3600' },
    'timeout-ms': { type: 'string', default: '5000' },
});
const positive = (name) => {
    const n = Number(options[name]);
    if (!Number.isInteger(n) || n < 1) usage(`--${name} must be a positive integer, got '${options[name]}'`);
    return n;
};
if (!options.http || !options.admin) usage('--http and --admin are required');
const http_base = options.http.replace(/\/+$/, '');
const admin_base = options.admin.replace(/\/+$/, '');
const connection_count = positive('connections');
const ttl_seconds = positive('ttl');
const timeout_ms = positive('timeout-ms');
if (ttl_seconds < 2) usage('--ttl must be at least 2');
const api_key = process.env.DIALPAD_API_KEY;
if (!api_key) usage('DIALPAD_API_KEY is not set (the API key is read from the environment only)');

// Every step is bounded on its own; this bounds the whole run as well.
const watchdog = setTimeout(() => fail('the whole flow took longer than 30 s'), 30_000);

// --- HTTP --------------------------------------------------------------------
// request(METHOD, URL, BODY?, {auth}): the parsed JSON answer; a non-2xx
// status, a network error or no answer within timeout_ms fails the run.
async function request(method, url, body, { auth = false } = {}) {
    const headers = { Accept: 'application/json' };
    if (auth) headers.Authorization = `Bearer ${api_key}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const where = `${method} ${url.replace(http_base, '').replace(admin_base, '/__admin')}`;
    let response;
    let text;
    try {
        response = await fetch(url, {
            method,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(timeout_ms),
        });
        text = await response.text();
    } catch (e) {
        fail(`${where}: ${e.name === 'TimeoutError' ? `no answer within ${timeout_ms} ms` : e.message}`);
    }
    if (!response.ok) fail(`${where}: HTTP ${response.status} ${text.slice(0, 200)}`);
    try {
        return JSON.parse(text);
    } catch {
        fail(`${where}: the answer is not JSON: ${text.slice(0, 200)}`);
    }
}
const api = (method, path, body) => request(method, `${http_base}${path}`, body, { auth: true });
const admin = (method, path, body) => request(method, `${admin_base}${path}`, body);

// --- Waiting on a connection ---------------------------------------------------
// Each connection keeps what it received; waiters are checked after every frame
// and at the close, and fail the run if their condition does not hold in time.
class Connection {
    constructor(index, url, secret) {
        this.index = index;
        this.secret = secret;
        this.received = []; // event keys, in arrival order
        this.closed = null; // {code, reason} once closed
        this.expecting_cut = false;
        this.waiters = new Set();
        this.socket = new WebSocket(url, { handshakeTimeout: timeout_ms });
        this.socket.on('message', (data, is_binary) => this.on_message(data, is_binary));
        this.socket.on('close', (code, reason) => {
            this.closed = { code, reason: reason.toString('utf8') };
            this.check();
        });
        this.socket.on('error', (e) => {
            // An abrupt cut may surface as a socket error before the close.
            if (!this.expecting_cut) fail(`connection ${index}: socket error: ${e.message}`);
        });
        this.socket.on('unexpected-response', (_req, res) =>
            fail(`connection ${index}: the upgrade was refused with HTTP ${res.statusCode}`));
    }

    on_message(data, is_binary) {
        const n = this.received.length + 1;
        if (is_binary) fail(`connection ${this.index}, frame ${n}: a binary frame`);
        const token = data.toString('utf8');
        let verified;
        try {
            verified = jwt.verify(token, this.secret, { algorithms: ['HS256'], complete: true });
        } catch (e) {
            fail(`connection ${this.index}, frame ${n}: JWT verification failed: ${e.message}`);
        }
        if (verified.header.alg !== 'HS256' || verified.header.typ !== 'JWT') {
            fail(`connection ${this.index}, frame ${n}: unexpected JWT header ${JSON.stringify(verified.header)}`);
        }
        const key = event_key(verified.payload);
        if (!key) fail(`connection ${this.index}, frame ${n}: an event of no known family: ${JSON.stringify(verified.payload)}`);
        // The payload must be the injected event's exact bytes.
        const bytes = Buffer.from(token.split('.')[1], 'base64url').toString('utf8');
        const injected = injected_raw.get(key);
        if (injected === undefined) fail(`connection ${this.index}, frame ${n}: ${key} was never injected`);
        if (bytes !== injected) fail(`connection ${this.index}, frame ${n}: ${key} payload differs from the injected bytes`);
        this.received.push(key);
        this.check();
    }

    check() {
        for (const waiter of this.waiters) waiter();
    }

    // Resolves once condition() holds; fails the run after timeout_ms.
    wait_for(what, condition) {
        return new Promise((resolve) => {
            const timer = setTimeout(() => fail(`connection ${this.index}: ${what}: not within ${timeout_ms} ms`), timeout_ms);
            const waiter = () => {
                if (!condition()) return;
                clearTimeout(timer);
                this.waiters.delete(waiter);
                resolve();
            };
            this.waiters.add(waiter);
            waiter();
        });
    }

    opened() {
        return new Promise((resolve) => {
            const timer = setTimeout(() => fail(`connection ${this.index}: not open within ${timeout_ms} ms`), timeout_ms);
            const early = (code) => fail(`connection ${this.index}: closed (${code}) before it opened`);
            this.socket.once('close', early);
            this.socket.once('open', () => {
                clearTimeout(timer);
                this.socket.off('close', early);
                resolve();
            });
        });
    }
}

// --- Events ----------------------------------------------------------------------
// Unique ids per event (JSON numbers below 2^53, as Dialpad's are); the key
// names the family and the id.
function event_key(payload) {
    if (payload && Number.isSafeInteger(payload.call_id) && typeof payload.state === 'string') return `call:${payload.call_id}`;
    if (payload && Number.isSafeInteger(payload.id) && 'from_number' in payload) return `sms:${payload.id}`;
    return null;
}

const injected_raw = new Map(); // key -> the exact text injected
let serial = 0;
let now_ms = 0; // the mock's clock, for the events' timestamps

function make_event(family) {
    serial += 1;
    let payload;
    if (family === 'call') {
        payload = {
            call_id: 6100000000000000 + serial,
            state: ['ringing', 'connected', 'hangup'][serial % 3],
            direction: 'inbound',
            external_number: '+15555550100',
            internal_number: '+15555550199',
            date_started: now_ms,
            event_timestamp: now_ms,
            target: { id: 5100000000000001, type: 'user', name: 'Test Agent', phone: '+15555550199' },
            entry_point_call_id: null,
            master_call_id: null,
            operator_call_id: null,
        };
    } else {
        payload = {
            id: 6200000000000000 + serial,
            direction: 'inbound',
            message_status: 'pending',
            from_number: '+15555550100',
            to_number: ['+15555550199'],
            text: `message ${serial} ✓`,
            created_date: now_ms,
            event_timestamp: now_ms,
            is_internal: false,
            target: { id: 5100000000000001, type: 'user', name: 'Test Agent', phone_number: '+15555550199' },
        };
    }
    const raw = JSON.stringify(payload);
    const key = event_key(payload);
    injected_raw.set(key, raw);
    return { key, event: { type: family, raw } };
}

// Injects one event; the mock must say it went to exactly one connection.
async function inject_one(family, expected, live_connections) {
    const { key, event } = make_event(family);
    const answer = await admin('POST', '/events', event);
    if (!Array.isArray(answer.delivered) || answer.delivered.length !== 1) {
        fail(`inject ${key}: delivered to ${JSON.stringify(answer.delivered)}, expected one connection`);
    }
    live_connections.add(answer.delivered[0].connection);
    expected.push(key);
}

// Injects a batch in order; the mock must count one delivery per event.
async function inject_batch(families, expected) {
    const made = families.map(make_event);
    const answer = await admin('POST', '/events', { events: made.map((m) => m.event) });
    if (answer.events !== made.length || answer.deliveries !== made.length) {
        fail(`inject batch of ${made.length}: answered ${JSON.stringify(answer)}`);
    }
    for (const m of made) expected.push(m.key);
}

async function advance(seconds) {
    const clock = await admin('POST', '/clock/advance', { seconds });
    if (typeof clock.now_ms !== 'number') fail(`POST /__admin/clock/advance: no now_ms in ${JSON.stringify(clock)}`);
    now_ms = clock.now_ms;
}

// --- The flow ----------------------------------------------------------------------
const clock = await admin('GET', '/clock');
if (clock.virtual !== true || clock.scale !== 0) {
    fail(`the mock must run with --clock virtual --time-scale 0; its clock is ${JSON.stringify(clock)}`);
}
now_ms = clock.now_ms;
const start_ms = now_ms;

const secret = randomBytes(24).toString('base64url');
const verify_secret = process.env.NODE_CONSUMER_VERIFY_SECRET || secret;

const websocket = await api('POST', '/api/v2/websockets', { secret });
if (typeof websocket.id !== 'string' || !/^\d+$/.test(websocket.id)) fail(`websocket create: no id in ${JSON.stringify(websocket)}`);
const sig = websocket.signature ?? {};
if (sig.algo !== 'HS256' || sig.type !== 'jwt' || sig.secret !== secret) {
    fail(`websocket create: signature is ${JSON.stringify(websocket.signature)}, expected HS256 jwt with our secret`);
}
const subscriptions = [
    await api('POST', '/api/v2/subscriptions/call', { endpoint_id: websocket.id, call_states: ['all'] }),
    await api('POST', '/api/v2/subscriptions/sms', { endpoint_id: websocket.id, direction: 'all' }),
];
for (const s of subscriptions) {
    if (s.websocket?.id !== websocket.id) fail(`subscription ${s.id}: embeds websocket ${JSON.stringify(s.websocket)}, not ${websocket.id}`);
}

const per_connection = [];
const urls_seen = new Set();
const mock_ids_seen = new Set();
for (let index = 1; index <= connection_count; index++) {
    // A fresh URL for every connection: GET the websocket, never create another.
    const fresh = await api('GET', `/api/v2/websockets/${websocket.id}`);
    const url = fresh.websocket_url;
    if (typeof url !== 'string' || !/^wss?:\/\/.+\/events\/[^/]+$/.test(url)) fail(`GET websocket: websocket_url is ${JSON.stringify(url)}`);
    if (urls_seen.has(url)) fail(`connection ${index}: GET websocket returned a URL already used`);
    urls_seen.add(url);

    const connection = new Connection(index, url, verify_secret);
    await connection.opened();

    const expected = [];
    const mock_connections = new Set();
    // Before the cut: one at a time, then a batch; calls and SMS interleaved.
    await inject_one('call', expected, mock_connections);
    await inject_one('sms', expected, mock_connections);
    await inject_one('call', expected, mock_connections);
    await inject_one('sms', expected, mock_connections);
    await inject_batch(['call', 'call', 'sms', 'call'], expected);
    let want = expected.length;
    await connection.wait_for(`${want} events before the clock moved`, () => connection.received.length >= want);

    // One second short of the TTL the connection must still be open.
    await advance(ttl_seconds - 1);
    await inject_one('sms', expected, mock_connections);
    await inject_one('call', expected, mock_connections);
    want = expected.length;
    await connection.wait_for(`${want} events ${ttl_seconds - 1} s after opening`, () => connection.received.length >= want);
    if (connection.closed) fail(`connection ${index}: closed (${connection.closed.code}) before the TTL`);

    // The hourly cut: the mock ends the connection once the TTL is reached.
    connection.expecting_cut = true;
    await advance(1);
    await connection.wait_for('the hourly cut', () => connection.closed !== null);
    if (connection.closed.code !== 1006 && connection.closed.code !== 1001) {
        fail(`connection ${index}: closed with ${connection.closed.code} '${connection.closed.reason}', expected the hour cut (1006 abrupt or 1001)`);
    }

    // Exactly the injected events, each once, in injection order.
    if (connection.received.length !== expected.length || connection.received.some((k, i) => k !== expected[i])) {
        fail(`connection ${index}: received [${connection.received.join(',')}], injected [${expected.join(',')}]`);
    }
    if (mock_connections.size !== 1) fail(`connection ${index}: the mock delivered to connections ${[...mock_connections]}`);
    const mock_id = [...mock_connections][0];
    if (mock_ids_seen.has(mock_id)) fail(`connection ${index}: the mock reused connection id ${mock_id}`);
    mock_ids_seen.add(mock_id);
    per_connection.push({ events: expected.length, close: connection.closed.code, received: connection.received });
}

// Across connections: every injected event exactly once.
const counts = new Map([...injected_raw.keys()].map((key) => [key, 0]));
for (const c of per_connection) for (const key of c.received) counts.set(key, (counts.get(key) ?? 0) + 1);
const wrong = [...counts].filter(([, n]) => n !== 1);
if (wrong.length) fail(`not exactly once: ${wrong.map(([k, n]) => `${k}×${n}`).join(', ')}`);

// The REST journal: one websocket created, one GET per connection, one of each subscription.
const journal = await admin('GET', '/requests');
const operations = {};
for (const r of journal.requests ?? []) operations[r.operation] = (operations[r.operation] ?? 0) + 1;
const expect_ops = {
    'websockets.create': 1,
    'websockets.get': connection_count,
    'subscriptions.call.create': 1,
    'subscriptions.sms.create': 1,
};
for (const [op, n] of Object.entries(expect_ops)) {
    if ((operations[op] ?? 0) !== n) fail(`REST journal: ${operations[op] ?? 0} × ${op}, expected ${n}`);
}

clearTimeout(watchdog);
process.stdout.write(`${JSON.stringify({
    ok: true,
    websocket: websocket.id,
    connections: per_connection.length,
    hour_cuts: per_connection.length,
    reconnects: per_connection.length - 1,
    events: injected_raw.size,
    calls: [...injected_raw.keys()].filter((k) => k.startsWith('call:')).length,
    sms: [...injected_raw.keys()].filter((k) => k.startsWith('sms:')).length,
    per_connection: per_connection.map((c) => c.events),
    close_codes: per_connection.map((c) => c.close),
    virtual_seconds: Math.round((now_ms - start_ms) / 1000),
    rest: operations,
})}\n`);
process.exit(0);
