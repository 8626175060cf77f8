// What the Node.js scripts of tests/e2e and scripts/ share. Every script
// that imports it: the name its messages start with, and its command line (a
// bad one is one line on stderr, "NAME: reason", and exit 2).
// scripts/crash-test.mjs and scripts/soak.mjs also: the programs' paths,
// child processes that are stopped on every exit path, a scratch directory
// removed at exit, bounded waits, admin and REST calls, /proc readings, a
// seeded RNG and a few statistics.
//
// Failures are one line ("NAME: reason") on stderr and exit 1; the 'exit'
// handler then kills (SIGKILL) every child still running and removes the
// scratch directory. SIGINT and SIGTERM stop the children (SIGTERM, then
// SIGKILL after 2 s) and exit 130 / 143. Those handlers come with the first
// child or scratch directory, not with the import: a script that only takes
// its command line from here keeps its own signal handling (soak_clients.mjs
// stops and reports on SIGTERM).

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const node_dir = join(repo, 'tests/e2e/node');

let script_name = 'script';
const children = new Set();
let scratch = null;
let keep_scratch = false;

export function set_name(name) {
    script_name = name;
}

export function die(reason) {
    // Once interrupted, the children are going away: what fails then is no news.
    if (interrupted) process.exit(interrupt_code);
    process.stderr.write(`${script_name}: ${String(reason).replace(/\s*\n\s*/g, ' ').slice(0, 2000)}\n`);
    process.exit(1);
}

// A bad command line (or an input the command line names that cannot be
// used): one line on stderr, exit 2.
export function usage(reason) {
    process.stderr.write(`${script_name}: ${reason}\n`);
    process.exit(2);
}

