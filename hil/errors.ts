/** What went wrong with a board, always naming the board and the port. */
export type BoardErrorCode =
  | 'PORT_NOT_FOUND'
  | 'PORT_OPEN_FAILED'
  | 'CONNECT_FAILED'
  | 'NO_RESPONSE'
  | 'WRONG_IDENTITY'
  | 'REFUSED'
  | 'VERIFY_FAILED'
  | 'DISCONNECTED'
  | 'NOT_EMULATED'
  | 'CLOSED';

export class BoardError extends Error {
  override readonly name = 'BoardError';
  constructor(
    readonly code: BoardErrorCode,
    readonly board: string,
    readonly port: string,
    detail: string,
  ) {
    super(`board ${board} on ${port}: ${detail}`);
  }
}

export function isBoardError(e: unknown): e is BoardError {
  return e instanceof BoardError;
}
