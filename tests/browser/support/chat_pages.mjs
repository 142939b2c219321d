// What the browser tests of the chat example (examples/chat) share:
// checking their prerequisites, starting, killing and restarting
// chat_server, and driving one person's chat page in Chromium (open it,
// wait for a text or a log line, say something, take a screenshot).
//
// The tests get their paths from the variables CMake sets
// (tests/browser/CMakeLists.txt): CHAT_SERVER_BIN, CHAT_DIR, SDK_DIST,
// ARTIFACT_DIR.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const STEP_MS = 10000;  // one step: a page loads, a message arrives, a reconnect with its backoff

const { CHAT_SERVER_BIN, CHAT_DIR, SDK_DIST, ARTIFACT_DIR } = process.env;

// Everything the tests need, or a message that says what to do; resolves
// to playwright's chromium.
export async function prerequisites() {
  for (const [name, value] of Object.entries({ CHAT_SERVER_BIN, CHAT_DIR, SDK_DIST, ARTIFACT_DIR })) {
    assert.ok(value, `${name} is not set (ctest sets it: see tests/browser/CMakeLists.txt)`);
  }
  assert.ok(existsSync(CHAT_SERVER_BIN), `no chat_server at ${CHAT_SERVER_BIN}: build the target chat_server`);
  // playwright-core needs Node.js 20 (Debian 12's own nodejs is 18).
  assert.ok(Number(process.versions.node.split('.')[0]) >= 20,
    `playwright-core needs Node.js 20 or later; this is ${process.version}`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (scripts/bootstrap does)`);
  assert.ok(existsSync(path.join(SDK_DIST, 'index.js')),
    `the SDK build ${SDK_DIST}/index.js is missing: cd clients/js && npm ci && npm run build ` +
    '(scripts/bootstrap does)');
  mkdirSync(ARTIFACT_DIR, { recursive: true });
  try {
    return (await import('playwright-core')).chromium;
  } catch (error) {
    throw new Error(`playwright-core cannot be loaded (${error.message}): ` +
      'run `npm ci` in tests/browser (scripts/bootstrap does)');
  }
}

export function launchChromium(chromium) {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 2 * STEP_MS });
}

export function withTimeout(promise, what, ms = STEP_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// chat_server on `port` (0: a free one); resolves once it listens. `broker`
// is its CHAT_BROKER_URL (empty: the memory broker); `name` tags its output.
export async function startChatServer(port, output, { broker = '', name = 'chat_server' } = {}) {
  const proc = spawn(CHAT_SERVER_BIN, [String(port), CHAT_DIR, SDK_DIST], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CHAT_BROKER_URL: broker },
  });
  proc.stderr.on('data', (chunk) => output.push(`${name}: ${String(chunk).trimEnd()}`));
  let seen = '';
  const listening = new Promise((resolve, reject) => {
    proc.stdout.on('data', (chunk) => {
      seen += chunk;
      const match = /^listening on [0-9.]+:(\d+)\n/.exec(seen);
      if (match) resolve(Number(match[1]));
    });
    proc.on('exit', (code, signal) => reject(new Error(`${name} exited (${code ?? signal}) before listening`)));
  });
  try {
    return { proc, port: await withTimeout(listening, `${name} start`) };
  } catch (error) {
    proc.kill('SIGKILL');
    throw error;
  }
}

// The same port again after a kill: retried for a moment in case the port
// is not free yet.
export async function restartChatServer(port, output, options = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startChatServer(port, output, options);
    } catch (error) {
      if (attempt === 10) throw new Error(`chat_server did not start again on port ${port}: ${error.message}`);
      await new Promise((resolve) => setTimeout(resolve, 200)); // pacing the retries
    }
  }
}

export async function killChatServer(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = once(proc, 'exit');
  proc.kill('SIGKILL');
  await exited;
}

// One person's page in a browser context of its own (like another browser).
export async function openChat(browser, user, base, output) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => output.push(`${user} page error: ${error.message}`));
  page.on('console', (message) => output.push(`${user} console.${message.type()}: ${message.text()}`));
  page.on('response', (response) => {
    if (response.status() >= 400) output.push(`${user} HTTP ${response.status()} for ${response.url()}`);
  });
  await page.goto(`${base}/?user=${user}`, { timeout: STEP_MS });
  return { user, page, context };
}

async function textOf(chat, selector) {
  return chat.page.textContent(selector, { timeout: 1000 }).catch(() => '(page not readable)');
}

// Waits until `selector` reads exactly `expected` on the page.
export async function waitText(chat, selector, expected, ms = STEP_MS) {
  try {
    await chat.page.waitForFunction(([s, e]) => document.querySelector(s)?.textContent === e, [selector, expected],
      { timeout: ms, polling: 50 });
  } catch {
    const actual = await textOf(chat, selector);
    throw new Error(`${chat.user}'s page: ${selector} is ${JSON.stringify(actual)}, ` +
      `not ${JSON.stringify(expected)} after ${ms} ms`);
  }
}

// Every line of the chat log, the page's own (system) lines too.
export async function logLines(chat) {
  return chat.page.$$eval('#log div', (lines) => lines.map((line) => line.textContent));
}

// The messages only ("ada: hi"), in the order the page shows them.
export async function messageLines(chat) {
  return chat.page.$$eval('#log div:not(.system)', (lines) => lines.map((line) => line.textContent));
}

// Waits until the chat log has `line`.
export async function waitLine(chat, line, ms = STEP_MS) {
  try {
    await chat.page.waitForFunction((l) => [...document.querySelectorAll('#log div')].some((d) => d.textContent === l),
      line, { timeout: ms, polling: 50 });
  } catch {
    throw new Error(`${chat.user}'s page: no ${JSON.stringify(line)} in the log after ${ms} ms; it has ` +
      JSON.stringify(await logLines(chat).catch(() => [])));
  }
}

export async function say(chat, text) {
  await chat.page.fill('#text', text);
  await chat.page.press('#text', 'Enter');
}

// `first` says one thing and, once both pages show it, `second` answers
// (so that the two lines have one order, even through two nodes).
export async function exchange(first, firstText, second, secondText) {
  await say(first, firstText);
  for (const chat of [first, second]) await waitLine(chat, `${first.user}: ${firstText}`);
  await say(second, secondText);
  for (const chat of [first, second]) await waitLine(chat, `${second.user}: ${secondText}`);
}

// A screenshot of each page to ARTIFACT_DIR/<prefix>-<user>.png; a page
// that cannot be shot is said on stderr, not a failure.
export async function screenshots(chats, prefix) {
  for (const chat of chats) {
    const file = path.join(ARTIFACT_DIR, `${prefix}-${chat.user}.png`);
    await chat.page.screenshot({ path: file, timeout: 5000 }).catch((error) => {
      console.error(`no screenshot of ${chat.user}'s page: ${error.message}`);
    });
  }
}
