// Non-Latin letters that render like ASCII letters (a subset of Unicode's
// confusables.txt, UTS #39, for the scripts most used to spoof Latin names).
// Usernames are ASCII-only, so any of these is refused anyway; the table only
// makes the message say why ("looks like Latin 'a'"). NFKC already folds
// fullwidth, mathematical and other compatibility forms to ASCII.
// Each entry is two characters: the look-alike, then the ASCII character it passes for.
const PAIRS = [
  // Cyrillic
  'аa вb еe ёe з3 іi їi јj кk мm нh оo пn рp сc тt уy хx ѕs һh ԁd ԛq ԝw ӏl ьb гr АA ВB ЕE З3 ІI ЈJ КK МM НH ОO РP СC ТT УY ХX ЅS ԀD ԚQ ԜW Ӏl',
  // Greek
  'αa βb εe ιi κk νv οo ρp τt υu χx ωw ΑA ΒB ΕE ΖZ ΗH ΙI ΚK ΜM ΝN ΟO ΡP ΤT ΥY ΧX',
  // Armenian, Latin extensions and IPA that pass for ASCII
  'օo սu ցg ıi ȷj ɑa ɡg ɩi ʋu ǀl ǃ! ßB øo đd ħh ŀl łl',
  // Digits of other scripts
  '٠. ۰. ١1 ۱1 ٥o ߀O',
].flatMap((line) => line.split(' '));

const TABLE = new Map(PAIRS.map((p) => [String.fromCodePoint(p.codePointAt(0)!), p.slice(-1)] as const));

/** The ASCII character `ch` is easily mistaken for, if any. */
export function confusableWith(ch: string): string | undefined {
  return TABLE.get(ch);
}
