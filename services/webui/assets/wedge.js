// What a keyboard-wedge scanner types for a GS1 DataMatrix, made into the text the verifier reads.
//
// A wedge types the symbol's content as keystrokes and ends it with Enter. GS1 element strings separate a
// variable-length field from the next with GS (ASCII 29, FNC1). Many keyboard layouts cannot type ASCII 29, so
// scanners are configured to send something else for it; this page accepts:
//   - ASCII 29 itself (typed, or pasted);
//   - the chord Ctrl+] (ASCII 29 is "control-]"), which the page turns into GS as it is typed;
//   - the literal substitutes {GS}, <GS>, [GS] and ^] (none of them can occur in a GS1 field: braces, square
//     brackets and ^ are outside GS1's character set 82, and '<GS>' is taken as a separator wherever it appears).
// A leading symbology identifier (]d2 for GS1 DataMatrix, ]Q3 for GS1 QR, ]C1 for GS1-128) is passed on: the
// verifier reads it. Bracketed element strings and GS1 Digital Link URLs pass unchanged.

export const GS = '\u001d';

/** The literal texts scanners are configured to send for GS, in the order they are replaced. */
export const GS_SUBSTITUTES = ['{GS}', '<GS>', '[GS]', '^]'];

/** The text to send to the verifier for what the scanner (or the person) typed. */
export function normalize(typed) {
  let text = String(typed).replace(/^[\s]+|[\r\n\t ]+$/g, '');
  for (const s of GS_SUBSTITUTES) text = text.split(s).join(GS);
  return text;
}

/** Whether a keydown is the chord a scanner sends for GS (Ctrl+]); the page then inserts GS itself. */
export function isGsChord(event) {
  return Boolean(event.ctrlKey) && !event.altKey && (event.key === ']' || event.code === 'BracketRight');
}

/** A scanned code shown to a person: GS as ⟨GS⟩, other control characters as their code. */
export function printable(text) {
  return String(text).replace(/[\u0000-\u001f\u007f]/g, (c) => (c === GS ? '⟨GS⟩' : `⟨${c.charCodeAt(0)}⟩`));
}
