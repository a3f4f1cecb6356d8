/**
 * Where a config file stops being JSON. V8's JSON.parse messages differ between Node versions and
 * often omit the position (Node 20: "Unexpected token '{', ..."), so a small RFC 8259 scanner finds
 * the first error. It runs only after JSON.parse has failed; it never quotes the file (a misplaced
 * secret would be echoed).
 */

/** "not valid JSON at line L, column C: reason", for the text JSON.parse rejected with `error`. */
export function describeJsonError(text: string, error: unknown): string {
  let found: ReturnType<typeof findJsonError>;
  try {
    found = findJsonError(text);
  } catch {
    found = undefined; // absurd nesting overflowed the stack: fall back to V8's words
  }
  if (!found) {
    const raw = error instanceof Error ? error.message : String(error);
    return `not valid JSON: ${raw.replace(/,? ?".*" is not valid JSON/s, "").trim()}`;
  }
  const before = text.slice(0, found.offset);
  const line = before.split("\n").length;
  const column = found.offset - before.lastIndexOf("\n");
  return `not valid JSON at line ${line}, column ${column}: ${found.reason}`;
}

/** Offset and reason of the first JSON syntax error in `text` (RFC 8259), or undefined if there is none. */
export function findJsonError(text: string): { offset: number; reason: string } | undefined {
  let i = 0;
  class Stop {
    constructor(
      readonly offset: number,
      readonly reason: string,
    ) {}
  }
  const fail = (reason: string, at = i): never => {
    throw new Stop(at, reason);
  };
  const what = (): string => {
    const c = text[i];
    if (c === undefined) return "end of file";
    if (c === "/") return "'/' (comments are not allowed in JSON)";
    if (c === "'") return '"\'" (strings need double quotes)';
    return JSON.stringify(c);
  };
  const ws = (): void => {
    while (i < text.length && " \t\n\r".includes(text[i] as string)) i++;
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(`unexpected ${what()}`);
  };
  const string = (): void => {
    const start = i;
    i++; // opening quote
    for (;;) {
      const c = text[i];
      if (c === undefined) fail("unterminated string", start);
      else if (c === '"') {
        i++;
        return;
      } else if (c === "\\") {
        const e = text[i + 1];
        if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else fail("invalid escape sequence in string");
      } else if (c.charCodeAt(0) < 0x20) fail("line break or control character inside a string");
      else i++;
    }
  };
  const number = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail(`unexpected ${what()}`);
    else i += m[0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") object();
    else if (c === "[") array();
    else if (c === '"') string();
    else if (c === "t") literal("true");
    else if (c === "f") literal("false");
    else if (c === "n") literal("null");
    else if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) number();
    else {
      const previous = text.slice(0, i).trimEnd().at(-1);
      fail(`unexpected ${what()}${previous === "," ? " (trailing commas are not allowed)" : ""}`);
    }
  };
  const object = (): void => {
    i++;
    ws();
    if (text[i] === "}") {
      i++;
      return;
    }
    for (;;) {
      ws();
      if (text[i] !== '"')
        fail(
          text[i] === "}"
            ? 'unexpected "}" (trailing commas are not allowed)'
            : `expected a property name in double quotes, found ${what()}`,
        );
      string();
      ws();
      if (text[i] !== ":") fail(`expected ':' after the property name, found ${what()}`);
      i++;
      value();
      ws();
      if (text[i] === ",") i++;
      else if (text[i] === "}") {
        i++;
        return;
      } else fail(`expected ',' or '}' after a property value, found ${what()}`);
    }
  };
  const array = (): void => {
    i++;
    ws();
    if (text[i] === "]") {
      i++;
      return;
    }
    for (;;) {
      value();
      ws();
      if (text[i] === ",") i++;
      else if (text[i] === "]") {
        i++;
        return;
      } else fail(`expected ',' or ']' after a list item, found ${what()}`);
    }
  };
  try {
    value();
    ws();
    if (i < text.length) fail(`unexpected ${what()} after the end of the JSON value`);
    return undefined;
  } catch (stop) {
    if (stop instanceof Stop) return { offset: stop.offset, reason: stop.reason };
    throw stop;
  }
}
