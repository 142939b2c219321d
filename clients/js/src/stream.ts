// A channel's stream as this client sees it (docs/PROTOCOL.md, history and
// recovery): the position a subscription has reached, and the subscribe
// reply's stream fields read into typed values. Pure: no I/O, no timers.
//
// A position is {epoch, offset}: the last publication of the stream `epoch`
// the application was given. Offsets within one epoch are contiguous from 1;
// a new epoch means the stream's past may be lost, so offsets of two epochs
// do not compare. Offset 0 is no position: a message published while the
// server's broker was unreachable is not numbered (not kept).

/** Where a subscription is in its channel's stream. */
export interface StreamPosition {
  epoch: string;
  offset: number;
}

/** One kept publication: from a recovery, `latest`, or `history`. */
export interface Publication {
  offset: number;
  data: unknown;
}

/** What a subscribe reply says about the channel's stream. */
export interface StreamReply {
  /** The channel keeps a stream: `position` is where the live messages start after. */
  recoverable: boolean;
  position: StreamPosition | null;
  /** The server gave back everything since the position asked for. */
  recovered: boolean;
  /** The recovered publications, in order (empty unless recovered). */
  publications: Publication[];
  /** Present when `latest` was asked (or the namespace is a cache): null when nothing is kept. */
  latest?: Publication | null;
}

/** Reads a subscribe reply's data; a reply without the stream fields is not recoverable. */
export function readStreamReply(data: unknown): StreamReply {
  const reply = (typeof data === 'object' && data !== null ? data : {}) as {
    recoverable?: unknown;
    epoch?: unknown;
    offset?: unknown;
    recovered?: unknown;
    publications?: unknown;
    latest?: unknown;
  };
  const recoverable = reply.recoverable === true && typeof reply.epoch === 'string' && isOffset(reply.offset);
  const result: StreamReply = {
    recoverable,
    position: recoverable ? { epoch: reply.epoch as string, offset: reply.offset as number } : null,
    recovered: reply.recovered === true,
    publications: reply.recovered === true ? readPublications(reply.publications) : [],
  };
  if ('latest' in reply) result.latest = reply.latest === null ? null : readPublication(reply.latest);
  return result;
}

/** A list of publications, those that are not well formed left out. */
export function readPublications(value: unknown): Publication[] {
  if (!Array.isArray(value)) return [];
  const publications: Publication[] = [];
  for (const item of value) {
    const publication = readPublication(item);
    if (publication) publications.push(publication);
  }
  return publications;
}

function readPublication(value: unknown): Publication | null {
  if (typeof value !== 'object' || value === null) return null;
  const { offset, data } = value as { offset?: unknown; data?: unknown };
  return isOffset(offset) ? { offset, data: data ?? null } : null;
}

/** A position read from the server (a `reset`): null when it is not well formed. */
export function readPosition(epoch: unknown, offset: unknown): StreamPosition | null {
  return typeof epoch === 'string' && isOffset(offset) ? { epoch, offset } : null;
}

/** A position given by the application: checked, then copied. */
export function checkedPosition(value: unknown, name: string): StreamPosition {
  const position = value as Partial<StreamPosition> | null;
  if (typeof position !== 'object' || position === null || typeof position.epoch !== 'string' || !isOffset(position.offset)) {
    throw new TypeError(`${name} must be {epoch: string, offset: integer >= 0}`);
  }
  return { epoch: position.epoch, offset: position.offset };
}

function isOffset(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
