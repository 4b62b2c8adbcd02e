/**
 * A message that could not be parsed or must be refused. `status` is the response the
 * RFC asks for when a response can be sent at all (a request whose top Via and CSeq were
 * readable); otherwise the message is dropped. `code` says which kind of fault it was, so
 * callers (logs, metrics, tests) can tell framing faults from syntax faults without
 * matching on message text.
 */
export type SipErrorCode =
  /** A header or start-line element does not follow the RFC 3261 grammar. */
  | 'SIP_BAD_SYNTAX'
  /** The message cannot be cut out of the bytes: header end, Content-Length (§18.3). */
  | 'SIP_BAD_FRAMING'
  /** A header every message needs is missing or repeated (RFC 3261 §8.1.1, §20). */
  | 'SIP_BAD_HEADER_COUNT'
  /** A well-formed SIP-Version other than 2.0 (answered 505). */
  | 'SIP_VERSION_NOT_SUPPORTED'
  /** A bug in the parser itself surfaced as a parse failure instead of a crash. */
  | 'SIP_INTERNAL';

export class SipParseError extends Error {
  constructor(
    message: string,
    readonly status = 400,
    readonly code: SipErrorCode = 'SIP_BAD_SYNTAX',
  ) {
    super(message);
    this.name = 'SipParseError';
  }
}
