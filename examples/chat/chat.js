// The chat example's page: a room, who is in it, and the connection state,
// on the switchboard-client SDK (clients/js; chat_server serves its build
// under /sdk/). The SDK reconnects by itself, subscribes again after a
// reconnect and recovers what was said meanwhile (the room keeps a history),
// and queues what is published while disconnected.
import { Client } from '/sdk/index.js';

const ROOM = 'room:lobby';
const params = new URLSearchParams(location.search);
const user = params.get('user') || prompt('Your name (letters and digits)') || 'guest';
if (!params.get('user')) location.search = '?user=' + encodeURIComponent(user);

const $ = (id) => document.getElementById(id);
$('me').textContent = user;

function show(text, system = false) {
  const line = document.createElement('div');
  if (system) line.className = 'system';
  line.textContent = text;
  $('log').append(line);
  $('log').scrollTop = $('log').scrollHeight;
}

const members = new Map();  // client id -> user: one person may have several tabs
function showPeople() {
  const names = [...new Set(members.values())].sort();
  $('people').textContent = 'Here: ' + (names.join(', ') || 'nobody');
}

const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
const client = new Client(`${scheme}://${location.host}/?user=${encodeURIComponent(user)}`);

// 'connecting' | 'connected' | 'disconnected' | 'closed'; after the first
// connect, everything but 'connected' means the SDK is trying to get back.
let wasConnected = false;
client.on('state', (state) => {
  if (state === 'connected') wasConnected = true;
  else if (wasConnected && state !== 'closed') state = 'reconnecting';
  $('state').textContent = state;
});
client.on('error', (error) => console.warn('switchboard:', error));

// The server's getUser rpc, once: who the server thinks we are.
let greeted = false;
client.on('connected', async () => {
  if (greeted) return;
  greeted = true;
  try {
    const me = await client.rpc('getUser', null);
    show(`signed in as ${me.user} (connection ${me.client})`, true);
  } catch (error) {
    show(`getUser failed: ${error.message}`, true);
  }
});

client.subscribe(ROOM, {
  // After every (re)subscribe: who is here now. Join and leave keep it current.
  async onSubscribed(context) {
    // Back after a reconnect with all that was said meanwhile: it follows,
    // from the room's stream (offsets are contiguous, so the count is exact).
    if (context.wasRecovering && context.recovered) {
      const missed = context.offset - context.since.offset;
      show(missed > 0 ? `back: ${missed} missed message(s) recovered` : 'back: nothing missed', true);
    }
    try {
      const list = await client.presence(ROOM);
      members.clear();
      for (const member of list) members.set(member.client, member.user);
      showPeople();
    } catch (error) {
      show(`presence failed: ${error.message}`, true);  // asked again at the next resubscribe
    }
  },
  // Live and recovered messages alike, each once and in order.
  onMessage(data) {
    show(`${data.from}: ${data.text}`);
  },
  // What was said while away could not be replayed (the server restarted
  // and lost the room's past, or too much was said): show what the room
  // still keeps after what the page shows (context.since), up to where the
  // live messages start (context.offset).
  async onRecoveryFailed({ since, epoch, offset }) {
    if (epoch === null) return;  // the room keeps no history
    show('missed messages could not be recovered: reloading from history', true);
    try {
      const kept = await client.history(ROOM, { limit: 50, reverse: true });
      if (kept.epoch !== epoch) return;  // restarted again meanwhile: the next resubscribe says so
      const missed = kept.publications.filter((publication) => publication.offset <= offset &&
        (since.epoch !== epoch || publication.offset > since.offset));
      for (const publication of missed.reverse()) show(`${publication.data.from}: ${publication.data.text}`);
    } catch (error) {
      show(`history failed: ${error.message}`, true);
    }
  },
  onJoin(member) {
    members.set(member.client, member.user);
    showPeople();
    show(`${member.user} joined`, true);
  },
  onLeave(member) {
    members.delete(member.client);
    showPeople();
    show(`${member.user} left`, true);
  },
  onError(error) {
    show(`${ROOM}: ${error.message}`, true);
  },
});

$('send').onsubmit = async (event) => {
  event.preventDefault();
  const text = $('text').value;
  $('text').value = '';
  try {
    await client.publish(ROOM, { from: user, text });  // queued while disconnected
  } catch (error) {
    show(`not sent (${error.code}): ${text}`, true);
  }
};

client.connect();
