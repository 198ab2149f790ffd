/** What a report file holds inside it, for the secret scan: a zip's files, the base64 a page embeds. */
import { inflateRawSync } from 'node:zlib';

export class UnreadableArchive extends Error {}

/** The files of a zip archive (stored or deflated), read from its central directory; throws UnreadableArchive. */
export function unzipTexts(zip: Buffer): string[] {
  try {
    return unzipOrThrow(zip);
  } catch (error) {
    throw new UnreadableArchive(`a zip the scan cannot read (${(error as Error).message})`);
  }
}

function unzipOrThrow(zip: Buffer): string[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const out: string[] = [];
  for (let i = 0; i < count && zip.readUInt32LE(at) === 0x02014b50; i++) {
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const local = zip.readUInt32LE(at + 42);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + size);
    if (method === 0) out.push(data.toString('utf8'));
    else if (method === 8) out.push(inflateRawSync(data).toString('utf8'));
    else throw new Error(`compression method ${method}`);
    at += 46 + zip.readUInt16LE(at + 28) + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return out;
}

// a long base64 run in a page: single-file reports embed their data this way (Playwright's HTML
// report a zip, Allure's single file its results and attachments)
const BASE64_MIN_RUN = 200;

function isBase64Char(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
}

/**
 * The runs of base64 characters of BASE64_MIN_RUN or more (with their padding), found in one linear
 * pass: a regular expression's backtracking overflows V8's stack on a run of megabytes (a report of
 * a repeated run embeds one).
 */
export function base64Runs(page: string): string[] {
  const runs: string[] = [];
  let start = -1;
  for (let i = 0; i <= page.length; i++) {
    if (i < page.length && isBase64Char(page.charCodeAt(i))) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0 && i - start >= BASE64_MIN_RUN) {
      let end = i;
      while (end < page.length && end - i < 2 && page[end] === '=') end++;
      runs.push(page.slice(start, end));
    }
    start = -1;
  }
  return runs;
}

/** The texts a page embeds as base64, decoded (a zip unpacked); one level deep. */
export function embeddedTexts(page: string): string[] {
  const texts: string[] = [];
  for (const run of base64Runs(page)) {
    const bytes = Buffer.from(run, 'base64');
    if (bytes.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) texts.push(...unzipTexts(bytes));
    else texts.push(bytes.toString('utf8'));
  }
  return texts;
}