// The values of the command line, parsed against `options` (parseArgs'
// option specs; no positional arguments). An unknown option or a missing
// value goes to usage(), with `hint` (such as 'see --help') after the reason.
// The number option `name` of parsed `values`, at least `min` (and whole
// with `integer`); anything else goes to usage().
export function number_option(values, name, min, { integer = false } = {}) {
    const v = Number(values[name]);
    if (integer ? !Number.isInteger(v) || v < min : !Number.isFinite(v) || v < min)
        usage(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}`);
    return v;
}

export function parse_command_line(options, hint) {
    try {
        return parseArgs({ options, strict: true, allowPositionals: false }).values;
    } catch (e) {
        usage(hint ? `${e.message} (${hint})` : e.message);
    }
}

function kill_all(signal) {
    for (const child of children) {
        try {
            process.kill(child.pid, signal);
        } catch {
            // already gone
        }
    }
}

let interrupted = false;
let interrupt_code = 1;
let handlers_installed = false;
function install_handlers() {
    if (handlers_installed) return;
    handlers_installed = true;
    process.on('exit', () => {
        kill_all('SIGKILL');
        if (scratch && !keep_scratch) rmSync(scratch, { recursive: true, force: true });
    });
    for (const [signal, code] of [
        ['SIGINT', 130],
        ['SIGTERM', 143],
    ]) {
        process.on(signal, () => {
            if (interrupted) return;
            interrupted = true;
            interrupt_code = code;
            process.stderr.write(`${script_name}: interrupted (${signal}), stopping\n`);
            kill_all('SIGTERM');
            const started = Date.now();
            const poll = setInterval(() => {
                if (children.size === 0 || Date.now() - started > 2000) {
                    clearInterval(poll);
                    process.exit(code);
                }
            }, 50);
        });
    }
}

// A scratch directory, removed at exit unless keep is set.
export function make_scratch(prefix) {
    install_handlers();
    scratch = mkdtempSync(join(tmpdir(), `${prefix}-`));
    return scratch;
}
export function keep_scratch_dir() {
    keep_scratch = true;
}

// The three programs: build/release, or DIALPAD_MOCK / DIALPAD_RECORD / DIALPAD_REPLAY.
export function programs() {
    const p = {
        mock: process.env.DIALPAD_MOCK || join(repo, 'build/release/mockserver/dialpad-mock'),
        record: process.env.DIALPAD_RECORD || join(repo, 'build/release/recorder/dialpad-record'),
        replay: process.env.DIALPAD_REPLAY || join(repo, 'build/release/replayer/dialpad-replay'),
    };
    for (const path of Object.values(p)) {
        if (!existsSync(path))
            die(`${path} is missing: build the release preset first (cmake --preset release && cmake --build --preset release), or set DIALPAD_MOCK, DIALPAD_RECORD, DIALPAD_REPLAY`);
    }
    if (!existsSync(join(node_dir, 'node_modules/ws'))) die(`${node_dir}/node_modules is missing: run 'bash scripts/setup'`);
    return p;
}

// Starts a child that is stopped at exit. options: env (added to the
// environment), stdin ('pipe' or 'ignore'), stdout ('pipe' or a file
// descriptor), stderr (a file descriptor or 'ignore').
export function start(command, args, options = {}) {
    install_handlers();
    const child = spawn(command, args, {
        env: { ...process.env, ...(options.env ?? {}) },
        stdio: [options.stdin ?? 'ignore', options.stdout ?? 'pipe', options.stderr ?? 'ignore'],
    });
    children.add(child);
    child.exit_state = null;
    child.exited = new Promise((resolve_exit) => {
        child.on('exit', (code, signal) => {
            children.delete(child);
            child.exit_state = { code, signal };
            resolve_exit(child.exit_state);
        });
        child.on('error', (e) => {
            children.delete(child);
            child.exit_state = { code: null, signal: null, error: e.message };
            resolve_exit(child.exit_state);
        });
    });
    if (child.stdout && options.lines !== false) {
        child.lines = createInterface({ input: child.stdout });
        child.line_queue = [];
        child.line_waiters = [];
        child.lines.on('line', (line) => {
            const waiter = child.line_waiters.shift();
            if (waiter) waiter(line);
            else child.line_queue.push(line);
        });
        child.lines.on('close', () => {
            for (const waiter of child.line_waiters.splice(0)) waiter(null);
        });
    }
    return child;
}

// The child's next stdout line, or null at its end or after timeout_ms.
export function next_line(child, timeout_ms) {
    if (child.line_queue.length) return Promise.resolve(child.line_queue.shift());
    return new Promise((resolve_line) => {
        const timer = setTimeout(() => {
            const i = child.line_waiters.indexOf(waiter);
            if (i >= 0) child.line_waiters.splice(i, 1);
            resolve_line(null);
        }, timeout_ms);
        const waiter = (line) => {
            clearTimeout(timer);
            resolve_line(line);
        };
        child.line_waiters.push(waiter);
    });
}

// Reads the one {"ready":true,...} line a program prints; dies otherwise.
export async function ready_line(child, what, timeout_ms, stderr_file) {
    const line = await next_line(child, timeout_ms);
    let ready = null;
    try {
        ready = JSON.parse(line ?? '');
    } catch {
        // not JSON
    }
    if (!ready || ready.ready !== true) die(`${what} gave no ready line within ${timeout_ms} ms (got '${line ?? ''}')${tail_of(stderr_file)}`);
    return ready;
}

export function tail_of(file, bytes = 600) {
    if (!file || !existsSync(file)) return '';
    const text = readFileSync(file, 'utf8');
    return `; its stderr ends: ${text.slice(-bytes)}`;
}

// Waits up to timeout_ms for the child to end: {code, signal}, or null.
export async function wait_exit(child, timeout_ms) {
    if (child.exit_state) return child.exit_state;
    let timer;
    const timeout = new Promise((r) => {
        timer = setTimeout(() => r(null), timeout_ms);
    });
    const state = await Promise.race([child.exited, timeout]);
    clearTimeout(timer);
    return state;
}

// SIGTERM, up to timeout_ms to end, then SIGKILL: the exit state, with
// `killed` set when it had to be killed.
export async function stop(child, timeout_ms = 5000) {
    if (child.exit_state) return child.exit_state;
    child.kill('SIGTERM');
    const state = await wait_exit(child, timeout_ms);
    if (state) return state;
    child.kill('SIGKILL');
    return { ...(await wait_exit(child, 2000)), killed: true };
}

// Runs a program to its end (bounded): {code, signal, stdout, stderr}.
export async function run(command, args, timeout_ms, options = {}) {
    const child = start(command, args, { stdout: 'pipe', stderr: 'pipe', env: options.env, lines: false });
    // 'close' comes after the exit and the end of both pipes.
    const closed = new Promise((r) => child.on('close', (code, signal) => r({ code, signal })));
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const text = () => ({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    let timer;
    const state = await Promise.race([closed, new Promise((r) => (timer = setTimeout(() => r(null), timeout_ms)))]);
    clearTimeout(timer);
    if (!state) {
        child.kill('SIGKILL');
        await wait_exit(child, 2000);
        return { code: null, signal: 'timeout', ...text() };
    }
    return { ...state, ...text() };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// An HTTP call to a loopback URL (bounded): the parsed JSON answer; dies on a
// failure unless options.soft, then returns {error}.
export async function http(method, url, body, options = {}) {
    const timeout_ms = options.timeout_ms ?? 10000;
    try {
        const response = await fetch(url, {
            method,
            headers: { 'Content-Type': 'application/json', ...(options.headers ?? {}) },
            body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
            signal: AbortSignal.timeout(timeout_ms),
        });
        const text = await response.text();
        if (!response.ok) throw new Error(`HTTP ${response.status} ${text.slice(0, 300)}`);
        return text.length ? JSON.parse(text) : {};
    } catch (e) {
        const reason = `${method} ${url.replace(/apikey=[^&]*/, 'apikey=***')} failed: ${e.message}`;
        if (options.soft) return { error: reason };
        die(reason);
    }
}

// Resident memory (KiB), its high-water mark, and open file descriptors of a
// live process, from /proc; null when it has gone.
export function proc_stats(pid) {
    try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const kib = (name) => Number((new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status) ?? [])[1] ?? NaN);
        return { rss_kib: kib('VmRSS'), hwm_kib: kib('VmHWM'), fds: readdirSync(`/proc/${pid}/fd`).length };
    } catch {
        return null;
    }
}

// CPU time (user + system) of a process in seconds, from /proc/PID/stat.
export function cpu_seconds(pid) {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
        return NaN;
    }
}

// mulberry32: a small seeded PRNG, uniform in [0, 1).
export function rng(seed) {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

export function quantile(sorted, q) {
    if (!sorted.length) return NaN;
    const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
    return sorted[i];
}

export const mib = (kib) => Math.round((kib / 1024) * 10) / 10;
