/**
 * Where an event's stream leads: a job's stream to its page, an experiment's to its page, any
 * other (mappings, keys, registry…) to the audit tape narrowed to that stream.
 */
function streamCategory(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash < 0 ? streamId : streamId.slice(0, dash);
}

export function streamLink(streamId: string): string {
  const dash = streamId.indexOf('-');
  const category = streamCategory(streamId);
  const rest = dash < 0 ? '' : streamId.slice(dash + 1);
  if (category === 'job' && rest) return `/jobs/${encodeURIComponent(rest)}`;
  if (category === 'experiment' && rest) return `/experiments/${encodeURIComponent(rest)}`;
  return `/audit?${new URLSearchParams({ stream: streamId }).toString()}`;
}
