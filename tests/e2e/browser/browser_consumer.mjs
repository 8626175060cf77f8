// Drives a real browser (Debian's chromium, headless, through npm's
// playwright-core) as the consumer of dialpad-mock, for
// tests/e2e/browser_consumer.sh. It serves tests/e2e/browser/ (index.html,
// app.js) from its own origin on 127.0.0.1, so the page's REST calls are
// cross-origin and go through the mock's CORS, then:
//
//   1. Opens the page with the mock's base URL and the API key injected
//      before any script runs (never in a URL); the page creates a websocket
//      with a secret, subscribes to calls and SMS, connects.
//   2. Injects events through the admin API: explicit ones (one at a time and
//      a batch, calls and SMS interleaved) and a scenario played at once;
//      waits until the page lists them.
//   3. Advances the mock's virtual clock by an hour: the mock cuts the
//      connection and the page GETs a fresh URL and reconnects; injects more.
//   4. Asserts the page lists exactly the injected events, each once, in
//      injection order, each explicit one with its exact bytes; that the REST
//      calls were preflighted and the URL refreshed with GET; that the page
//      logged no error. Takes a screenshot.
//   5. Opens the page again verifying with a wrong secret: the first frame
//      must show a signature error and list nothing.
//
// Success: one line of JSON on stdout (screenshot paths included), exit 0.
// Failure: one line on stderr ("browser_consumer: ..."), exit 1; a bad
// command line exits 2. Every wait is on the DOM or an HTTP answer, bounded.
//
// Usage: DIALPAD_API_KEY=KEY node browser_consumer.mjs --http URL --admin URL --out-dir DIR
// The API key is read from the environment only. Playwright makes the
// browser profile under os.tmpdir(), so the caller points TMPDIR at its own
// scratch directory.

import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse_command_line, set_name, usage } from '../node/script_support.mjs';

const NAME = 'browser_consumer';
set_name(NAME);

// --- Command line and environment -------------------------------------------
const options = parse_command_line({
    http: { type: 'string' },
    admin: { type: 'string' },
    'out-dir': { type: 'string' },
    'timeout-ms': { type: 'string', default: '5000' },
});
if (!options.http || !options.admin || !options['out-dir']) usage('--http, --admin and --out-dir are required');
const http_base = options.http.replace(/\/+$/, '');
const admin_base = options.admin.replace(/\/+$/, '');
const out_dir = path.resolve(options['out-dir']);
const timeout_ms = Number(options['timeout-ms']);
if (!Number.isInteger(timeout_ms) || timeout_ms < 1) usage(`--timeout-ms must be a positive integer, got '${options['timeout-ms']}'`);
const api_key = process.env.DIALPAD_API_KEY;
if (!api_key) usage('DIALPAD_API_KEY is not set (the API key is read from the environment only)');

// playwright-core is installed with the Node consumer's packages.
const require = createRequire(new URL('../node/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const CHROMIUM = '/usr/bin/chromium';
// Ours; playwright adds its own (including --headless and --no-sandbox) and
// makes a fresh --user-data-dir itself (it refuses one in args).
const CHROMIUM_FLAGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
];

class Failure extends Error {}
function fail(reason) {
    throw new Failure(reason);
}

// Every step is bounded on its own; this bounds the whole run as well. On
// exit playwright kills the browser it launched.
const watchdog = setTimeout(() => {
    process.stderr.write(`${NAME}: the whole run took longer than 40 s\n`);
    process.exit(1);
}, 40_000);

// --- The page's origin -------------------------------------------------------------
const page_dir = path.dirname(fileURLToPath(import.meta.url));
const page_files = new Map([
    ['/', ['index.html', 'text/html; charset=utf-8']],
    ['/app.js', ['app.js', 'text/javascript; charset=utf-8']],
]);

async function start_page_server() {
    const server = http.createServer(async (req, res) => {
        const file = req.method === 'GET' ? page_files.get(new URL(req.url, 'http://page').pathname) : undefined;
        if (!file) {
            res.writeHead(404).end();
            return;
        }
        try {
            const body = await readFile(path.join(page_dir, file[0]));
            res.writeHead(200, { 'Content-Type': file[1], 'Cache-Control': 'no-store' }).end(body);
        } catch {
            res.writeHead(500).end();
        }
    });
    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
    });
    return server;
}

