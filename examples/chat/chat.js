// A small hand-written protocol v1 client (docs/PROTOCOL.md) for the chat
// example, until the TypeScript SDK exists (issue #7): one WebSocket,
// commands numbered by id with their answers matched by id, reconnect with
// exponential backoff and jitter, and the room re-joined after a reconnect.
'use strict';

const ROOM = 'room:lobby';
const params = new URLSearchParams(location.search);
const user = params.get('user') || prompt('Your name (letters and digits)') || 'guest';
if (!params.get('user')) location.search = '?user=' + encodeURIComponent(user);

const log = document.getElementById('log');
const people = document.getElementById('people');
document.getElementById('me').textContent = user;
const members = new Map();  // client id -> user

function show(text, system) {
  const line = document.createElement('div');
  if (system) line.className = 'system';
  line.textContent = text;
  log.append(line);
  log.scrollTop = log.scrollHeight;
}

function showPeople() {
  const names = [...new Set(members.values())].sort();
  people.textContent = 'Here: ' + (names.join(', ') || 'nobody');
}

let socket = null;
let nextId = 0;
const pending = new Map();  // id -> {resolve, reject}
let attempt = 0;

function request(type, fields) {
  return new Promise((resolve, reject) => {
    if (!socket || socket.readyState !== WebSocket.OPEN) return reject(new Error('not connected'));
    const id = ++nextId;
    pending.set(id, { resolve, reject });
    socket.send(JSON.stringify({ id, type, ...fields }));
  });
}

function connect() {
  document.getElementById('state').textContent = 'connecting';
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/?user=' +
              encodeURIComponent(user);
  socket = new WebSocket(url, ['switchboard.v1.json']);
  socket.onopen = async () => {
    attempt = 0;
    document.getElementById('state').textContent = 'connected';
    await request('subscribe', { channel: ROOM });
    const { members: list } = await request('presence', { channel: ROOM });
    members.clear();
    for (const m of list) members.set(m.client, m.user);
    showPeople();
  };
  socket.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === 'reply' || frame.type === 'error') {
      const waiter = pending.get(frame.id);
      pending.delete(frame.id);
      if (waiter && frame.type === 'reply') waiter.resolve(frame.data);
      if (waiter && frame.type === 'error') waiter.reject(new Error(frame.message));
    } else if (frame.type === 'message') {
      show(frame.data.from + ': ' + frame.data.text);
    } else if (frame.type === 'join') {
      members.set(frame.client, frame.user);
      showPeople();
      show(frame.user + ' joined', true);
    } else if (frame.type === 'leave') {
      members.delete(frame.client);
      showPeople();
      show(frame.user + ' left', true);
    }
  };
  socket.onclose = () => {
    for (const waiter of pending.values()) waiter.reject(new Error('disconnected'));
    pending.clear();
    // Exponential backoff with full jitter, capped at 10 s.
    const delay = Math.random() * Math.min(10000, 250 * 2 ** attempt++);
    document.getElementById('state').textContent = 'reconnecting';
    setTimeout(connect, delay);
  };
}

document.getElementById('send').onsubmit = async (event) => {
  event.preventDefault();
  const input = document.getElementById('text');
  try {
    await request('publish', { channel: ROOM, data: { from: user, text: input.value } });
    input.value = '';
  } catch (error) {
    show('not sent: ' + error.message, true);
  }
};

connect();
