/**
 * The plain-JSON value type shared by the store, the engine and the handlers.
 * It lives at the bottom layer so `store/` imports nothing above it.
 */

/** Plain JSON: what a pre-state is made of (file bytes as base64); round-trips through JSON.stringify/parse unchanged. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