// --- The admin API -------------------------------------------------------------------
async function admin(method, route, body) {
    const where = `${method} /__admin${route}`;
    let response;
    let text;
    try {
        response = await fetch(`${admin_base}${route}`, {
            method,
            headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(timeout_ms),
        });
        text = await response.text();
    } catch (e) {
        fail(`${where}: ${e.name === 'TimeoutError' ? `no answer within ${timeout_ms} ms` : e.message}`);
    }
    if (!response.ok) fail(`${where}: HTTP ${response.status} ${text.slice(0, 200)}`);
    return JSON.parse(text);
}

// --- Events --------------------------------------------------------------------------
// Unique ids (JSON numbers below 2^53, as Dialpad's are); the key names the
// family and the id, as the page's data-key does.
let serial = 0;
let now_ms = 0; // the mock's clock, for the events' timestamps

function make_event(family) {
    serial += 1;
    const payload = family === 'call'
        ? {
            call_id: 6300000000000000 + serial,
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
        }
        : {
            id: 6400000000000000 + serial,
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
    const key = family === 'call' ? `call:${payload.call_id}` : `sms:${payload.id}`;
    return { key, raw: JSON.stringify(payload), family };
}

// expected: what the page must list, in order: {key, raw} for an explicit
// event, {scenario: true} for one of a scenario (its payloads are the mock's).
async function inject_one(family, expected, websocket_id) {
    const made = make_event(family);
    const answer = await admin('POST', '/events', { type: family, raw: made.raw });
    const delivered = answer.delivered ?? [];
    if (delivered.length !== 1 || delivered[0].websocket !== websocket_id) {
        fail(`inject ${made.key}: delivered to ${JSON.stringify(answer.delivered)}, expected the page's websocket ${websocket_id} once`);
    }
    expected.push(made);
}

async function inject_batch(families, expected) {
    const made = families.map(make_event);
    const answer = await admin('POST', '/events', { events: made.map((m) => ({ type: m.family, raw: m.raw })) });
    if (answer.events !== made.length || answer.deliveries !== made.length) {
        fail(`inject batch of ${made.length}: answered ${JSON.stringify(answer)}`);
    }
    expected.push(...made);
}

async function inject_scenario(name, seed, expected) {
    const answer = await admin('POST', `/scenarios/${name}`, { seed, params: { immediate: true } });
    const events = answer.events ?? [];
    if (events.length === 0 || answer.delivered !== events.length || events.some((e) => e.type !== 'call')) {
        fail(`scenario ${name}: answered ${JSON.stringify(answer).slice(0, 300)}, expected call events each delivered once`);
    }
    for (let i = 0; i < events.length; i++) expected.push({ scenario: true });
}

async function advance(seconds) {
    const clock = await admin('POST', '/clock/advance', { seconds });
    now_ms = clock.now_ms;
}

// --- The page ------------------------------------------------------------------------
class ConsumerPage {
    static async open(browser, page_origin, extra_config = {}) {
        const self = new ConsumerPage();
        self.context = await browser.newContext({ viewport: { width: 960, height: 720 } });
        self.page = await self.context.newPage();
        self.page.setDefaultTimeout(timeout_ms);
        self.console_errors = [];
        self.page.on('console', (m) => { if (m.type() === 'error') self.console_errors.push(m.text()); });
        self.page.on('pageerror', (e) => self.console_errors.push(`uncaught: ${e.message}`));
        // Over playwright's pipe to the browser, before app.js runs.
        await self.page.addInitScript((config) => {
            window.dialpadConsumerConfig = Object.freeze(config);
        }, { apiBase: http_base, apiKey: api_key, ...extra_config });
        await self.page.goto(`${page_origin}/`);
        return self;
    }

    status() {
        return this.page.locator('#status').evaluate((el) => ({ ...el.dataset, text: el.textContent }));
    }

    async errors() {
        return this.page.locator('#errors > li').allTextContents();
    }

    // Waits for the page to be in `state` on connection `n`, or to fail.
    async wait_status(state, n, what) {
        const wanted = `#status[data-state="${state}"][data-connection="${n}"], #status[data-state="failed"]`;
        try {
            await this.page.locator(wanted).waitFor();
        } catch {
            fail(`${what}: not within ${timeout_ms} ms; status ${JSON.stringify(await this.status())}`);
        }
        const status = await this.status();
        if (status.state !== state) fail(`${what}: the page failed: ${(await this.errors()).join('; ')}`);
        return status;
    }

    // Waits until the list has `count` items (or the page failed); returns them.
    async wait_events(count, what) {
        const wanted = `#events > li:nth-child(${count}), #status[data-state="failed"]`;
        try {
            await this.page.locator(wanted).first().waitFor();
        } catch {
            fail(`${what}: not within ${timeout_ms} ms; the page lists ${await this.page.locator('#events > li').count()}`);
        }
        const errors = await this.errors();
        if (errors.length) fail(`${what}: the page failed: ${errors.join('; ')}`);
        return this.page.locator('#events > li').evaluateAll((items) => items.map((li) => ({
            key: li.dataset.key,
            connection: Number(li.dataset.connection),
            payload: li.dataset.payload,
            text: li.textContent,
        })));
    }

    async close() {
        await this.context.close();
    }
}

// The list must be exactly `expected`, in order; explicit events with their
// exact bytes, scenario ones as calls.
function check_list(listed, expected, what) {
    if (listed.length !== expected.length) fail(`${what}: the page lists ${listed.length} events, ${expected.length} were injected`);
    expected.forEach((want, i) => {
        const got = listed[i];
        if (want.scenario) {
            if (!got.key.startsWith('call:')) fail(`${what}: item ${i + 1} is ${got.key}, expected a scenario call`);
        } else if (got.key !== want.key || got.payload !== want.raw) {
            fail(`${what}: item ${i + 1} is ${got.key}${got.key === want.key ? ' with other bytes' : ''}, expected ${want.key}`);
        }
    });
    const keys = listed.filter((_, i) => !expected[i].scenario).map((e) => e.key);
    if (new Set(keys).size !== keys.length) fail(`${what}: an injected event is listed twice`);
}

// --- The run -------------------------------------------------------------------------
async function run(browser, page_origin) {
    const clock = await admin('GET', '/clock');
    if (clock.virtual !== true || clock.scale !== 0) {
        fail(`the mock must run with --clock virtual --time-scale 0; its clock is ${JSON.stringify(clock)}`);
    }
    now_ms = clock.now_ms;

    const consumer = await ConsumerPage.open(browser, page_origin);
    const first = await consumer.wait_status('open', 1, 'connection 1 open');
    const websocket_id = first.websocket;

    const expected = [];
    await inject_one('call', expected, websocket_id);
    await inject_one('sms', expected, websocket_id);
    await inject_batch(['call', 'sms', 'call'], expected);
    await inject_scenario('inbound_call_answered', 3, expected);
    await inject_one('call', expected, websocket_id);
    const before_cut = expected.length;
    check_list(await consumer.wait_events(before_cut, `${before_cut} events on connection 1`), expected, 'connection 1');

    // The hour cut: the mock ends the connection; the page must come back.
    await advance(3600);
    const second = await consumer.wait_status('open', 2, 'reconnected after the hour cut');
    if (second.closes !== '1006' && second.closes !== '1001') fail(`the hour cut closed with ${second.closes}, expected 1006 or 1001`);
    await inject_one('sms', expected, websocket_id);
    await inject_one('call', expected, websocket_id);
    const listed = await consumer.wait_events(expected.length, `${expected.length} events after the reconnect`);
    check_list(listed, expected, 'after the reconnect');
    const per_connection = [1, 2].map((n) => listed.filter((e) => e.connection === n).length);
    if (per_connection[0] !== before_cut) fail(`connection 1 listed ${per_connection[0]} events, expected ${before_cut}`);

    // The REST journal: preflighted, one websocket, the URL refreshed with GET.
    const journal = (await admin('GET', '/requests')).requests ?? [];
    const operations = {};
    for (const r of journal) if (r.operation) operations[r.operation] = (operations[r.operation] ?? 0) + 1;
    const expect_ops = { 'websockets.create': 1, 'websockets.get': 1, 'subscriptions.call.create': 1, 'subscriptions.sms.create': 1 };
    for (const [op, n] of Object.entries(expect_ops)) {
        if ((operations[op] ?? 0) !== n) fail(`REST journal: ${operations[op] ?? 0} × ${op}, expected ${n}`);
    }
    const preflighted = new Set(journal.filter((r) => r.method === 'OPTIONS' && r.status === 204).map((r) => r.path));
    for (const p of ['/api/v2/websockets', '/api/v2/subscriptions/call', '/api/v2/subscriptions/sms', `/api/v2/websockets/${websocket_id}`]) {
        if (!preflighted.has(p)) fail(`REST journal: no CORS preflight for ${p}`);
    }
    const refused = journal.filter((r) => r.status >= 400);
    if (refused.length) fail(`REST journal: refused ${JSON.stringify(refused).slice(0, 300)}`);
    if (consumer.console_errors.length) fail(`the page logged errors: ${consumer.console_errors.join('; ').slice(0, 500)}`);

    const screenshot = path.join(out_dir, 'browser_consumer.png');
    await consumer.page.screenshot({ path: screenshot, fullPage: true });
    await consumer.close();

    // A wrong secret on the page's side: the first frame fails, visibly.
    await admin('POST', '/reset');
    const wrong = await ConsumerPage.open(browser, page_origin, { verifySecret: 'not-the-websocket-secret' });
    const wrong_status = await wrong.wait_status('open', 1, 'wrong secret: connection open');
    await inject_one('call', [], wrong_status.websocket);
    try {
        await wrong.page.locator('#status[data-state="failed"]').waitFor();
    } catch {
        fail(`wrong secret: the page did not fail within ${timeout_ms} ms; status ${JSON.stringify(await wrong.status())}`);
    }
    const wrong_errors = await wrong.errors();
    const want_error = 'connection 1, frame 1: JWT verification failed: invalid signature';
    if (wrong_errors.length !== 1 || wrong_errors[0] !== want_error) fail(`wrong secret: errors ${JSON.stringify(wrong_errors)}, expected ['${want_error}']`);
    if (await wrong.page.locator('#events > li').count() !== 0) fail('wrong secret: the page listed an event');
    if (!(await wrong.page.locator('#errors > li').isVisible())) fail('wrong secret: the error is not visible');
    const wrong_screenshot = path.join(out_dir, 'browser_consumer_wrong_secret.png');
    await wrong.page.screenshot({ path: wrong_screenshot, fullPage: true });
    await wrong.close();

    return {
        ok: true,
        websocket: websocket_id,
        connections: 2,
        close_codes: second.closes.split(',').map(Number),
        events: expected.length,
        explicit: expected.filter((e) => !e.scenario).length,
        scenario: expected.filter((e) => e.scenario).length,
        per_connection,
        preflights: journal.filter((r) => r.method === 'OPTIONS').length,
        rest: operations,
        wrong_secret: wrong_errors[0],
        screenshots: [screenshot, wrong_screenshot],
    };
}

const server = await start_page_server();
const page_origin = `http://127.0.0.1:${server.address().port}`;
let browser = null;
let summary = null;
let failure = null;
try {
    if (new URL(http_base).origin === page_origin) fail(`the page and the mock share the origin ${page_origin}`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, timeout: 15_000 });
    summary = await run(browser, page_origin);
} catch (e) {
    failure = e instanceof Failure ? e.message : `${e.name}: ${e.message}`;
} finally {
    if (browser) await browser.close().catch(() => {});
    server.closeAllConnections();
    server.close();
}
clearTimeout(watchdog);
if (failure) {
    process.stderr.write(`${NAME}: ${failure.replace(/\s*\n\s*/g, ' ')}\n`);
    process.exit(1);
}
process.stdout.write(`${JSON.stringify(summary)}\n`);
