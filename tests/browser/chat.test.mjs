// The chat example (examples/chat) on the JavaScript SDK (clients/js/dist) in
// Debian's Chromium, driven by playwright-core (pinned in package-lock.json):
// two people see each other (presence) and chat; then chat_server is killed
// (SIGKILL) and started again on the same port, and both pages show that
// they reconnect (within about a second of the server), see each other
// again and keep chatting, and a message ada typed while the server was down
// reaches bob exactly once, whoever of the two is back first: bob gets it
// live, or, when ada was first, from the room's history after his recovery
// failed (the restarted server's stream has a new epoch: both pages say
// they reload from history). chat_redis.test.mjs is the same room on two
// nodes over Redis, where a restarted node's pages recover instead.
//
// Run from this folder after `npm ci` (scripts/bootstrap does it, and builds
// the SDK), with the variables CMake sets (tests/browser/CMakeLists.txt):
//   CHAT_SERVER_BIN=.../chat_server CHAT_DIR=../../examples/chat \
//   SDK_DIST=../../clients/js/dist ARTIFACT_DIR=/tmp/artifacts node --test chat.test.mjs
// A screenshot of each page is saved to ARTIFACT_DIR (chat-ada.png, chat-bob.png).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  exchange, killChatServer, launchChromium, logLines, openChat, prerequisites, restartChatServer, say, screenshots,
  startChatServer, waitLine, waitText, withTimeout,
} from './support/chat_pages.mjs';

const RELOADING = 'missed messages could not be recovered: reloading from history';

test('the chat example in Chromium: presence, messages, a server restart', { timeout: 55000 }, async () => {
  const chromium = await prerequisites();
  const output = [];  // page and server messages, shown when the test fails
  let server = null;
  let browser = null;
  const chats = [];
  const killOnExit = () => server?.proc.kill('SIGKILL');  // should node go first
  process.on('exit', killOnExit);
  try {
    server = await startChatServer(0, output);
    const base = `http://127.0.0.1:${server.port}`;
    browser = await launchChromium(chromium);

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

    // The restarted server's room has a new epoch: neither page can recover
    // from where it was, and both say they reload instead.
    await waitLine(ada, RELOADING);
    await waitLine(bob, RELOADING);

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
    await screenshots(chats, 'chat');
    if (server) await killChatServer(server.proc);
    process.off('exit', killOnExit);
    if (browser) await withTimeout(browser.close(), 'browser close').catch(() => {});
  }
});
