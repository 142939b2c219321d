// The chat example (examples/chat) on the JavaScript SDK (clients/js/dist) in
// Debian's Chromium, driven by playwright-core (pinned in package-lock.json):
// two people see each other (presence) and chat; then chat_server is killed
// (SIGKILL) and started again on the same port, and both pages show that
// they reconnect (within about a second of the server), see each other
// again and keep chatting, and a message ada typed while the server was down
// reaches bob exactly once, whoever of the two is back first: bob gets it
// live, or, when ada was first, from the room's history after his recovery
// failed (the restarted server's stream has a new epoch).
//
// Run from this folder after `npm ci` (scripts/bootstrap does it, and builds
// the SDK), with the variables CMake sets (tests/browser/CMakeLists.txt):
//   CHAT_SERVER_BIN=.../chat_server CHAT_DIR=../../examples/chat \
//   SDK_DIST=../../clients/js/dist ARTIFACT_DIR=/tmp/artifacts node --test chat.test.mjs
// A screenshot of each page is saved to ARTIFACT_DIR (chat-ada.png, chat-bob.png).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const STEP_MS = 10000;  // one step: a page loads, a message arrives, a reconnect with its backoff

const { CHAT_SERVER_BIN, CHAT_DIR, SDK_DIST, ARTIFACT_DIR } = process.env;

// Everything the test needs, or a message that says what to do.
async function prerequisites() {
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
  try {
    return (await import('playwright-core')).chromium;
  } catch (error) {
    throw new Error(`playwright-core cannot be loaded (${error.message}): ` +
      'run `npm ci` in tests/browser (scripts/bootstrap does)');
  }
}

function withTimeout(promise, what, ms = STEP_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// chat_server on `port` (0: a free one); resolves once it listens.
async function startChatServer(port, output) {
  const proc = spawn(CHAT_SERVER_BIN, [String(port), CHAT_DIR, SDK_DIST], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stderr.on('data', (chunk) => output.push(`chat_server: ${String(chunk).trimEnd()}`));
  let seen = '';
  const listening = new Promise((resolve, reject) => {
    proc.stdout.on('data', (chunk) => {
      seen += chunk;
      const match = /^listening on [0-9.]+:(\d+)\n/.exec(seen);
      if (match) resolve(Number(match[1]));
    });
    proc.on('exit', (code, signal) => reject(new Error(`chat_server exited (${code ?? signal}) before listening`)));
  });
  try {
    return { proc, port: await withTimeout(listening, 'chat_server start') };
  } catch (error) {
    proc.kill('SIGKILL');
    throw error;
  }
}

// The same port again after a kill: retried for a moment in case the port
// is not free yet.
async function restartChatServer(port, output) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startChatServer(port, output);
    } catch (error) {
      if (attempt === 10) throw new Error(`chat_server did not start again on port ${port}: ${error.message}`);
      await new Promise((resolve) => setTimeout(resolve, 200)); // pacing the retries
    }
  }
}

async function killChatServer(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = once(proc, 'exit');
  proc.kill('SIGKILL');
  await exited;
}

