// A browser app consuming Dialpad's event websocket, with nothing but the
// platform: fetch for the REST calls, WebSocket for the events, WebCrypto for
// the signatures. Loaded from an origin other than the API's, so every REST
// call is cross-origin and the Authorization + JSON requests are preflighted.
//
//   1. POST /api/v2/websockets with a fresh secret; POST a call and an SMS
//      subscription on it.
//   2. Connect to websocket_url; verify every frame as an HS256 JWT (the
//      algorithm pinned, HMAC-SHA-256 checked with crypto.subtle) and list its
//      event: one <li> per frame in #events.
//   3. When the connection ends (Dialpad cuts every connection after an
//      hour), GET /api/v2/websockets/{id} for a fresh websocket_url and
//      connect again.
//
// Any failure shows in #errors and stops the app. #status carries the state
// (data-state: starting, open, reconnecting, failed), the connection number
// and the close codes seen, for tests/e2e/browser/browser_consumer.mjs.
//
// Configuration comes from window.dialpadConsumerConfig, set before this
// script runs: {apiBase, apiKey, verifySecret?}. verifySecret, when set, is
// the secret frames are verified with instead of the websocket's own (for a
// negative check).
'use strict';

(() => {
    const statusEl = document.getElementById('status');
    const errorsEl = document.getElementById('errors');
    const eventsEl = document.getElementById('events');
    const encoder = new TextEncoder();
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const timeoutMs = 5000;

    let failed = false;
    let socket = null;
    let connection = 0;
    const closeCodes = [];

    function setStatus(state, text) {
        statusEl.dataset.state = state;
        statusEl.dataset.connection = String(connection);
        statusEl.dataset.closes = closeCodes.join(',');
        statusEl.textContent = text;
    }

    function fail(message) {
        if (failed) return;
        failed = true;
        const li = document.createElement('li');
        li.textContent = message;
        errorsEl.append(li);
        setStatus('failed', `failed: ${message}`);
        if (socket) socket.close();
    }

    const config = window.dialpadConsumerConfig;
    if (!config || !config.apiBase || !config.apiKey) {
        fail('no configuration: window.dialpadConsumerConfig needs apiBase and apiKey');
        return;
    }
    const apiBase = config.apiBase.replace(/\/+$/, '');

    // --- REST --------------------------------------------------------------------
    async function api(method, path, body) {
        const headers = { Accept: 'application/json', Authorization: `Bearer ${config.apiKey}` };
        if (body !== undefined) headers['Content-Type'] = 'application/json';
        let response;
        let text;
        try {
            response = await fetch(`${apiBase}${path}`, {
                method,
                headers,
                body: body === undefined ? undefined : JSON.stringify(body),
                signal: AbortSignal.timeout(timeoutMs),
            });
            text = await response.text();
        } catch (e) {
            // A CORS refusal surfaces here too, as an opaque TypeError.
            throw new Error(`${method} ${path}: ${e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `${e.message} (network or CORS)`}`);
        }
        if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 200)}`);
        return JSON.parse(text);
    }

    // --- JWT ---------------------------------------------------------------------
    function base64urlBytes(part) {
        if (!/^[A-Za-z0-9_-]*$/.test(part)) throw new Error('a JWT part is not base64url');
        const b64 = part.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (part.length % 4)) % 4);
        return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    }

    function hmacKey(secret) {
        return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    }

    // The payload's exact text once the header and signature hold; throws otherwise.
    async function verifyJwt(token, key) {
        const parts = token.split('.');
        if (parts.length !== 3) throw new Error(`not a JWT (${parts.length} parts)`);
        const header = JSON.parse(decoder.decode(base64urlBytes(parts[0])));
        // Pinned: never let the token choose its algorithm.
        if (header.alg !== 'HS256' || header.typ !== 'JWT') throw new Error(`unexpected JWT header ${JSON.stringify(header)}`);
        const signed = encoder.encode(`${parts[0]}.${parts[1]}`);
        if (!(await crypto.subtle.verify('HMAC', key, base64urlBytes(parts[2]), signed))) throw new Error('invalid signature');
        return decoder.decode(base64urlBytes(parts[1]));
    }

    // --- Events ------------------------------------------------------------------
    function show(payloadText) {
        const payload = JSON.parse(payloadText);
        const li = document.createElement('li');
        if (Number.isSafeInteger(payload.call_id) && typeof payload.state === 'string') {
            li.dataset.key = `call:${payload.call_id}`;
            li.textContent = `call ${payload.call_id} ${payload.state}`;
        } else if (Number.isSafeInteger(payload.id) && 'from_number' in payload) {
            li.dataset.key = `sms:${payload.id}`;
            li.textContent = `sms ${payload.id} ${payload.direction} ${payload.message_status}`;
        } else {
            throw new Error(`an event of no known family: ${payloadText.slice(0, 200)}`);
        }
        li.dataset.connection = String(connection);
        li.dataset.payload = payloadText;
        eventsEl.append(li);
    }

    // --- The connection ----------------------------------------------------------
    function connect(url, key) {
        connection += 1;
        const index = connection;
        let opened = false;
        let frames = 0;
        // Verification is asynchronous; a chain keeps the frames in arrival order.
        let chain = Promise.resolve();
        setStatus('connecting', `connection ${index}: connecting`);
        socket = new WebSocket(url);
        socket.binaryType = 'arraybuffer';
        socket.onopen = () => {
            opened = true;
            setStatus('open', `connection ${index}: open`);
        };
        socket.onmessage = (message) => {
            frames += 1;
            const n = frames;
            chain = chain.then(async () => {
                if (failed) return;
                try {
                    if (typeof message.data !== 'string') throw new Error('a binary frame');
                    show(await verifyJwt(message.data, key));
                } catch (e) {
                    fail(`connection ${index}, frame ${n}: JWT verification failed: ${e.message}`);
                }
            });
        };
        socket.onclose = (event) => {
            chain.then(() => {
                if (failed) return;
                closeCodes.push(event.code);
                if (!opened) {
                    fail(`connection ${index}: closed (${event.code}) before it opened`);
                    return;
                }
                setStatus('reconnecting', `connection ${index}: closed (${event.code}); reconnecting`);
                reconnect(key).catch((e) => fail(e.message));
            });
        };
    }

    let websocketId = null;

    // A fresh URL from GET, never a second websocket: the old token may be stale.
    async function reconnect(key) {
        const fresh = await api('GET', `/api/v2/websockets/${websocketId}`);
        if (typeof fresh.websocket_url !== 'string') throw new Error(`GET websocket: no websocket_url in ${JSON.stringify(fresh)}`);
        connect(fresh.websocket_url, key);
    }

    async function main() {
        const secret = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))))
            .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
        const websocket = await api('POST', '/api/v2/websockets', { secret });
        if (typeof websocket.id !== 'string' || typeof websocket.websocket_url !== 'string') {
            throw new Error(`websocket create: unexpected answer ${JSON.stringify(websocket)}`);
        }
        const signature = websocket.signature || {};
        if (signature.algo !== 'HS256' || signature.type !== 'jwt' || signature.secret !== secret) {
            throw new Error(`websocket create: signature is ${JSON.stringify(websocket.signature)}, expected HS256 jwt with our secret`);
        }
        websocketId = websocket.id;
        statusEl.dataset.websocket = websocketId;
        await api('POST', '/api/v2/subscriptions/call', { endpoint_id: websocketId, call_states: ['all'] });
        await api('POST', '/api/v2/subscriptions/sms', { endpoint_id: websocketId, direction: 'all' });
        const key = await hmacKey(config.verifySecret || secret);
        if (!failed) connect(websocket.websocket_url, key);
    }

    main().catch((e) => fail(e.message));
})();
