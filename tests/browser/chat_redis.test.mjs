// The chat example (examples/chat) on two chat_server nodes over one Redis,
// in Chromium (playwright-core), with no hold on any page: ada's page is on
// node A, bob's on node B. Node B is killed (SIGKILL); bob's page says it is
// reconnecting while ada's stays connected; ada says several things and bob
// types several while he is away (his SDK queues them); node B starts again
// on the same port. The room's stream is in Redis, so it outlived node B:
// bob's page must say it recovered what it missed (the subscribe recovery
// succeeded: recovered true, never the "reloading from history" path), and
// in the end both pages show the same messages, every one exactly once and
// in order: what was said before, ada's while bob was away, bob's queued
// ones, and what they said after.
//
// redis-server is started by the test on a free loopback port and killed
// by it. Run from this folder like chat.test.mjs (the same variables):
//   CHAT_SERVER_BIN=.../chat_server CHAT_DIR=../../examples/chat \
//   SDK_DIST=../../clients/js/dist ARTIFACT_DIR=/tmp/artifacts node --test chat_redis.test.mjs
// Screenshots: ARTIFACT_DIR/chat-redis-ada.png, chat-redis-bob.png. The
// counted figures go to stderr.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  exchange, killChatServer, launchChromium, logLines, messageLines, openChat, prerequisites, restartChatServer, say,
  screenshots, startChatServer, waitLine, waitText, withTimeout,
} from './support/chat_pages.mjs';
import { RedisServer } from './support/redis_server.mjs';

const SAID_WHILE_AWAY = 5;  // by ada, while bob's node is down
const QUEUED = 3;           // typed by bob while his node is down
const RELOADING = 'missed messages could not be recovered: reloading from history';
const RECOVERED = /^back: (\d+) missed message\(s\) recovered$/;

const systemLines = async (chat, pattern) => (await logLines(chat)).filter((line) => pattern.test(line));

test('the chat example in Chromium on two nodes over Redis: a node killed and restarted, nothing lost',
  { timeout: 60000 }, async () => {
    const chromium = await prerequisites();
    const output = [];  // page, node and Redis messages, shown when the test fails
    const redis = new RedisServer();
    const nodes = { a: null, b: null };
    let browser = null;
    const chats = [];
    const killOnExit = () => {  // should node go first
      for (const node of Object.values(nodes)) node?.proc.kill('SIGKILL');
      redis.stop();
    };
    process.on('exit', killOnExit);
    try {
      await redis.start(output);
      const options = (name) => ({ broker: redis.url, name });
      nodes.a = await startChatServer(0, output, options('node A'));
      nodes.b = await startChatServer(0, output, options('node B'));
      browser = await launchChromium(chromium);

      // ada on node A, bob on node B: the room, its presence and its
      // messages go through Redis.
      const ada = await openChat(browser, 'ada', `http://127.0.0.1:${nodes.a.port}`, output);
      chats.push(ada);
      await waitText(ada, '#state', 'connected');
      await waitText(ada, '#people', 'Here: ada');
      const bob = await openChat(browser, 'bob', `http://127.0.0.1:${nodes.b.port}`, output);
      chats.push(bob);
      await waitText(bob, '#state', 'connected');
      await waitText(bob, '#people', 'Here: ada, bob');
      await waitText(ada, '#people', 'Here: ada, bob');
      await exchange(ada, 'hi bob', bob, 'hi ada');

      // Node B dies under bob; ada, on node A, does not notice.
      await killChatServer(nodes.b.proc);
      await waitText(bob, '#state', 'reconnecting');
      assert.equal(await ada.page.textContent('#state'), 'connected', "ada's page lost node A");

      // ada talks on; each line is on her page, so it is in the room's stream.
      const away = Array.from({ length: SAID_WHILE_AWAY }, (_, i) => `while you were away ${i + 1}`);
      for (const text of away) {
        await say(ada, text);
        await waitLine(ada, `ada: ${text}`);
      }
      // bob types meanwhile: his SDK queues each message.
      const queued = Array.from({ length: QUEUED }, (_, i) => `typed while down ${i + 1}`);
      for (const text of queued) await say(bob, text);
      assert.equal(await bob.page.textContent('#state'), 'reconnecting', "bob's page got back before node B did");

      // Node B again on the same port, over the same Redis. Its connections
      // were refused meanwhile, so bob's page tries again within a second.
      const restartedAt = Date.now();
      nodes.b = await restartChatServer(nodes.b.port, output, options('node B'));
      await waitText(bob, '#state', 'connected');
      const backAfterMs = Date.now() - restartedAt;

      // bob's page recovered from the stream (never reloading), then his
      // queued messages went out: both pages show them once each.
      await waitLine(bob, `ada: ${away.at(-1)}`);
      for (const chat of [ada, bob]) await waitLine(chat, `bob: ${queued.at(-1)}`);
      await exchange(bob, 'welcome back', ada, 'thanks');

      const recoveries = await systemLines(bob, RECOVERED);
      assert.equal(recoveries.length, 1, `bob's page says it recovered ${recoveries.length} times: ${recoveries}`);
      // The recovery covers ada's lines; bob's first queued one may be in it
      // too, when it reached Redis before the subscribe took effect.
      const recovered = Number(RECOVERED.exec(recoveries[0])[1]);
      assert.ok(recovered >= SAID_WHILE_AWAY && recovered <= SAID_WHILE_AWAY + QUEUED,
        `bob's page recovered ${recovered} messages; ada said ${SAID_WHILE_AWAY} while he was away`);
      for (const chat of [ada, bob]) {
        const reloads = await systemLines(chat, new RegExp(`^${RELOADING}$`));
        assert.equal(reloads.length, 0, `${chat.user}'s page could not recover and reloaded from history`);
      }
      assert.equal((await systemLines(ada, RECOVERED)).length, 0, "ada's page never left, yet says it recovered");

      // Every message exactly once and in order, on both pages: 'thanks'
      // came last, so any duplicate or late copy would be shown by now.
      const expected = ['ada: hi bob', 'bob: hi ada', ...away.map((text) => `ada: ${text}`),
        ...queued.map((text) => `bob: ${text}`), 'bob: welcome back', 'ada: thanks'];
      for (const chat of [ada, bob]) assert.deepEqual(await messageLines(chat), expected, `${chat.user}'s page`);
      console.error(`chat over Redis: bob's page back ${backAfterMs} ms after node B restarted, ${recovered} ` +
        `missed messages recovered (ada said ${SAID_WHILE_AWAY}), ${QUEUED} queued by bob delivered; ` +
        `${expected.length} messages on each page, 0 missing, 0 duplicates, 0 reloads`);
    } catch (error) {
      if (output.length > 0) error.message += `\n--- pages, nodes and redis-server said:\n${output.join('\n')}`;
      throw error;
    } finally {
      await screenshots(chats, 'chat-redis');
      for (const node of Object.values(nodes)) if (node) await killChatServer(node.proc);
      redis.stop();
      process.off('exit', killOnExit);
      if (browser) await withTimeout(browser.close(), 'browser close').catch(() => {});
    }
  });
