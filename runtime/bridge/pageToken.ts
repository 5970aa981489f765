// Page tokens of the paged calls (ListTools, QueryContext, ListState): opaque to clients, and checked when
// they come back, so a token that is not one the call gave is refused by name instead of read as
// a position.
import { invalidArgument } from './unary';

/** Room in a paged answer for everything beside its entries (the token, field tags). */
export const PAGE_OVERHEAD_BYTES = 1024;

/** The token of the position a page stopped at; `kind` keeps one call's tokens from being another's. */
export function encodePageToken(kind: string, position: string): string {
  return Buffer.from(`${kind}:${position}`, 'utf8').toString('base64url');
}

/** The position in `token`, which `method` gave with encodePageToken(kind, ...); `valid` checks the position's form. */
export function decodePageToken(
  kind: string,
  token: string,
  method: string,
  valid: (position: string) => boolean = () => true,
): string {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const prefix = `${kind}:`;
  if (
    !text.startsWith(prefix) ||
    text.length === prefix.length ||
    Buffer.from(text, 'utf8').toString('base64url') !== token ||
    !valid(text.slice(prefix.length))
  ) {
    throw invalidArgument(
      `${method}: page_token is not one ${method} gave; pass next_page_token from the previous page unchanged (empty for the first page)`,
    );
  }
  return text.slice(prefix.length);
}
