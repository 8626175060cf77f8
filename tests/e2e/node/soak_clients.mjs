// The consumers of scripts/soak: N websocket clients (npm `ws`) of
// dialpad-mock, each a third-party app with its own websocket and call
// subscription, made through the REST API. Each client reconnects after every
// cut with a fresh URL from GET /api/v2/websockets/{id}, as Dialpad's
// documentation tells apps to, and checks what it receives.
//
// The events are the soak injector's (scripts/soak.mjs): each one's text is
// soak_event_text(seq, groups) (soak_events.mjs), starting with
// {"soak_seq":SEQ, so a client reads the sequence number from the first
// bytes, checks the frame's length against the text it must be (and every
// 50th frame byte for byte), and keeps per client:
// frames, bytes, duplicates, frames out of order, the missing sequence
// numbers as gaps (each marked as following a reconnect or not), the
// reconnects and the close codes that caused them, and a digest of the
// sequence numbers received.
//
// Which events: each event targets one of --groups users (seq mod groups);
// client i subscribes to calls of user i mod groups, so it must receive every
// groups-th event (--groups 1: every event), and each event reaches
// clients/groups clients.
//
// Usage: node soak_clients.mjs --http http://127.0.0.1:PORT --clients 100
//        [--groups 1] [--status-ms 10000] [--timeout-ms 20000]
// API keys: SOAK_API_KEYS, a comma list (never on argv); client i uses key
// i mod count (several companies, as several apps would be).
//
// Stdout, one JSON object per line: {"ready":true,...} once every client is
// connected; {"status":...} every --status-ms; after "stop" on stdin (or
// SIGTERM), every client closes and the last line is {"final":true,
// "clients":[...]}, exit 0. A set-up failure is one line on stderr
// ("soak_clients: ..."), exit 1; a bad command line exits 2.

import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { die as fail, parse_command_line, set_name, usage } from './script_support.mjs';
import { soak_event_text, soak_target_id } from './soak_events.mjs';

set_name('soak_clients');

const options = parse_command_line({
    http: { type: 'string' },
    clients: { type: 'string', default: '100' },
    groups: { type: 'string', default: '1' },
    'status-ms': { type: 'string', default: '10000' },
    'timeout-ms': { type: 'string', default: '20000' },
});
const count = Number(options.clients);
const groups = Number(options.groups);
const status_ms = Number(options['status-ms']);
const timeout_ms = Number(options['timeout-ms']);
const keys = (process.env.SOAK_API_KEYS ?? '').split(',').filter((k) => k.length > 0);
if (!options.http || !/^http:\/\/[^/]+$/.test(options.http) || !(count >= 1) || !(groups >= 1 && groups <= count) || !(status_ms >= 100) || !(timeout_ms >= 1)) {
    usage('--http http://HOST:PORT is required; --clients, --groups (at most --clients), --status-ms, --timeout-ms must be positive');
}
if (keys.length === 0) {
    usage('SOAK_API_KEYS must name at least one API key');
}

