/**
 * GraphiQL that works offline, under a Content-Security-Policy.
 *
 * yoga's own page loads GraphiQL from a CDN (a blank page without internet).
 * @graphql-yoga/render-graphiql puts all of it in the page instead: one inline <script> (GraphiQL
 * and Monaco, about 9 MB), one inline <style>, and Monaco's web workers made from blob: URLs by
 * that script. The page is the same for every request (its options do not change while the
 * server runs), so it is rendered once, on first use, and its policy is computed from it:
 *
 * - script-src: the SHA-256 of that one inline script, nothing else. No other inline script, no
 *   eval, no script from anywhere (the page's own origin included: it needs none).
 * - style-src 'unsafe-inline': GraphiQL (React, Radix) and Monaco add <style> elements and
 *   style="…" attributes while they run, with content that depends on the run (a hash of the
 *   page's own <style> is not enough: checked in Chromium, dozens of refusals and a different
 *   hash per run), and the bundle has no hook to stamp a nonce on them. A style cannot run
 *   script, and cannot load anything from another host either (img-src, font-src and
 *   default-src stay 'self' or tighter), so it cannot send what the page shows anywhere.
 * - worker-src blob: for Monaco's workers; connect-src 'self' for queries over HTTP and the
 *   WebSocket (ws: on the page's own host and port); img-src and font-src data: for the favicon
 *   and the icons the page carries inline.
 */
import { createHash } from 'node:crypto';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The text of each inline element `<tag>…</tag>`, exactly as the browser hashes it. */
function inlineContents(html: string, tag: 'script' | 'style'): string[] {
  return [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((match) => match[1]!);
}

function graphiQLPolicy(html: string): string {
  const scripts = inlineContents(html, 'script').map(sha256);
  return [
    "default-src 'none'",
    `script-src ${scripts.join(' ')}`,
    STYLE_SRC,
    'worker-src blob:',
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Not a hash: see the top of this file for why GraphiQL's styles cannot be pinned. */
const STYLE_SRC = "style-src 'unsafe-inline'";

interface RenderedPage {
  key: string;
  /** The page as UTF-8, sent as it is to every request (not re-encoded from a 9 MB string each time). */
  bytes: Uint8Array<ArrayBuffer>;
  policy: string;
}

/**
 * `renderGraphiQL` for createYoga, and a plugin that puts the page's policy (and nosniff,
 * no-referrer) on the page's response.
 */
export function offlineGraphiQL(): {
  renderGraphiQL: (options?: GraphiQLOptions) => Promise<Uint8Array<ArrayBuffer>>;
  plugin: Plugin;
} {
  let page: RenderedPage | undefined;
  const render = async (options?: GraphiQLOptions): Promise<Uint8Array<ArrayBuffer>> => {
    const key = JSON.stringify(options ?? {});
    if (page?.key !== key) {
      // Loaded the first time someone opens GraphiQL: a server nobody browses never holds it.
      const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
      const html = renderGraphiQL(options);
      page = { key, bytes: new TextEncoder().encode(html), policy: graphiQLPolicy(html) };
    }
    return page.bytes;
  };
  const plugin: Plugin = {
    onResponse({ request, response }) {
      // Only GraphiQL's page is HTML here (yoga's landing page is off).
      if (!page || request.method !== 'GET' || !response.headers.get('content-type')?.startsWith('text/html')) return;
      response.headers.set('content-type', 'text/html; charset=utf-8');
      response.headers.set('content-security-policy', page.policy);
      response.headers.set('x-content-type-options', 'nosniff');
      response.headers.set('referrer-policy', 'no-referrer');
      response.headers.set('cache-control', 'no-cache');
    },
  };
  return { renderGraphiQL: render, plugin };
}
