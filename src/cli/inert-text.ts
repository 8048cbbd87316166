/**
 * Text from jobs (log lines, errors, names, hyperparameters…) is written by
 * whoever can create or run a job, and read by whoever prints it. A terminal
 * acts on control characters: ESC starts sequences that write the clipboard
 * (OSC 52), clear the screen, retitle the window or move the cursor to
 * forge output; C1 controls (U+0080–U+009F) do the same on terminals that
 * read 8-bit controls; bidi overrides reorder what is shown. So the CLI shows
 * each such character as a visible escape (`\x1b`, `\x9b`, `\u202e`) instead
 * of sending it, and a sequence's remaining bytes are then plain text.
 *
 * Hand-written rather than a library: `strip-ansi` and its kin remove the
 * sequences they recognise and pass every other control (BEL, BS, CR, C1,
 * bidi) through; they also hide what was there. Escaping every control
 * character is one regular expression and cannot miss a sequence form.
 */

/** C0 but tab and newline, DEL, C1, and the bidi controls (marks, embeddings, overrides, isolates). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every control character a terminal acts on shown as an escape; tabs and newlines kept. */
export function inert(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * What `JSON.stringify` leaves raw (it escapes U+0000–U+001F only), escaped
 * the JSON way: the same document, parsed to the same values, with nothing a
 * terminal acts on. Only ever applied to JSON text, where these characters
 * can occur inside strings alone.
 */
const CONTROL_LEFT_BY_JSON = /[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function inertJson(json: string): string {
  return json.replace(CONTROL_LEFT_BY_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
