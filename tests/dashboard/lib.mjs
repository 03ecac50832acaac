// lib.mjs: what the dashboard test needs besides the browser: the daemon
// (started, crashed and restarted on one SQLite db), the REST API with the
// admin or the buyer key, waiting on a condition with a deadline, and a
// webhook receiver on 127.0.0.1 that answers 500 until it is told to answer
// 200.

import { spawn } from 'node:child_process';
import { appendFileSync, openSync, closeSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

// Polls fn() until it returns a truthy value and returns that value; past the
// deadline throws with what and the last value (or error) seen. The poll is
// a wait on a condition, not a pause to let things settle: it returns as soon
// as the condition holds.
export async function until(what, fn, timeoutMs = 15000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${seen})`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// One daemon process. start() spawns it on 127.0.0.1 port 0 and resolves with
// its base URL once it printed "checkoutd listening on http://HOST:PORT".
// Each pid goes to pidFile as well, so run.sh can stop a daemon this process
// could not (it was killed itself). Its stderr goes to logFile.
export class Daemon {
  constructor({ bin, db, logFile, pidFile, adminKey, faults }) {
    Object.assign(this, { bin, db, logFile, pidFile, adminKey, faults });
    this.proc = null;
    this.base = null;
    this.exit = null; // resolves with {code, signal}
  }

  async start() {
    const args = ['--listen', '127.0.0.1:0', '--db', this.db, '--workers', '2',
      // The jobs (sweeper, SLA monitor) run only when the test asks
      // (POST /v1/admin/jobs/...): a sweep on its own would void the holds
      // the page is to void.
      '--jobs-interval', '86400'];
    const env = { ...process.env, CHECKOUTD_ADMIN_KEY: this.adminKey };
    delete env.CHECKOUTD_FAULTS;
    if (this.faults) {
      args.push('--enable-fault-injection');
      env.CHECKOUTD_FAULTS = this.faults;
    }
    appendFileSync(this.logFile, `--- checkoutd ${args.join(' ')}${this.faults ? ` (CHECKOUTD_FAULTS=${this.faults})` : ''}\n`);
    const fd = openSync(this.logFile, 'a');
    this.proc = spawn(this.bin, args, { env, stdio: ['ignore', 'pipe', fd] });
    closeSync(fd);
    appendFileSync(this.pidFile, `${this.proc.pid}\n`);
    this.exit = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    const line = await new Promise((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error(`checkoutd printed no line in 30 s (stdout: '${buf}')`)), 30000);
      this.proc.stdout.on('data', (d) => {
        buf += d;
        const nl = buf.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          resolve(buf.slice(0, nl));
        }
      });
      this.exit.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`checkoutd exited (${code ?? signal}) before it listened (stdout: '${buf}')`));
      });
    });
    const m = /^checkoutd listening on (http:\/\/127\.0\.0\.1:[0-9]+)$/.exec(line);
    if (!m) throw new Error(`checkoutd's first line is not "checkoutd listening on http://127.0.0.1:PORT": '${line}'`);
    this.base = m[1];
    this.proc.stdout.resume();
    return this.base;
  }

  // SIGTERM, then its exit status: {code, signal}. A daemon that exited on
  // its own already just reports how.
  async stop() {
    if (!this.proc) return null;
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    const r = await this.exit;
    this.proc = null;
    return r;
  }

  // For process 'exit' handlers: a synchronous SIGTERM if still running.
  killNow() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
  }
}

// The REST API of the daemon at base(). rest() returns {status, json, text,
// headers}; ok() asserts the status and returns the JSON.
export function api(base, defaultKey) {
  async function rest(method, p, body, key = defaultKey, extraHeaders = {}) {
    const headers = { ...extraHeaders };
    if (key) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base() + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: res.status, json, text, headers: res.headers };
  }
  async function ok(method, p, body, want, key) {
    const r = await rest(method, p, body, key);
    if (r.status !== want)
      throw new Error(`${method} ${p} ${body === undefined ? '' : JSON.stringify(body)} answered ${r.status}, want ${want}: ${r.text}`);
    return r.json;
  }
  // Every item of a list, page by page.
  async function all(p, key) {
    const items = [];
    let token = null;
    for (;;) {
      const sep = p.includes('?') ? '&' : '?';
      const page = await ok('GET', `${p}${sep}limit=500${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`, undefined, 200, key);
      items.push(...page.items);
      if (!page.nextPageToken) return items;
      token = page.nextPageToken;
    }
  }
  return { rest, ok, all };
}

// A webhook receiver on 127.0.0.1: answers `status` (500 at first) and
// records every POST as {delivery, event, answered}.
export async function receiver() {
  const r = { status: 500, seen: [] };
  r.server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      r.seen.push({ delivery: req.headers['x-checkoutd-delivery'], event: req.headers['x-checkoutd-event'], answered: r.status });
      res.writeHead(r.status, { 'content-type': 'text/plain' });
      res.end(r.status === 200 ? 'ok' : 'not now');
    });
  });
  await new Promise((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${r.server.address().port}/hooks/checkoutd`;
  r.close = () => {
    r.server.close();
    r.server.closeAllConnections();
  };
  return r;
}

export const here = path.dirname(new URL(import.meta.url).pathname);