// One person's page in a browser context of its own (like another browser).
async function openChat(browser, user, base, output) {
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
async function waitText(chat, selector, expected, ms = STEP_MS) {
  try {
    await chat.page.waitForFunction(([s, e]) => document.querySelector(s)?.textContent === e, [selector, expected],
      { timeout: ms, polling: 50 });
  } catch {
    const actual = await textOf(chat, selector);
    throw new Error(`${chat.user}'s page: ${selector} is ${JSON.stringify(actual)}, ` +
      `not ${JSON.stringify(expected)} after ${ms} ms`);
  }
}

async function logLines(chat) {
  return chat.page.$$eval('#log div', (lines) => lines.map((line) => line.textContent));
}

// Waits until the chat log has `line`.
async function waitLine(chat, line, ms = STEP_MS) {
  try {
    await chat.page.waitForFunction((l) => [...document.querySelectorAll('#log div')].some((d) => d.textContent === l),
      line, { timeout: ms, polling: 50 });
  } catch {
    throw new Error(`${chat.user}'s page: no ${JSON.stringify(line)} in the log after ${ms} ms; it has ` +
      JSON.stringify(await logLines(chat).catch(() => [])));
  }
}

async function say(chat, text) {
  await chat.page.fill('#text', text);
  await chat.page.press('#text', 'Enter');
}

// `first` says one thing, `second` answers; both pages show both lines.
async function exchange(first, firstText, second, secondText) {
  await say(first, firstText);
  await say(second, secondText);
  for (const chat of [first, second]) {
    await waitLine(chat, `${first.user}: ${firstText}`);
    await waitLine(chat, `${second.user}: ${secondText}`);
  }
}

test('the chat example in Chromium: presence, messages, a server restart', { timeout: 55000 }, async () => {
  const chromium = await prerequisites();
  mkdirSync(ARTIFACT_DIR, { recursive: true });
  const output = [];  // page and server messages, shown when the test fails
  let server = null;
  let browser = null;
  const chats = [];
  const killOnExit = () => server?.proc.kill('SIGKILL');  // should node go first
  process.on('exit', killOnExit);
  try {
    server = await startChatServer(0, output);
    const base = `http://127.0.0.1:${server.port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 2 * STEP_MS });

    // ada comes first: alone in the room, and the getUser rpc answers.
    const ada = await openChat(browser, 'ada', base, output);
    chats.push(ada);
    await waitText(ada, '#state', 'connected');
    await waitText(ada, '#people', 'Here: ada');
    assert.match((await logLines(ada)).join('\n'), /^signed in as ada \(connection \S+\)$/m);

    // bob joins: each sees the other (bob by presence, ada by the join).
    const bob = await openChat(browser, 'bob', base, output);
    chats.push(bob);
    await waitText(bob, '#state', 'connected');
    await waitText(bob, '#people', 'Here: ada, bob');
    await waitText(ada, '#people', 'Here: ada, bob');
    await waitLine(ada, 'bob joined');

    await exchange(ada, 'hi bob', bob, 'hi ada');

    // The server dies under them: both pages say so.
    await killChatServer(server.proc);
    await waitText(ada, '#state', 'reconnecting');
    await waitText(bob, '#state', 'reconnecting');

    // ada types while it is down: the SDK queues the message.
    await say(ada, 'sent while down');

    // The server comes back on the same port. While it was down the
    // connections were refused, so both pages try again within a second.
    server = await restartChatServer(server.port, output);
    await waitText(bob, '#state', 'connected');
    await waitText(ada, '#state', 'connected');
    await waitText(ada, '#people', 'Here: ada, bob');
    await waitText(bob, '#people', 'Here: ada, bob');

    // The queued message arrives, then they keep chatting.
    await waitLine(bob, 'ada: sent while down');
    await exchange(bob, 'welcome back', ada, 'thanks');
    // ada's 'thanks' came after the queued message on her connection, so a
    // second copy of it would have arrived by now.
    for (const chat of [ada, bob]) {
      const copies = (await logLines(chat)).filter((line) => line === 'ada: sent while down').length;
      assert.equal(copies, 1, `${chat.user}'s page shows "ada: sent while down" ${copies} times, not once`);
    }
  } catch (error) {
    if (output.length > 0) error.message += `\n--- pages and chat_server said:\n${output.join('\n')}`;
    throw error;
  } finally {
    for (const chat of chats) {
      const file = path.join(ARTIFACT_DIR, `chat-${chat.user}.png`);
      await chat.page.screenshot({ path: file, timeout: 5000 }).catch((error) => {
        console.error(`no screenshot of ${chat.user}'s page: ${error.message}`);
      });
    }
    if (server) await killChatServer(server.proc);
    process.off('exit', killOnExit);
    if (browser) await withTimeout(browser.close(), 'browser close').catch(() => {});
  }
});
