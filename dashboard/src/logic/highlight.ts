// Log search: which lines match, and the parts of a line to mark. Case-insensitive, plain text
// (no regular expressions: a person's search text is never compiled).

export interface Segment {
  text: string;
  match: boolean;
}

export function matchesQuery(text: string, query: string): boolean {
  return query === '' || text.toLocaleLowerCase().includes(query.toLocaleLowerCase());
}

/** The line cut into plain and matching parts, in order; the whole line, unmarked, for an empty query. */
export function highlightSegments(text: string, query: string): Segment[] {
  if (query === '') return [{ text, match: false }];
  const haystack = text.toLocaleLowerCase();
  const needle = query.toLocaleLowerCase();
  const segments: Segment[] = [];
  let from = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) {
    if (at > from) segments.push({ text: text.slice(from, at), match: false });
    segments.push({ text: text.slice(at, at + needle.length), match: true });
    from = at + needle.length;
  }
  if (from < text.length || segments.length === 0) segments.push({ text: text.slice(from), match: false });
  return segments;
}
