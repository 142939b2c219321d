// The server's side of the stream tests (recovery, reset), played over a
// FakeSocket: open a client's newest socket, read its subscribe, send
// messages, and record what a subscription hands to the application.
import { FakeSocket, until } from './fake_socket.mjs';

/** Opens the client's newest socket and answers its `connect`. */
export async function serve(client) {
  const socket = await until(() => (FakeSocket.last()?.readyState === 0 ? FakeSocket.last() : null), 2000, 'a new socket');
  socket.accept();
  await until(() => socket.commands('connect').length === 1, 2000, 'connect');
  socket.replyAll('connect', { client: String(FakeSocket.all.length), user: 'ada' });
  await until(() => client.state === 'connected', 2000, 'connected');
  return socket;
}

/** The subscribe command on this socket, once sent. */
export async function subscribeCommand(socket) {
  return until(() => socket.commands('subscribe')[0], 2000, 'subscribe');
}

/** A live message on chat:a. */
export const message = (offset, data = `m${offset}`) => ({ type: 'message', channel: 'chat:a', offset, data });

/** A subscription to chat:a that records everything it is told. */
export function recorder(client, options = {}) {
  const seen = { messages: [], subscribed: [], failed: [] };
  const sub = client.subscribe('chat:a', {
    onMessage: (data, context) => seen.messages.push([data, context.offset, context.recovered]),
    onSubscribed: (context) => seen.subscribed.push(context),
    onRecoveryFailed: (context) => seen.failed.push(context),
  }, options);
  return { sub, seen };
}
