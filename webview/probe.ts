// Answers the VS Code host's test probes (see ProbeQuery): the extension host cannot look into a
// webview, so the page itself says what it shows and what its Content Security Policy refused.
// Nothing here runs unless a probe message arrives.
import type { ProbeAnswer, ProbeQuery } from '../runtime/contract/dashboard';

/** A remote address no policy of ours allows (the page never reaches it: the policy stops it first). */
const REMOTE = 'https://example.com/loom-csp-probe';
const CSP_WAIT_MS = 5000;

export function answerProbe(query: ProbeQuery): Promise<ProbeAnswer> {
  return query === 'csp' ? tryForbidden() : Promise.resolve(describeView());
}

function describeView(): ProbeAnswer {
  return {
    connection: document.querySelector('[data-testid=connection]')?.textContent ?? '',
    topics: [...document.querySelectorAll<HTMLElement>('[data-testid=event-list] .row[data-topic]')].map(
      (r) => r.dataset.topic ?? '',
    ),
    count: document.querySelector('[data-testid=event-count]')?.textContent ?? '',
  };
}

/** Tries an inline script, a remote image and a remote fetch, and collects the policy's refusals. */
async function tryForbidden(): Promise<ProbeAnswer> {
  const refused: { directive: string; blocked: string }[] = [];
  const onViolation = (e: SecurityPolicyViolationEvent) =>
    refused.push({ directive: e.effectiveDirective, blocked: e.blockedURI });
  document.addEventListener('securitypolicyviolation', onViolation);
  const flag = window as unknown as { loomInlineRan?: boolean };
  flag.loomInlineRan = false;
  const script = document.createElement('script');
  script.textContent = 'window.loomInlineRan = true;';
  const img = document.createElement('img');
  img.src = `${REMOTE}.png`;
  document.body.append(script, img);
  const fetched = fetch(`${REMOTE}.json`).then(
    () => undefined,
    () => undefined,
  );
  // Violation reports are queued as tasks: wait for the three, or give up after a while.
  const deadline = Date.now() + CSP_WAIT_MS;
  while (refused.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await fetched;
  document.removeEventListener('securitypolicyviolation', onViolation);
  script.remove();
  img.remove();
  // Read again: TypeScript cannot know the inline script could have set it.
  return { refused, inlineScriptRan: (flag.loomInlineRan as boolean | undefined) === true };
}