async function rest(method, path, key, body) {
    const response = await fetch(`${options.http}${path}`, {
        method,
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeout_ms),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 200)}`);
    return JSON.parse(text);
}

const PREFIX = '{"soak_seq":';
const PREFIX_LENGTH = PREFIX.length;
const MAX_GAPS_KEPT = 2000;

// The sequence number at the start of a frame, or -1.
function seq_of(data) {
    let seq = 0;
    let i = PREFIX_LENGTH;
    for (; i < data.length; i++) {
        const c = data[i];
        if (c < 48 || c > 57) break;
        seq = seq * 10 + (c - 48);
    }
    return i > PREFIX_LENGTH && data[i] === 44 && data.toString('latin1', 0, PREFIX_LENGTH) === PREFIX ? seq : -1;
}

class Client {
    constructor(index) {
        this.index = index;
        this.key = keys[index % keys.length];
        this.group = index % groups;
        this.frames = 0;
        this.bytes = 0;
        this.first = 0;
        this.last = 0;
        this.duplicates = 0;
        this.out_of_order = 0;
        this.missing = 0;
        this.missing_after_reconnect = 0;
        this.gaps = [];
        this.gap_count = 0;
        this.unexpected_gaps = 0;
        this.bad_frames = 0;
        this.reconnects = 0;
        this.close_codes = {};
        this.just_reconnected = false;
        this.connected_at = 0;
        this.reconnect_ms = [];
        this.connected = false;
        this.stopping = false;
        this.digest = createHash('sha256');
        this.seq_buffer = Buffer.alloc(8 * 4096);
        this.seq_fill = 0;
    }

    async set_up() {
        const websocket = await rest('POST', '/api/v2/websockets', this.key, {});
        this.websocket_id = websocket.id;
        await rest('POST', '/api/v2/subscriptions/call', this.key, {
            endpoint_id: websocket.id,
            call_states: ['all'],
            target_type: 'user',
            target_id: soak_target_id(this.group),
        });
        await this.connect(websocket.websocket_url);
    }

    connect(url) {
        return new Promise((resolve, reject) => {
            const socket = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeout_ms });
            this.socket = socket;
            let opened = false;
            socket.on('open', () => {
                opened = true;
                this.connected = true;
                this.connected_at = performance.now();
                resolve();
            });
            socket.on('message', (data) => this.on_frame(data));
            socket.on('error', (e) => {
                if (!opened) reject(new Error(`client ${this.index}: ${e.message}`));
            });
            socket.on('unexpected-response', (_request, response) => {
                reject(new Error(`client ${this.index}: the upgrade was refused with HTTP ${response.statusCode}`));
            });
            socket.on('close', (code) => {
                this.connected = false;
                if (!opened || this.stopping) return;
                this.close_codes[code] = (this.close_codes[code] ?? 0) + 1;
                // Set here, not once reconnected: ws can hand over the first
                // frames of the next connection in the same tick as 'open'.
                this.just_reconnected = true;
                this.reconnect(performance.now());
            });
        });
    }

    // After a cut: a fresh URL for the same websocket, then the next connection.
    async reconnect(cut_at) {
        for (let attempt = 0; !this.stopping; attempt++) {
            try {
                const websocket = await rest('GET', `/api/v2/websockets/${this.websocket_id}`, this.key);
                if (this.stopping) return;
                await this.connect(websocket.websocket_url);
                this.reconnects += 1;
                this.reconnect_ms.push(performance.now() - cut_at);
                return;
            } catch (e) {
                if (attempt >= 50) {
                    errors.push(`client ${this.index}: gave up reconnecting: ${e.message}`);
                    return;
                }
                await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(attempt, 4))));
            }
        }
    }

    on_frame(data) {
        this.frames += 1;
        this.bytes += data.length;
        const seq = seq_of(data);
        if (seq <= 0) {
            this.bad_frames += 1;
            return;
        }
        if (seq % groups !== this.group) {
            this.bad_frames += 1; // another user's call
            return;
        }
        const expected = soak_event_text(seq, groups);
        if (data.length !== expected.length || (seq % 50 === 0 && data.toString('latin1') !== expected)) this.bad_frames += 1;
        this.seq_buffer.writeDoubleLE(seq, this.seq_fill);
        this.seq_fill += 8;
        if (this.seq_fill === this.seq_buffer.length) {
            this.digest.update(this.seq_buffer);
            this.seq_fill = 0;
        }
        if (this.first === 0) this.first = seq;
        if (seq <= this.last) {
            if (seq === this.last) this.duplicates += 1;
            else this.out_of_order += 1;
        } else {
            if (this.last !== 0 && seq > this.last + groups) {
                const missed = (seq - this.last) / groups - 1;
                this.missing += missed;
                this.gap_count += 1;
                if (this.just_reconnected) this.missing_after_reconnect += missed;
                else this.unexpected_gaps += 1;
                if (this.gaps.length < MAX_GAPS_KEPT) this.gaps.push([this.last + groups, seq - groups, this.just_reconnected]);
            }
            this.last = seq;
        }
        this.just_reconnected = false;
    }

    summary() {
        this.digest.update(this.seq_buffer.subarray(0, this.seq_fill));
        return {
            client: this.index,
            group: this.group,
            websocket: this.websocket_id,
            frames: this.frames,
            bytes: this.bytes,
            first_seq: this.first,
            last_seq: this.last,
            duplicates: this.duplicates,
            out_of_order: this.out_of_order,
            missing: this.missing,
            missing_after_reconnect: this.missing_after_reconnect,
            gaps: this.gap_count,
            unexpected_gaps: this.unexpected_gaps,
            gap_ranges: this.gaps,
            bad_frames: this.bad_frames,
            reconnects: this.reconnects,
            // Cut after its last frame: what it missed at the end fell in a
            // reconnect window.
            cut_since_last_frame: this.just_reconnected,
            close_codes: this.close_codes,
            reconnect_ms_max: this.reconnect_ms.length ? Math.round(Math.max(...this.reconnect_ms)) : null,
            seq_sha256: this.digest.digest('hex'),
        };
    }
}

const errors = [];
const clients = Array.from({ length: count }, (_, i) => new Client(i));
const set_up_watchdog = setTimeout(() => fail(`the clients were not all connected within ${timeout_ms} ms`), timeout_ms);
try {
    // A few at a time: the mock's REST API and its event port are one thread.
    for (let i = 0; i < clients.length; i += 10) await Promise.all(clients.slice(i, i + 10).map((c) => c.set_up()));
} catch (e) {
    fail(e.message);
}
clearTimeout(set_up_watchdog);
process.stdout.write(`${JSON.stringify({ ready: true, clients: count, websockets: clients.map((c) => c.websocket_id) })}\n`);

const totals = () => {
    let frames = 0;
    let connected = 0;
    let reconnects = 0;
    for (const c of clients) {
        frames += c.frames;
        connected += c.connected ? 1 : 0;
        reconnects += c.reconnects;
    }
    return { frames, connected, reconnects };
};
const status_timer = setInterval(() => {
    process.stdout.write(`${JSON.stringify({ status: true, ...totals(), errors: errors.length })}\n`);
}, status_ms);

let stopped = false;
function stop() {
    if (stopped) return;
    stopped = true;
    clearInterval(status_timer);
    for (const c of clients) {
        c.stopping = true;
        c.socket?.terminate();
    }
    process.stdout.write(`${JSON.stringify({ final: true, ...totals(), errors, clients: clients.map((c) => c.summary()) })}\n`, () =>
        process.exit(0),
    );
}
createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'stop') stop();
});
process.stdin.on('end', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
