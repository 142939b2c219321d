// The one error type the SDK rejects with. `code` tells what happened:
// a number is the server's error code (docs/PROTOCOL.md, "Error codes");
// a string is something the client saw itself.

export type ClientErrorCode =
  | 'timeout' // no answer within the request's timeout
  | 'disconnected' // sent, but the connection dropped before the answer
  | 'queue_full' // made while disconnected, and the offline queue was full
  | 'closed' // close() was called, or the server closed for good
  | 'transport' // the connection could not be made or was refused
  | 'local_only' // a publish reached this node's subscribers only (publish option localOnly: 'reject')
  | 'protocol'; // the server answered something this client cannot read

export class SwitchboardError extends Error {
  readonly code: number | ClientErrorCode;

  constructor(code: number | ClientErrorCode, message: string) {
    super(message);
    this.name = 'SwitchboardError';
    this.code = code;
  }
}
