/**
 * The one base class of errors Bulwark raises on purpose for the person
 * running it. Their messages are complete — they name the file, rule or field,
 * say what is on disk now and what to do — so the CLI prints them as they are,
 * and anything that is not a BulwarkError is unexpected (printed with its class).
 * A bottom layer: it imports nothing, so every folder may extend it.
 */

/** An error whose message is written for the user: the CLI shows it verbatim, exit 1. */
export class BulwarkError extends Error {}
